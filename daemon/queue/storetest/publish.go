package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

func testClaimDue(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m", "b"} })
	due := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	notYet := e.apply(e.post(c, time.Minute), queue.EventApprove, "")
	pending := e.post(c, -time.Minute)
	cs := e.claim(10)
	if len(cs) != 2 {
		t.Fatalf("claimed %d deliveries, want the 2 of the due approved post", len(cs))
	}
	for _, cl := range cs {
		if cl.Post.ID != due.ID || cl.Campaign.ID != c.ID || cl.Delivery.State != queue.DeliveryPublishing ||
			cl.Delivery.Attempts != 1 || !cl.Delivery.StartedAt.Equal(e.now()) || cl.Post.State != queue.PostPublishing {
			t.Fatalf("claim: post %d %s, delivery %+v", cl.Post.ID, cl.Post.State, cl.Delivery)
		}
	}
	got := e.wantState(due, queue.PostPublishing)
	for _, d := range got.Deliveries {
		if d.State != queue.DeliveryPublishing || d.Attempts != 1 {
			t.Fatalf("stored delivery %+v", d)
		}
	}
	e.wantState(notYet, queue.PostApproved)
	e.wantState(pending, queue.PostPending)
	if again := e.claim(10); len(again) != 0 {
		t.Fatalf("a second claim returned %d deliveries: a publishing delivery was handed out twice", len(again))
	}
	e.auditHas(queue.System("publisher"), "post.claim", fmt.Sprintf("post:%d", due.ID), "approved -> publishing")

	// Limit caps the claims.
	c2 := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"a1", "a2", "a3"} })
	e.apply(e.post(c2, -time.Minute), queue.EventApprove, "")
	if got := e.claim(2); len(got) != 2 {
		t.Fatalf("limit 2 claimed %d", len(got))
	}
	if got := e.claim(2); len(got) != 1 {
		t.Fatalf("the remaining delivery: claimed %d", len(got))
	}
}

// testPausedCampaignNeverPublishes is SPEC 4's "a paused campaign never publishes, whatever
// the timing", and SPEC 3's "resuming never floods the network with stale posts".
func testPausedCampaignNeverPublishes(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	soon := e.apply(e.post(c, 10*time.Minute), queue.EventApprove, "")
	later := e.apply(e.post(c, 30*time.Minute), queue.EventApprove, "")
	_, err := e.s.PauseCampaigns(e.ctx, []int64{c.ID}, queue.Pause{By: ann, Reason: "review"})
	e.must(err)
	e.clock.Advance(25 * time.Minute) // soon is 15m overdue
	if cs := e.claim(10); len(cs) != 0 {
		t.Fatalf("claimed %d deliveries of a paused campaign", len(cs))
	}
	n, err := e.s.MarkMissed(e.ctx, e.now())
	e.must(err)
	if n != 0 {
		t.Fatalf("MarkMissed missed %d approved posts of a paused campaign: the person who resumes decides", n)
	}
	e.wantState(soon, queue.PostApproved)
	e.must(e.s.ResumeCampaign(e.ctx, ann, c.ID))
	cs := e.claim(10)
	if len(cs) != 1 || cs[0].Post.ID != soon.ID {
		t.Fatalf("after resume within late: claimed %v, want post %d", cs, soon.ID)
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "1"}))

	// later: paused again until it is 40m overdue, beyond late (30m).
	_, err = e.s.PauseCampaigns(e.ctx, []int64{c.ID}, queue.Pause{By: ann, Reason: "again"})
	e.must(err)
	e.clock.Advance(45 * time.Minute)
	e.must(e.s.ResumeCampaign(e.ctx, ann, c.ID))
	if cs := e.claim(10); len(cs) != 0 {
		t.Fatalf("claimed a post 40m overdue after resume: %d", len(cs))
	}
	got := e.wantState(later, queue.PostMissed)
	if !strings.Contains(got.Reason, "passed more than 30m") {
		t.Fatalf("missed reason %q", got.Reason)
	}
	e.auditHas(queue.System("publisher"), "post.miss", fmt.Sprintf("post:%d", later.ID), "passed more than 30m")
}

