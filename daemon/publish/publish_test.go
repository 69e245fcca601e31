package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

func TestApprovedPostPublishedOnceAtItsDueTime(t *testing.T) {
	h := newHarness(t, nil)
	file := h.outboxAccount("brand-outbox")
	c := h.campaign("spring", "brand-outbox")
	due := t0.Add(time.Hour)
	p := h.approved(c, due, "Spring sale: 20% off all flights")
	h.start()

	h.sleepingUntil(due) // the publisher sleeps until the post is due, no polling
	if n := len(readOutbox(t, file)); n != 0 {
		t.Fatalf("%d lines in the outbox before the due time", n)
	}
	h.clk.Set(due)
	got := h.waitState(p.ID, queue.PostPublished)
	lines := readOutbox(t, file)
	if len(lines) != 1 {
		t.Fatalf("%d outbox lines, want 1", len(lines))
	}
	d := got.Deliveries[0]
	if lines[0].Text != p.Text || lines[0].IdempotencyKey != d.IdempotencyKey || lines[0].RemoteID != d.RemoteID || d.RemoteID == "" {
		t.Fatalf("outbox line %+v does not match delivery %+v", lines[0], d)
	}
	if !lines[0].PublishedAt.Equal(due) || d.State != queue.DeliveryPublished || d.Attempts != 1 {
		t.Fatalf("published at %v (want %v), delivery %s after %d attempts", lines[0].PublishedAt, due, d.State, d.Attempts)
	}
	// Later wakes publish nothing again.
	h.idle()
	h.clk.Advance(2 * time.Hour)
	h.idle()
	if n := len(readOutbox(t, file)); n != 1 {
		t.Fatalf("%d outbox lines after later wakes, want 1", n)
	}
}

func TestRejectedAndEditedPostsAreNotPublished(t *testing.T) {
	h := newHarness(t, nil)
	file := h.outboxAccount("brand-outbox")
	c := h.campaign("spring", "brand-outbox")
	due := t0.Add(time.Hour)
	rejected := h.approved(c, due, "rejected after approval")
	edited := h.approved(c, due, "edited after approval")
	kept := h.approved(c, due, "left alone")
	h.start()
	h.sleepingUntil(due)

	// The publisher already planned its wake for these posts; the database decides.
	ctx := context.Background()
	if _, err := h.db.Apply(ctx, person, rejected.ID, 0, queue.EventReject, "wrong tone"); err != nil {
		t.Fatal(err)
	}
	text := "edited after approval, now with a typo fixed"
	if _, err := h.db.EditPost(ctx, person, edited.ID, 0, queue.PostEdit{Text: &text}); err != nil {
		t.Fatal(err)
	}
	h.clk.Set(due)
	h.waitState(kept.ID, queue.PostPublished)
	h.idle()
	if s := h.state(rejected.ID); s != queue.PostRejected {
		t.Errorf("rejected post is %s", s)
	}
	if s := h.state(edited.ID); s != queue.PostPending {
		t.Errorf("edited post is %s, want pending (its approval was cancelled)", s)
	}
	lines := readOutbox(t, file)
	if len(lines) != 1 || lines[0].Text != "left alone" {
		t.Fatalf("outbox holds %+v, want only the untouched post", lines)
	}
}

