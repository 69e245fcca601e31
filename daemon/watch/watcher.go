// Package watch is tact's context side: it polls news feeds (and plugin trends), takes
// items pushed through the API, matches new items against the safety rules, opens and
// extends incidents, applies each incident's action to the whole queue at once (pause
// campaigns, hold or flag posts), gates every publish against the incidents open at that
// moment, closes incidents when their window has passed, and manages the rule set itself
// (load, reload on SIGHUP or file change, preview).
//
// How min_sources is represented: an incident is only recorded once it acts. Evidence for a
// rule with min_sources > 1 waits in memory until that many distinct sources have reported a
// matching item within the rule's window; the incident then opens with all of it. After a
// restart the waiting evidence is rebuilt from the stored recent context the first time the
// rule matches again, so nothing seen before the restart is forgotten.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// Options configure a Watcher.
type Options struct {
	Store    queue.Store // required
	Rules    *Rules      // required: the rule set manager
	Feeds    []config.Feed
	Notifier notify.Notifier // default notify.Discard
	Logger   *slog.Logger
	Clock    clock.Clock // default the wall clock
	// Trends, when set, is polled every TrendsEvery (default 5m) for plugin trend items.
	Trends      func(ctx context.Context) ([]*queue.ContextItem, error)
	TrendsEvery time.Duration
	// HTTPClient fetches feeds (default: a plain client; each feed's timeout applies).
	HTTPClient *http.Client
	// MaxFeedBytes refuses larger feed documents (default 10 MiB).
	MaxFeedBytes int64
	// MaxBackoff caps the delay between polls of a failing feed (default 30m, and never less
	// than the feed's own interval).
	MaxBackoff time.Duration
}

// Watcher turns context into incidents and incidents into pauses, holds and flags.
// It implements api.Watch and api.Warnings.
type Watcher struct {
	st    queue.Store
	rules *Rules
	n     notify.Notifier
	log   *slog.Logger
	clk   clock.Clock
	opt   Options

	feeds []*feedPoller

	// ingestMu serialises matching and applying, so that two feeds reporting the same
	// disaster at once open one incident and send one set of notifications.
	ingestMu sync.Mutex
	pending  map[string]*pendingEvidence // rule id -> evidence waiting for min_sources

	// unmatched are stored items whose matching failed, reapplyNeeded says an incident's
	// action failed (both under ingestMu); retrying tells the expiry loop to retry soon.
	unmatched     []*queue.ContextItem
	reapplyNeeded bool
	retrying      atomic.Bool

	// changed wakes the expiry loop when incidents opened, moved or closed.
	changed chan struct{}

	// pages keeps the open incidents as the queue's pages last read them (warnings.go).
	pages pageCache
}

var (
	_ api.Watch    = (*Watcher)(nil)
	_ api.Warnings = (*Watcher)(nil)
	_ api.Rules    = (*Rules)(nil)
)

