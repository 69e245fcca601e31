package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// PostView is a post as the API shows it: the stored post, its campaign's time zone (so
// clients show times where the campaign lives) and the safety warnings that touch it.
type PostView struct {
	*queue.Post
	TimeZone string   `json:"timezone"`
	Warnings []string `json:"warnings,omitempty"`
}

// PostList is a page of posts.
type PostList = List[PostView]

// PostInput creates a post. At (or DueAt) is RFC 3339 with a zone, a local time in the
// campaign's zone, or +DURATION. Accounts default to the campaign's; Account adds one.
type PostInput struct {
	Campaign string   `json:"campaign"`
	Text     string   `json:"text"`
	Link     string   `json:"link"`
	Media    []string `json:"media"`
	Accounts []string `json:"accounts"`
	Account  string   `json:"account"`
	At       string   `json:"at"`
	DueAt    string   `json:"due_at"`
	Draft    bool     `json:"draft"`
}

// PostPatch edits a post; absent fields stay as they are.
type PostPatch struct {
	Text     *string   `json:"text"`
	Link     *string   `json:"link"`
	Media    *[]string `json:"media"`
	Accounts *[]string `json:"accounts"`
	At       *string   `json:"at"`
	DueAt    *string   `json:"due_at"`
	Version  int64     `json:"version"`
}

// ActionInput is the optional body of approve, reject, hold, release, retry...
type ActionInput struct {
	Reason  string `json:"reason"`
	Version int64  `json:"version"`
}

// BulkInput approves several posts.
type BulkInput struct {
	IDs []int64 `json:"ids"`
}

// BulkResult says which posts were approved and why the others were not.
type BulkResult struct {
	Error    string        `json:"error,omitempty"`
	Approved []int64       `json:"approved"`
	Failed   []BulkFailure `json:"failed"`
}

// BulkFailure is one post a bulk action could not change.
type BulkFailure struct {
	ID     int64  `json:"id"`
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// headReader is a Store that reads many campaigns' heads (time zone and topics) in one
// query (daemon/sqlite does): all a page of posts needs of their campaigns.
type headReader interface {
	CampaignHeads(ctx context.Context, ids []int64) (map[int64]queue.CampaignHead, error)
}

// PageWarner is a Warnings that reads what warnings depend on (the open incidents) once for
// a whole page of posts (watch.Watcher does): warn then computes each post's warnings from
// what was read, without reading again, and open is how many incidents are open.
type PageWarner interface {
	PageWarnings(ctx context.Context) (open int, warn func(c *queue.Campaign, p *queue.Post) []string, err error)
}

// PageWarnings returns what the queue's pages (the API's and the web UI's) need to show the
// warnings of a page of posts: whether an incident is open (with none, only flagged posts
// have warnings) and each post's warnings. It reads the open incidents once per page, not
// once per post (which made the listing fall over during an incident; see
// docs/performance.md); a Warnings that is not a PageWarner is asked post by post. When the
// open incidents cannot be read, err says why and warn still gives what can be shown.
func PageWarnings(ctx context.Context, st queue.Store, w Warnings) (open bool, warn func(c *queue.Campaign, p *queue.Post) []string, err error) {
	if pw, ok := w.(PageWarner); ok {
		n, warn, err := pw.PageWarnings(ctx)
		return n > 0, warn, err
	}
	in, err := st.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, Limit: 1})
	return len(in) > 0, func(c *queue.Campaign, p *queue.Post) []string { return w.PostWarnings(ctx, c, p) }, err
}