func testAccountLimits(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m"} })
	var ps []*queue.Post
	for i := range 3 {
		ps = append(ps, e.apply(e.post(c, time.Duration(-3+i)*time.Minute), queue.EventApprove, ""))
	}
	cs := e.claim(10)
	if len(cs) != 1 || cs[0].Post.ID != ps[0].ID {
		t.Fatalf("default limits: claimed %d, want the oldest post only", len(cs))
	}
	// Concurrency 1: nothing more while the first is in flight, even after the spacing.
	e.clock.Advance(2 * time.Minute)
	if got := e.claim(10); len(got) != 0 {
		t.Fatalf("claimed %d while the account had one in flight", len(got))
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "1"}))
	cs = e.claim(10)
	if len(cs) != 1 || cs[0].Post.ID != ps[1].ID {
		t.Fatalf("after finish: %d claims", len(cs))
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "2"}))
	// Spacing 1m: not 30s after the last start, yes at 1m.
	e.clock.Advance(30 * time.Second)
	if got := e.claim(10); len(got) != 0 {
		t.Fatalf("claimed 30s after the last start with 1m spacing")
	}
	e.clock.Advance(30 * time.Second)
	if got := e.claim(10); len(got) != 1 {
		t.Fatalf("claimed %d once the spacing passed, want 1", len(got))
	}

	// Concurrency 2 and no spacing: two at once; other accounts are not throttled by this one.
	c2 := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"fast", "slow"} })
	for range 3 {
		e.apply(e.post(c2, -time.Minute), queue.EventApprove, "")
	}
	cs, err := e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: 10, Limits: map[string]queue.AccountLimit{"fast": {Concurrency: 2, Spacing: -1}}})
	e.must(err)
	per := map[string]int{}
	for _, cl := range cs {
		per[cl.Delivery.Account]++
	}
	if per["fast"] != 2 || per["slow"] != 1 {
		t.Fatalf("claims per account %v, want fast 2 (its limit), slow 1 (default)", per)
	}
}

func testGate(t *testing.T, open Opener) {
	e := setup(t, open)
	in, _, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "hold", Resume: "manual",
		LastItemAt: e.now(), ClosesAt: e.now().Add(72 * time.Hour), Evidence: []queue.Evidence{{Source: "bbc", Title: "Jetliner crashes"}}})
	e.must(err)
	travel := e.campaign()
	other := e.campaign(func(c *queue.Campaign) { c.Topics = []string{"food"} })
	held := e.apply(e.post(travel, -time.Minute), queue.EventApprove, "")
	waits := e.apply(e.post(other, -time.Minute, func(p *queue.Post) { p.Text = "Lunch deal" }), queue.EventApprove, "")
	var seenOpen int
	gate := func(c *queue.Campaign, p *queue.Post, open []*queue.Incident) (string, bool) {
		seenOpen = len(open)
		if len(open) == 1 && open[0].ID == in.ID && c.ID == travel.ID {
			return "rule air-disaster: Jetliner crashes", true
		}
		if c.ID == other.ID && p.ID == waits.ID {
			return "campaign about to be paused", false
		}
		return "", false
	}
	cs, err := e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: 10, Gate: gate})
	e.must(err)
	if len(cs) != 0 || seenOpen != 1 {
		t.Fatalf("gate: %d claims, gate saw %d open incidents", len(cs), seenOpen)
	}
	got := e.wantState(held, queue.PostHeld)
	if got.Reason != "rule air-disaster: Jetliner crashes" || got.ApprovedBy != "" {
		t.Fatalf("held post: reason %q, approval %q (a hold cancels the approval)", got.Reason, got.ApprovedBy)
	}
	e.auditHas(queue.Actor{Kind: queue.ActorRule, Name: "air-disaster"}, "post.hold", fmt.Sprintf("post:%d", held.ID), "Jetliner")
	e.wantState(waits, queue.PostApproved)
	// Once the gate lets it through, it goes.
	cs, err = e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: 10, Gate: func(*queue.Campaign, *queue.Post, []*queue.Incident) (string, bool) { return "", false }})
	e.must(err)
	if len(cs) != 1 || cs[0].Post.ID != waits.ID {
		t.Fatalf("after the gate opened: %d claims", len(cs))
	}
}