func TestPausedCampaignWaitsAndResumeRespectsLate(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Limits = map[string]queue.AccountLimit{"brand-outbox": {Spacing: -1}} })
	file := h.outboxAccount("brand-outbox")
	ctx := context.Background()
	soon := h.campaign("soon", "brand-outbox")
	later := h.campaign("later", "brand-outbox")
	due := t0.Add(time.Hour)
	a := h.approved(soon, due, "resumed within late")
	b := h.approved(later, due, "resumed too late")
	for _, c := range []*queue.Campaign{soon, later} {
		if _, err := h.db.PauseCampaigns(ctx, []int64{c.ID}, queue.Pause{By: person, Reason: "news", At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	h.start()
	h.idle()
	h.clk.Set(due.Add(10 * time.Minute))
	h.idle()
	for _, id := range []int64{a.ID, b.ID} {
		if s := h.state(id); s != queue.PostApproved {
			t.Fatalf("post %d of a paused campaign is %s, want approved (waiting for the resume decision)", id, s)
		}
	}

	h.clk.Set(due.Add(20 * time.Minute)) // 20m overdue: within the default 30m late
	if err := h.db.ResumeCampaign(ctx, person, soon.ID); err != nil {
		t.Fatal(err)
	}
	h.pub.Kick()
	h.waitState(a.ID, queue.PostPublished)

	h.idle()
	h.clk.Set(due.Add(45 * time.Minute)) // 45m overdue: missed, not sent
	if err := h.db.ResumeCampaign(ctx, person, later.ID); err != nil {
		t.Fatal(err)
	}
	h.pub.Kick()
	h.waitState(b.ID, queue.PostMissed)
	if lines := readOutbox(t, file); len(lines) != 1 || lines[0].Text != a.Text {
		t.Fatalf("outbox holds %+v, want only the post resumed in time", lines)
	}
}

func TestRetryableErrorsBackOffThenFail(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.MaxAttempts = 3
		o.Limits = map[string]queue.AccountLimit{"brand-x": {Spacing: -1}}
	})
	net := &scripted{publish: func(int, context.Context, string) (sdk.Receipt, error) {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "503 Service Unavailable")
	}}
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	due := t0.Add(time.Hour)
	p := h.approved(c, due, "hello")
	h.start()

	h.at(due)
	h.at(due.Add(30 * time.Second))                // 1st retry: 30s
	h.at(due.Add(30*time.Second + 60*time.Second)) // 2nd retry: 60s
	got := h.waitState(p.ID, queue.PostFailed)
	d := got.Deliveries[0]
	if d.State != queue.DeliveryFailed || d.Attempts != 3 || !strings.Contains(d.LastError, "503") {
		t.Fatalf("delivery %+v", d)
	}
	if n, _ := net.calls(); n != 3 {
		t.Fatalf("%d publish calls, want 3", n)
	}
	keys := net.publishKeys()
	if keys[0] != keys[1] || keys[1] != keys[2] {
		t.Fatalf("retries used different idempotency keys: %v", keys)
	}
	h.wait("a post.failed notification", func() bool { return len(h.notes.of(notify.PostFailed)) == 1 })
	e := h.notes.of(notify.PostFailed)[0]
	if e.PostID != p.ID || e.Account != "brand-x" || e.Campaign != "spring" || !strings.Contains(e.Text, "after 3 attempts") {
		t.Fatalf("notification %+v", e)
	}
}

func TestRateLimitedHonoursRetryAfter(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Limits = map[string]queue.AccountLimit{"brand-x": {Spacing: -1}} })
	net := &scripted{publish: func(n int, _ context.Context, _ string) (sdk.Receipt, error) {
		if n == 1 {
			return sdk.Receipt{}, sdk.RateLimit(10*time.Minute, "429 Too Many Requests")
		}
		return receipt("r-1"), nil
	}}
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	due := t0.Add(time.Hour)
	p := h.approved(c, due, "hello")
	h.start()
	h.at(due)
	h.wait("the retry to be planned", func() bool {
		d := h.post(p.ID).Deliveries[0]
		return d.State == queue.DeliveryWaiting && d.Attempts == 1
	})
	if got := h.post(p.ID); got.State != queue.PostApproved || !got.Deliveries[0].NextAttemptAt.Equal(due.Add(10*time.Minute)) {
		t.Fatalf("post %s, next attempt %v; want approved, retry after the network's 10m (not the 30s backoff)", got.State, got.Deliveries[0].NextAttemptAt)
	}
	h.at(due.Add(10 * time.Minute))
	got := h.waitState(p.ID, queue.PostPublished)
	if got.Deliveries[0].RemoteID != "r-1" {
		t.Fatalf("receipt %+v", got.Deliveries[0])
	}
}

