// Package publish is tact's publishing pipeline. A Publisher sleeps until the store says
// work may be due (or until something kicks it), then turns recurring ticks into posts,
// lets autopilot approve, marks stale posts missed, claims due deliveries (a durable
// compare-and-set to publishing, through the safety gate, within each account's limits)
// and publishes each claim through its account's plugin, recording the outcome.
//
// The promise it keeps: a delivery is durably publishing before the plugin is called and is
// never sent a second time unless the network said the first one did not arrive. When the
// outcome of a call is not known (the plugin died mid-call, the call timed out), the
// plugin's Lookup decides; when Lookup cannot tell either, the post becomes unknown and a
// person decides.
package publish

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/schedule"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Store is what the publisher uses of queue.Store.
type Store interface {
	queue.PublishStore
	schedule.Store
}

// Networks gives the plugin serving an account (plugins/host's Manager).
type Networks interface {
	Network(account string) (sdk.Network, error)
}

// Observer is told about every publish attempt, for metrics. outcome is one of the Outcome
// constants; lateness is how long after its due time the attempt started.
type Observer interface {
	PublishDone(account string, took, lateness time.Duration, outcome string)
}

// Outcomes reported to the Observer.
const (
	OutcomePublished   = "published"
	OutcomeRetry       = "retry"       // waiting for another attempt
	OutcomeFailed      = "failed"      // permanent error, or attempts spent
	OutcomeUnknown     = "unknown"     // a person must decide
	OutcomeAuth        = "auth"        // the account needs attention; the post is held
	OutcomeInterrupted = "interrupted" // shutdown grace ran out: left publishing, resolved at the next start
)

// Options configures a Publisher. Store, Networks and Clock are required.
type Options struct {
	Store    Store
	Networks Networks
	// OutcomeUnknown reports whether a Publish error means the call may or may not have
	// reached the network (plugins/host's OutcomeUnknown: the plugin died mid-call). Call
	// deadlines count as unknown whatever it says.
	OutcomeUnknown func(error) bool
	// Limits are the per-account throttles (missing accounts: concurrency 1, spacing 1m).
	Limits map[string]queue.AccountLimit
	// Gate is the safety check run as each delivery is claimed (nil: the campaign-active
	// check only).
	Gate queue.Gate
	// Media reads the attachments posts name (daemon/media.Store); nil fails the
	// deliveries of posts with media as retryable.
	Media    Attachments
	Notifier notify.Notifier
	Clock    clock.Clock
	Logger   *slog.Logger
	// Scheduler turns recurring ticks into posts on each wake; nil makes one over Store
	// with TimeZone as the default zone.
	Scheduler *schedule.Scheduler
	TimeZone  string
	// MaxAttempts bounds the tries of one delivery on retryable and rate-limited errors
	// (default 5); then it fails and people are told.
	MaxAttempts int
	// CallTimeout is the deadline of each plugin call (default 30s).
	CallTimeout time.Duration
	Backoff     Backoff
	// LookupTries and LookupBackoff pace the Lookup calls that resolve an unknown outcome,
	// giving the host time to restart a crashed plugin (default 4 tries, 2s doubling).
	LookupTries   int
	LookupBackoff time.Duration
	// Parallel bounds the publishes in flight across all accounts (default 8).
	Parallel int
	// Grace bounds how long Run waits, once stopped, for publishes in flight (default 30s).
	Grace time.Duration
	// Pace is how soon the publisher looks again when work is due but none could be claimed
	// for a reason that has no known end (a gate, spacing from an earlier run) (default 10s).
	Pace time.Duration
	// MaxIdle bounds a sleep, for changes nobody kicked about (default 1m).
	MaxIdle  time.Duration
	Observer Observer
}

// Publisher runs the pipeline. Create it with New, run it with Run, and call Kick whenever
// something changes that may make work due sooner.
type Publisher struct {
	store       Store
	networks    Networks
	unknownErr  func(error) bool
	limits      map[string]queue.AccountLimit
	gate        queue.Gate
	media       Attachments
	notifier    notify.Notifier
	clk         clock.Clock
	log         *slog.Logger
	sched       *schedule.Scheduler
	maxAttempts int
	callTimeout time.Duration
	backoff     Backoff
	lookupTries int
	lookupDelay time.Duration
	parallel    int
	grace       time.Duration
	pace        time.Duration
	maxIdle     time.Duration
	observer    Observer

	kick  chan struct{}  // something changed outside: a full wake
	freed chan struct{}  // a publish finished: claim more, skip the housekeeping
	wg    sync.WaitGroup // publishes and recoveries in flight

	mu         sync.Mutex
	running    bool
	recovered  bool
	busy       int                  // publishes in flight (recoveries are not counted)
	inflight   map[int64]bool       // delivery ids being worked on by this publisher
	lastStart  map[string]time.Time // per account, for pacing on spacing
	cooldown   map[string]cooldown  // per account: rate-limited
	unhealthy  map[string]bool      // accounts last seen failing on auth
	unfinished []unfinished         // outcomes whose recording failed, retried each wake
}

