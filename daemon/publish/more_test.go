package publish

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/sdk"
)

func countStates(t *testing.T, h *harness, campaignID int64) map[queue.PostState]int {
	t.Helper()
	ps, _, err := h.db.Posts(context.Background(), queue.PostFilter{CampaignID: campaignID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[queue.PostState]int{}
	for _, p := range ps {
		out[p.State]++
	}
	return out
}

func TestRecurringAutopilotAcrossRestartAndDowntime(t *testing.T) {
	h := newHarness(t, nil)
	file := h.outboxAccount("brand-outbox")
	c := &queue.Campaign{Name: "hourly", Accounts: []string{"brand-outbox"}, TimeZone: "UTC", Schedule: "0 * * * *",
		Pool: []string{"p1", "p2", "p3"}, Approval: queue.ApprovalAutopilot, Veto: queue.Duration(30 * time.Minute),
		Lead: queue.Duration(2 * time.Hour), Late: queue.Duration(30 * time.Minute)}
	if err := h.db.CreateCampaign(context.Background(), person, c); err != nil {
		t.Fatal(err)
	}
	h.start()
	// 08:00: the 09:00 and 10:00 ticks are within the 2h lead; autopilot approves 30m ahead.
	h.at(t0.Add(30 * time.Minute))
	h.at(t0.Add(time.Hour))
	h.wait("the 09:00 post to be published", func() bool { return countStates(t, h, c.ID)[queue.PostPublished] == 1 })
	h.idle()
	if got := countStates(t, h, c.ID); got[queue.PostPublished]+got[queue.PostPending]+got[queue.PostApproved] != 3 {
		t.Fatalf("at 09:00: %v; want 3 posts (09:00 published, 10:00, 11:00)", got)
	}

	// A restart: a new process on the same file creates no second post for any tick.
	h.stop()
	h.openDB()
	h.start()
	h.idle()
	if got := countStates(t, h, c.ID); len(got) == 0 || got[queue.PostPublished]+got[queue.PostPending]+got[queue.PostApproved] != 3 {
		t.Fatalf("after restart: %v; want the same 3 posts", got)
	}

	// Three days down. The latest three overdue ticks become missed posts, the posts that
	// were waiting are missed too, and nothing stale is sent.
	h.stop()
	h.clk.Set(t0.Add(3*24*time.Hour + 40*time.Minute)) // Thursday 08:40
	h.openDB()
	h.start()
	h.idle()
	got := countStates(t, h, c.ID)
	if got[queue.PostMissed] != 5 || got[queue.PostPublished] != 1 || got[queue.PostApproved] != 1 || got[queue.PostPending] != 1 {
		t.Fatalf("after downtime: %v; want 5 missed (2 waiting + latest 3 ticks), 1 published, 09:00 approved, 10:00 pending", got)
	}
	if n := len(readOutbox(t, file)); n != 1 {
		t.Fatalf("%d outbox lines right after downtime: a burst", n)
	}
	h.at(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC))
	h.wait("Thursday's 09:00 post to be published", func() bool { return countStates(t, h, c.ID)[queue.PostPublished] == 2 })
	lines := readOutbox(t, file)
	if len(lines) != 2 || !lines[1].PublishedAt.Equal(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("outbox %+v", lines)
	}
}

func TestGateHoldsOrDefers(t *testing.T) {
	gate := func(_ *queue.Campaign, p *queue.Post, _ []*queue.Incident) (string, bool) {
		switch {
		case strings.Contains(p.Text, "flight"):
			return "rule air-crash: open incident", true
		case strings.Contains(p.Text, "cruise"):
			return "campaign about to be paused", false
		}
		return "", false
	}
	h := newHarness(t, func(o *Options) {
		o.Gate = gate
		o.Limits = map[string]queue.AccountLimit{"brand-outbox": {Spacing: -1, Concurrency: 3}}
	})
	file := h.outboxAccount("brand-outbox")
	c := h.campaign("travel", "brand-outbox")
	due := t0.Add(time.Hour)
	flight := h.approved(c, due, "cheap flights to Lisbon")
	cruise := h.approved(c, due, "cruise deals")
	hotel := h.approved(c, due, "hotel deals")
	h.start()
	h.at(due)
	h.waitState(hotel.ID, queue.PostPublished)
	if got := h.waitState(flight.ID, queue.PostHeld); !strings.Contains(got.Reason, "air-crash") {
		t.Fatalf("held with reason %q", got.Reason)
	}
	// A deferred post stays approved; the publisher looks again after Pace, not every second.
	h.sleepingUntil(due.Add(10 * time.Second))
	if s := h.state(cruise.ID); s != queue.PostApproved {
		t.Fatalf("deferred post is %s", s)
	}
	if lines := readOutbox(t, file); len(lines) != 1 || lines[0].Text != hotel.Text {
		t.Fatalf("outbox %+v", lines)
	}
}

type observed struct {
	account  string
	lateness time.Duration
	outcome  string
}

type recorder struct {
	mu  sync.Mutex
	got []observed
}

func (r *recorder) PublishDone(account string, _, lateness time.Duration, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, observed{account, lateness, outcome})
}

func (r *recorder) all() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observed(nil), r.got...)
}

