package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

func testPostValidation(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"mastodon-main", "bluesky-main"} })
	due := e.now().Add(time.Hour)
	for _, tc := range []struct {
		name, field string
		p           queue.Post
	}{
		{"empty text", "text", queue.Post{CampaignID: c.ID, Text: " \n", DueAt: due}},
		{"no due time", "due_at", queue.Post{CampaignID: c.ID, Text: "hi"}},
		{"foreign account", "accounts", queue.Post{CampaignID: c.ID, Text: "hi", DueAt: due, Accounts: []string{"x-main"}}},
		{"born approved", "state", queue.Post{CampaignID: c.ID, Text: "hi", DueAt: due, State: queue.PostApproved}},
		{"no campaign", "campaign", queue.Post{Text: "hi", DueAt: due}},
	} {
		p := tc.p
		wantField(t, e.s.CreatePost(e.ctx, ann, &p), tc.field)
	}
	wantKind(t, e.s.CreatePost(e.ctx, ann, &queue.Post{CampaignID: c.ID + 50, Text: "hi", DueAt: due}), queue.NotFound)
	wantKind(t, e.s.CreatePost(e.ctx, ann, &queue.Post{Campaign: "nope", Text: "hi", DueAt: due}), queue.NotFound, "nope")
	if n := e.count(); n != 0 {
		t.Fatalf("%d invalid posts stored", n)
	}

	p := &queue.Post{Campaign: c.Name, Text: "Lisbon from €49", DueAt: due.In(time.FixedZone("X", 3600)), Media: []string{"lisbon.jpg"}, Link: "https://example.com/l"}
	e.must(e.s.CreatePost(e.ctx, ann, p))
	if p.ID == 0 || p.CampaignID != c.ID || p.State != queue.PostPending || p.Version != 1 || !slices.Equal(p.Accounts, c.Accounts) {
		t.Fatalf("created post: %+v", p)
	}
	got := e.reload(p)
	if got.DueAt.Location() != time.UTC || !got.DueAt.Equal(due) || got.Campaign != c.Name || got.Link != p.Link || !slices.Equal(got.Media, p.Media) {
		t.Fatalf("read back: due %s (%s) campaign %q link %q media %v", got.DueAt, got.DueAt.Location(), got.Campaign, got.Link, got.Media)
	}
	if len(got.Deliveries) != 2 {
		t.Fatalf("%d deliveries, want one per account", len(got.Deliveries))
	}
	keys := map[string]bool{}
	for i, d := range got.Deliveries {
		if d.Account != c.Accounts[i] || d.State != queue.DeliveryWaiting || d.Attempts != 0 || d.IdempotencyKey == "" || keys[d.IdempotencyKey] {
			t.Fatalf("delivery %d: %+v", i, d)
		}
		keys[d.IdempotencyKey] = true
	}
	draft := e.post(c, time.Hour, func(p *queue.Post) { p.State = queue.PostDraft; p.Accounts = []string{"bluesky-main"} })
	if got := e.reload(draft); got.State != queue.PostDraft || len(got.Deliveries) != 1 || got.Deliveries[0].Account != "bluesky-main" {
		t.Fatalf("draft: %+v", got)
	}
	e.auditHas(ann, "post.create", fmt.Sprintf("post:%d", p.ID), c.Name)
	_, err := e.s.Post(e.ctx, p.ID+100)
	wantKind(t, err, queue.NotFound)
}

// count returns how many posts exist.
func (e *env) count() int {
	e.t.Helper()
	counts, err := e.s.CountPosts(e.ctx)
	e.must(err)
	n := 0
	for _, k := range counts {
		n += k
	}
	return n
}

func testCreatePostsAtomic(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	due := e.now().Add(time.Hour)
	ps := []*queue.Post{
		{CampaignID: c.ID, Text: "one", DueAt: due},
		{CampaignID: c.ID, Text: "two", DueAt: due},
		{CampaignID: c.ID, Text: "", DueAt: due},
	}
	err := e.s.CreatePosts(e.ctx, ann, ps)
	wantField(t, err, "text")
	wantKind(t, err, queue.Invalid, "post 3 of 3")
	if n := e.count(); n != 0 {
		t.Fatalf("a refused import stored %d posts", n)
	}
	ps[2].Text = "three"
	e.must(e.s.CreatePosts(e.ctx, ann, ps))
	if n := e.count(); n != 3 {
		t.Fatalf("import stored %d posts, want 3", n)
	}
	for _, p := range ps {
		if p.ID == 0 || len(p.Deliveries) != 1 {
			t.Fatalf("imported post not filled in: %+v", p)
		}
	}
}