func testRetryKeepsIdempotencyKey(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	p := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	key := p.Deliveries[0].IdempotencyKey
	cs := e.claim(1)
	if len(cs) != 1 || cs[0].Delivery.IdempotencyKey != key {
		t.Fatalf("claim carries key %q, want %q", cs[0].Delivery.IdempotencyKey, key)
	}
	retryAt := e.now().Add(10 * time.Minute)
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryWaiting, Error: "429 rate limited", RetryAt: retryAt}))
	got := e.wantState(p, queue.PostApproved)
	if d := got.Deliveries[0]; d.State != queue.DeliveryWaiting || d.LastError != "429 rate limited" || !d.NextAttemptAt.Equal(retryAt) || d.Attempts != 1 {
		t.Fatalf("delivery in backoff: %+v", d)
	}
	e.clock.Advance(5 * time.Minute)
	if cs := e.claim(1); len(cs) != 0 {
		t.Fatal("claimed before RetryAt")
	}
	// Long past due, but a retry is not a first attempt: it is neither missed nor dropped.
	e.clock.Advance(55 * time.Minute)
	n, err := e.s.MarkMissed(e.ctx, e.now())
	e.must(err)
	if n != 0 {
		t.Fatal("MarkMissed missed a post in retry backoff")
	}
	cs = e.claim(1)
	if len(cs) != 1 || cs[0].Delivery.IdempotencyKey != key || cs[0].Delivery.Attempts != 2 {
		t.Fatalf("retry claim: %+v", cs)
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "109", URL: "https://m.example/@b/109"}))
	got = e.wantState(p, queue.PostPublished)
	if d := got.Deliveries[0]; d.RemoteID != "109" || d.URL != "https://m.example/@b/109" || d.IdempotencyKey != key || !d.FinishedAt.Equal(e.now()) {
		t.Fatalf("published delivery: %+v", d)
	}
}

func testFinishOutcomes(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m", "b"} })
	p := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	cs := e.claim(10)
	if len(cs) != 2 {
		t.Fatalf("claimed %d", len(cs))
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "r"}))
	// One account done, the other still in flight: the post is still publishing.
	e.wantState(p, queue.PostPublishing)
	wantKind(t, e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "again"}), queue.Conflict, "already")
	wantField(t, e.s.Finish(e.ctx, cs[1].Delivery.ID, queue.Outcome{State: "exploded"}), "state")
	wantKind(t, e.s.Finish(e.ctx, 99999, queue.Outcome{State: queue.DeliveryPublished}), queue.NotFound)
	e.must(e.s.Finish(e.ctx, cs[1].Delivery.ID, queue.Outcome{State: queue.DeliveryFailed, Error: "422 text too long"}))
	got := e.wantState(p, queue.PostFailed)
	if !strings.Contains(got.Reason, "422 text too long") || got.Deliveries[0].RemoteID != "r" {
		t.Fatalf("failed post: reason %q, first receipt %q", got.Reason, got.Deliveries[0].RemoteID)
	}
	e.auditHas(queue.System("publisher"), "post.fail", fmt.Sprintf("post:%d", p.ID), "422")

	u := e.apply(e.post(e.campaign(), -time.Minute), queue.EventApprove, "")
	cs = e.claim(10)
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryUnknown, Error: "timeout, lookup unsupported"}))
	e.wantState(u, queue.PostUnknown)
}

func testAuthErrorHolds(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"mastodon-main"} })
	p := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	cs := e.claim(1)
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryFailed, Error: "401 token revoked", AuthError: true}))
	got := e.wantState(p, queue.PostHeld)
	if got.Reason != "account mastodon-main needs attention: 401 token revoked" {
		t.Fatalf("held reason %q", got.Reason)
	}
	if d := got.Deliveries[0]; d.State != queue.DeliveryWaiting || d.LastError != "401 token revoked" {
		t.Fatalf("delivery after auth error: %+v", d)
	}
	st, err := e.s.AccountStatuses(e.ctx)
	e.must(err)
	if len(st) != 1 || st[0].Account != "mastodon-main" || st[0].Healthy || !strings.Contains(st[0].Detail, "token revoked") {
		t.Fatalf("account statuses: %+v", st)
	}
	e.auditHas(queue.System("publisher"), "account.unhealthy", "account:mastodon-main", "token revoked")
	// A person fixes the account, releases and approves: it goes out, with the same key.
	e.apply(p, queue.EventRelease, "")
	e.apply(p, queue.EventApprove, "")
	e.clock.Advance(time.Minute)
	cs2 := e.claim(1)
	if len(cs2) != 1 || cs2[0].Delivery.IdempotencyKey != cs[0].Delivery.IdempotencyKey {
		t.Fatalf("after release and approval: %d claims", len(cs2))
	}
}

