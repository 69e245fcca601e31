package schedule

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/cron"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/sdk"
)

type env struct {
	t      *testing.T
	clk    *clock.Fake
	path   string
	db     *sqlite.DB
	sched  *Scheduler
	limits queue.Limits // tact.toml's; zero: the defaults
	log    *slog.Logger // nil: discarded
}

func newEnv(t *testing.T, start time.Time) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(start), path: filepath.Join(t.TempDir(), "tact.db")}
	e.open()
	return e
}

// open (re)opens the database file and makes a new scheduler over it, as a restart does.
func (e *env) open() {
	e.t.Helper()
	db, err := sqlite.Open(context.Background(), e.path, sqlite.WithClock(e.clk.Now), sqlite.WithLimits(e.limits))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.sched = e.newScheduler()
}

func (e *env) newScheduler() *Scheduler {
	s, err := New(Options{Store: e.db, TimeZone: "Europe/Paris", Limits: e.limits, Logger: e.log})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) campaign(c queue.Campaign) *queue.Campaign {
	e.t.Helper()
	if c.Name == "" {
		c.Name = "weekly-tips"
	}
	if c.Accounts == nil {
		c.Accounts = []string{"brand-outbox"}
	}
	if err := e.db.CreateCampaign(context.Background(), queue.System("test"), &c); err != nil {
		e.t.Fatal(err)
	}
	return &c
}