// cooldown is a rate limit on an account: from the start of the publish that was refused
// until the time the network asked to wait for.
type cooldown struct{ from, until time.Time }

type unfinished struct {
	claim *queue.Claim
	out   queue.Outcome
	event *notify.Event
}

// New checks o and returns a Publisher.
func New(o Options) (*Publisher, error) {
	if o.Store == nil || o.Networks == nil || o.Clock == nil {
		return nil, errors.New("publish.New: Store, Networks and Clock are required")
	}
	p := &Publisher{
		store: o.Store, networks: o.Networks, unknownErr: o.OutcomeUnknown, limits: o.Limits, gate: o.Gate, media: o.Media,
		notifier: o.Notifier, clk: o.Clock, log: o.Logger, sched: o.Scheduler, maxAttempts: o.MaxAttempts,
		callTimeout: o.CallTimeout, backoff: o.Backoff.withDefaults(), lookupTries: o.LookupTries,
		lookupDelay: o.LookupBackoff, parallel: o.Parallel, grace: o.Grace, pace: o.Pace, maxIdle: o.MaxIdle,
		observer: o.Observer,
		kick:     make(chan struct{}, 1),
		freed:    make(chan struct{}, 1),
		inflight: map[int64]bool{}, lastStart: map[string]time.Time{}, cooldown: map[string]cooldown{},
		unhealthy: map[string]bool{},
	}
	if p.unknownErr == nil {
		p.unknownErr = func(error) bool { return false }
	}
	if p.notifier == nil {
		p.notifier = notify.Discard{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.sched == nil {
		s, err := schedule.New(schedule.Options{Store: o.Store, TimeZone: o.TimeZone, Logger: p.log})
		if err != nil {
			return nil, err
		}
		p.sched = s
	}
	setDefault(&p.maxAttempts, 5)
	setDefault(&p.callTimeout, 30*time.Second)
	setDefault(&p.lookupTries, 4)
	setDefault(&p.lookupDelay, 2*time.Second)
	setDefault(&p.parallel, 8)
	setDefault(&p.grace, 30*time.Second)
	setDefault(&p.pace, 10*time.Second)
	setDefault(&p.maxIdle, time.Minute)
	return p, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Kick wakes the publisher: a post was approved, released or created, a campaign resumed.
// It never blocks.
func (p *Publisher) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run publishes until ctx is cancelled. It first resolves deliveries an earlier run left
// publishing (see Recover). Once ctx is cancelled it claims nothing new, waits up to Grace
// for the publishes in flight and records their outcomes, and returns. A publish still
// running when Grace ends is cancelled and left publishing, for the next start to resolve.
func (p *Publisher) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("publish: Run is already running")
	}
	p.running = true
	p.recovered = false // whatever an earlier Run left publishing is resolved again
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
	}()

	// Plugin calls and recording run under work, which outlives ctx by the grace period.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	if ss, err := p.store.AccountStatuses(ctx); err == nil {
		p.mu.Lock()
		for _, s := range ss {
			if !s.Healthy {
				p.unhealthy[s.Account] = true
			}
		}
		p.mu.Unlock()
	}
	p.log.Info("publisher started", "parallel", p.parallel, "max_attempts", p.maxAttempts)
	housekeeping := true
	for ctx.Err() == nil {
		wake := p.cycle(ctx, work, housekeeping)
		t := clock.Until(p.clk, wake)
		select {
		case <-ctx.Done():
		case <-p.kick:
			housekeeping = true
		case <-t.C():
			housekeeping = true
		case <-p.freed:
			// Only a slot came free: claim, but leave ticks, autopilot and missed posts to
			// the planned wake, unless its time has come anyway.
			housekeeping = !p.clk.Now().Before(wake)
		}
		t.Stop()
	}
	p.stop(stopWork)
	return nil
}

