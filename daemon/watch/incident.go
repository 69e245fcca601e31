package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// openOnly selects open incidents, as many as the store lists at once (open incidents are
// few: one per rule at most).
var openOnly = queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, Limit: 1000}

// expireLoop closes incidents when their window has passed: it sleeps until the earliest
// ClosesAt among open incidents (woken early when incidents change), never polling.
func (w *Watcher) expireLoop(ctx context.Context) {
	const retry = 10 * time.Second
	for {
		wait, err := w.nextClose(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Error("cannot read open incidents; retrying", "error", err, "retry_in", retry)
			wait = retry
		}
		if w.retrying.Load() && (wait < 0 || wait > retry) {
			wait = retry
		}
		var fire <-chan time.Time
		var t clock.Timer
		if wait >= 0 {
			t = w.clk.NewTimer(wait)
			fire = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-w.changed:
			if t != nil {
				t.Stop()
			}
		case <-fire:
			w.retryFailed(ctx)
			if _, err := w.CloseExpired(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("closing expired incidents failed", "error", err)
			}
		}
	}
}

// nextClose returns how long until the earliest open incident closes, or -1 when none is open.
func (w *Watcher) nextClose(ctx context.Context) (time.Duration, error) {
	open, err := w.st.Incidents(ctx, openOnly)
	if err != nil {
		return 0, err
	}
	var first time.Time
	for _, in := range open {
		if first.IsZero() || in.ClosesAt.Before(first) {
			first = in.ClosesAt
		}
	}
	if first.IsZero() {
		return -1, nil
	}
	return max(first.Sub(w.clk.Now()), 0), nil
}

// CloseExpired closes the incidents whose window has passed now (the store resumes the
// campaigns of resume=auto rules that no other open incident still pauses) and tells people.
// The expiry loop calls it; it is exported for the daemon's start-up catch-up and for tests.
func (w *Watcher) CloseExpired(ctx context.Context) ([]*queue.Incident, error) {
	before, err := w.pausedByRules(ctx)
	if err != nil {
		return nil, err
	}
	closed, err := w.st.CloseExpired(ctx, w.clk.Now().UTC())
	if err != nil || len(closed) == 0 {
		return closed, err
	}
	for _, in := range closed {
		w.log.Info("incident closed", "incident", in.ID, "rule", in.RuleID, "resume", in.Resume)
		w.n.Notify(ctx, notify.Event{
			Kind: notify.IncidentClosed, RuleID: in.RuleID, IncidentID: in.ID, At: w.clk.Now().UTC(),
			Text: fmt.Sprintf("Incident #%d (rule %s) closed: no matching news for its window%s", in.ID, in.RuleID, resumeNote(in)),
		})
	}
	w.tellResumed(ctx, before, closed)
	return closed, nil
}

func resumeNote(in *queue.Incident) string {
	if in.Resume == rules.ResumeAuto {
		return "; its campaigns resume unless another incident still pauses them"
	}
	return "; campaigns it paused stay paused until a person resumes them"
}

// pausedByRules lists campaigns currently paused by a rule, to find out after a close which
// ones the store resumed.
func (w *Watcher) pausedByRules(ctx context.Context) (map[int64]*queue.Campaign, error) {
	cs, err := w.st.Campaigns(ctx, queue.CampaignFilter{State: queue.CampaignPaused})
	if err != nil {
		return nil, err
	}
	out := map[int64]*queue.Campaign{}
	for _, c := range cs {
		if c.Pause != nil && c.Pause.RuleID != "" {
			out[c.ID] = c
		}
	}
	return out, nil
}

// tellResumed notifies campaigns that were paused before closed incidents and are active now.
func (w *Watcher) tellResumed(ctx context.Context, before map[int64]*queue.Campaign, closed []*queue.Incident) {
	auto := false
	for _, in := range closed {
		auto = auto || in.Resume == rules.ResumeAuto
	}
	if !auto || len(before) == 0 {
		return
	}
	after, err := w.pausedByRules(ctx)
	if err != nil {
		w.log.Warn("cannot tell which campaigns resumed", "error", err)
		return
	}
	byID := map[int64]*queue.Incident{}
	for _, in := range closed {
		byID[in.ID] = in
	}
	n := 0
	for id, c := range before {
		if _, still := after[id]; still {
			continue
		}
		cur, err := w.st.Campaign(ctx, id)
		if err != nil || cur.State != queue.CampaignActive {
			continue
		}
		n++
		if n > maxEach {
			continue
		}
		e := notify.Event{Kind: notify.CampaignResumed, CampaignID: id, Campaign: c.Name, RuleID: c.Pause.RuleID, IncidentID: c.Pause.IncidentID, At: w.clk.Now().UTC()}
		e.Text = fmt.Sprintf("Campaign %s resumed: incident #%d (rule %s) closed", c.Name, c.Pause.IncidentID, c.Pause.RuleID)
		w.n.Notify(ctx, e)
	}
	if n > maxEach {
		w.n.Notify(ctx, notify.Event{Kind: notify.CampaignResumed, At: w.clk.Now().UTC(),
			Text: fmt.Sprintf("…and %d more campaigns resumed as their incidents closed", n-maxEach)})
	}
}

