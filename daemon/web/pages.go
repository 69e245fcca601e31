package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

// ---- calendar ----

var calendarStates = []queue.PostState{queue.PostPending, queue.PostApproved, queue.PostHeld,
	queue.PostPublishing, queue.PostPublished, queue.PostFailed, queue.PostUnknown, queue.PostMissed}

const calendarMax = 5000

type calendarData struct {
	Start, End         time.Time
	Prev, Next, This   string
	Accounts           []string
	Rows               []calRow
	Truncated          bool
	Empty              bool
	WeekLabel, ZoneStr string
}

type calRow struct {
	Day   time.Time
	Today bool
	Cells [][]calEntry // one per account
}

type calEntry struct {
	Post  *queue.Post
	Time  string
	State string
	URL   string
}

func (h *Handler) calendarPage(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	now := h.now().In(h.loc)
	ref := now
	if s := rq.URL.Query().Get("week"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, h.loc)
		if err != nil {
			h.setFlash(w, flash{Kind: "error", Text: fmt.Sprintf("%q is not a date (use 2026-05-04); showing this week.", s)})
			http.Redirect(w, rq.Request, "/calendar", http.StatusSeeOther)
			return
		}
		ref = t
	}
	start := time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, h.loc)
	start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7)) // back to Monday
	end := start.AddDate(0, 0, 7)

	camps, err := h.opt.Store.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil {
		h.internal(w, rq, "list campaigns", err)
		return
	}
	d := calendarData{Start: start, End: end.AddDate(0, 0, -1), ZoneStr: h.loc.String(),
		Prev: "/calendar?week=" + start.AddDate(0, 0, -7).Format("2006-01-02"),
		Next: "/calendar?week=" + end.Format("2006-01-02"),
		This: "/calendar"}
	d.Accounts = accountNames(camps, h.accountInfos(ctx))
	col := map[string]int{}
	for i, a := range d.Accounts {
		col[a] = i
	}
	for i := 0; i < 7; i++ {
		day := start.AddDate(0, 0, i)
		d.Rows = append(d.Rows, calRow{Day: day, Today: sameDay(day, now), Cells: make([][]calEntry, len(d.Accounts))})
	}
	var posts []*queue.Post
	f := queue.PostFilter{States: calendarStates, DueAfter: start.UTC(), DueBefore: end.UTC(), Limit: 1000}
	for {
		page, next, err := h.opt.Store.Posts(ctx, f)
		if err != nil {
			h.internal(w, rq, "list posts", err)
			return
		}
		posts = append(posts, page...)
		if next == "" {
			break
		}
		if len(posts) >= calendarMax {
			d.Truncated = true
			break
		}
		f.Cursor = next
	}
	d.Empty = len(posts) == 0
	for _, p := range posts {
		local := p.DueAt.In(h.loc)
		row := int(local.Sub(start) / (24 * time.Hour))
		for r := range d.Rows { // DST days are not 24h long: find the row by date
			if sameDay(d.Rows[r].Day, local) {
				row = r
			}
		}
		if row < 0 || row >= len(d.Rows) {
			continue
		}
		for _, a := range p.Accounts {
			c, ok := col[a]
			if !ok {
				continue
			}
			e := calEntry{Post: p, Time: local.Format("15:04"), State: string(p.State)}
			for _, dl := range p.Deliveries {
				if dl.Account == a {
					e.URL = dl.URL
					if p.State == queue.PostPublishing || p.State == queue.PostFailed || p.State == queue.PostUnknown {
						e.State = string(dl.State)
					}
				}
			}
			d.Rows[row].Cells[c] = append(d.Rows[row].Cells[c], e)
		}
	}
	d.WeekLabel = fmt.Sprintf("%s – %s", start.Format("Mon 2 Jan"), d.End.Format("Mon 2 Jan 2006"))
	h.render(w, rq.Request, rq, http.StatusOK, "calendar", "Calendar", d)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// ---- campaigns ----

type campaignsData struct {
	Campaigns []*campaignView
}