// stop waits for the work in flight, at most the grace period, then cancels what is left
// and waits for it to return (it records nothing for a publish it could not finish).
func (p *Publisher) stop(stopWork context.CancelFunc) {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	p.mu.Lock()
	n := p.busy
	p.mu.Unlock()
	if n > 0 {
		p.log.Info("publisher stopping: waiting for publishes in flight", "in_flight", n, "grace", p.grace)
	}
	grace := p.clk.NewTimer(p.grace)
	select {
	case <-done:
	case <-grace.C():
		p.log.Warn("publisher stopping: grace period over, cancelling publishes in flight; the next start resolves them through Lookup")
		stopWork()
		<-done
	}
	grace.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.retryUnfinished(ctx)
	p.mu.Lock()
	if n := len(p.unfinished); n > 0 {
		p.log.Error("publisher stopped with outcomes it could not record; those deliveries stay publishing and the next start resolves them through Lookup", "count", n)
		p.unfinished = nil
	}
	p.mu.Unlock()
	p.log.Info("publisher stopped")
}

// cycle does one wake's work and returns when to wake next. Housekeeping is recovery,
// recurring ticks, autopilot and missed posts; claiming is always done.
func (p *Publisher) cycle(ctx, work context.Context, housekeeping bool) time.Time {
	now := p.clk.Now()
	retry := now.Add(p.pace)
	p.retryUnfinished(ctx)
	if housekeeping {
		if ok := p.housekeep(ctx, work, now); !ok {
			return retry
		}
	}
	if ctx.Err() != nil {
		return now // stopping: claim nothing new
	}
	return p.claim(ctx, work, now, retry)
}

// housekeep does what time alone makes due; false when the deliveries left publishing by
// an earlier run could not be listed (nothing may be claimed before they are known).
func (p *Publisher) housekeep(ctx, work context.Context, now time.Time) bool {
	if !p.isRecovered() {
		if err := p.startRecovery(ctx, work); err != nil {
			p.logErr(ctx, "cannot list deliveries left publishing; will try again", err)
			return false
		}
	}
	if res, err := p.sched.Tick(ctx, now); err != nil {
		p.logErr(ctx, "recurring campaigns: some ticks could not be processed", err)
	} else if res != (schedule.Result{}) {
		p.log.Debug("recurring campaigns ticked", "created", res.Created, "missed", res.Missed, "skipped", res.Skipped)
	}
	if n, err := p.store.AutoApprove(ctx, now); err != nil {
		p.logErr(ctx, "autopilot approval failed", err)
	} else if n > 0 {
		p.log.Info("autopilot approved posts", "count", n)
	}
	if n, err := p.store.MarkMissed(ctx, now); err != nil {
		p.logErr(ctx, "marking overdue posts missed failed", err)
	} else if n > 0 {
		p.log.Info("posts missed their time", "count", n)
	}
	return true
}

// claim claims what is due and returns when to wake next.
func (p *Publisher) claim(ctx, work context.Context, now, retry time.Time) time.Time {
	if !p.isRecovered() {
		return retry
	}
	p.mu.Lock()
	free := p.parallel - p.busy
	p.mu.Unlock()
	full := free <= 0
	if !full {
		claims, err := p.store.ClaimDue(ctx, queue.ClaimRequest{Now: now, Limit: free, Limits: p.limitsAt(now), Gate: p.gate})
		if err != nil {
			p.logErr(ctx, "claiming due posts failed", err)
			return retry
		}
		for _, c := range claims {
			p.mu.Lock()
			p.lastStart[c.Delivery.Account] = now
			p.mu.Unlock()
			p.dispatch(c.Delivery.ID, true, func() { p.publish(work, c) })
		}
		full = len(claims) >= free
	}

	wake, err := p.store.NextWake(ctx)
	if err != nil {
		p.logErr(ctx, "cannot read when work is next due", err)
		return retry
	}
	idle := now.Add(p.maxIdle)
	switch {
	case wake.IsZero() || wake.After(idle):
		return idle
	case wake.After(now):
		return wake
	case full:
		// More may be claimable: a finishing publish kicks the loop.
		return retry
	default:
		// Due work none of which could be claimed: an account's spacing (we know when it
		// ends if we started its last publish), or a gate, or spacing from an earlier run.
		if end, ok := p.spacingEnds(now); ok {
			return end
		}
		return retry
	}
}

// logErr logs a failed step, unless it failed because the publisher is stopping.
func (p *Publisher) logErr(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil {
		p.log.Error(msg, "err", err)
	}
}