// views turns posts into PostViews. A page touches up to one campaign per post: their heads
// (time zone and topics, all a view and its warnings read of a campaign) are read together
// when the store can, and warnings only when an incident is open or a post carries flags
// (the only sources of warnings), from one read of the open incidents, so a page of the
// queue costs a few queries whatever the number of campaigns and incidents.
func (s *server) views(ctx context.Context, ps []*queue.Post) ([]PostView, error) {
	warn := false
	var warnings func(c *queue.Campaign, p *queue.Post) []string
	if s.opt.Warnings != nil {
		var err error
		if warn, warnings, err = PageWarnings(ctx, s.opt.Store, s.opt.Warnings); err != nil {
			return nil, err
		}
	}
	camps := map[int64]*queue.Campaign{}
	if hr, ok := s.opt.Store.(headReader); ok && len(ps) > 1 {
		var ids []int64
		for _, p := range ps {
			if _, seen := camps[p.CampaignID]; !seen {
				camps[p.CampaignID] = nil
				ids = append(ids, p.CampaignID)
			}
		}
		clear(camps)
		heads, err := hr.CampaignHeads(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, h := range heads {
			camps[id] = h.Campaign()
		}
	}
	out := make([]PostView, 0, len(ps))
	for _, p := range ps {
		c, ok := camps[p.CampaignID]
		if !ok {
			var err error
			if c, err = s.opt.Store.Campaign(ctx, p.CampaignID); err != nil {
				return nil, err
			}
			camps[p.CampaignID] = c
		}
		v := PostView{Post: p, TimeZone: s.zone(c.TimeZone).String()}
		if s.opt.Warnings != nil && (warn || len(p.Flags) > 0) {
			v.Warnings = warnings(c, p)
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *server) view(ctx context.Context, p *queue.Post) (PostView, error) {
	vs, err := s.views(ctx, []*queue.Post{p})
	if err != nil {
		return PostView{}, err
	}
	return vs[0], nil
}

func (s *server) writePost(w http.ResponseWriter, r *http.Request, status int, p *queue.Post) error {
	v, err := s.view(r.Context(), p)
	if err != nil {
		return err
	}
	setETag(w, p.Version)
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1/posts/"+strconv.FormatInt(p.ID, 10))
	}
	writeJSON(w, status, v)
	return nil
}

func (s *server) listPosts(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	q := r.URL.Query()
	f := queue.PostFilter{Account: q.Get("account"), Cursor: q.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit"), 100, 1000); err != nil {
		return err
	}
	var loc = s.loc
	if name := q.Get("campaign"); name != "" {
		c, err := s.campaign(r, name)
		if err != nil {
			return err
		}
		f.CampaignID, loc = c.ID, s.location(c)
	}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			st = strings.TrimSpace(st)
			if st == "" {
				continue
			}
			if !queue.PostState(st).Valid() {
				return queue.Errorf(queue.Invalid, "state", "unknown post state %q: use one of %s", st, joinPostStates())
			}
			f.States = append(f.States, queue.PostState(st))
		}
	}
	now := s.now()
	if v := q.Get("due_after"); v != "" {
		if f.DueAfter, err = parseWhen("due_after", v, loc, now); err != nil {
			return err
		}
	}
	if v := q.Get("due_before"); v != "" {
		if f.DueBefore, err = parseWhen("due_before", v, loc, now); err != nil {
			return err
		}
	}
	ctx := r.Context()
	build := func() ([]byte, error) {
		ps, next, err := s.opt.Store.Posts(ctx, f)
		if err != nil {
			return nil, err
		}
		vs, err := s.views(ctx, ps)
		if err != nil {
			return nil, err
		}
		return encodeJSON(PostList{Items: vs, Next: next})
	}
	var body []byte
	if st, ok := s.stamp(ctx); ok {
		body, err = s.answers.get(ctx, postsKey(f), st, build)
	} else {
		body, err = build()
	}
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// postsKey names a listing: two filters with the same key list the same posts.
func postsKey(f queue.PostFilter) string {
	var b strings.Builder
	b.WriteString("posts")
	for _, st := range f.States {
		b.WriteString(" state=" + string(st))
	}
	fmt.Fprintf(&b, " campaign=%d account=%q after=%d before=%d cursor=%q limit=%d",
		f.CampaignID, f.Account, unixNanos(f.DueAfter), unixNanos(f.DueBefore), f.Cursor, f.Limit)
	return b.String()
}

// unixNanos is t in nanoseconds, 0 for the zero time (no bound).
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func joinPostStates() string {
	var b []string
	for _, s := range queue.PostStates {
		b = append(b, string(s))
	}
	return strings.Join(b, ", ")
}

func (s *server) getPost(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.opt.Store.Post(r.Context(), id)
	if err != nil {
		return err
	}
	return s.writePost(w, r, http.StatusOK, p)
}

// PostBuilder checks a new post and makes it, without storing it, as POST /api/v1/posts
// does: a campaign named (or numbered) that is not archived, a text, an http(s) link, the
// campaign's accounts each once (all of them when none is named), a due time in the
// campaign's zone that is not in the past, and the target networks' Validate problems
// (kept on the post: a post a network refuses is stored but cannot be approved). The bulk
// imports of the API and of the web UI build every row with it, so that a row is accepted
// exactly when the same post sent alone would be.
type PostBuilder struct {
	Store queue.Store
	// Validator runs the plugins' Validate; nil makes every build fail as unavailable.
	Validator Validator
	// Media describes the attachments posts name by id; nil refuses posts with media.
	Media MediaStore
	Now   func() time.Time
	// Location is a campaign's time zone, the daemon's default when it names none.
	Location func(c *queue.Campaign) *time.Location
}

// Build checks in and makes the post it describes. A refusal is an Invalid error naming the
// field at fault; other errors mean the store or the plugins failed. seen caches campaigns
// by name across the rows of one import (nil: no cache).
func (b *PostBuilder) Build(ctx context.Context, in PostInput, seen map[string]*queue.Campaign) (*queue.Post, error) {
	name := strings.TrimSpace(in.Campaign)
	if name == "" {
		return nil, queue.Errorf(queue.Invalid, "campaign", "campaign is required: the name of the campaign the post belongs to")
	}
	c, err := seen[name], error(nil)
	if c == nil {
		c, err = findCampaign(ctx, b.Store, name)
		if queue.ErrorKind(err) == queue.NotFound {
			return nil, queue.Errorf(queue.Invalid, "campaign", "unknown campaign %q: there is no campaign named that; fix the name or create the campaign first ('tactctl campaign list' shows them)", name)
		}
		if err != nil {
			return nil, err
		}
		if seen != nil {
			seen[name] = c
		}
	}
	if c.State == queue.CampaignArchived {
		return nil, queue.Errorf(queue.Invalid, "campaign", "campaign %q is archived; post to an active campaign", c.Name)
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return nil, queue.Errorf(queue.Invalid, "text", "text is empty: every post needs a text")
	}
	if err := checkURL("link", in.Link); err != nil {
		return nil, err
	}
	accounts := slices.Clone(in.Accounts)
	if in.Account != "" {
		accounts = append(accounts, splitAccounts(in.Account)...)
	}
	if len(accounts) == 0 {
		accounts = slices.Clone(c.Accounts)
	}
	if err := checkPostAccounts(c, accounts); err != nil {
		return nil, err
	}
	field, when := "at", in.At
	if in.DueAt != "" {
		if in.At != "" && in.At != in.DueAt {
			return nil, queue.Errorf(queue.Invalid, "due_at", "at and due_at are the same thing; send one")
		}
		field, when = "due_at", in.DueAt
	}
	due, err := b.futureTime(field, when, c)
	if err != nil {
		return nil, err
	}
	p := &queue.Post{CampaignID: c.ID, Campaign: c.Name, Text: text, Link: in.Link, Media: in.Media,
		Accounts: accounts, DueAt: due, State: queue.PostPending}
	if in.Draft {
		p.State = queue.PostDraft
	}
	if p.Problems, err = b.Validate(ctx, p.Accounts, p.Text, p.Link, p.Media); err != nil {
		return nil, err
	}
	return p, nil
}

// futureTime parses a due time in campaign c's zone and refuses times in the past.
func (b *PostBuilder) futureTime(field, v string, c *queue.Campaign) (time.Time, error) {
	now := b.Now()
	loc := b.Location(c)
	due, err := parseWhen(field, v, loc, now)
	if err != nil {
		return time.Time{}, err
	}
	if due.Before(now) {
		return time.Time{}, queue.Errorf(queue.Invalid, field, "%s %s is in the past (it is now %s in %s); pick a later time",
			field, due.In(loc).Format("2006-01-02 15:04 MST"), now.In(loc).Format("2006-01-02 15:04 MST"), loc)
	}
	return due, nil
}

// splitAccounts reads "a;b", "a|b" or "a b" (a CSV cell naming several accounts).
func splitAccounts(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || unicode.IsSpace(r) })
}