type campaignView struct {
	C          *queue.Campaign
	Loc        *time.Location
	OpenRule   bool // an incident of the pausing rule is still open
	PausedByMe bool
}

func (h *Handler) campaignsPage(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	// Counted, so that a campaign held back by a limit (Problem) says so here.
	camps, err := h.opt.Store.Campaigns(ctx, queue.CampaignFilter{CountOpen: true})
	if err != nil {
		h.internal(w, rq, "list campaigns", err)
		return
	}
	open, err := h.opt.Store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}})
	if err != nil {
		h.internal(w, rq, "list incidents", err)
		return
	}
	openRules := map[string]bool{}
	for _, in := range open {
		openRules[in.RuleID] = true
	}
	// Paused first: they are what people come here for.
	sort.SliceStable(camps, func(i, j int) bool {
		return camps[i].State == queue.CampaignPaused && camps[j].State != queue.CampaignPaused
	})
	var d campaignsData
	for _, c := range camps {
		v := &campaignView{C: c, Loc: h.zone(c)}
		if c.Pause != nil && c.Pause.RuleID != "" {
			v.OpenRule = openRules[c.Pause.RuleID]
		}
		d.Campaigns = append(d.Campaigns, v)
	}
	h.render(w, rq.Request, rq, http.StatusOK, "campaigns", "Campaigns", d)
}

func (h *Handler) pauseCampaign(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such campaign.", "Go back to the campaigns page.")
		return
	}
	reason := strings.TrimSpace(rq.PostFormValue("reason"))
	if reason == "" {
		h.done(w, rq, "/campaigns", "error", "The campaign was not paused: say why in the Reason field, so whoever resumes it knows.")
		return
	}
	c, err := h.opt.Store.Campaign(rq.Context(), id)
	if err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(rq.Context(), err, fmt.Sprintf("pause campaign #%d", id)))
		return
	}
	paused, err := h.opt.Store.PauseCampaigns(rq.Context(), []int64{id}, queue.Pause{By: rq.actor(), Reason: reason, At: h.now()})
	if err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(rq.Context(), err, "pause campaign "+c.Name))
		return
	}
	if len(paused) == 0 {
		h.done(w, rq, "/campaigns", "error", fmt.Sprintf("Campaign %s was not paused: it is %s.", c.Name, c.State))
		return
	}
	h.done(w, rq, "/campaigns", "ok", fmt.Sprintf("Paused campaign %s. It publishes nothing until someone resumes it.", c.Name))
}

// pauseAll is crisis mode: every active campaign stops at once.
func (h *Handler) pauseAll(w http.ResponseWriter, rq *request) {
	reason := strings.TrimSpace(rq.PostFormValue("reason"))
	if reason == "" {
		h.done(w, rq, "/campaigns", "error", "Nothing was paused: say why in the Reason field, so whoever resumes knows.")
		return
	}
	n, err := h.opt.Store.PauseAll(rq.Context(), rq.actor(), reason)
	if err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(rq.Context(), err, "pause every campaign"))
		return
	}
	h.done(w, rq, "/campaigns", "ok", fmt.Sprintf("Paused %d active %s. Resume all undoes this pause only; rule pauses stay.", n, plural(n, "campaign", "campaigns")))
}

func (h *Handler) resumeAll(w http.ResponseWriter, rq *request) {
	n, err := h.opt.Store.ResumeAll(rq.Context(), rq.actor())
	if err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(rq.Context(), err, "resume the campaigns"))
		return
	}
	h.kick()
	h.done(w, rq, "/campaigns", "ok", fmt.Sprintf("Resumed %d %s paused by Pause all. Campaigns paused by rules or one by one stay paused.", n, plural(n, "campaign", "campaigns")))
}

type resumeData struct {
	C         *queue.Campaign
	Loc       *time.Location
	Incidents []*queue.Incident
	Approved  int
}