func (e *env) tick() Result {
	e.t.Helper()
	r, err := e.sched.Tick(context.Background(), e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) posts(campaignID int64) []*queue.Post {
	e.t.Helper()
	ps, _, err := e.db.Posts(context.Background(), queue.PostFilter{CampaignID: campaignID, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

func (e *env) stored(id int64) *queue.Campaign {
	e.t.Helper()
	c, err := e.db.Campaign(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestTicksBecomePostsLeadAhead(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)) // Monday 08:00 in Paris
	c := e.campaign(queue.Campaign{Schedule: "0 9 * * *", TimeZone: "Europe/Paris", Pool: []string{"a", "b", "c"},
		Lead: queue.Duration(48 * time.Hour)})
	if r := e.tick(); r != (Result{Created: 2}) {
		t.Fatalf("first pass: %+v, want 2 posts (today and tomorrow 09:00; the day after is 49h away)", r)
	}
	ps := e.posts(c.ID)
	want := []struct {
		text string
		due  time.Time
	}{{"a", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}, {"b", time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)}}
	if len(ps) != len(want) {
		t.Fatalf("%d posts, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.Text != w.text || !p.DueAt.Equal(w.due) || !p.Tick.Equal(w.due) || p.State != queue.PostPending || len(p.Accounts) != 1 {
			t.Errorf("post %d: %q due %v tick %v %s %v; want %q due %v pending", i, p.Text, p.DueAt, p.Tick, p.State, p.Accounts, w.text, w.due)
		}
	}
	if got := e.stored(c.ID).NextTick; !got.Equal(time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("NextTick = %v", got)
	}
	if r := e.tick(); r != (Result{}) {
		t.Fatalf("second pass at the same time: %+v, want nothing", r)
	}
	e.clk.Advance(24 * time.Hour)
	if r := e.tick(); r != (Result{Created: 1}) {
		t.Fatalf("a day later: %+v", r)
	}
	if ps := e.posts(c.ID); len(ps) != 3 || ps[2].Text != "c" {
		t.Fatalf("third post: %d posts, last %q", len(ps), ps[len(ps)-1].Text)
	}
}

func TestRestartNeverDuplicatesATick(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	c := e.campaign(queue.Campaign{Schedule: "0 */6 * * *", TimeZone: "UTC", Pool: []string{"x"}, Lead: queue.Duration(24 * time.Hour)})
	first := e.tick().Created
	if first == 0 {
		t.Fatal("no posts created")
	}
	e.open() // a new process on the same file: the persisted NextTick is the truth
	if r := e.tick(); r.Created != 0 {
		t.Fatalf("after a restart the same ticks yielded %d more posts", r.Created)
	}
	if n := len(e.posts(c.ID)); n != first {
		t.Fatalf("%d posts, want %d", n, first)
	}
}

func TestTwoSchedulersNeverDoublePost(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	c := e.campaign(queue.Campaign{Schedule: "0 * * * *", Pool: []string{"x"}, Lead: queue.Duration(48 * time.Hour)})
	other := e.newScheduler()
	var wg sync.WaitGroup
	results := make([]Result, 2)
	for i, s := range []*Scheduler{e.sched, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Tick(context.Background(), e.clk.Now())
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	ps := e.posts(c.ID)
	if len(ps) != 48 || results[0].Created+results[1].Created != 48 {
		t.Fatalf("%d posts, created %d+%d; want 48 in all", len(ps), results[0].Created, results[1].Created)
	}
	seen := map[time.Time]bool{}
	for _, p := range ps {
		if seen[p.Tick] {
			t.Fatalf("tick %v has two posts", p.Tick)
		}
		seen[p.Tick] = true
	}
}

// dueTimes runs the scheduler every 15 minutes from from to to and returns the due times
// of the posts created, in the zone.
func dueTimes(t *testing.T, spec, zone string, from, to time.Time) []string {
	e := newEnv(t, from)
	c := e.campaign(queue.Campaign{Schedule: spec, TimeZone: zone, Pool: []string{"p"}, Lead: queue.Duration(time.Hour)})
	for e.clk.Now().Before(to) {
		if r := e.tick(); r.Missed != 0 || r.Skipped != 0 {
			t.Fatalf("at %v: %+v", e.clk.Now(), r)
		}
		e.clk.Advance(15 * time.Minute)
	}
	loc, _ := time.LoadLocation(zone)
	var out []string
	for _, p := range e.posts(c.ID) {
		out = append(out, p.DueAt.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return out
}

func TestDSTDaysThroughTheStore(t *testing.T) {
	t.Run("spring forward Paris 02:30", func(t *testing.T) {
		got := dueTimes(t, "30 2 * * *", "Europe/Paris", time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 6, 0, 0, 0, time.UTC))
		assertTicks(t, got, "2026-03-28 02:30 CET", "2026-03-29 03:00 CEST", "2026-03-30 02:30 CEST", "2026-03-31 02:30 CEST")
	})
	t.Run("fall back New York 01:30", func(t *testing.T) {
		got := dueTimes(t, "30 1 * * *", "America/New_York", time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC))
		assertTicks(t, got, "2026-11-01 01:30 EDT", "2026-11-02 01:30 EST", "2026-11-03 01:30 EST")
	})
	t.Run("fall back Paris 02:30", func(t *testing.T) {
		got := dueTimes(t, "30 2 * * *", "Europe/Paris", time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 6, 0, 0, 0, time.UTC))
		assertTicks(t, got, "2026-10-24 02:30 CEST", "2026-10-25 02:30 CEST", "2026-10-26 02:30 CET")
	})
	t.Run("weekly New York", func(t *testing.T) {
		got := dueTimes(t, "0 9 * * MON", "America/New_York", time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC))
		assertTicks(t, got, "2026-03-02 09:00 EST", "2026-03-09 09:00 EDT", "2026-03-16 09:00 EDT")
	})
}

func TestLongDowntimeMakesAFewMissedPostsNotABurst(t *testing.T) {
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	e := newEnv(t, start)
	c := e.campaign(queue.Campaign{Schedule: "0 * * * *", Pool: []string{"hourly"}, Lead: queue.Duration(2 * time.Hour),
		Late: queue.Duration(30 * time.Minute)})
	if r := e.tick(); r.Created != 2 { // 08:00 and 09:00 UTC
		t.Fatalf("first pass: %+v", r)
	}
	// Ten days down: 240 ticks from 10:00 on the 2nd to 09:00 on the 12th. The latest 3 of
	// the 237 overdue ones become visible missed posts, the rest are skipped, and the ones
	// within lead (07:00 is only 20m late, 08:00, 09:00) are created as usual.
	e.clk.Set(start.Add(10*24*time.Hour + 20*time.Minute)) // 07:20
	r := e.tick()
	if r.Missed != 3 || r.Created != 3 || r.Missed+r.Skipped+r.Created != 240 {
		t.Fatalf("after downtime: %+v; want 3 missed, 3 created (07:00 is 20m late, 08:00, 09:00)", r)
	}
	byState := map[queue.PostState][]*queue.Post{}
	for _, p := range e.posts(c.ID) {
		byState[p.State] = append(byState[p.State], p)
	}
	if n := len(byState[queue.PostMissed]); n != 5 { // the 2 from before plus 3
		t.Fatalf("%d missed posts, want 5", n)
	}
	missed := byState[queue.PostMissed]
	for i, h := range []int{4, 5, 6} {
		want := time.Date(2026, 3, 12, h, 0, 0, 0, time.UTC)
		if got := missed[2+i].DueAt; !got.Equal(want) {
			t.Errorf("missed post %d due %v, want %v", i, got, want)
		}
	}
	if n := len(byState[queue.PostPending]); n != 3 {
		t.Fatalf("%d pending posts, want 3 (07:00, 08:00, 09:00)", n)
	}
	if got := e.stored(c.ID).NextTick; !got.Equal(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("NextTick = %v", got)
	}
}

func TestPausedCampaignGetsNoTicksUntilResumed(t *testing.T) {
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	e := newEnv(t, start)
	c := e.campaign(queue.Campaign{Schedule: "0 12 * * *", TimeZone: "Europe/Paris", Pool: []string{"noon"}, Lead: queue.Duration(time.Hour)})
	ctx := context.Background()
	if _, err := e.db.PauseCampaigns(ctx, []int64{c.ID}, queue.Pause{By: queue.System("test"), Reason: "test", At: start}); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(start.Add(3 * 24 * time.Hour))
	if r := e.tick(); r != (Result{}) {
		t.Fatalf("paused campaign ticked: %+v", r)
	}
	if err := e.db.ResumeCampaign(ctx, queue.System("test"), c.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.tick(); r.Missed != 3 || r.Created != 0 {
		t.Fatalf("after resume: %+v; want the 3 noons that passed as missed", r)
	}
}

func TestEmptyPoolSkipsTheTick(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	c := e.campaign(queue.Campaign{Schedule: "0 9 * * *", TimeZone: "Europe/Paris", Lead: queue.Duration(time.Hour * 3)})
	if r := e.tick(); r.Skipped != 1 || r.Created != 0 {
		t.Fatalf("%+v", r)
	}
	if n := len(e.posts(c.ID)); n != 0 {
		t.Fatalf("%d posts", n)
	}
	if got := e.stored(c.ID).NextTick; !got.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("NextTick = %v", got)
	}
}

// lengthCheck is a Validator with a network's kind of rule: at most 10 characters.
type lengthCheck struct{}

func (lengthCheck) Validate(_ context.Context, accounts []string, p sdk.Post) ([]string, error) {
	if len([]rune(p.Text)) > 10 {
		return []string{accounts[0] + ": text: too long for this network"}, nil
	}
	return nil, nil
}

func TestRecurringPostsAreValidatedWithTheirNetworks(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	s, err := New(Options{Store: e.db, Validator: lengthCheck{}})
	if err != nil {
		t.Fatal(err)
	}
	e.sched = s
	c := e.campaign(queue.Campaign{Schedule: "0 9,10 * * *", TimeZone: "UTC", Pool: []string{"short", "far too long for it"},
		Lead: queue.Duration(6 * time.Hour)})
	if r := e.tick(); r.Created != 2 {
		t.Fatalf("%+v", r)
	}
	ps := e.posts(c.ID)
	if len(ps[0].Problems) != 0 || len(ps[1].Problems) != 1 || ps[1].Problems[0] != "brand-outbox: text: too long for this network" {
		t.Fatalf("problems: %q and %q", ps[0].Problems, ps[1].Problems)
	}
}

func TestCampaignWithoutZoneFollowsTheDaemonDefault(t *testing.T) {
	// The campaign names no zone; the daemon's default is Europe/Paris. Whatever zone the
	// store used for the first cursor, no post is due at a time other than 09:00 in Paris.
	e := newEnv(t, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	c := e.campaign(queue.Campaign{Schedule: "0 9 * * *", Pool: []string{"x"}, Lead: queue.Duration(72 * time.Hour)})
	e.tick()
	ps := e.posts(c.ID)
	if len(ps) < 2 {
		t.Fatalf("%d posts", len(ps))
	}
	for _, p := range ps {
		if local := p.DueAt.In(mustZone(t, "Europe/Paris")); local.Hour() != 9 || local.Minute() != 0 {
			t.Errorf("post due %v, which is not 09:00 in Paris", local)
		}
	}
}

func TestIsTick(t *testing.T) {
	s, _ := cron.Parse("30 2 * * *", "Europe/Paris")
	paris := mustZone(t, "Europe/Paris")
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 28, 2, 30, 0, 0, paris), true},
		{time.Date(2026, 3, 28, 2, 31, 0, 0, paris), false},
		{time.Date(2026, 3, 29, 3, 0, 0, 0, paris), true},       // the spring-forward stand-in
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), true},  // 02:30 CEST, first occurrence
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), false}, // 02:30 CET, the repeat
		{time.Date(2026, 3, 28, 2, 30, 0, 500, paris), false},   // not on a second
	} {
		if got := s.IsTick(c.at); got != c.want {
			t.Errorf("IsTick(%v) = %v", c.at, got)
		}
	}
	every, _ := cron.Parse("@every 2h", "")
	if !every.IsTick(time.Date(2026, 1, 1, 0, 17, 3, 0, time.UTC)) {
		t.Error("@every: any time is a tick")
	}
}

func assertTicks(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("due times:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