// New returns a watcher. Call Run to start polling and the incident lifecycle.
func New(o Options) (*Watcher, error) {
	if o.Store == nil || o.Rules == nil {
		return nil, errors.New("watch: Store and Rules are required")
	}
	if o.Notifier == nil {
		o.Notifier = notify.Discard{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.TrendsEvery <= 0 {
		o.TrendsEvery = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.MaxFeedBytes <= 0 {
		o.MaxFeedBytes = DefaultMaxFeedBytes
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	w := &Watcher{
		st: o.Store, rules: o.Rules, n: o.Notifier, log: o.Logger.With("component", "watch"), clk: o.Clock, opt: o,
		pending: map[string]*pendingEvidence{}, changed: make(chan struct{}, 1),
	}
	w.pages.build = make(chan struct{}, 1)
	names := map[string]bool{}
	for _, f := range o.Feeds {
		if f.Name == "" || names[f.Name] {
			return nil, fmt.Errorf("watch: feed names must be set and unique (%q)", f.Name)
		}
		names[f.Name] = true
		if f.Every.Duration <= 0 {
			f.Every.Duration = DefaultFeedEvery
		}
		if f.Timeout.Duration <= 0 {
			f.Timeout.Duration = DefaultFeedTimeout
		}
		w.feeds = append(w.feeds, &feedPoller{
			src:    feedSource{cfg: f, client: o.HTTPClient, maxBytes: o.MaxFeedBytes},
			status: FeedStatus{Name: f.Name, URL: shownURL(f)},
		})
	}
	return w, nil
}

// Run polls every feed and the trends source, and closes incidents when their window has
// passed, until ctx ends. It returns once every poller has stopped.
func (w *Watcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { w.reapplyOpen(ctx) })
	for _, f := range w.feeds {
		wg.Go(func() { w.pollFeed(ctx, f) })
	}
	if w.opt.Trends != nil {
		wg.Go(func() { w.pollTrends(ctx) })
	}
	wg.Go(func() { w.expireLoop(ctx) })
	wg.Wait()
	return nil
}

// reapplyOpen applies every open incident's action once more at start. An incident is
// recorded before its action is applied, so a crash between the two would otherwise leave it
// open with nothing paused (the publish gate would still block its posts, but people would
// not see why). Campaigns that a person resumed while the incident was open are paused again:
// the gate would keep blocking their posts anyway, and a visible pause says why.
func (w *Watcher) reapplyOpen(ctx context.Context) {
	w.ingestMu.Lock()
	defer w.ingestMu.Unlock()
	if err := w.applyOpen(ctx); err != nil && ctx.Err() == nil {
		w.log.Error("applying open incidents at start failed; will retry", "error", err)
		w.retry()
	}
}

// applyOpen applies every open incident's action. Call with ingestMu held.
func (w *Watcher) applyOpen(ctx context.Context) error {
	open, err := w.st.Incidents(ctx, openOnly)
	if err != nil {
		w.reapplyNeeded = true
		return err
	}
	if err := w.act(ctx, w.rules.Set(), open, nil); err != nil {
		w.reapplyNeeded = true
		return err
	}
	w.reapplyNeeded = false
	return nil
}

// feedPoller is one feed's source and status.
type feedPoller struct {
	src    feedSource
	mu     sync.Mutex
	status FeedStatus
}

// FeedStatus returns each feed's status, in configuration order.
func (w *Watcher) FeedStatus() []FeedStatus {
	out := make([]FeedStatus, len(w.feeds))
	for i, f := range w.feeds {
		f.mu.Lock()
		out[i] = f.status
		f.mu.Unlock()
	}
	return out
}

// pollFeed polls one feed on its interval, backing off exponentially (capped) while it
// fails. A broken feed is logged and reported in its status, never fatal.
func (w *Watcher) pollFeed(ctx context.Context, f *feedPoller) {
	every := f.src.cfg.Every.Duration
	log := w.log.With("feed", f.src.cfg.Name)
	for {
		now := w.clk.Now().UTC()
		res, err := f.src.fetch(ctx, now)
		if ctx.Err() != nil {
			return
		}
		var fresh int
		if err == nil && len(res.items) > 0 {
			var added []*queue.ContextItem
			added, _, err = w.ingest(ctx, res.items)
			fresh = len(added)
			if err != nil {
				err = fmt.Errorf("storing or matching its items failed: %w", err)
			}
		}
		if err == nil && res.commit != nil {
			res.commit()
		}
		f.mu.Lock()
		st := &f.status
		st.LastPoll = now
		st.Polls++
		st.Items += int64(fresh) // stored, even if matching them failed (it is retried)
		if err != nil {
			st.Failures++
			st.LastError = err.Error()
			st.ErrorAt = now
		} else {
			st.Failures = 0
			st.LastError = ""
			st.LastOK = now
			if res.notModified {
				st.NotMod++
			}
		}
		delay := backoff(every, st.Failures, max(w.opt.MaxBackoff, every))
		st.NextPoll = now.Add(delay)
		failures := st.Failures
		f.mu.Unlock()
		if err != nil {
			log.Warn("feed poll failed", "error", err, "failures", failures, "retry_in", delay)
		} else if fresh > 0 {
			log.Info("feed items", "new", fresh)
		}
		t := w.clk.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// backoff is every after a success, and doubles with each consecutive failure up to limit.
func backoff(every time.Duration, failures int, limit time.Duration) time.Duration {
	d := every
	for i := 0; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// pollTrends asks the trends source on its interval; failures are logged and retried at
// the next interval.
func (w *Watcher) pollTrends(ctx context.Context) {
	for {
		items, err := w.opt.Trends(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.log.Warn("trends poll failed", "error", err)
		} else if len(items) > 0 {
			now := w.clk.Now().UTC()
			for _, it := range items {
				if it.Source == "" {
					it.Source = "trends"
				}
				if it.SeenAt.IsZero() {
					it.SeenAt = now
				}
				it.Language = primaryLanguage(it.Language)
			}
			if _, _, err := w.ingest(ctx, items); err != nil {
				w.log.Warn("trends could not be stored or matched", "error", err)
			}
		}
		t := w.clk.NewTimer(w.opt.TrendsEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// Push stores an item posted to the API and matches it at once; the incidents it opened or
// extended are returned with their actions already applied. A repeated item (same source
// and GUID, URL or title) is returned as given, without an id, and acts no further (unless
// an earlier push of it failed while matching: then it is matched now).
func (w *Watcher) Push(ctx context.Context, item *queue.ContextItem) (*queue.ContextItem, []*queue.Incident, error) {
	if item == nil {
		return nil, nil, queue.Errorf(queue.Invalid, "", "no context item given")
	}
	it := *item
	it.Title = strings.TrimSpace(it.Title)
	if it.Title == "" {
		return nil, nil, queue.Errorf(queue.Invalid, "title", "title is required: the headline of the news item")
	}
	it.Source = strings.TrimSpace(it.Source)
	if it.Source == "" {
		it.Source = "api"
	}
	it.Language = primaryLanguage(it.Language)
	if it.Language != "" && !knownLanguage(it.Language) {
		return nil, nil, queue.Errorf(queue.Invalid, "language", "language %q is not supported (known: %s); leave it out to detect it",
			it.Language, strings.Join(rules.Languages(), ", "))
	}
	it.SeenAt = w.clk.Now().UTC()
	added, incs, err := w.ingest(ctx, []*queue.ContextItem{&it})
	if err != nil {
		return nil, nil, err
	}
	if len(added) == 1 {
		return added[0], incs, nil
	}
	return &it, incs, nil
}

func knownLanguage(l string) bool {
	for _, k := range rules.Languages() {
		if k == l {
			return true
		}
	}
	return false
}

// ingest stores items, keeps the new ones, matches them against the rules in force and acts
// on every incident they open or extend. It returns the new items and those incidents.
//
// Once stored, an item is never seen as new again, so a failure after storing must not lose
// its match: items whose matching failed are kept and matched again first thing at the next
// ingest (or by the retry in the expiry loop), and incidents whose action failed are
// re-applied the same way.
func (w *Watcher) ingest(ctx context.Context, items []*queue.ContextItem) ([]*queue.ContextItem, []*queue.Incident, error) {
	w.ingestMu.Lock()
	defer w.ingestMu.Unlock()
	var added []*queue.ContextItem
	if len(items) > 0 {
		var err error
		if added, err = w.st.AddContext(ctx, items); err != nil {
			return nil, nil, err
		}
	}
	toMatch := append(w.unmatched, added...)
	w.unmatched = nil
	if len(toMatch) == 0 {
		return added, nil, w.retryReapply(ctx)
	}
	set := w.rules.Set()
	now := w.clk.Now().UTC()
	var touched []*queue.Incident
	var extra = map[int64][]rules.Text{}
	for _, it := range toMatch {
		text := textOf(it)
		for _, m := range set.MatchNews(text) {
			in, err := w.evidence(ctx, set, m, it, now)
			if err != nil {
				w.unmatched = toMatch
				w.retry()
				return added, touched, err
			}
			if in == nil {
				continue
			}
			if _, ok := extra[in.ID]; !ok {
				touched = append(touched, in)
			} else {
				// Later evidence for the same incident: keep the freshest copy.
				for i := range touched {
					if touched[i].ID == in.ID {
						touched[i] = in
					}
				}
			}
			extra[in.ID] = append(extra[in.ID], text)
		}
	}
	if len(touched) > 0 {
		w.wakeExpiry()
		if err := w.act(ctx, set, touched, extra); err != nil {
			w.reapplyNeeded = true
			w.retry()
			return added, touched, err
		}
	}
	return added, touched, w.retryReapply(ctx)
}

// retryReapply re-applies open incidents if an earlier action failed. Call with ingestMu held.
func (w *Watcher) retryReapply(ctx context.Context) error {
	if !w.reapplyNeeded {
		return nil
	}
	if err := w.applyOpen(ctx); err != nil {
		w.retry()
		return err
	}
	return nil
}

// retry asks the expiry loop to come back soon for the work that failed.
func (w *Watcher) retry() {
	w.retrying.Store(true)
	w.wakeExpiry()
}

// retryFailed is the expiry loop's retry of failed matching and actions.
func (w *Watcher) retryFailed(ctx context.Context) {
	if !w.retrying.Swap(false) {
		return
	}
	if _, _, err := w.ingest(ctx, nil); err != nil && ctx.Err() == nil {
		w.log.Error("retrying incident matching failed; will retry", "error", err)
	}
}

func textOf(it *queue.ContextItem) rules.Text {
	return rules.Text{Title: it.Title, Summary: it.Summary, Language: it.Language, Source: it.Source}
}

// itemTime is when a news item happened as far as windows are concerned: its publication
// time when it has a plausible one, else when it was seen.
func itemTime(it *queue.ContextItem, now time.Time) time.Time {
	if !it.PublishedAt.IsZero() && !it.PublishedAt.After(now) {
		return it.PublishedAt.UTC()
	}
	return now
}

// pendingEvidence is the evidence of a rule with min_sources > 1 that does not yet have
// enough distinct sources to act.
type pendingEvidence struct {
	primed bool // rebuilt from stored recent context since start
	ev     []waiting
}

type waiting struct {
	at time.Time
	ev queue.Evidence
}

// evidence records what item it says about rule m.Rule: it opens or extends the rule's
// incident, or, for min_sources > 1, waits until enough sources agree. It returns the
// incident, or nil when nothing was recorded. Items older than the rule's window (an old
// article seen on a first poll) are context only: they open nothing.
func (w *Watcher) evidence(ctx context.Context, set *rules.Set, m rules.NewsMatch, it *queue.ContextItem, now time.Time) (*queue.Incident, error) {
	r := m.Rule
	at := itemTime(it, now)
	if at.Add(r.Window).Before(now) {
		return nil, nil
	}
	ev := queue.Evidence{ItemID: it.ID, Source: it.Source, Title: it.Title, URL: it.URL, PublishedAt: it.PublishedAt, Terms: m.Terms}
	evs := []queue.Evidence{ev}
	last := at
	if r.MinSources > 1 {
		open, err := w.st.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, RuleID: r.ID, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(open) == 0 {
			var enough bool
			evs, last, enough, err = w.waitForSources(ctx, set, r, it, ev, at, now)
			if err != nil || !enough {
				return nil, err
			}
		}
	}
	in, opened, err := w.st.RecordIncident(ctx, &queue.Incident{
		RuleID: r.ID, Action: r.Action, Resume: r.Resume, State: queue.IncidentOpen,
		OpenedBy: queue.Actor{Kind: queue.ActorRule, Name: r.ID}, OpenedAt: now,
		LastItemAt: last, ClosesAt: last.Add(r.Window), Evidence: evs,
	})
	if err != nil {
		return nil, err
	}
	if opened {
		w.log.Info("incident opened", "incident", in.ID, "rule", r.ID, "headline", it.Title, "source", it.Source)
		w.n.Notify(ctx, notify.Event{
			Kind: notify.IncidentOpened, RuleID: r.ID, IncidentID: in.ID, Evidence: in.Evidence, At: now,
			Text: fmt.Sprintf("Incident #%d opened by rule %s: %s", in.ID, r.ID, headlines(in.Evidence, 3)),
		})
	} else {
		w.log.Info("incident extended", "incident", in.ID, "rule", r.ID, "headline", it.Title, "closes_at", in.ClosesAt)
	}
	return in, nil
}

// waitForSources adds ev to the rule's waiting evidence and reports whether the distinct
// sources within the window now reach min_sources; if so it returns all of it and clears it.
func (w *Watcher) waitForSources(ctx context.Context, set *rules.Set, r *rules.Rule, it *queue.ContextItem, ev queue.Evidence, at, now time.Time) ([]queue.Evidence, time.Time, bool, error) {
	p := w.pending[r.ID]
	if p == nil {
		p = &pendingEvidence{}
		w.pending[r.ID] = p
	}
	if !p.primed {
		// After a start or restart: what was seen before counts too.
		recent, err := w.st.RecentContext(ctx, now.Add(-r.Window), 10000)
		if err != nil {
			return nil, time.Time{}, false, err
		}
		for _, old := range recent {
			if old.ID == it.ID {
				continue
			}
			for _, m := range set.MatchNews(textOf(old)) {
				if m.Rule.ID == r.ID {
					p.ev = append(p.ev, waiting{at: itemTime(old, old.SeenAt), ev: queue.Evidence{
						ItemID: old.ID, Source: old.Source, Title: old.Title, URL: old.URL, PublishedAt: old.PublishedAt, Terms: m.Terms,
					}})
				}
			}
		}
		p.primed = true
	}
	p.ev = append(p.ev, waiting{at: at, ev: ev})
	kept := p.ev[:0]
	sources := map[string]bool{}
	last := time.Time{}
	for _, x := range p.ev {
		if x.at.Add(r.Window).Before(now) {
			continue
		}
		kept = append(kept, x)
		sources[x.ev.Source] = true
		if x.at.After(last) {
			last = x.at
		}
	}
	p.ev = kept
	if len(sources) < r.MinSources {
		w.log.Info("rule matched, waiting for more sources", "rule", r.ID, "sources", len(sources), "min_sources", r.MinSources, "headline", it.Title)
		return nil, time.Time{}, false, nil
	}
	evs := make([]queue.Evidence, len(p.ev))
	for i, x := range p.ev {
		evs[i] = x.ev
	}
	p.ev = nil
	return evs, last, true, nil
}

// act computes the action of every incident in incs over the whole queue (one scan for
// all), applies each in one store transaction, and tells people what changed.
func (w *Watcher) act(ctx context.Context, set *rules.Set, incs []*queue.Incident, extra map[int64][]rules.Text) error {
	plans := make([]*plan, 0, len(incs))
	planned := make([]*queue.Incident, 0, len(incs))
	for _, in := range incs {
		r, rset := set.Rule(in.RuleID), set
		if r == nil {
			r, rset = w.rules.Rule(in.RuleID)
		}
		if r == nil {
			w.log.Warn("incident's rule is no longer loaded: nothing more is paused or held for it", "incident", in.ID, "rule", in.RuleID)
			continue
		}
		// The incident acts as it was opened (its action), with the rule's posts side.
		plans = append(plans, newPlan(rset, r, in.Action, newsOf(in, extra[in.ID]...)))
		planned = append(planned, in)
	}
	// First the campaign pauses, committed at once; then the post-by-post matching.
	if err := planCampaigns(ctx, w.st, plans); err != nil {
		return fmt.Errorf("matching campaigns against incidents: %w", err)
	}
	var errs []error
	apply := func(i int, a queue.IncidentAction) {
		in, p := planned[i], plans[i]
		if len(a.PauseCampaigns)+len(a.HoldPosts)+len(a.FlagPosts) == 0 {
			return
		}
		eff, err := w.st.ApplyIncident(ctx, in.ID, a)
		if err != nil {
			errs = append(errs, fmt.Errorf("applying incident #%d (rule %s): %w", in.ID, in.RuleID, err))
			return
		}
		w.log.Info("incident applied", "incident", in.ID, "rule", in.RuleID,
			"paused_campaigns", len(eff.Paused), "held_posts", len(eff.Held), "flagged_posts", len(eff.Flagged))
		w.tell(ctx, in, p, eff)
	}
	for i, p := range plans {
		apply(i, p.pauseAction())
	}
	if err := planPosts(ctx, w.st, plans); err != nil {
		return errors.Join(append(errs, fmt.Errorf("matching the queue against incidents: %w", err))...)
	}
	for i, p := range plans {
		apply(i, p.postAction())
	}
	return errors.Join(errs...)
}

// maxEach bounds the notifications of one incident per kind: beyond it, one summary says
// how many more, so that a rule pausing 1,000 campaigns sends a readable message, not 1,000.
const maxEach = 20

// tell notifies each pause, hold and flag an incident made.
func (w *Watcher) tell(ctx context.Context, in *queue.Incident, p *plan, eff queue.IncidentEffect) {
	now := w.clk.Now().UTC()
	what := headlines(in.Evidence, 1)
	base := notify.Event{RuleID: in.RuleID, IncidentID: in.ID, Evidence: lastEvidence(in.Evidence, 5), At: now}
	for i, id := range eff.Paused {
		if i == maxEach {
			e := base
			e.Kind = notify.CampaignPaused
			e.Text = fmt.Sprintf("…and %d more campaigns paused by rule %s (incident #%d): %s", len(eff.Paused)-maxEach, in.RuleID, in.ID, what)
			w.n.Notify(ctx, e)
			break
		}
		e := base
		e.Kind = notify.CampaignPaused
		e.CampaignID = id
		if c := p.campaigns[id]; c != nil {
			e.Campaign = c.Name
		}
		e.Text = fmt.Sprintf("Campaign %s paused by rule %s (incident #%d): %s", nameOr(e.Campaign, id), in.RuleID, in.ID, what)
		w.n.Notify(ctx, e)
	}
	posts := map[int64]*queue.Post{}
	for _, post := range p.holds {
		posts[post.ID] = post
	}
	for _, post := range p.flags {
		posts[post.ID] = post
	}
	tellPosts := func(kind, verb string, ids []int64) {
		for i, id := range ids {
			e := base
			e.Kind = kind
			if i == maxEach {
				e.Text = fmt.Sprintf("…and %d more posts %s by rule %s (incident #%d): %s", len(ids)-maxEach, verb, in.RuleID, in.ID, what)
				w.n.Notify(ctx, e)
				return
			}
			e.PostID = id
			if post := posts[id]; post != nil {
				e.CampaignID, e.Campaign = post.CampaignID, post.Campaign
			}
			e.Text = fmt.Sprintf("Post #%d of campaign %s %s by rule %s (incident #%d): %s", id, nameOr(e.Campaign, e.CampaignID), verb, in.RuleID, in.ID, what)
			w.n.Notify(ctx, e)
		}
	}
	tellPosts(notify.PostHeld, "held", eff.Held)
	tellPosts(notify.PostFlagged, "flagged", eff.Flagged)
}

func nameOr(name string, id int64) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("#%d", id)
}

// headlines renders up to n of the latest evidence items as "“title” (url)".
func headlines(evs []queue.Evidence, n int) string {
	evs = lastEvidence(evs, n)
	parts := make([]string, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		s := "“" + e.Title + "”"
		if e.URL != "" {
			s += " " + e.URL
		} else if e.Source != "" {
			s += " (" + e.Source + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func lastEvidence(evs []queue.Evidence, n int) []queue.Evidence {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

func (w *Watcher) wakeExpiry() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}