func TestObserverSeesOutcomeAndLateness(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, func(o *Options) { o.Observer = rec })
	h.outboxAccount("brand-outbox")
	h.nets.set("brand-x", &scripted{publish: func(int, context.Context, string) (sdk.Receipt, error) {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "no")
	}})
	c := h.campaign("spring", "brand-outbox", "brand-x")
	due := t0.Add(time.Hour)
	h.approved(c, due, "one")
	second := h.approved(c, due, "two")
	h.start()
	h.at(due)
	h.at(due.Add(time.Minute)) // both accounts' spacing
	h.waitState(second.ID, queue.PostFailed)
	h.wait("four observations", func() bool { return len(rec.all()) == 4 })
	want := map[observed]int{
		{"brand-outbox", 0, OutcomePublished}: 1, {"brand-outbox", time.Minute, OutcomePublished}: 1,
		{"brand-x", 0, OutcomeFailed}: 1, {"brand-x", time.Minute, OutcomeFailed}: 1,
	}
	for _, o := range rec.all() {
		want[o]--
	}
	for o, n := range want {
		if n != 0 {
			t.Errorf("observation %+v seen %d times too few", o, n)
		}
	}
}

func TestAccountsPublishInParallelWithinTheBound(t *testing.T) {
	for _, parallel := range []int{8, 1} {
		release := make(chan struct{})
		started := make(chan string, 2)
		block := func(int, context.Context, string) (sdk.Receipt, error) { <-release; return receipt("ok"), nil }
		h := newHarness(t, func(o *Options) { o.Parallel = parallel })
		h.nets.set("a", &scripted{started: started, publish: block})
		h.nets.set("b", &scripted{started: started, publish: block})
		camp := h.campaign("spring", "a", "b")
		p := h.approved(camp, t0.Add(time.Hour), "hello")
		h.start()
		h.at(p.DueAt)
		<-started
		if parallel > 1 {
			select {
			case <-started: // two accounts in flight at once
			case <-time.After(10 * time.Second):
				close(release)
				t.Fatal("the second account's publish did not start while the first was in flight")
			}
		} else {
			h.idle() // the wake is over, with one publish in flight
			select {
			case k := <-started:
				close(release)
				t.Fatalf("parallel=1 but a second publish (%s) started while the first was in flight", k)
			default:
			}
		}
		close(release)
		h.waitState(p.ID, queue.PostPublished)
		h.stop()
	}
}

// flakyFinish is the real store whose first Finish fails as a busy disk would.
type flakyFinish struct {
	*sqlite.DB
	failed atomic.Bool
}

func (f *flakyFinish) Finish(ctx context.Context, id int64, o queue.Outcome) error {
	if f.failed.CompareAndSwap(false, true) {
		return &queue.Error{Kind: queue.Unavailable, Message: "database is locked"}
	}
	return f.DB.Finish(ctx, id, o)
}

func TestAnOutcomeThatCouldNotBeRecordedIsRecordedLater(t *testing.T) {
	h := newHarness(t, nil)
	file := h.outboxAccount("brand-outbox")
	p := h.approved(h.campaign("spring", "brand-outbox"), t0.Add(time.Hour), "hello")
	o := h.opts
	o.Store = &flakyFinish{DB: h.db}
	pub, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h.at(p.DueAt)
	got := h.waitState(p.ID, queue.PostPublished)
	if lines := readOutbox(t, file); len(lines) != 1 || got.Deliveries[0].RemoteID != lines[0].RemoteID {
		t.Fatalf("outbox %+v, delivery %+v", lines, got.Deliveries[0])
	}
}

func TestRecoverWithoutRun(t *testing.T) {
	h := newHarness(t, nil)
	net := &scripted{lookup: func(int, string) (sdk.Receipt, bool, error) { return receipt("seen"), true, nil }}
	h.nets.set("brand-x", net)
	p := h.approved(h.campaign("spring", "brand-x"), t0, "hello")
	if cs, err := h.db.ClaimDue(context.Background(), queue.ClaimRequest{Now: t0, Limit: 1}); err != nil || len(cs) != 1 {
		t.Fatalf("%d claims, %v", len(cs), err)
	}
	o := h.opts
	o.Store = h.db
	pub, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Recover waited: the outcome is already recorded.
	if got := h.post(p.ID); got.State != queue.PostPublished || got.Deliveries[0].RemoteID != "seen" {
		t.Fatalf("post %s %+v", got.State, got.Deliveries[0])
	}
}

func TestRateLimitHoldsBackTheAccountsOtherPosts(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Limits = map[string]queue.AccountLimit{"brand-x": {Spacing: -1}} })
	net := &scripted{publish: func(n int, _ context.Context, _ string) (sdk.Receipt, error) {
		if n == 1 {
			return sdk.Receipt{}, sdk.RateLimit(10*time.Minute, "429 Too Many Requests")
		}
		return receipt("ok"), nil
	}}
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	due := t0.Add(time.Hour)
	first := h.approved(c, due, "first")
	second := h.approved(c, due, "second")
	h.start()
	h.at(due)
	// The account is told to wait 10m: its other post waits too, rather than hit the limit.
	h.sleepingUntil(due.Add(10 * time.Minute))
	if n, _ := net.calls(); n != 1 {
		t.Fatalf("%d publish calls during the account's rate limit, want 1", n)
	}
	if s := h.state(second.ID); s != queue.PostApproved {
		t.Fatalf("second post is %s", s)
	}
	h.clk.Set(due.Add(10 * time.Minute))
	h.waitState(first.ID, queue.PostPublished)
	h.waitState(second.ID, queue.PostPublished)
}