func TestAuthErrorHoldsThePostAndMarksTheAccount(t *testing.T) {
	h := newHarness(t, nil)
	net := &scripted{publish: func(int, context.Context, string) (sdk.Receipt, error) {
		return sdk.Receipt{}, sdk.Errorf(sdk.Auth, "token revoked")
	}}
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	due := t0.Add(time.Hour)
	p := h.approved(c, due, "hello")
	h.start()
	h.at(due)
	got := h.waitState(p.ID, queue.PostHeld)
	if !strings.Contains(got.Reason, "brand-x") || !strings.Contains(got.Reason, "token revoked") {
		t.Fatalf("held with reason %q", got.Reason)
	}
	ss, err := h.db.AccountStatuses(context.Background())
	if err != nil || len(ss) != 1 || ss[0].Healthy || !strings.Contains(ss[0].Detail, "token revoked") {
		t.Fatalf("account statuses %+v %v", ss, err)
	}
	h.wait("an account.attention notification", func() bool { return len(h.notes.of(notify.AccountAttention)) == 1 })
	if e := h.notes.of(notify.AccountAttention)[0]; e.Account != "brand-x" || e.PostID != p.ID {
		t.Fatalf("notification %+v", e)
	}
	h.idle()
	h.clk.Advance(time.Hour)
	h.idle()
	if n, _ := net.calls(); n != 1 {
		t.Fatalf("%d publish calls; a held post must not be retried", n)
	}
	// Another post for the same account: held too, and people hear about that post, not
	// about the account a second time.
	other := h.approved(c, h.clk.Now().Add(time.Hour), "again")
	h.pub.Kick()
	h.at(other.DueAt)
	h.waitState(other.ID, queue.PostHeld)
	h.wait("a post.held notification", func() bool { return len(h.notes.of(notify.PostHeld)) == 1 })
	if n := len(h.notes.of(notify.AccountAttention)); n != 1 {
		t.Fatalf("%d account.attention notifications, want 1", n)
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	net := &scripted{publish: func(int, context.Context, string) (sdk.Receipt, error) {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "422 text too long")
	}}
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	due := t0.Add(time.Hour)
	p := h.approved(c, due, "hello")
	h.start()
	h.at(due)
	got := h.waitState(p.ID, queue.PostFailed)
	if !strings.Contains(got.Reason, "422 text too long") || got.Deliveries[0].Attempts != 1 {
		t.Fatalf("post %+v delivery %+v", got, got.Deliveries[0])
	}
	h.wait("a post.failed notification", func() bool { return len(h.notes.of(notify.PostFailed)) == 1 })
	if n, _ := net.calls(); n != 1 {
		t.Fatalf("%d publish calls, want 1", n)
	}
}

func TestOutcomeUnknownIsResolvedThroughLookup(t *testing.T) {
	died := func(n int, _ context.Context, _ string) (sdk.Receipt, error) {
		if n == 1 {
			return sdk.Receipt{}, errTransport
		}
		return receipt("second"), nil
	}
	setup := func(t *testing.T, lookup func(int, string) (sdk.Receipt, bool, error)) (*harness, *scripted, *queue.Post) {
		h := newHarness(t, func(o *Options) { o.Limits = map[string]queue.AccountLimit{"brand-x": {Spacing: -1}} })
		net := &scripted{publish: died, lookup: lookup}
		h.nets.set("brand-x", net)
		c := h.campaign("spring", "brand-x")
		p := h.approved(c, t0.Add(time.Hour), "hello")
		h.start()
		h.at(p.DueAt)
		return h, net, p
	}

	t.Run("found: published with the network's receipt, never sent again", func(t *testing.T) {
		h, net, p := setup(t, func(_ int, key string) (sdk.Receipt, bool, error) { return receipt("from-lookup"), true, nil })
		got := h.waitState(p.ID, queue.PostPublished)
		if got.Deliveries[0].RemoteID != "from-lookup" {
			t.Fatalf("receipt %+v", got.Deliveries[0])
		}
		h.idle()
		h.clk.Advance(time.Hour)
		h.idle()
		if pub, look := net.calls(); pub != 1 || look != 1 {
			t.Fatalf("%d publishes, %d lookups; want 1 and 1", pub, look)
		}
	})

	t.Run("a call past its deadline is unknown too", func(t *testing.T) {
		h := newHarness(t, nil)
		net := &scripted{
			publish: func(int, context.Context, string) (sdk.Receipt, error) {
				return sdk.Receipt{}, context.DeadlineExceeded
			},
			lookup: func(int, string) (sdk.Receipt, bool, error) { return receipt("late-but-there"), true, nil },
		}
		h.nets.set("brand-x", net)
		p := h.approved(h.campaign("spring", "brand-x"), t0.Add(time.Hour), "hello")
		h.start()
		h.at(p.DueAt)
		if got := h.waitState(p.ID, queue.PostPublished); got.Deliveries[0].RemoteID != "late-but-there" {
			t.Fatalf("receipt %+v", got.Deliveries[0])
		}
		if pub, look := net.calls(); pub != 1 || look != 1 {
			t.Fatalf("%d publishes, %d lookups", pub, look)
		}
	})

	t.Run("not found: retried once with the same key", func(t *testing.T) {
		h, net, p := setup(t, func(int, string) (sdk.Receipt, bool, error) { return sdk.Receipt{}, false, nil })
		h.at(p.DueAt.Add(30 * time.Second))
		got := h.waitState(p.ID, queue.PostPublished)
		if got.Deliveries[0].RemoteID != "second" || got.Deliveries[0].Attempts != 2 {
			t.Fatalf("delivery %+v", got.Deliveries[0])
		}
		if keys := net.publishKeys(); len(keys) != 2 || keys[0] != keys[1] {
			t.Fatalf("publish keys %v", keys)
		}
	})

	t.Run("cannot tell: unknown, people told, never resent", func(t *testing.T) {
		h, net, p := setup(t, func(int, string) (sdk.Receipt, bool, error) {
			return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable, "lookup: 502 Bad Gateway")
		})
		h.at(p.DueAt.Add(5 * time.Second))  // 2nd lookup after 5s
		h.at(p.DueAt.Add(15 * time.Second)) // 3rd after 10s more
		got := h.waitState(p.ID, queue.PostUnknown)
		if d := got.Deliveries[0]; d.State != queue.DeliveryUnknown || !strings.Contains(d.LastError, "502") {
			t.Fatalf("delivery %+v", d)
		}
		h.wait("a post.unknown notification", func() bool { return len(h.notes.of(notify.PostUnknown)) == 1 })
		h.idle()
		h.clk.Advance(time.Hour)
		h.idle()
		if pub, look := net.calls(); pub != 1 || look != 3 {
			t.Fatalf("%d publishes, %d lookups; want 1 and 3", pub, look)
		}
	})
}