func checkPostAccounts(c *queue.Campaign, accounts []string) error {
	seen := map[string]bool{}
	for _, a := range accounts {
		if !slices.Contains(c.Accounts, a) {
			return queue.Errorf(queue.Invalid, "accounts", "account %q is not one of campaign %q's accounts (%s)", a, c.Name, strings.Join(c.Accounts, ", "))
		}
		if seen[a] {
			return queue.Errorf(queue.Invalid, "accounts", "account %q is named twice", a)
		}
		seen[a] = true
	}
	return nil
}

// Validate asks the target networks what they would refuse of a post with this text,
// link and media (ids of uploaded attachments, refused as bad input when they are not).
// Every front end that creates or edits a post checks it here.
func (b *PostBuilder) Validate(ctx context.Context, accounts []string, text, link string, media []string) ([]string, error) {
	if b.Validator == nil {
		return nil, unavailable("post validation by the account plugins")
	}
	attachments, err := b.attachments(media)
	if err != nil {
		return nil, err
	}
	sp := sdk.Post{Text: text, Link: link, Media: attachments}
	problems, err := b.Validator.Validate(ctx, accounts, sp)
	if err != nil {
		if queue.ErrorKind(err) != "" {
			return nil, err
		}
		if sdk.KindOf(err) == sdk.Permanent {
			// The plugin, or the host for a text it cannot encode, refuses to check this
			// post: "try again" would never help.
			return nil, &queue.Error{Kind: queue.Invalid, Message: "the account plugins cannot check this post", Err: err}
		}
		return nil, &queue.Error{Kind: queue.Unavailable, Message: "the account plugins could not validate the post; try again", Err: err}
	}
	return problems, nil
}

