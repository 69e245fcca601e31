// Package schedule turns the due ticks of active recurring campaigns into posts. The ticks
// come from daemon/cron; the tick that has not yet become a post is persisted on the campaign
// (NextTick) and advanced with a compare-and-set, so a restart, or a second scheduler, never
// turns one tick into two posts. Overdue ticks become missed posts (the latest few) or are
// skipped, and a campaign at its open-post limit gets no more (docs/campaigns.md,
// "Ticks, missed ticks and restarts").
package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tact-hq/tact/daemon/cron"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Store is what the scheduler needs from queue.Store.
type Store interface {
	Campaigns(ctx context.Context, f queue.CampaignFilter) ([]*queue.Campaign, error)
	AddTick(ctx context.Context, campaignID int64, tick, next time.Time, p *queue.Post) error
	MarkMissed(ctx context.Context, now time.Time) (int, error)
}

// Validator checks a post against its target networks (plugins/host provides it; the API
// uses the same one). It returns the problems, each prefixed with the account name.
type Validator interface {
	Validate(ctx context.Context, accounts []string, p sdk.Post) ([]string, error)
}

// Options configures a Scheduler.
type Options struct {
	Store Store
	// TimeZone is the daemon's default zone, for campaigns that name none ("" = UTC).
	TimeZone string
	// MaxMissed is how many overdue ticks one catch-up turns into visible missed posts
	// (the latest ones); older overdue ticks are skipped. Default 3.
	MaxMissed int
	// MaxPerPass bounds the posts one campaign gets per Tick call, so that a campaign with a
	// frequent schedule and a long lead does not hold up the others; the rest follows on the
	// next call. Default 500.
	MaxPerPass int
	// Limits are tact.toml's bounds (zero fields: queue.DefaultLimits). A campaign's lead
	// is cut to MaxLead (one stored before the bound, or before it was lowered), and a
	// campaign with MaxOpenPosts open posts gets no more until some are done with.
	Limits queue.Limits
	// Validator, if set, records the networks' problems on each new post.
	Validator Validator
	Logger    *slog.Logger
}

// Scheduler turns the due ticks of active recurring campaigns into posts.
type Scheduler struct {
	store      Store
	zone       string
	maxMissed  int
	maxPerPass int
	limits     queue.Limits
	validator  Validator
	log        *slog.Logger

	mu     sync.Mutex
	capped map[int64]bool // campaigns held at the open-post limit, by id, as of the last pass
}

// New returns a Scheduler. It refuses an unknown default time zone.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil {
		return nil, errors.New("schedule.New: no Store")
	}
	if err := cron.ValidateZone(o.TimeZone); err != nil {
		return nil, err
	}
	s := &Scheduler{store: o.Store, zone: o.TimeZone, maxMissed: o.MaxMissed, maxPerPass: o.MaxPerPass,
		limits: o.Limits.OrDefault(), validator: o.Validator, log: o.Logger, capped: map[int64]bool{}}
	if s.maxMissed <= 0 {
		s.maxMissed = 3
	}
	if s.maxPerPass <= 0 {
		s.maxPerPass = 500
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Result counts what one Tick did.
type Result struct {
	Created int // posts created for ticks within reach (pending)
	Missed  int // posts created for ticks more than late overdue (made missed)
	Skipped int // overdue ticks beyond MaxMissed, and ticks with nothing to post
	Capped  int // campaigns whose due ticks wait because they are at the open-post limit
}

// Capped returns how many recurring campaigns the last pass found at the open-post limit,
// their due ticks waiting (the tact_schedule_capped_campaigns metric).
func (s *Scheduler) Capped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.capped)
}