func TestRecoverResolvesDeliveriesLeftPublishing(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.LookupTries = 2
		o.Limits = map[string]queue.AccountLimit{"b-missing": {Spacing: -1}}
	})
	ctx := context.Background()
	found := &scripted{lookup: func(int, string) (sdk.Receipt, bool, error) { return receipt("was-there"), true, nil }}
	missing := &scripted{
		lookup:  func(int, string) (sdk.Receipt, bool, error) { return sdk.Receipt{}, false, nil },
		publish: func(int, context.Context, string) (sdk.Receipt, error) { return receipt("sent-now"), nil },
	}
	silent := &scripted{lookup: func(int, string) (sdk.Receipt, bool, error) {
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable, "network unreachable")
	}}
	h.nets.set("a-found", found)
	h.nets.set("b-missing", missing)
	h.nets.set("c-silent", silent)
	c := h.campaign("spring", "a-found", "b-missing", "c-silent")
	p := h.approved(c, t0, "hello")
	// A previous run claimed all three deliveries and died before recording anything.
	claims, err := h.db.ClaimDue(ctx, queue.ClaimRequest{Now: t0, Limit: 10})
	if err != nil || len(claims) != 3 {
		t.Fatalf("claims %d %v", len(claims), err)
	}

	h.start()
	h.wait("b-missing to wait for its retry", func() bool {
		for _, d := range h.post(p.ID).Deliveries {
			if d.Account == "b-missing" {
				return d.State == queue.DeliveryWaiting
			}
		}
		return false
	})
	h.at(t0.Add(5 * time.Second)) // c-silent's second lookup
	h.at(t0.Add(30 * time.Second))
	h.wait("b-missing to be republished", func() bool {
		for _, d := range h.post(p.ID).Deliveries {
			if d.Account == "b-missing" && d.State == queue.DeliveryPublished {
				return true
			}
		}
		return false
	})
	got := h.waitState(p.ID, queue.PostUnknown) // unknown beats published: a person looks
	want := map[string]struct {
		state  queue.DeliveryState
		remote string
	}{"a-found": {queue.DeliveryPublished, "was-there"}, "b-missing": {queue.DeliveryPublished, "sent-now"}, "c-silent": {queue.DeliveryUnknown, ""}}
	for _, d := range got.Deliveries {
		if w := want[d.Account]; d.State != w.state || d.RemoteID != w.remote {
			t.Errorf("%s: %s %q, want %s %q", d.Account, d.State, d.RemoteID, w.state, w.remote)
		}
	}
	for name, n := range map[string]*scripted{"a-found": found, "c-silent": silent} {
		if pub, _ := n.calls(); pub != 0 {
			t.Errorf("%s: %d publish calls during recovery, want 0", name, pub)
		}
	}
	if pub, _ := missing.calls(); pub != 1 {
		t.Errorf("b-missing: %d publish calls, want 1", pub)
	}
	h.wait("a post.unknown notification", func() bool { return len(h.notes.of(notify.PostUnknown)) == 1 })
}

