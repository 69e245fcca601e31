package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// DeclareInput declares an incident by hand.
type DeclareInput struct {
	Rule string `json:"rule"`
	Note string `json:"note"`
}

// NoteInput resolves an incident.
type NoteInput struct {
	Note string `json:"note"`
}

func (s *server) listIncidents(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	q := r.URL.Query()
	f := queue.IncidentFilter{RuleID: q.Get("rule")}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit"), 100, 1000); err != nil {
		return err
	}
	if v := q.Get("since"); v != "" {
		if f.Since, err = parseSince(v, 0, s.now()); err != nil {
			return err
		}
	}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			switch st := queue.IncidentState(strings.TrimSpace(st)); st {
			case "":
			case queue.IncidentOpen, queue.IncidentClosed, queue.IncidentResolved:
				f.States = append(f.States, st)
			default:
				return queue.Errorf(queue.Invalid, "state", "unknown incident state %q: use open, closed or resolved", st)
			}
		}
	}
	ins, err := s.opt.Store.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	if ins == nil {
		ins = []*queue.Incident{}
	}
	writeJSON(w, http.StatusOK, List[*queue.Incident]{Items: ins})
	return nil
}

func (s *server) getIncident(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.opt.Store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *server) declareIncident(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in DeclareInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	in.Rule, in.Note = strings.TrimSpace(in.Rule), strings.TrimSpace(in.Note)
	if in.Rule == "" {
		return queue.Errorf(queue.Invalid, "rule", "rule is required: the id of the rule whose action applies (GET /api/v1/rules lists them)")
	}
	if in.Note == "" {
		return queue.Errorf(queue.Invalid, "note", "a note is required: say what happened (it is the incident's evidence)")
	}
	if s.opt.Watch == nil {
		return unavailable("the context watcher")
	}
	inc, err := s.opt.Watch.Declare(r.Context(), actor(u), in.Rule, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

func (s *server) resolveIncident(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in NoteInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Note = strings.TrimSpace(in.Note); in.Note == "" {
		return queue.Errorf(queue.Invalid, "note", "a note is required: say why the incident is over")
	}
	var inc *queue.Incident
	if s.opt.Watch != nil {
		inc, err = s.opt.Watch.Resolve(r.Context(), actor(u), id, in.Note)
	} else {
		inc, err = s.opt.Store.ResolveIncident(r.Context(), actor(u), id, in.Note)
	}
	if err != nil {
		return err
	}
	s.kick() // resume=auto campaigns may have come back
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// ContextInput is a pushed context item (SPEC 5): title required, the rest optional.
type ContextInput struct {
	Source      string `json:"source"`
	Title       string `json:"title"`
	Summary     string `json:"summary"`
	URL         string `json:"url"`
	Language    string `json:"language"`
	PublishedAt string `json:"published_at"`
}

// ContextResult answers a push: the item and the incidents it opened or extended.
type ContextResult struct {
	Item      *queue.ContextItem `json:"item"`
	Incidents []*queue.Incident  `json:"incidents"`
}

func (s *server) pushContext(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in ContextInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	item := &queue.ContextItem{Source: strings.TrimSpace(in.Source), Title: strings.TrimSpace(in.Title),
		Summary: in.Summary, URL: in.URL, Language: in.Language, SeenAt: s.now().UTC()}
	if item.Title == "" {
		return queue.Errorf(queue.Invalid, "title", "title is required: the headline")
	}
	if item.Source == "" {
		item.Source = "api"
	}
	if err := checkURL("url", in.URL); err != nil {
		return err
	}
	if in.PublishedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.PublishedAt)
		if err != nil {
			return queue.Errorf(queue.Invalid, "published_at", "published_at must be RFC 3339 with a zone (2026-05-01T09:00:00Z), got %q", in.PublishedAt)
		}
		item.PublishedAt = t.UTC()
	}
	if s.opt.Watch == nil {
		return unavailable("the context watcher")
	}
	stored, incidents, err := s.opt.Watch.Push(r.Context(), item)
	if err != nil {
		return err
	}
	if incidents == nil {
		incidents = []*queue.Incident{}
	}
	writeJSON(w, http.StatusCreated, ContextResult{Item: stored, Incidents: incidents})
	return nil
}

func (s *server) recentContext(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"), 24*time.Hour, s.now())
	if err != nil {
		return err
	}
	limit, err := parseLimit(q.Get("limit"), 100, 1000)
	if err != nil {
		return err
	}
	items, err := s.opt.Store.RecentContext(r.Context(), since, limit)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*queue.ContextItem{}
	}
	writeJSON(w, http.StatusOK, List[*queue.ContextItem]{Items: items})
	return nil
}
