package schedule

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
)

// TestMinutelyCampaignStopsAtTheOpenPostLimit is the runaway of issue 10: a schedule that
// fires every minute with a long (allowed) lead. The scheduler makes posts up to the
// campaign's open-post limit and no further, says so once in the log and on the campaign,
// and goes on from the tick where it stopped as soon as people make room.
func TestMinutelyCampaignStopsAtTheOpenPostLimit(t *testing.T) {
	start := time.Date(2026, 3, 2, 7, 0, 30, 0, time.UTC)
	var logs bytes.Buffer
	e := &env{t: t, clk: clock.NewFake(start), path: filepath.Join(t.TempDir(), "tact.db"),
		limits: queue.Limits{MaxLead: 30 * 24 * time.Hour, MaxOpenPosts: 50},
		log:    slog.New(slog.NewTextHandler(&logs, nil))}
	e.open()
	// 24h of minutes is 1,440 ticks within the lead, far beyond the limit of 50.
	c := e.campaign(queue.Campaign{Schedule: "* * * * *", TimeZone: "UTC", Pool: []string{"minutely"},
		Lead: queue.Duration(24 * time.Hour)})

	if r := e.tick(); r.Created != 50 || r.Capped != 1 {
		t.Fatalf("first pass: %+v, want 50 posts and the campaign capped", r)
	}
	if r := e.tick(); r.Created != 0 || r.Capped != 1 {
		t.Fatalf("second pass: %+v, want no more posts", r)
	}
	e.clk.Advance(10 * time.Second)
	if r := e.tick(); r.Created != 0 {
		t.Fatalf("third pass, 10s later: %+v, want no more posts", r)
	}
	if n := len(e.posts(c.ID)); n != 50 {
		t.Fatalf("%d posts, want 50", n)
	}
	if n := strings.Count(logs.String(), "open-post limit"); n != 1 {
		t.Fatalf("the log says %d times that the campaign is at its limit, want once:\n%s", n, logs.String())
	}
	if e.sched.Capped() != 1 {
		t.Fatalf("Capped() = %d, want 1", e.sched.Capped())
	}
	got := e.stored(c.ID)
	if got.OpenPosts != 50 || !strings.Contains(got.Problem, "max_open_posts_per_campaign") || !strings.Contains(got.Problem, "schedule makes no new posts") {
		t.Fatalf("stored campaign: open_posts %d, problem %q", got.OpenPosts, got.Problem)
	}
	nextTick := start.Truncate(time.Minute).Add(51 * time.Minute)
	if !got.NextTick.Equal(nextTick) {
		t.Fatalf("NextTick = %v, want %v: the first tick not yet made into a post", got.NextTick, nextTick)
	}

	// A person rejects five posts: five more are made, from the tick where it stopped.
	ctx := context.Background()
	ps := e.posts(c.ID)
	for _, p := range ps[:5] {
		if _, err := e.db.Apply(ctx, queue.System("test"), p.ID, 0, queue.EventReject, "not today"); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.tick(); r.Created != 5 || r.Capped != 1 {
		t.Fatalf("after 5 rejections: %+v, want 5 posts and capped again", r)
	}
	ps = e.posts(c.ID)
	if last := ps[len(ps)-1].Tick; !last.Equal(nextTick.Add(4 * time.Minute)) {
		t.Fatalf("last post's tick %v, want %v: ticks follow on without a gap", last, nextTick.Add(4*time.Minute))
	}
}

// TestLeadIsCutToMaxLead: a campaign stored with a lead beyond today's max_lead (written
// before the bound, or before an admin lowered it) gets its posts only max_lead ahead.
func TestLeadIsCutToMaxLead(t *testing.T) {
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	e := newEnv(t, start)
	c := e.campaign(queue.Campaign{Schedule: "0 * * * *", TimeZone: "UTC", Pool: []string{"hourly"},
		Lead: queue.Duration(72 * time.Hour)})
	e.limits = queue.Limits{MaxLead: 48 * time.Hour}
	e.open()
	if r := e.tick(); r.Created != 48 {
		t.Fatalf("%+v: want 48 posts (08:00 to 07:00 two days on), not 72", r)
	}
	if p := e.stored(c.ID).Problem; !strings.Contains(p, "max_lead") {
		t.Fatalf("problem %q does not say that the lead is cut", p)
	}
}
