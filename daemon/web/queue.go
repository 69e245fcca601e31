package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/importer"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// queueStates are the sections of the queue page, in the order people work through them.
var queueStates = []queue.PostState{queue.PostPending, queue.PostHeld, queue.PostApproved}

var sectionTitles = map[queue.PostState]string{
	queue.PostPending:    "Awaiting approval",
	queue.PostHeld:       "Held",
	queue.PostApproved:   "Approved, not yet published",
	queue.PostMissed:     "Missed: reschedule or reject",
	queue.PostFailed:     "Failed",
	queue.PostUnknown:    "Outcome unknown: check the network",
	queue.PostPublishing: "Publishing now",
	queue.PostPublished:  "Published",
	queue.PostRejected:   "Rejected",
	queue.PostDraft:      "Drafts",
}

const queuePageSize = 300

type queueFilter struct {
	Campaign string
	Account  string
	State    string
}

type queueData struct {
	F         queueFilter
	Campaigns []*queue.Campaign
	Accounts  []string
	States    []queue.PostState
	Sections  []*section
	Shown     int
	NextURL   string
	// Attention counts posts outside the default sections that wait for a person.
	Attention []stateCount
}

type stateCount struct {
	State queue.PostState
	N     int
}

type section struct {
	State queue.PostState
	Title string
	Count int
	Days  []*day
}

type day struct {
	Label string
	Cards []*card
}

type card struct {
	P        *queue.Post
	C        *queue.Campaign
	Loc      *time.Location
	DueInput string // value of a datetime-local input, in the campaign's zone
	Previews []preview
	Warnings []string

	CanApprove, CanHold, CanRelease, CanReject, CanEdit bool
	// For failed and unknown posts: a person says what happened, or sends again.
	CanRetry, CanSucceed, CanFail bool
	ApproveBlocked                string // why approve is not offered
}

// preview is one target account's view of a post: how long the network counts it.
type preview struct {
	Account  string
	Plugin   string
	Counting string
	Len      int
	Max      int
	Over     bool
}

func (h *Handler) queuePage(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	q := rq.URL.Query()
	f := queueFilter{Campaign: q.Get("campaign"), Account: q.Get("account"), State: q.Get("state")}
	camps, err := h.opt.Store.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil {
		h.internal(w, rq, "list campaigns", err)
		return
	}
	byID := campaignsByID(camps)
	infos := h.accountInfos(ctx)

	pf := queue.PostFilter{Account: f.Account, States: queueStates, Limit: queuePageSize, Cursor: q.Get("cursor")}
	if f.Campaign != "" {
		c := findCampaign(camps, f.Campaign)
		if c == nil {
			h.setFlash(w, flash{Kind: "error", Text: fmt.Sprintf("There is no campaign named %q; showing all campaigns.", f.Campaign)})
			http.Redirect(w, rq.Request, "/", http.StatusSeeOther)
			return
		}
		pf.CampaignID = c.ID
	}
	if f.State != "" {
		st := queue.PostState(f.State)
		if !st.Valid() {
			h.setFlash(w, flash{Kind: "error", Text: fmt.Sprintf("%q is not a post state; choose one from the list.", f.State)})
			http.Redirect(w, rq.Request, "/", http.StatusSeeOther)
			return
		}
		pf.States = []queue.PostState{st}
	}
	posts, next, err := h.opt.Store.Posts(ctx, pf)
	if err != nil {
		h.internal(w, rq, "list posts", err)
		return
	}

	d := queueData{F: f, Campaigns: camps, Accounts: accountNames(camps, infos), States: queue.PostStates, Shown: len(posts)}
	if f.State == "" {
		counts, err := h.opt.Store.CountPosts(ctx)
		if err != nil {
			h.internal(w, rq, "count posts", err)
			return
		}
		for _, st := range []queue.PostState{queue.PostMissed, queue.PostUnknown, queue.PostFailed} {
			if counts[st] > 0 {
				d.Attention = append(d.Attention, stateCount{st, counts[st]})
			}
		}
	}
	// The open incidents are read once for the page, not once per card.
	var warn func(c *queue.Campaign, p *queue.Post) []string
	if h.opt.Warnings != nil {
		_, warn, _ = api.PageWarnings(ctx, h.opt.Store, h.opt.Warnings)
	}
	secs := map[queue.PostState]*section{}
	for _, st := range pf.States {
		s := &section{State: st, Title: sectionTitles[st]}
		secs[st] = s
		d.Sections = append(d.Sections, s)
	}
	for _, p := range posts {
		s := secs[p.State]
		if s == nil { // the state changed between the filter and the read: show it anyway
			s = &section{State: p.State, Title: sectionTitles[p.State]}
			secs[p.State] = s
			d.Sections = append(d.Sections, s)
		}
		cd := h.newCard(rq, byID[p.CampaignID], p, infos, warn)
		s.Count++
		label := p.DueAt.In(cd.Loc).Format("Monday 2 January 2006")
		if n := len(s.Days); n == 0 || s.Days[n-1].Label != label {
			s.Days = append(s.Days, &day{Label: label})
		}
		dd := s.Days[len(s.Days)-1]
		dd.Cards = append(dd.Cards, cd)
	}
	if next != "" {
		v := url.Values{}
		for k, val := range map[string]string{"campaign": f.Campaign, "account": f.Account, "state": f.State, "cursor": next} {
			if val != "" {
				v.Set(k, val)
			}
		}
		d.NextURL = "/?" + v.Encode()
	}
	h.render(w, rq.Request, rq, http.StatusOK, "queue", "Queue", d)
}