func testPersonSettlesUnknown(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = []string{"m", "b"} })
	p := e.apply(e.post(c, -time.Minute), queue.EventApprove, "")
	cs := e.claim(10)
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryFailed, Error: "400"}))
	e.must(e.s.Finish(e.ctx, cs[1].Delivery.ID, queue.Outcome{State: queue.DeliveryUnknown, Error: "crash"}))
	e.wantState(p, queue.PostUnknown) // unknown beats failed: a person must look
	// The person checks the network: the unknown one went out. The other still failed.
	got, err := e.s.Apply(e.ctx, ann, p.ID, 0, queue.EventSucceed, "seen on the timeline")
	e.must(err)
	if got.State != queue.PostFailed {
		t.Fatalf("post with one failed delivery settled as %s, want failed", got.State)
	}
	got, err = e.s.Apply(e.ctx, ann, p.ID, 0, queue.EventRetry, "")
	e.must(err)
	if got.State != queue.PostApproved {
		t.Fatalf("retry: %s", got.State)
	}
	for _, d := range got.Deliveries {
		want := queue.DeliveryWaiting
		if d.ID == cs[1].Delivery.ID {
			want = queue.DeliveryPublished
		}
		if d.State != want {
			t.Fatalf("after retry, delivery %s is %s, want %s (only what failed is resent)", d.Account, d.State, want)
		}
	}
}

func testInFlight(t *testing.T, open Opener) {
	e := setup(t, open)
	if cs, err := e.s.InFlight(e.ctx); err != nil || len(cs) != 0 {
		t.Fatalf("in flight on an empty store: %v %v", cs, err)
	}
	a := e.postIn(queue.PostPublishing)
	e.postIn(queue.PostPublished)
	cs, err := e.s.InFlight(e.ctx)
	e.must(err)
	if len(cs) != 1 || cs[0].Post.ID != a.ID || cs[0].Delivery.State != queue.DeliveryPublishing || cs[0].Campaign == nil || cs[0].Campaign.ID != a.CampaignID {
		t.Fatalf("in flight: %+v", cs)
	}
	// Recovery: the plugin's Lookup says it went out.
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "found"}))
	if cs, _ := e.s.InFlight(e.ctx); len(cs) != 0 {
		t.Fatalf("still in flight after finish: %d", len(cs))
	}
}