// postIn makes a post in state s the way the daemon would get it there, in its own campaign.
func (e *env) postIn(s queue.PostState) *queue.Post {
	e.t.Helper()
	c := e.campaign()
	switch s {
	case queue.PostDraft:
		return e.post(c, time.Hour, func(p *queue.Post) { p.State = queue.PostDraft })
	case queue.PostPending:
		return e.post(c, time.Hour)
	case queue.PostApproved:
		return e.apply(e.post(c, time.Hour), queue.EventApprove, "")
	case queue.PostHeld:
		return e.apply(e.post(c, time.Hour), queue.EventHold, "wait")
	case queue.PostRejected:
		return e.apply(e.post(c, time.Hour), queue.EventReject, "off-brand")
	case queue.PostMissed:
		p := e.post(c, -2*time.Hour)
		_, err := e.s.MarkMissed(e.ctx, e.now())
		e.must(err)
		return e.wantState(p, queue.PostMissed)
	}
	p := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	cs, err := e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: 1000, Limits: map[string]queue.AccountLimit{c.Accounts[0]: {Spacing: -1}}})
	e.must(err)
	var d *queue.Delivery
	for _, cl := range cs {
		if cl.Post.ID == p.ID {
			d = cl.Delivery
		}
	}
	if d == nil {
		e.t.Fatalf("post %d was not claimed", p.ID)
	}
	switch s {
	case queue.PostPublished:
		e.must(e.s.Finish(e.ctx, d.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "r1"}))
	case queue.PostFailed:
		e.must(e.s.Finish(e.ctx, d.ID, queue.Outcome{State: queue.DeliveryFailed, Error: "422 too long"}))
	case queue.PostUnknown:
		e.must(e.s.Finish(e.ctx, d.ID, queue.Outcome{State: queue.DeliveryUnknown, Error: "lookup could not tell"}))
	}
	return e.wantState(p, s)
}

// testTransitions sends every event a person can send to a post in every state: the legal
// moves land where the state machine says, the others are refused and change nothing.
func testTransitions(t *testing.T, open Opener) {
	e := setup(t, open)
	for _, from := range queue.PostStates {
		for _, ev := range queue.PersonEvents {
			p := e.postIn(from)
			want, legal := expectedMove(from, ev)
			got, err := e.s.Apply(e.ctx, bob, p.ID, p.Version, ev, "because")
			if !legal {
				if err == nil {
					t.Fatalf("%s on a %s post was accepted (now %s): it must be refused", ev, from, got.State)
				}
				wantKind(t, err, queue.Conflict)
				if after := e.reload(p); after.State != from || after.Version != p.Version {
					t.Fatalf("refused %s on a %s post changed it: %s v%d", ev, from, after.State, after.Version)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s on a %s post: %v", ev, from, err)
			}
			after := e.reload(p)
			if got.State != want || after.State != want || after.Version <= p.Version {
				t.Fatalf("%s on a %s post: returned %s, stored %s v%d (was v%d), want %s", ev, from, got.State, after.State, after.Version, p.Version, want)
			}
			e.auditHas(bob, "post."+string(ev), fmt.Sprintf("post:%d", p.ID), "because")
			switch ev {
			case queue.EventApprove:
				if after.ApprovedBy != bob.String() || !after.ApprovedAt.Equal(e.now()) {
					t.Fatalf("approval not recorded: %q at %s", after.ApprovedBy, after.ApprovedAt)
				}
			case queue.EventReject, queue.EventHold:
				if after.Reason != "because" {
					t.Fatalf("%s reason %q", ev, after.Reason)
				}
			case queue.EventRetry:
				for _, d := range after.Deliveries {
					if d.State != queue.DeliveryWaiting {
						t.Fatalf("retry left delivery %s", d.State)
					}
				}
			}
		}
	}
}

// expectedMove is what Apply must do: the state machine, except that a person settles only
// a failed or unknown post (retry), or an unknown one (succeed, fail).
func expectedMove(from queue.PostState, ev queue.Event) (queue.PostState, bool) {
	switch ev {
	case queue.EventRetry:
		if from != queue.PostFailed && from != queue.PostUnknown {
			return "", false
		}
	case queue.EventSucceed, queue.EventFail:
		if from != queue.PostUnknown {
			return "", false
		}
	}
	to, err := queue.Next(from, ev)
	return to, err == nil
}

func testNonPersonEvents(t *testing.T, open Opener) {
	e := setup(t, open)
	p := e.postIn(queue.PostApproved)
	for _, ev := range []queue.Event{queue.EventClaim, queue.EventLose, queue.EventMiss, queue.EventEdit, "explode"} {
		_, err := e.s.Apply(e.ctx, ann, p.ID, 0, ev, "")
		wantField(t, err, "event")
	}
	e.wantState(p, queue.PostApproved)
	_, err := e.s.Apply(e.ctx, ann, p.ID+1000, 0, queue.EventApprove, "")
	wantKind(t, err, queue.NotFound)
}

func testVersionConflicts(t *testing.T, open Opener) {
	e := setup(t, open)
	p := e.postIn(queue.PostPending)
	text := "edited"
	edited, err := e.s.EditPost(e.ctx, ann, p.ID, p.Version, queue.PostEdit{Text: &text})
	e.must(err)
	if edited.Version <= p.Version {
		t.Fatalf("edit did not raise the version: %d -> %d", p.Version, edited.Version)
	}
	// Bob read the post before Ann's edit: his approval is for a text that no longer exists.
	_, err = e.s.Apply(e.ctx, bob, p.ID, p.Version, queue.EventApprove, "")
	wantKind(t, err, queue.Conflict, "changed", fmt.Sprint(edited.Version))
	e.wantState(p, queue.PostPending)
	other := "bob's text"
	_, err = e.s.EditPost(e.ctx, bob, p.ID, p.Version, queue.PostEdit{Text: &other})
	wantKind(t, err, queue.Conflict, "changed")
	wantKind(t, e.s.DeletePost(e.ctx, bob, p.ID, p.Version), queue.Conflict, "changed")
	if got := e.reload(p); got.Text != "edited" {
		t.Fatalf("text %q after refused edits", got.Text)
	}
	_, err = e.s.Apply(e.ctx, bob, p.ID, edited.Version, queue.EventApprove, "")
	e.must(err)
}

func testApproveRefusesProblems(t *testing.T, open Opener) {
	e := setup(t, open)
	p := e.post(e.campaign(), time.Hour, func(p *queue.Post) { p.Problems = []string{"bluesky: 312 graphemes, limit 300"} })
	_, err := e.s.Apply(e.ctx, ann, p.ID, 0, queue.EventApprove, "")
	if k := queue.ErrorKind(err); k != queue.Conflict && k != queue.Invalid {
		t.Fatalf("approving a post with problems: %v", err)
	}
	if !strings.Contains(err.Error(), "312 graphemes") {
		t.Fatalf("error %q does not show the problem", err)
	}
	e.wantState(p, queue.PostPending)
	none := []string{}
	_, err = e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Problems: &none})
	e.must(err)
	e.apply(p, queue.EventApprove, "")
}