func (s *server) createPost(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in PostInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	p, err := s.posts.Build(r.Context(), in, nil)
	if err != nil {
		return err
	}
	if err := s.opt.Store.CreatePost(r.Context(), actor(u), p); err != nil {
		return err
	}
	s.kick()
	return s.writePost(w, r, http.StatusCreated, p)
}

func (s *server) editPost(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in PostPatch
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	version, err := expectedVersion(r, in.Version)
	if err != nil {
		return err
	}
	p, err := s.opt.Store.Post(r.Context(), id)
	if err != nil {
		return err
	}
	if version != 0 && version != p.Version {
		return s.postConflict(r.Context(), p.ID, queue.Errorf(queue.Conflict, "version",
			"post %d changed: you have version %d, it is now version %d (%s); look at it again and retry", p.ID, version, p.Version, p.State))
	}
	c, err := s.opt.Store.Campaign(r.Context(), p.CampaignID)
	if err != nil {
		return err
	}
	e := queue.PostEdit{Link: in.Link, Media: in.Media, Accounts: in.Accounts}
	text, link, media, accounts := p.Text, p.Link, p.Media, p.Accounts
	if in.Text != nil {
		t := strings.TrimSpace(*in.Text)
		e.Text, text = &t, t
	}
	if in.Link != nil {
		if err := checkURL("link", *in.Link); err != nil {
			return err
		}
		link = *in.Link
	}
	if in.Media != nil {
		media = *in.Media
	}
	if in.Accounts != nil {
		if len(*in.Accounts) == 0 {
			return queue.Errorf(queue.Invalid, "accounts", "a post needs at least one account")
		}
		if err := checkPostAccounts(c, *in.Accounts); err != nil {
			return err
		}
		accounts = *in.Accounts
	}
	if text == "" {
		return queue.Errorf(queue.Invalid, "text", "text must not be empty")
	}
	field, when := "at", in.At
	if in.DueAt != nil {
		if in.At != nil && *in.At != *in.DueAt {
			return queue.Errorf(queue.Invalid, "due_at", "at and due_at are the same thing; send one")
		}
		field, when = "due_at", in.DueAt
	}
	if when != nil {
		due, err := s.posts.futureTime(field, *when, c)
		if err != nil {
			return err
		}
		e.DueAt = &due
	}
	problems, err := s.posts.Validate(r.Context(), accounts, text, link, media)
	if err != nil {
		return err
	}
	e.Problems = &problems
	p, err = s.opt.Store.EditPost(r.Context(), actor(u), id, p.Version, e)
	if err != nil {
		return s.postConflict(r.Context(), id, err)
	}
	s.kick()
	return s.writePost(w, r, http.StatusOK, p)
}