func testAutoApprove(t *testing.T, open Opener) {
	e := setup(t, open)
	auto := e.campaign(func(c *queue.Campaign) { c.Approval = queue.ApprovalAutopilot; c.Veto = queue.Duration(2 * time.Hour) })
	inVeto := e.post(auto, 90*time.Minute)
	tooEarly := e.post(auto, 3*time.Hour)
	problem := e.post(auto, time.Hour, func(p *queue.Post) { p.Problems = []string{"too long"} })
	draft := e.post(auto, time.Hour, func(p *queue.Post) { p.State = queue.PostDraft })
	held := e.apply(e.post(auto, time.Hour), queue.EventHold, "not this one")
	manual := e.post(e.campaign(), time.Hour)
	// Each campaign's own veto counts: 90 minutes ahead is outside a 30-minute window.
	short := e.campaign(func(c *queue.Campaign) {
		c.Approval = queue.ApprovalAutopilot
		c.Veto = queue.Duration(30 * time.Minute)
	})
	shortVeto := e.post(short, 90*time.Minute)
	pausedC := e.campaign(func(c *queue.Campaign) { c.Approval = queue.ApprovalAutopilot })
	paused := e.post(pausedC, time.Hour)
	_, err := e.s.PauseCampaigns(e.ctx, []int64{pausedC.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	n, err := e.s.AutoApprove(e.ctx, e.now())
	e.must(err)
	if n != 1 {
		t.Fatalf("auto-approved %d, want 1", n)
	}
	got := e.wantState(inVeto, queue.PostApproved)
	if got.ApprovedBy != queue.System("autopilot").String() {
		t.Fatalf("approved by %q", got.ApprovedBy)
	}
	e.auditHas(queue.System("autopilot"), "post.approve", fmt.Sprintf("post:%d", inVeto.ID), "")
	for _, p := range []*queue.Post{tooEarly, problem, manual, paused, shortVeto} {
		e.wantState(p, queue.PostPending)
	}
	e.wantState(draft, queue.PostDraft)
	e.wantState(held, queue.PostHeld)
	e.clock.Advance(time.Hour + time.Minute)
	n, err = e.s.AutoApprove(e.ctx, e.now())
	e.must(err)
	if n != 2 {
		t.Fatalf("later auto-approved %d, want 2 (the posts that entered their veto windows)", n)
	}
	e.wantState(tooEarly, queue.PostApproved)
	e.wantState(shortVeto, queue.PostApproved)
}

func testMarkMissed(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) { c.Late = queue.Duration(10 * time.Minute); c.TimeZone = "Europe/Paris" })
	pending := e.post(c, time.Minute)
	approved := e.apply(e.post(c, time.Minute), queue.EventApprove, "")
	held := e.apply(e.post(c, time.Minute), queue.EventHold, "x")
	draft := e.post(c, time.Minute, func(p *queue.Post) { p.State = queue.PostDraft })
	within := e.post(c, 5*time.Minute)
	pc := e.campaign()
	pausedApproved := e.apply(e.post(pc, time.Minute), queue.EventApprove, "")
	pausedPending := e.post(pc, time.Minute)
	_, err := e.s.PauseCampaigns(e.ctx, []int64{pc.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	e.clock.Advance(14 * time.Minute) // 13m overdue: beyond 10m, within the other campaign's 30m
	n, err := e.s.MarkMissed(e.ctx, e.now())
	e.must(err)
	if n != 3 {
		t.Fatalf("missed %d, want 3", n)
	}
	for _, p := range []*queue.Post{pending, approved, held} {
		got := e.wantState(p, queue.PostMissed)
		if got.Reason != "due at 2026-03-02 10:01 CET passed more than 10m ago" {
			t.Fatalf("missed reason %q", got.Reason)
		}
	}
	e.wantState(draft, queue.PostDraft)
	e.wantState(within, queue.PostPending)
	e.clock.Advance(time.Hour)
	_, err = e.s.MarkMissed(e.ctx, e.now())
	e.must(err)
	e.wantState(pausedApproved, queue.PostApproved) // waits for whoever resumes
	e.wantState(pausedPending, queue.PostMissed)
	e.auditHas(queue.System("scheduler"), "post.miss", fmt.Sprintf("post:%d", pending.ID), "10m")
}

func testNextWake(t *testing.T, open Opener) {
	e := setup(t, open)
	wake := func() time.Time {
		t.Helper()
		w, err := e.s.NextWake(e.ctx)
		e.must(err)
		return w
	}
	if w := wake(); !w.IsZero() {
		t.Fatalf("empty store wakes at %s", w)
	}
	c := e.campaign()
	e.post(c, 10*time.Minute) // pending, not autopilot: no work at its due time
	if w := wake(); !w.IsZero() {
		t.Fatalf("a pending post of a required-approval campaign wakes at %s", w)
	}
	a := e.apply(e.post(c, 5*time.Hour), queue.EventApprove, "")
	if w := wake(); !w.Equal(a.DueAt) {
		t.Fatalf("wake %s, want the approved post's due time %s", w, a.DueAt)
	}
	auto := e.campaign(func(c *queue.Campaign) { c.Approval = queue.ApprovalAutopilot; c.Veto = queue.Duration(2 * time.Hour) })
	e.post(auto, 4*time.Hour)
	if w, want := wake(), e.now().Add(2*time.Hour); !w.Equal(want) {
		t.Fatalf("wake %s, want the autopilot post's veto start %s", w, want)
	}
	// A post the networks refuse is never auto-approved; a paused autopilot campaign waits.
	e.post(auto, 3*time.Hour+30*time.Minute, func(p *queue.Post) { p.Problems = []string{"mastodon: 612 characters, over 500"} })
	pausedAuto := e.campaign(func(c *queue.Campaign) { c.Approval = queue.ApprovalAutopilot; c.Veto = queue.Duration(3 * time.Hour) })
	e.post(pausedAuto, 3*time.Hour+30*time.Minute)
	_, err := e.s.PauseCampaigns(e.ctx, []int64{pausedAuto.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	if w, want := wake(), e.now().Add(2*time.Hour); !w.Equal(want) {
		t.Fatalf("wake %s, want %s: a refused post or a paused campaign's post counted", w, want)
	}
	rec := e.campaign(func(c *queue.Campaign) {
		c.Schedule, c.Lead, c.NextTick = "0 * * * *", queue.Duration(time.Hour), e.now().Add(150*time.Minute)
	})
	if w, want := wake(), rec.NextTick.Add(-time.Hour); !w.Equal(want) {
		t.Fatalf("wake %s, want the recurring tick minus lead %s", w, want)
	}
	noLead := e.campaign(func(c *queue.Campaign) {
		c.Schedule, c.NextTick = "0 * * * *", e.now().Add(queue.DefaultLead+80*time.Minute)
	})
	if w, want := wake(), noLead.NextTick.Add(-queue.DefaultLead); !w.Equal(want) {
		t.Fatalf("wake %s, want the recurring tick minus the default lead %s", w, want)
	}
	_, _, err = e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "r", Action: "flag", LastItemAt: e.now(), ClosesAt: e.now().Add(time.Hour)})
	e.must(err)
	if w, want := wake(), e.now().Add(time.Hour); !w.Equal(want) {
		t.Fatalf("wake %s, want the incident's closing time %s", w, want)
	}
	// An approved post of a paused campaign does not wake anyone; a retry's backoff counts.
	pc := e.campaign()
	e.apply(e.post(pc, time.Minute), queue.EventApprove, "")
	_, err = e.s.PauseCampaigns(e.ctx, []int64{pc.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	if w, want := wake(), e.now().Add(time.Hour); !w.Equal(want) {
		t.Fatalf("wake %s with a paused campaign's post, want %s", w, want)
	}
	rc := e.campaign()
	r := e.apply(e.post(rc, -time.Minute), queue.EventApprove, "")
	if w := wake(); !w.Equal(r.DueAt) {
		t.Fatalf("wake %s, want the overdue approved post's due time %s", w, r.DueAt)
	}
	cs := e.claim(10)
	if len(cs) != 1 {
		t.Fatalf("claimed %d", len(cs))
	}
	e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryWaiting, Error: "503", RetryAt: e.now().Add(20 * time.Minute)}))
	if w, want := wake(), e.now().Add(20*time.Minute); !w.Equal(want) {
		t.Fatalf("wake %s, want the retry time %s", w, want)
	}
}

// testConcurrentClaims runs publishers in parallel: no delivery is ever handed out twice.
func testConcurrentClaims(t *testing.T, open Opener) {
	e := setup(t, open)
	const accounts, perAccount = 20, 10
	limits := map[string]queue.AccountLimit{}
	var names []string
	for i := range accounts {
		n := fmt.Sprintf("acct-%02d", i)
		names = append(names, n)
		limits[n] = queue.AccountLimit{Concurrency: 1000, Spacing: -1}
	}
	c := e.campaign(func(c *queue.Campaign) { c.Accounts = names })
	var ps []*queue.Post
	for i := range perAccount {
		ps = append(ps, &queue.Post{CampaignID: c.ID, Text: fmt.Sprint("post ", i), DueAt: e.now().Add(-time.Duration(i) * time.Second)})
	}
	e.must(e.s.CreatePosts(e.ctx, ann, ps))
	for _, p := range ps {
		e.apply(p, queue.EventApprove, "")
	}
	var (
		mu      sync.Mutex
		claimed = map[int64]int{}
		wg      sync.WaitGroup
		errs    = make(chan error, 8)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: 7, Limits: limits})
				if err != nil {
					errs <- err
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, cl := range cs {
					claimed[cl.Delivery.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimed) != accounts*perAccount {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(claimed), accounts*perAccount)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("delivery %d was claimed %d times", id, n)
		}
	}
}

func testAccountStatus(t *testing.T, open Opener) {
	e := setup(t, open)
	wantField(t, e.s.SetAccountStatus(e.ctx, queue.AccountStatus{Healthy: true}), "account")
	e.must(e.s.SetAccountStatus(e.ctx, queue.AccountStatus{Account: "b", Healthy: true}))
	e.must(e.s.SetAccountStatus(e.ctx, queue.AccountStatus{Account: "a", Healthy: false, Detail: "auth: expired"}))
	e.clock.Advance(time.Minute)
	e.must(e.s.SetAccountStatus(e.ctx, queue.AccountStatus{Account: "a", Healthy: true}))
	st, err := e.s.AccountStatuses(e.ctx)
	e.must(err)
	if len(st) != 2 || st[0].Account != "a" || !st[0].Healthy || !st[0].UpdatedAt.Equal(e.now()) || st[1].Account != "b" {
		t.Fatalf("statuses: %+v", st)
	}
	e.auditHas(queue.System("publisher"), "account.unhealthy", "account:a", "expired")
	e.auditHas(queue.System("publisher"), "account.healthy", "account:a", "")
}