// Declare opens an incident by hand for a rule in force (or extends the open one) with the
// note as its evidence, and applies the rule's action at once. min_sources does not apply:
// a person is a sufficient source.
func (w *Watcher) Declare(ctx context.Context, by queue.Actor, ruleID, note string) (*queue.Incident, error) {
	ruleID, note = strings.TrimSpace(ruleID), strings.TrimSpace(note)
	if ruleID == "" {
		return nil, queue.Errorf(queue.Invalid, "rule", "rule is required: the id of the rule whose action to take")
	}
	set := w.rules.Set()
	r := set.Rule(ruleID)
	if r == nil {
		return nil, queue.Errorf(queue.NotFound, "rule", "no rule %q is in force (see the rules list: %s)", ruleID, idList(set))
	}
	if note == "" {
		return nil, queue.Errorf(queue.Invalid, "note", "note is required: say why the incident is declared (it is shown as its evidence)")
	}
	w.ingestMu.Lock()
	defer w.ingestMu.Unlock()
	now := w.clk.Now().UTC()
	ev := queue.Evidence{Source: "declared by " + by.Name, Title: note, PublishedAt: now}
	in, opened, err := w.st.RecordIncident(ctx, &queue.Incident{
		RuleID: r.ID, Action: r.Action, Resume: r.Resume, State: queue.IncidentOpen, Declared: true, Note: note,
		OpenedBy: by, OpenedAt: now, LastItemAt: now, ClosesAt: now.Add(r.Window), Evidence: []queue.Evidence{ev},
	})
	if err != nil {
		return nil, err
	}
	if opened {
		w.n.Notify(ctx, notify.Event{Kind: notify.IncidentOpened, RuleID: r.ID, IncidentID: in.ID, Evidence: in.Evidence, At: now,
			Text: fmt.Sprintf("Incident #%d declared by %s for rule %s: %s", in.ID, by.Name, r.ID, note)})
	}
	w.log.Info("incident declared", "incident", in.ID, "rule", r.ID, "by", by.String(), "new", opened)
	w.wakeExpiry()
	if err := w.act(ctx, set, []*queue.Incident{in}, map[int64][]rules.Text{in.ID: {{Title: note, Source: ev.Source}}}); err != nil {
		w.reapplyNeeded = true
		w.retry()
		return in, err
	}
	return in, nil
}

func idList(set *rules.Set) string {
	ids := set.IDs()
	if len(ids) > 10 {
		return strings.Join(ids[:10], ", ") + fmt.Sprintf(", … (%d rules)", len(ids))
	}
	if len(ids) == 0 {
		return "none loaded"
	}
	return strings.Join(ids, ", ")
}

// Resolve closes an incident by hand; campaigns of a resume=auto rule are resumed by the
// store unless another open incident still pauses them.
func (w *Watcher) Resolve(ctx context.Context, by queue.Actor, id int64, note string) (*queue.Incident, error) {
	before, err := w.pausedByRules(ctx)
	if err != nil {
		return nil, err
	}
	in, err := w.st.ResolveIncident(ctx, by, id, strings.TrimSpace(note))
	if err != nil {
		return nil, err
	}
	w.log.Info("incident resolved", "incident", in.ID, "rule", in.RuleID, "by", by.String())
	w.n.Notify(ctx, notify.Event{Kind: notify.IncidentClosed, RuleID: in.RuleID, IncidentID: in.ID, At: w.clk.Now().UTC(),
		Text: fmt.Sprintf("Incident #%d (rule %s) resolved by %s%s%s", in.ID, in.RuleID, by.Name, noteSuffix(note), resumeNote(in))})
	w.tellResumed(ctx, before, []*queue.Incident{in})
	w.wakeExpiry()
	return in, nil
}

func noteSuffix(note string) string {
	if note = strings.TrimSpace(note); note != "" {
		return ": " + note
	}
	return ""
}

// Gate returns the publisher's last check, run inside the transaction that marks a delivery
// publishing, with the incidents open in that transaction. It uses the rule set in force:
//   - a pause incident whose rule matches the campaign's topics blocks without holding (the
//     campaign is being paused, and a pause keeps approvals); one that matches only the
//     post's text holds it, as the incident's action does for such posts;
//   - a hold incident whose rule matches holds the post;
//   - flag incidents never block.
//
// An incident whose rule a reload removed keeps gating with the rule's last loaded version.
// One whose rule is unknown since the daemon started (removed, then restarted) cannot be
// matched: it blocks nothing more, and what it already paused stays paused.
func (w *Watcher) Gate() queue.Gate {
	return func(c *queue.Campaign, p *queue.Post, open []*queue.Incident) (string, bool) {
		if len(open) == 0 {
			return "", false
		}
		block := ""
		for _, in := range open {
			if in.State != queue.IncidentOpen || in.Action == rules.ActionFlag {
				continue
			}
			r, set := w.rules.Rule(in.RuleID)
			if r == nil {
				continue
			}
			m, ok := set.MatchPost(r, rules.PostInput{Text: p.Text, Topics: c.Topics}, newsOf(in))
			if !ok {
				continue
			}
			reason := fmt.Sprintf("rule %s: %s", in.RuleID, latestTitle(in))
			if in.Action == rules.ActionHold || len(m.Topics) == 0 {
				return reason, true
			}
			if block == "" {
				block = reason
			}
		}
		return block, false
	}
}

func latestTitle(in *queue.Incident) string {
	if len(in.Evidence) == 0 {
		return in.Note
	}
	return in.Evidence[len(in.Evidence)-1].Title
}