// limitsAt returns the account limits in force at now: the configured ones, with the
// spacing of a rate-limited account stretched to the end of its cooldown, so that its other
// posts wait for the network's retry-after too instead of each burning an attempt on it.
func (p *Publisher) limitsAt(now time.Time) map[string]queue.AccountLimit {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.cooldown) == 0 {
		return p.limits
	}
	out := make(map[string]queue.AccountLimit, len(p.limits)+len(p.cooldown))
	for a, l := range p.limits {
		out[a] = l
	}
	for a, cd := range p.cooldown {
		if !cd.until.After(now) {
			delete(p.cooldown, a)
			continue
		}
		l := out[a]
		if need := cd.until.Sub(cd.from); need > spacing(p.limits, a) {
			l.Spacing = need
		}
		out[a] = l
	}
	return out
}

// spacingEnds returns the earliest time after now at which an account's spacing (for an
// account this publisher started) or rate limit ends, if there is one.
func (p *Publisher) spacingEnds(now time.Time) (best time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	consider := func(t time.Time) {
		if t.After(now) && (!ok || t.Before(best)) {
			best, ok = t, true
		}
	}
	for a, t := range p.lastStart {
		end := t.Add(spacing(p.limits, a))
		if !end.After(now) {
			delete(p.lastStart, a)
		}
		consider(end)
	}
	for _, cd := range p.cooldown {
		consider(cd.until)
	}
	return best, ok
}

// spacing is the account's spacing as the store reads it (queue.AccountLimit.OrDefault).
func spacing(limits map[string]queue.AccountLimit, account string) time.Duration {
	return queue.LimitOf(limits, account).Spacing
}

// dispatch runs fn for delivery id in its own goroutine; counted says whether it takes
// one of the Parallel slots (publishes do, recoveries do not).
func (p *Publisher) dispatch(id int64, counted bool, fn func()) {
	p.mu.Lock()
	if counted {
		p.busy++
	}
	p.inflight[id] = true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer func() {
			p.mu.Lock()
			if counted {
				p.busy--
			}
			delete(p.inflight, id)
			p.mu.Unlock()
			p.wg.Done()
			p.signalFreed() // a slot is free, an account's concurrency too
		}()
		fn()
	}()
}

func (p *Publisher) signalFreed() {
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

func (p *Publisher) isRecovered() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recovered
}

// Recover resolves the deliveries an earlier run left publishing (a crash, kill -9, a
// shutdown whose grace ran out): through the plugin's Lookup, found means published, not
// found means waiting for a retry, and no answer means unknown, for a person to decide.
// Nothing is sent again blindly. Run recovers by itself before its first claim; Recover is
// for callers that want it done, and waited for, without Run. It skips deliveries this
// Publisher is working on.
func (p *Publisher) Recover(ctx context.Context) error {
	var wg sync.WaitGroup
	err := p.recoverInto(ctx, ctx, &wg)
	wg.Wait()
	return err
}

func (p *Publisher) startRecovery(ctx, work context.Context) error {
	return p.recoverInto(ctx, work, nil)
}

func (p *Publisher) recoverInto(ctx, work context.Context, wg *sync.WaitGroup) error {
	claims, err := p.store.InFlight(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.recovered = true
	byAccount := map[string][]*queue.Claim{}
	for _, c := range claims {
		if !p.inflight[c.Delivery.ID] {
			byAccount[c.Delivery.Account] = append(byAccount[c.Delivery.Account], c)
		}
	}
	p.mu.Unlock()
	if len(byAccount) > 0 {
		p.log.Info("resolving deliveries left publishing by an earlier run", "count", len(claims))
	}
	// One goroutine per account: Lookups are cheap, and an account whose network does not
	// answer must not hold up the others.
	for _, cs := range byAccount {
		if wg != nil {
			wg.Add(1)
		}
		for _, c := range cs {
			p.mu.Lock()
			p.inflight[c.Delivery.ID] = true
			p.mu.Unlock()
		}
		p.wg.Add(1)
		go func() {
			defer func() {
				p.mu.Lock()
				for _, c := range cs {
					delete(p.inflight, c.Delivery.ID)
				}
				p.mu.Unlock()
				p.wg.Done()
				if wg != nil {
					wg.Done()
				}
				p.Kick()
			}()
			for _, c := range cs {
				p.recoverOne(work, c)
			}
		}()
	}
	return nil
}

// Attachments reads the stored attachments a post names (daemon/media.Store).
type Attachments interface {
	Read(field, id string) ([]byte, media.Info, error)
}