// resumeCampaign resumes a paused campaign. If the rule that paused it still has an open
// incident, the first POST only shows what is still going on and asks to confirm.
func (h *Handler) resumeCampaign(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such campaign.", "Go back to the campaigns page.")
		return
	}
	c, err := h.opt.Store.Campaign(ctx, id)
	if err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(ctx, err, fmt.Sprintf("resume campaign #%d", id)))
		return
	}
	if c.State != queue.CampaignPaused {
		h.done(w, rq, "/campaigns", "error", fmt.Sprintf("Campaign %s is %s, not paused: nothing to resume.", c.Name, c.State))
		return
	}
	approved, _, err := h.opt.Store.Posts(ctx, queue.PostFilter{CampaignID: id, States: []queue.PostState{queue.PostApproved}, Limit: 1000})
	if err != nil {
		h.internal(w, rq, "list the campaign's posts", err)
		return
	}
	if rq.PostFormValue("confirm") != "yes" && c.Pause != nil && c.Pause.RuleID != "" {
		open, err := h.opt.Store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, RuleID: c.Pause.RuleID})
		if err != nil {
			h.internal(w, rq, "list incidents", err)
			return
		}
		if len(open) > 0 {
			h.render(w, rq.Request, rq, http.StatusOK, "resume", "Resume "+c.Name+"?", resumeData{C: c, Loc: h.zone(c), Incidents: open, Approved: len(approved)})
			return
		}
	}
	if err := h.opt.Store.ResumeCampaign(ctx, rq.actor(), id); err != nil {
		h.done(w, rq, "/campaigns", "error", h.explain(ctx, err, "resume campaign "+c.Name))
		return
	}
	h.kick()
	msg := fmt.Sprintf("Resumed campaign %s.", c.Name)
	if n := len(approved); n > 0 {
		msg += fmt.Sprintf(" Its %d approved %s will publish when due (hold any you no longer want, in the queue); posts overdue by more than %s become missed.", n, plural(n, "post", "posts"), lateOf(c))
	}
	h.done(w, rq, "/campaigns", "ok", msg)
}

func lateOf(c *queue.Campaign) time.Duration {
	if c.Late > 0 {
		return c.Late.D()
	}
	return queue.DefaultLate
}

// ---- incidents ----

type incidentsData struct {
	Open     []*queue.Incident
	Recent   []*queue.Incident
	Rules    []api.RuleInfo
	CanWatch bool
}

func (h *Handler) incidentsPage(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	open, err := h.opt.Store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}})
	if err != nil {
		h.internal(w, rq, "list incidents", err)
		return
	}
	recent, err := h.opt.Store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentClosed, queue.IncidentResolved}, Since: h.now().AddDate(0, 0, -30), Limit: 50})
	if err != nil {
		h.internal(w, rq, "list incidents", err)
		return
	}
	d := incidentsData{Open: open, Recent: recent, CanWatch: h.opt.Watch != nil}
	if h.opt.Rules != nil {
		d.Rules = h.opt.Rules.Status().Rules
	}
	h.render(w, rq.Request, rq, http.StatusOK, "incidents", "Incidents", d)
}

func (h *Handler) declareIncident(w http.ResponseWriter, rq *request) {
	rule := strings.TrimSpace(rq.PostFormValue("rule"))
	note := strings.TrimSpace(rq.PostFormValue("note"))
	switch {
	case h.opt.Watch == nil:
		h.done(w, rq, "/incidents", "error", "Incidents cannot be declared here: the watcher is not running in this daemon.")
		return
	case rule == "":
		h.done(w, rq, "/incidents", "error", "No incident was declared: choose the rule whose action should apply.")
		return
	case note == "":
		h.done(w, rq, "/incidents", "error", "No incident was declared: write a note saying what is happening, for the audit log and for whoever resolves it.")
		return
	}
	in, err := h.opt.Watch.Declare(rq.Context(), rq.actor(), rule, note)
	if err != nil {
		h.done(w, rq, "/incidents", "error", h.explain(rq.Context(), err, "declare an incident for rule "+rule))
		return
	}
	h.kick()
	h.done(w, rq, "/incidents", "ok", fmt.Sprintf("Declared incident #%d for rule %s; its action (%s) is applied.", in.ID, in.RuleID, in.Action))
}