// postConflict adds the post as stored now to a conflict, so the client sees what changed.
func (s *server) postConflict(ctx context.Context, id int64, err error) error {
	if queue.ErrorKind(err) != queue.Conflict {
		return err
	}
	p, gerr := s.opt.Store.Post(ctx, id)
	if gerr != nil {
		return err
	}
	v, verr := s.view(ctx, p)
	if verr != nil {
		return err
	}
	return &detailError{err: err, post: v, problems: p.Problems}
}

func (s *server) deletePost(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	version, err := expectedVersion(r, 0)
	if err != nil {
		return err
	}
	if err := s.opt.Store.DeletePost(r.Context(), actor(u), id, version); err != nil {
		return s.postConflict(r.Context(), id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// action serves POST /api/v1/posts/{id}/<event>.
func (s *server) action(ev queue.Event) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, u *queue.User) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var in ActionInput
		if err := s.decode(w, r, &in, true); err != nil {
			return err
		}
		version, err := expectedVersion(r, in.Version)
		if err != nil {
			return err
		}
		p, err := s.apply(r.Context(), u, id, version, ev, strings.TrimSpace(in.Reason))
		if err != nil {
			return err
		}
		return s.writePost(w, r, http.StatusOK, p)
	}
}

// apply moves one post by ev for u, with the checks a person's action needs.
func (s *server) apply(ctx context.Context, u *queue.User, id, version int64, ev queue.Event, reason string) (*queue.Post, error) {
	p, err := s.desk.Apply(ctx, actor(u), id, version, ev, reason)
	if err != nil {
		return nil, s.postConflict(ctx, id, err)
	}
	return p, nil
}

func (s *server) bulkApprove(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in BulkInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if len(in.IDs) == 0 {
		return queue.Errorf(queue.Invalid, "ids", "ids is required: the posts to approve")
	}
	res := BulkResult{Approved: []int64{}, Failed: []BulkFailure{}}
	for _, id := range in.IDs {
		if _, err := s.apply(r.Context(), u, id, 0, queue.EventApprove, ""); err != nil {
			if ClientGone(r.Context(), err) {
				// Nobody is left to read the answer: stop, and WriteError says so at DEBUG
				// (the posts approved so far stay approved: each is its own transaction).
				return err
			}
			status, body := Describe(err)
			if status == http.StatusInternalServerError {
				s.log.Error("api: bulk approve", "post", id, "err", err)
			}
			res.Failed = append(res.Failed, BulkFailure{ID: id, Status: status, Error: body.Error})
			continue
		}
		res.Approved = append(res.Approved, id)
	}
	status := http.StatusOK
	if len(res.Failed) > 0 {
		status = http.StatusConflict
		res.Error = fmt.Sprintf("%d of %d posts were not approved; see failed", len(res.Failed), len(in.IDs))
	}
	writeJSON(w, status, res)
	return nil
}