func campaignsByID(cs []*queue.Campaign) map[int64]*queue.Campaign {
	m := make(map[int64]*queue.Campaign, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

func findCampaign(cs []*queue.Campaign, name string) *queue.Campaign {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (h *Handler) accountInfos(ctx context.Context) map[string]api.AccountInfo {
	m := map[string]api.AccountInfo{}
	if h.opt.Accounts == nil {
		return m
	}
	infos, err := h.opt.Accounts.Accounts(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "web: accounts unavailable; lengths shown without limits", "err", err)
		return m
	}
	for _, a := range infos {
		m[a.Name] = a
	}
	return m
}

func accountNames(camps []*queue.Campaign, infos map[string]api.AccountInfo) []string {
	seen := map[string]bool{}
	for name := range infos {
		seen[name] = true
	}
	for _, c := range camps {
		for _, a := range c.Accounts {
			seen[a] = true
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// makeCard computes what the queue shows for one post and which actions rq's user may take.
func (h *Handler) makeCard(ctx context.Context, rq *request, c *queue.Campaign, p *queue.Post, infos map[string]api.AccountInfo) *card {
	var warn func(c *queue.Campaign, p *queue.Post) []string
	if h.opt.Warnings != nil {
		warn = func(c *queue.Campaign, p *queue.Post) []string { return h.opt.Warnings.PostWarnings(ctx, c, p) }
	}
	return h.newCard(rq, c, p, infos, warn)
}

// newCard is makeCard with the safety warnings of the post's page (nil: none): a page of
// cards reads the open incidents once.
func (h *Handler) newCard(rq *request, c *queue.Campaign, p *queue.Post, infos map[string]api.AccountInfo, warn func(c *queue.Campaign, p *queue.Post) []string) *card {
	cd := &card{P: p, C: c, Loc: h.zone(c)}
	cd.DueInput = p.DueAt.In(cd.Loc).Format("2006-01-02T15:04")
	for _, a := range p.Accounts {
		info := infos[a]
		pv := preview{Account: a, Plugin: info.Plugin, Counting: info.Counting, Max: info.MaxLength}
		if pv.Counting == "" {
			pv.Counting = string(sdk.CountRunes)
		}
		pv.Len = Length(p.Text, pv.Counting)
		pv.Over = pv.Max > 0 && pv.Len > pv.Max
		cd.Previews = append(cd.Previews, pv)
	}
	if c != nil && c.State == queue.CampaignPaused && c.Pause != nil {
		cd.Warnings = append(cd.Warnings, "Campaign paused: "+c.Pause.Reason+" — it publishes nothing until resumed.")
	}
	if warn != nil && c != nil {
		cd.Warnings = append(cd.Warnings, warn(c, p)...)
	}
	for _, fl := range p.Flags {
		cd.Warnings = append(cd.Warnings, "Flagged by rule "+fl+": check the news before approving.")
	}
	for _, pr := range p.Problems {
		cd.Warnings = append(cd.Warnings, "Refused by the network: "+pr)
	}
	if p.Reason != "" && (p.State == queue.PostHeld || p.State == queue.PostMissed || p.State == queue.PostFailed) {
		cd.Warnings = append(cd.Warnings, sectionTitles[p.State]+": "+p.Reason)
	}
	for _, d := range p.Deliveries {
		if (d.State == queue.DeliveryFailed || d.State == queue.DeliveryUnknown) && d.LastError != "" {
			cd.Warnings = append(cd.Warnings, fmt.Sprintf("%s: %s after %d %s: %s", d.Account, d.State, d.Attempts, plural(d.Attempts, "attempt", "attempts"), d.LastError))
		}
	}
	if rq.can(queue.RoleMarketer) {
		_, errA := queue.Next(p.State, queue.EventApprove)
		cd.CanApprove = errA == nil && len(p.Problems) == 0
		if errA == nil && len(p.Problems) > 0 {
			cd.ApproveBlocked = "Fix the problems above (edit the text) before approving."
		}
		_, errH := queue.Next(p.State, queue.EventHold)
		cd.CanHold = errH == nil
		_, errR := queue.Next(p.State, queue.EventRelease)
		cd.CanRelease = errR == nil
		_, errJ := queue.Next(p.State, queue.EventReject)
		cd.CanReject = errJ == nil
		cd.CanEdit = queue.Editable(p.State) && p.State != queue.PostRejected
		_, errT := queue.Next(p.State, queue.EventRetry)
		cd.CanRetry = errT == nil && p.State != queue.PostPublishing
		_, errS := queue.Next(p.State, queue.EventSucceed)
		cd.CanSucceed = errS == nil && p.State == queue.PostUnknown
		_, errF := queue.Next(p.State, queue.EventFail)
		cd.CanFail = errF == nil && p.State == queue.PostUnknown
	}
	return cd
}

var personEvents = map[string]queue.Event{
	"approve": queue.EventApprove,
	"reject":  queue.EventReject,
	"hold":    queue.EventHold,
	"release": queue.EventRelease,
	"retry":   queue.EventRetry,
	"succeed": queue.EventSucceed,
	"fail":    queue.EventFail,
}

var eventDone = map[queue.Event]string{
	queue.EventApprove: "Approved",
	queue.EventReject:  "Rejected",
	queue.EventHold:    "Held",
	queue.EventRelease: "Released",
	queue.EventRetry:   "Will send again",
	queue.EventSucceed: "Marked as published",
	queue.EventFail:    "Marked as failed",
}

func pathID(rq *request) (int64, bool) {
	id, err := strconv.ParseInt(rq.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func formVersion(rq *request) int64 {
	v, _ := strconv.ParseInt(rq.PostFormValue("version"), 10, 64)
	return v
}

// applyPost approves, rejects, holds or releases one post.
func (h *Handler) applyPost(w http.ResponseWriter, rq *request) {
	to := back(rq.Request, "/")
	ev, ok := personEvents[rq.PathValue("event")]
	id, okID := pathID(rq)
	if !ok || !okID {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such action.", "Use the buttons on the queue page.")
		return
	}
	reason := strings.TrimSpace(rq.PostFormValue("reason"))
	if ev == queue.EventReject && reason == "" {
		h.done(w, rq, to, "error", fmt.Sprintf("Post #%d was not rejected: say why in the Reason field, so its author knows what to change.", id))
		return
	}
	version := formVersion(rq)
	p, err := h.desk.Apply(rq.Context(), rq.actor(), id, version, ev, reason)
	if err != nil {
		h.done(w, rq, to, "error", h.actionError(rq.Context(), id, version, err, string(ev)))
		return
	}
	msg := fmt.Sprintf("%s post #%d (%s).", eventDone[ev], p.ID, p.Campaign)
	if ev == queue.EventRelease {
		msg += " It is pending again and needs an approval."
	}
	h.done(w, rq, to, "ok", msg)
}

// actionError explains a refused action; a stale version gets its own words, since the
// fix (look again) differs from an illegal move.
func (h *Handler) actionError(ctx context.Context, id, version int64, err error, what string) string {
	if queue.ErrorKind(err) == queue.Conflict && version > 0 {
		if cur, gerr := h.opt.Store.Post(ctx, id); gerr == nil && cur.Version != version {
			return fmt.Sprintf("Post #%d changed since you opened it (it is now %s): nothing was done. Check it again below, then decide.", id, cur.State)
		}
	}
	return h.explain(ctx, err, fmt.Sprintf("%s post #%d", what, id))
}

// bulkApprove approves the selected posts, each at the version that was shown.
func (h *Handler) bulkApprove(w http.ResponseWriter, rq *request) {
	to := back(rq.Request, "/")
	sel := rq.PostForm["post"]
	if len(sel) == 0 {
		h.done(w, rq, to, "error", "No post was selected: tick the boxes of the posts to approve, then press Approve selected.")
		return
	}
	var approved int
	var problems []string
	for _, s := range sel {
		idS, verS, _ := strings.Cut(s, ":")
		id, err1 := strconv.ParseInt(idS, 10, 64)
		ver, err2 := strconv.ParseInt(verS, 10, 64)
		if err1 != nil || err2 != nil {
			problems = append(problems, fmt.Sprintf("%q is not a post selection", s))
			continue
		}
		if _, err := h.desk.Apply(rq.Context(), rq.actor(), id, ver, queue.EventApprove, ""); err != nil {
			problems = append(problems, h.actionError(rq.Context(), id, ver, err, "approve"))
			continue
		}
		approved++
	}
	if len(problems) > 0 {
		h.done(w, rq, to, "error", fmt.Sprintf("Approved %d of %d posts. %s", approved, len(sel), strings.Join(problems, " ")))
		return
	}
	h.done(w, rq, to, "ok", fmt.Sprintf("Approved %d %s.", approved, plural(approved, "post", "posts")))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type editData struct {
	Card  *card
	Text  string // what the form shows
	Mine  string // on a conflict: the text this person had written
	Stale bool
	Error string
}

func (h *Handler) editPage(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such post.", "Go back to the queue.")
		return
	}
	p, c, err := h.postWithCampaign(rq.Context(), id)
	if err != nil {
		h.postLookupFailed(w, rq, id, err)
		return
	}
	cd := h.makeCard(rq.Context(), rq, c, p, h.accountInfos(rq.Context()))
	h.render(w, rq.Request, rq, http.StatusOK, "edit", fmt.Sprintf("Edit post #%d", id), editData{Card: cd, Text: p.Text})
}

func (h *Handler) postWithCampaign(ctx context.Context, id int64) (*queue.Post, *queue.Campaign, error) {
	p, err := h.opt.Store.Post(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := h.opt.Store.Campaign(ctx, p.CampaignID)
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

func (h *Handler) postLookupFailed(w http.ResponseWriter, rq *request, id int64, err error) {
	if queue.ErrorKind(err) == queue.NotFound {
		h.fail(w, rq.Request, rq, http.StatusNotFound, fmt.Sprintf("Post #%d does not exist (it may have been deleted).", id), "Go back to the queue.")
		return
	}
	h.internal(w, rq, fmt.Sprintf("read post #%d", id), err)
}

// editPost changes a post's text and due time. The form carries the version it was opened
// at: if the post changed since, nothing is saved and the page shows the current text next
// to the one the person wrote (409).
func (h *Handler) editPost(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	to := back(rq.Request, "/")
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such post.", "Go back to the queue.")
		return
	}
	p, c, err := h.postWithCampaign(ctx, id)
	if err != nil {
		h.postLookupFailed(w, rq, id, err)
		return
	}
	version := formVersion(rq)
	text := strings.TrimSpace(strings.ReplaceAll(rq.PostFormValue("text"), "\r\n", "\n"))
	loc := h.zone(c)
	showForm := func(status int, stale bool, msg string) {
		cd := h.makeCard(ctx, rq, c, p, h.accountInfos(ctx))
		d := editData{Card: cd, Text: text, Error: msg}
		if stale {
			d = editData{Card: cd, Text: p.Text, Mine: text, Stale: true}
		}
		h.render(w, rq.Request, rq, status, "edit", fmt.Sprintf("Edit post #%d", id), d)
	}
	if version > 0 && version != p.Version {
		showForm(http.StatusConflict, true, "")
		return
	}
	var e queue.PostEdit
	if text == "" {
		showForm(http.StatusBadRequest, false, "The text is empty: write the post's text, or reject the post instead.")
		return
	}
	if text != p.Text {
		e.Text = &text
	}
	if dueS := strings.TrimSpace(rq.PostFormValue("due")); dueS != "" {
		due, err := time.ParseInLocation("2006-01-02T15:04", dueS, loc)
		if err != nil {
			showForm(http.StatusBadRequest, false, fmt.Sprintf("Due time %q is not a date and time: use the picker, or write 2026-05-01T09:30 (%s).", dueS, loc))
			return
		}
		if !due.Equal(p.DueAt.In(loc).Truncate(time.Minute)) {
			if !due.After(h.now()) {
				showForm(http.StatusBadRequest, false, fmt.Sprintf("Due time %s is in the past: choose a later time.", due.Format("2006-01-02 15:04 MST")))
				return
			}
			u := due.UTC()
			e.DueAt = &u
		}
	}
	if e.Text == nil && e.DueAt == nil {
		h.done(w, rq, to, "ok", fmt.Sprintf("Post #%d: nothing changed.", id))
		return
	}
	if e.Text != nil && h.opt.Validator == nil {
		showForm(http.StatusServiceUnavailable, false, "The new text cannot be checked: post validation by the account plugins is not configured in this daemon. Nothing was saved; ask an admin.")
		return
	}
	if e.Text != nil {
		// The same check as the API's edit, media included: the networks see the whole post.
		problems, err := h.postBuilder().Validate(ctx, p.Accounts, text, p.Link, p.Media)
		if queue.ErrorKind(err) == queue.Invalid {
			showForm(http.StatusBadRequest, false, err.Error()+" Nothing was saved.")
			return
		}
		if err != nil {
			h.log.WarnContext(ctx, "web: validate", "post", id, "err", err)
			showForm(http.StatusServiceUnavailable, false, "The networks' plugins could not check the new text ("+err.Error()+"); nothing was saved. Try again in a moment.")
			return
		}
		if problems == nil {
			problems = []string{}
		}
		e.Problems = &problems
	}
	wasApproved := p.State == queue.PostApproved
	np, err := h.opt.Store.EditPost(ctx, rq.actor(), id, version, e)
	if err != nil {
		if queue.ErrorKind(err) == queue.Conflict {
			if cur, cc, gerr := h.postWithCampaign(ctx, id); gerr == nil && cur.Version != version {
				p, c = cur, cc
				showForm(http.StatusConflict, true, "")
				return
			}
		}
		showForm(api.StatusOf(err), false, h.explain(ctx, err, fmt.Sprintf("save post #%d", id)))
		return
	}
	msg := fmt.Sprintf("Saved post #%d.", id)
	if wasApproved && np.State == queue.PostPending {
		msg += " Its approval was cancelled by the edit: it is pending again and needs an approval."
	}
	if len(np.Problems) > 0 {
		msg += " The networks refuse it as it is: " + strings.Join(np.Problems, "; ") + "."
	}
	h.kick()
	h.done(w, rq, to, "ok", msg)
}

// postBuilder checks posts as the API does (daemon/api.PostBuilder).
func (h *Handler) postBuilder() *api.PostBuilder {
	return &api.PostBuilder{Store: h.opt.Store, Validator: h.opt.Validator, Media: h.opt.Media, Now: h.now, Location: h.zone}
}

type importData struct {
	Errors []importer.Problem
	CSV    string
	Name   string
}

func (h *Handler) importPage(w http.ResponseWriter, rq *request) {
	h.render(w, rq.Request, rq, http.StatusOK, "import", "Import posts", importData{})
}

// importCSV imports a CSV file (or pasted text) as a whole: any bad row and nothing is
// stored. Rows are read and checked by the API's importer, the same code as
// POST /api/v1/posts/import, so the page and tactctl accept and refuse the same files.
func (h *Handler) importCSV(w http.ResponseWriter, rq *request) {
	ctx := rq.Context()
	var src string
	name := "pasted text"
	if f, fh, err := rq.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			h.render(w, rq.Request, rq, http.StatusBadRequest, "import", "Import posts", importData{Errors: []importer.Problem{{Message: "the file could not be read: " + err.Error()}}})
			return
		}
		src, name = string(b), fh.Filename
	}
	if strings.TrimSpace(src) == "" {
		src = rq.PostFormValue("csv")
	}
	refuse := func(status int, msg string) {
		h.render(w, rq.Request, rq, status, "import", "Import posts", importData{CSV: src, Name: name, Errors: []importer.Problem{{Message: msg}}})
	}
	if h.opt.Validator == nil {
		refuse(http.StatusServiceUnavailable, "the posts cannot be checked: post validation by the account plugins is not configured in this daemon. Nothing was imported; ask an admin.")
		return
	}
	b := h.postBuilder()
	res, err := b.ImportCSV(ctx, strings.NewReader(src))
	switch {
	case queue.ErrorKind(err) == queue.Unavailable:
		refuse(http.StatusServiceUnavailable, "the networks' plugins or the database could not check the posts ("+err.Error()+"); nothing was imported. Try again in a moment.")
		return
	case err != nil:
		h.internal(w, rq, "read the import", err)
		return
	case len(res.Problems) > 0:
		h.render(w, rq.Request, rq, http.StatusBadRequest, "import", "Import posts", importData{Errors: res.Problems, CSV: src, Name: name})
		return
	}
	posts := res.Posts
	if err := h.opt.Store.CreatePosts(ctx, rq.actor(), posts); err != nil {
		refuse(api.StatusOf(err), h.explain(ctx, err, "import the posts")+" Nothing was imported.")
		return
	}
	refused := 0
	for _, p := range posts {
		if len(p.Problems) > 0 {
			refused++
		}
	}
	msg := fmt.Sprintf("Imported %d %s from %s: they wait for approval below.", len(posts), plural(len(posts), "post", "posts"), name)
	if refused > 0 {
		msg += fmt.Sprintf(" %d of them are refused by a network as they are: edit them before approving.", refused)
	}
	h.done(w, rq, "/", "ok", msg)
}