func testEditPost(t *testing.T, open Opener) {
	e := setup(t, open)
	text := "New text"
	for _, tc := range []struct {
		from, to queue.PostState
	}{
		{queue.PostDraft, queue.PostDraft},
		{queue.PostPending, queue.PostPending},
		{queue.PostApproved, queue.PostPending},
		{queue.PostHeld, queue.PostHeld},
		{queue.PostRejected, queue.PostPending},
		{queue.PostMissed, queue.PostPending},
	} {
		p := e.postIn(tc.from)
		got, err := e.s.EditPost(e.ctx, ann, p.ID, p.Version, queue.PostEdit{Text: &text})
		e.must(err)
		if got.State != tc.to || got.Text != text || got.ApprovedBy != "" {
			t.Fatalf("edit of a %s post: %s %q approved by %q, want %s", tc.from, got.State, got.Text, got.ApprovedBy, tc.to)
		}
		e.auditHas(ann, "post.edit", fmt.Sprintf("post:%d", p.ID), "text")
	}
	for _, s := range []queue.PostState{queue.PostPublishing, queue.PostPublished, queue.PostFailed, queue.PostUnknown} {
		p := e.postIn(s)
		_, err := e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Text: &text})
		wantKind(t, err, queue.Conflict, string(s))
	}

	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m", "b", "x"} })
	p := e.apply(e.post(c, time.Hour, func(p *queue.Post) { p.Accounts = []string{"m", "b"} }), queue.EventApprove, "")
	// A no-op edit keeps the approval.
	same := p.Text
	got, err := e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Text: &same})
	e.must(err)
	if got.State != queue.PostApproved {
		t.Fatalf("a no-op edit made the post %s", got.State)
	}
	keyB := got.Deliveries[1].IdempotencyKey
	accounts := []string{"b", "x"}
	due := e.now().Add(3 * time.Hour)
	got, err = e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Accounts: &accounts, DueAt: &due})
	e.must(err)
	if got.State != queue.PostPending || !got.DueAt.Equal(due) || !slices.Equal(got.Accounts, accounts) || len(got.Deliveries) != 2 {
		t.Fatalf("after account edit: %+v", got)
	}
	for _, d := range got.Deliveries {
		if d.Account == "m" {
			t.Fatal("removed account kept its delivery")
		}
		if d.Account == "b" && d.IdempotencyKey != keyB {
			t.Fatal("a kept account's delivery got a new idempotency key")
		}
	}
	bad := []string{"b", "elsewhere"}
	_, err = e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Accounts: &bad})
	wantField(t, err, "accounts")
	empty := ""
	_, err = e.s.EditPost(e.ctx, ann, p.ID, 0, queue.PostEdit{Text: &empty})
	wantField(t, err, "text")
	if after := e.reload(p); after.Version != got.Version || !slices.Equal(after.Accounts, accounts) {
		t.Fatal("a refused edit changed the post")
	}
	_, err = e.s.EditPost(e.ctx, ann, p.ID+999, 0, queue.PostEdit{Text: &text})
	wantKind(t, err, queue.NotFound)
}