// Tick processes every active campaign with a schedule: while its next tick is within its
// lead of now, the tick becomes a post (text from the pool, due at the tick, pending: an
// autopilot campaign's post is approved later by AutoApprove, never here), and NextTick moves
// on. Ticks more than the campaign's late overdue (downtime, a pause) become missed posts,
// at most MaxMissed per campaign, never a burst of sends. A campaign at its open-post limit
// (Options.Limits) makes no posts: its next tick waits, Result.Capped counts it, and the
// log says so when it reaches the limit and when it leaves it. One campaign's failure does
// not stop the others; the first error is returned after all were tried.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	cs, err := s.store.Campaigns(ctx, queue.CampaignFilter{State: queue.CampaignActive, Recurring: true, CountOpen: true})
	if err != nil {
		return res, err
	}
	var first error
	capped := map[int64]bool{}
	for _, c := range cs {
		if c.Schedule == "" {
			continue
		}
		err := s.campaign(ctx, c, now, &res)
		if errors.Is(err, errCapped) {
			capped[c.ID] = true
			res.Capped++
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			s.log.Error("recurring campaign tick failed", "campaign_id", c.ID, "campaign", c.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	s.setCapped(cs, capped)
	if res.Missed > 0 {
		// The overdue ticks were stored pending (AddTick stores new posts as draft or
		// pending); MarkMissed turns them, and anything else overdue, into missed posts in
		// one step. Were we to stop in between, the next pass's MarkMissed does it, and the
		// publisher never claims a pending post.
		if _, err := s.store.MarkMissed(ctx, now); err != nil && first == nil {
			first = err
		}
	}
	return res, first
}

func (s *Scheduler) campaign(ctx context.Context, c *queue.Campaign, now time.Time, res *Result) error {
	zone := c.TimeZone
	if zone == "" {
		zone = s.zone
	}
	sched, err := cron.Parse(c.Schedule, zone)
	if err != nil {
		return err
	}
	log := s.log.With("campaign_id", c.ID, "campaign", c.Name)
	lead, late := min(orDefault(c.Lead, queue.DefaultLead), s.limits.MaxLead), orDefault(c.Late, queue.DefaultLate)
	tick, cursor := c.NextTick, c.PoolCursor
	// room is how many more posts the campaign may have open; the store refuses beyond it
	// too, for posts added by people since the campaign was read.
	room := s.limits.MaxOpenPosts - c.OpenPosts
	add := func(t, next time.Time, p *queue.Post) error {
		if p != nil && room <= 0 {
			return errCapped
		}
		err := s.store.AddTick(ctx, c.ID, t, next, p)
		if queue.IsOpenLimit(err) {
			return errCapped
		}
		if queue.ErrorKind(err) == queue.Conflict {
			// Another scheduler (or an edit of the schedule) got there first; the stored
			// campaign is the truth, and the next pass reads it again.
			log.Debug("tick already handled elsewhere", "tick", t, "err", err)
			return errHandled
		}
		if err != nil {
			return err
		}
		tick, cursor = next, cursor+1
		if p != nil {
			room--
		}
		return nil
	}

	if tick.IsZero() { // a schedule the store did not start: its first tick after now
		next := sched.Next(now)
		if next.IsZero() {
			return nil
		}
		return ignoreHandled(add(time.Time{}, next, nil))
	}
	if !sched.IsTick(tick) {
		// The stored cursor was computed in another zone (the campaign names none and
		// whoever stored it did not know the daemon's default) or without the DST rules
		// above. Move it forward to the first real tick: never post at a time the schedule
		// does not name. (AddTick only moves forward, so a real tick between the moment the
		// campaign was stored and the stored cursor is lost: see the warning.)
		aligned := sched.Next(tick.Add(-time.Second))
		log.Warn("stored next tick is not a tick of the schedule in its zone: moved to the next real one", "stored", tick, "aligned", aligned, "zone", sched.Location().String())
		if err := add(tick, aligned, nil); err != nil || aligned.IsZero() {
			return ignoreHandled(err)
		}
	}

	// Catch up on ticks more than late overdue: keep the latest MaxMissed as missed posts,
	// skip the older ones in a single step.
	if now.Sub(tick) > late {
		var overdue []time.Time
		n, t := 0, tick
		for !t.IsZero() && now.Sub(t) > late {
			n++
			overdue = append(overdue, t)
			if len(overdue) > s.maxMissed {
				overdue = overdue[1:]
			}
			t = sched.Next(t)
		}
		if n > len(overdue) {
			if err := add(tick, overdue[0], nil); err != nil {
				return ignoreHandled(err)
			}
			res.Skipped += n - len(overdue)
			log.Warn("skipped overdue recurring ticks", "count", n-len(overdue), "from", c.NextTick, "kept_from", overdue[0])
		}
		for i, o := range overdue {
			next := t
			if i+1 < len(overdue) {
				next = overdue[i+1]
			}
			p := s.post(c, o, cursor)
			if p == nil {
				res.Skipped++
			}
			if err := add(o, next, p); err != nil {
				return ignoreHandled(err)
			}
			if p != nil {
				res.Missed++
				log.Info("recurring tick missed", "tick", o, "post_id", p.ID)
			}
		}
	}

	for n := 0; n < s.maxPerPass && !tick.IsZero() && !tick.Add(-lead).After(now); n++ {
		next := sched.Next(tick)
		p := s.post(c, tick, cursor)
		if p == nil {
			res.Skipped++
			log.Warn("recurring campaign has an empty content pool: tick skipped", "tick", tick)
		} else if s.validator != nil {
			problems, err := s.validator.Validate(ctx, p.Accounts, sdk.Post{Text: p.Text})
			if err != nil {
				log.Warn("could not validate a recurring post with its networks", "tick", tick, "err", err)
			}
			p.Problems = problems
		}
		t := tick
		if err := add(tick, next, p); err != nil {
			return ignoreHandled(err)
		}
		if p != nil {
			res.Created++
			log.Info("recurring post created", "tick", t, "post_id", p.ID, "due_at", p.DueAt)
		}
	}
	return nil
}

// post is the post for tick, or nil when the pool has nothing to say.
func (s *Scheduler) post(c *queue.Campaign, tick time.Time, cursor int) *queue.Post {
	var pool []string
	for _, t := range c.Pool {
		if t != "" {
			pool = append(pool, t)
		}
	}
	if len(pool) == 0 {
		return nil
	}
	return &queue.Post{
		CampaignID: c.ID,
		Text:       pool[cursor%len(pool)],
		Accounts:   append([]string(nil), c.Accounts...),
		DueAt:      tick.UTC(),
		Tick:       tick.UTC(),
		State:      queue.PostPending,
	}
}

var (
	errHandled = errors.New("tick handled elsewhere")
	// errCapped stops a campaign's pass at its open-post limit; its next tick stays where it
	// is, so the ticks are turned into posts once there is room again.
	errCapped = errors.New("campaign at its open-post limit")
)

// setCapped records which campaigns this pass found at the open-post limit, and says so
// when a campaign reaches it or leaves it: once, not at every pass.
func (s *Scheduler) setCapped(cs []*queue.Campaign, capped map[int64]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		switch {
		case capped[c.ID] && !s.capped[c.ID]:
			s.log.Warn("recurring campaign at its open-post limit: its schedule makes no new posts until some of its posts are published, rejected or deleted (or [daemon] max_open_posts_per_campaign is raised)",
				"campaign_id", c.ID, "campaign", c.Name, "limit", s.limits.MaxOpenPosts)
		case !capped[c.ID] && s.capped[c.ID]:
			s.log.Info("recurring campaign below its open-post limit again: its schedule makes posts", "campaign_id", c.ID, "campaign", c.Name)
		}
	}
	s.capped = capped
}

func ignoreHandled(err error) error {
	if errors.Is(err, errHandled) {
		return nil
	}
	return err
}

func orDefault(d queue.Duration, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d.D()
}