func TestSpacingBetweenTwoPostsOfOneAccount(t *testing.T) {
	h := newHarness(t, nil) // default limits: concurrency 1, spacing 1m
	file := h.outboxAccount("brand-outbox")
	c := h.campaign("spring", "brand-outbox")
	due := t0.Add(time.Hour)
	first := h.approved(c, due, "first")
	second := h.approved(c, due, "second")
	h.start()
	h.at(due)
	h.waitState(first.ID, queue.PostPublished)
	h.sleepingUntil(due.Add(time.Minute)) // the spacing's end, known without polling
	if s := h.state(second.ID); s != queue.PostApproved {
		t.Fatalf("second post is %s during the spacing", s)
	}
	h.clk.Set(due.Add(time.Minute))
	h.waitState(second.ID, queue.PostPublished)
	lines := readOutbox(t, file)
	if len(lines) != 2 || !lines[0].PublishedAt.Equal(due) || !lines[1].PublishedAt.Equal(due.Add(time.Minute)) {
		t.Fatalf("outbox %+v; want two posts a minute apart", lines)
	}
}

func TestGracefulStopWaitsForThePublishInFlight(t *testing.T) {
	release := make(chan struct{})
	net := &scripted{started: make(chan string, 1), publish: func(int, context.Context, string) (sdk.Receipt, error) {
		<-release
		return receipt("done"), nil
	}}
	h := newHarness(t, func(o *Options) { o.Grace = time.Minute })
	h.nets.set("brand-x", net)
	c := h.campaign("spring", "brand-x")
	p := h.approved(c, t0.Add(time.Hour), "hello")
	h.start()
	h.at(p.DueAt)
	<-net.started
	h.cancel()
	h.sleepingUntil(p.DueAt.Add(time.Minute)) // Run waits within its grace period
	select {
	case <-h.done:
		t.Fatal("Run returned while a publish was in flight")
	default:
	}
	close(release)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once the publish finished")
	}
	h.cancel = nil
	// Recorded before Run returned: no waiting here.
	if got := h.post(p.ID); got.State != queue.PostPublished || got.Deliveries[0].RemoteID != "done" {
		t.Fatalf("after stop the post is %s %+v", got.State, got.Deliveries[0])
	}
}

func TestStopAfterGraceLeavesPublishingForTheNextStart(t *testing.T) {
	hang := &scripted{started: make(chan string, 1), publish: func(_ int, ctx context.Context, _ string) (sdk.Receipt, error) {
		<-ctx.Done()
		return sdk.Receipt{}, ctx.Err()
	}}
	h := newHarness(t, func(o *Options) { o.Grace = time.Minute })
	h.nets.set("brand-x", hang)
	c := h.campaign("spring", "brand-x")
	p := h.approved(c, t0.Add(time.Hour), "hello")
	h.start()
	h.at(p.DueAt)
	<-hang.started
	h.cancel()
	h.at(p.DueAt.Add(time.Minute)) // the grace period ends
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its grace period")
	}
	h.cancel = nil
	if got := h.post(p.ID); got.State != queue.PostPublishing || got.Deliveries[0].State != queue.DeliveryPublishing {
		t.Fatalf("an interrupted publish left the post %s: it must stay publishing for Lookup", got.State)
	}

	// The next start asks the network, which had received it: published, not resent.
	back := &scripted{lookup: func(int, string) (sdk.Receipt, bool, error) { return receipt("arrived"), true, nil }}
	h.nets.set("brand-x", back)
	h.start()
	got := h.waitState(p.ID, queue.PostPublished)
	if got.Deliveries[0].RemoteID != "arrived" {
		t.Fatalf("receipt %+v", got.Deliveries[0])
	}
	if pub, _ := back.calls(); pub != 0 {
		t.Fatalf("%d publish calls after restart, want 0", pub)
	}
}

func TestNoWorkingPluginRetriesWithoutPublishing(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxAttempts = 2; o.Limits = map[string]queue.AccountLimit{"ghost": {Spacing: -1}} })
	c := h.campaign("spring", "ghost") // no network serves "ghost"
	p := h.approved(c, t0.Add(time.Hour), "hello")
	h.start()
	h.at(p.DueAt)
	h.at(p.DueAt.Add(30 * time.Second))
	got := h.waitState(p.ID, queue.PostFailed)
	if !strings.Contains(got.Deliveries[0].LastError, `no account "ghost"`) {
		t.Fatalf("last error %q", got.Deliveries[0].LastError)
	}
}