func testDeletePost(t *testing.T, open Opener) {
	e := setup(t, open)
	for _, s := range []queue.PostState{queue.PostDraft, queue.PostPending, queue.PostApproved, queue.PostHeld, queue.PostRejected, queue.PostMissed} {
		p := e.postIn(s)
		e.must(e.s.DeletePost(e.ctx, ann, p.ID, p.Version))
		_, err := e.s.Post(e.ctx, p.ID)
		wantKind(t, err, queue.NotFound)
		e.auditHas(ann, "post.delete", fmt.Sprintf("post:%d", p.ID), "")
	}
	for _, s := range []queue.PostState{queue.PostPublishing, queue.PostPublished} {
		p := e.postIn(s)
		wantKind(t, e.s.DeletePost(e.ctx, ann, p.ID, 0), queue.Conflict, string(s))
		e.wantState(p, s)
	}
	wantKind(t, e.s.DeletePost(e.ctx, ann, 99999, 0), queue.NotFound)
}

func testPostsPagination(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	var ps []*queue.Post
	for i := range 250 {
		// Groups of five share a due time: the cursor must order by id within them.
		ps = append(ps, &queue.Post{CampaignID: c.ID, Text: fmt.Sprintf("post %d", i), DueAt: e.now().Add(time.Duration(250-i/5) * time.Minute)})
	}
	e.must(e.s.CreatePosts(e.ctx, ann, ps))
	var (
		seen   []*queue.Post
		cursor string
		pages  int
	)
	for {
		page, next, err := e.s.Posts(e.ctx, queue.PostFilter{Cursor: cursor, Limit: 37})
		e.must(err)
		pages++
		seen = append(seen, page...)
		if next == "" {
			break
		}
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if len(seen) != 250 || pages != 7 {
		t.Fatalf("%d posts in %d pages, want 250 in 7", len(seen), pages)
	}
	ids := map[int64]bool{}
	for i, p := range seen {
		if ids[p.ID] {
			t.Fatalf("post %d listed twice", p.ID)
		}
		ids[p.ID] = true
		if len(p.Deliveries) != 1 {
			t.Fatalf("listed post %d without its deliveries", p.ID)
		}
		if i > 0 {
			prev := seen[i-1]
			if p.DueAt.Before(prev.DueAt) || p.DueAt.Equal(prev.DueAt) && p.ID < prev.ID {
				t.Fatalf("not soonest first: %d (%s) after %d (%s)", p.ID, p.DueAt, prev.ID, prev.DueAt)
			}
		}
	}
	// Several states page the same way: approve every third post and list pending and
	// approved (and held, of which there is none) together.
	for i, p := range ps {
		if i%3 == 0 {
			e.apply(p, queue.EventApprove, "")
		}
	}
	var mixed []*queue.Post
	cursor = ""
	for range 20 {
		page, next, err := e.s.Posts(e.ctx, queue.PostFilter{States: []queue.PostState{queue.PostApproved, queue.PostPending, queue.PostHeld}, Cursor: cursor, Limit: 37})
		e.must(err)
		mixed = append(mixed, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(mixed) != len(seen) {
		t.Fatalf("listing pending and approved together: %d posts, want %d", len(mixed), len(seen))
	}
	for i := range mixed {
		if mixed[i].ID != seen[i].ID {
			t.Fatalf("mixed-state listing, position %d: post %d, want %d (soonest first, then id)", i, mixed[i].ID, seen[i].ID)
		}
	}
	all, next, err := e.s.Posts(e.ctx, queue.PostFilter{})
	e.must(err)
	if len(all) != 100 || next == "" {
		t.Fatalf("default page: %d posts, next %q; want 100 and a cursor", len(all), next)
	}
	all, _, err = e.s.Posts(e.ctx, queue.PostFilter{Limit: 5000})
	e.must(err)
	if len(all) != 250 {
		t.Fatalf("large limit listed %d", len(all))
	}
	_, _, err = e.s.Posts(e.ctx, queue.PostFilter{Cursor: "not-a-cursor!"})
	wantField(t, err, "cursor")
}

func testPostsFilters(t *testing.T, open Opener) {
	e := setup(t, open)
	c1 := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m", "b"} })
	c2 := e.campaign()
	a := e.post(c1, time.Hour, func(p *queue.Post) { p.Accounts = []string{"m"} })
	b := e.apply(e.post(c1, 2*time.Hour), queue.EventApprove, "")
	d := e.post(c2, 3*time.Hour)
	ids := func(f queue.PostFilter) []int64 {
		t.Helper()
		ps, _, err := e.s.Posts(e.ctx, f)
		e.must(err)
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    queue.PostFilter
		want []int64
	}{
		{"campaign", queue.PostFilter{CampaignID: c1.ID}, []int64{a.ID, b.ID}},
		{"state", queue.PostFilter{States: []queue.PostState{queue.PostPending}}, []int64{a.ID, d.ID}},
		{"states", queue.PostFilter{States: []queue.PostState{queue.PostApproved, queue.PostHeld}}, []int64{b.ID}},
		{"account", queue.PostFilter{Account: "b"}, []int64{b.ID}},
		{"due after (inclusive)", queue.PostFilter{DueAfter: b.DueAt}, []int64{b.ID, d.ID}},
		{"due before (exclusive)", queue.PostFilter{DueBefore: b.DueAt}, []int64{a.ID}},
		{"combined", queue.PostFilter{CampaignID: c1.ID, States: []queue.PostState{queue.PostPending}, Account: "m"}, []int64{a.ID}},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	_, _, err := e.s.Posts(e.ctx, queue.PostFilter{States: []queue.PostState{"sleeping"}})
	wantField(t, err, "state")
}

func testCountPosts(t *testing.T, open Opener) {
	e := setup(t, open)
	e.postIn(queue.PostPending)
	e.postIn(queue.PostPending)
	e.postIn(queue.PostApproved)
	e.postIn(queue.PostPublished)
	counts, err := e.s.CountPosts(e.ctx)
	e.must(err)
	want := map[queue.PostState]int{queue.PostPending: 2, queue.PostApproved: 1, queue.PostPublished: 1}
	for _, s := range queue.PostStates {
		if n, ok := counts[s]; !ok || n != want[s] {
			t.Errorf("%s: %d (present %v), want %d", s, n, ok, want[s])
		}
	}
}

func testScanOpenPosts(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	var ps []*queue.Post
	for i := range 1234 {
		ps = append(ps, &queue.Post{CampaignID: c.ID, Text: fmt.Sprintf("post %d", i), DueAt: e.now().Add(time.Duration(i+1) * time.Minute)})
	}
	e.must(e.s.CreatePosts(e.ctx, ann, ps))
	e.apply(ps[0], queue.EventApprove, "")
	e.apply(ps[1], queue.EventHold, "x")
	e.apply(ps[2], queue.EventReject, "x")
	e.must(e.s.DeletePost(e.ctx, ann, ps[3].ID, 0))
	closed := e.postIn(queue.PostPublished)
	seen := map[int64]bool{}
	err := e.s.ScanOpenPosts(e.ctx, func(sc *queue.Campaign, p *queue.Post) error {
		if seen[p.ID] {
			return fmt.Errorf("post %d visited twice", p.ID)
		}
		seen[p.ID] = true
		if sc == nil || sc.ID != p.CampaignID {
			return fmt.Errorf("post %d came with campaign %v", p.ID, sc)
		}
		if p.State != queue.PostPending && p.State != queue.PostApproved && p.State != queue.PostHeld {
			return fmt.Errorf("post %d is %s: not open", p.ID, p.State)
		}
		return nil
	})
	e.must(err)
	if len(seen) != 1234-2 || seen[ps[2].ID] || seen[ps[3].ID] || seen[closed.ID] || !seen[ps[1].ID] {
		t.Fatalf("visited %d open posts, want %d", len(seen), 1234-2)
	}
	stop := errors.New("stop")
	n := 0
	err = e.s.ScanOpenPosts(e.ctx, func(*queue.Campaign, *queue.Post) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("fn's error did not stop the scan: %v after %d", err, n)
	}
}