func (h *Handler) resolveIncident(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such incident.", "Go back to the incidents page.")
		return
	}
	note := strings.TrimSpace(rq.PostFormValue("note"))
	if note == "" {
		h.done(w, rq, "/incidents", "error", fmt.Sprintf("Incident #%d was not resolved: write a note saying why it is over.", id))
		return
	}
	var err error
	if h.opt.Watch != nil {
		_, err = h.opt.Watch.Resolve(rq.Context(), rq.actor(), id, note)
	} else {
		_, err = h.opt.Store.ResolveIncident(rq.Context(), rq.actor(), id, note)
	}
	if err != nil {
		h.done(w, rq, "/incidents", "error", h.explain(rq.Context(), err, fmt.Sprintf("resolve incident #%d", id)))
		return
	}
	h.kick()
	h.done(w, rq, "/incidents", "ok", fmt.Sprintf("Resolved incident #%d. Campaigns it paused with resume = manual stay paused until someone resumes them.", id))
}

// ---- rules ----

type rulesData struct {
	Configured bool
	Status     api.RulesStatus
}

func (h *Handler) rulesPage(w http.ResponseWriter, rq *request) {
	d := rulesData{Configured: h.opt.Rules != nil}
	if d.Configured {
		d.Status = h.opt.Rules.Status()
	}
	h.render(w, rq.Request, rq, http.StatusOK, "rules", "Rules", d)
}

func (h *Handler) reloadRules(w http.ResponseWriter, rq *request) {
	if h.opt.Rules == nil {
		h.done(w, rq, "/rules", "error", "The rules engine is not running in this daemon: nothing to reload.")
		return
	}
	if err := h.opt.Rules.Reload(rq.Context()); err != nil {
		msg := "The rule files were not reloaded; the previous set stays in force. "
		if h.opt.Rules.Status().LastReloadError != "" {
			msg += "The problems are listed below: fix the files and reload again."
		} else {
			msg += err.Error()
		}
		h.done(w, rq, "/rules", "error", msg)
		return
	}
	h.done(w, rq, "/rules", "ok", fmt.Sprintf("Reloaded the rules: %d in force.", len(h.opt.Rules.Status().Rules)))
}

// ---- audit ----

const auditShown = 500

type auditData struct {
	Actor, Action, Object, Since string
	SinceTime                    time.Time
	Entries                      []queue.AuditEntry
	More                         bool
	Error                        string
}

func (h *Handler) auditPage(w http.ResponseWriter, rq *request) {
	q := rq.URL.Query()
	d := auditData{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), Since: q.Get("since")}
	if d.Since == "" {
		d.Since = "7d"
	}
	since, err := parseSince(d.Since, h.now(), h.loc)
	if err != nil {
		d.Error = err.Error()
		since = h.now().AddDate(0, 0, -7)
	}
	d.SinceTime = since
	entries, err := h.opt.Store.AuditLog(rq.Context(), since, 10000)
	if err != nil {
		h.internal(w, rq, "read the audit log", err)
		return
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.After(entries[j].At) })
	for _, e := range entries {
		if !containsFold(e.Actor.String(), d.Actor) || !containsFold(e.Action, d.Action) || !containsFold(e.Object+" "+e.Detail, d.Object) {
			continue
		}
		if len(d.Entries) == auditShown {
			d.More = true
			break
		}
		d.Entries = append(d.Entries, e)
	}
	h.render(w, rq.Request, rq, http.StatusOK, "audit", "Audit log", d)
}

func containsFold(s, sub string) bool {
	return sub == "" || strings.Contains(strings.ToLower(s), strings.ToLower(strings.TrimSpace(sub)))
}

// parseSince reads "24h", "90m", "7d" (days) or a date "2026-05-01" (in loc).
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q is not understood: write 24h, 7d or a date such as 2026-05-01; showing the last 7 days", s)
}

// linkOK reports whether an evidence link may be shown as a link: only http(s), so that a
// feed cannot put a javascript: URL on the page.
func linkOK(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
