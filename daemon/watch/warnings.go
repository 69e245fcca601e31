package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// The API's and the web UI's queue pages read the open incidents once per page through it.
var _ api.PageWarner = (*Watcher)(nil)

// WarningsVersion changes whenever PostWarnings could answer differently with the same
// database: when the rules in force change (everything else it reads is stored).
func (w *Watcher) WarningsVersion() uint64 { return w.rules.Generation() }

// PostWarnings says, for the queue UI, which open incidents cover a post and which rules
// flagged it. A page of posts asks PageWarnings instead, which reads the incidents once.
func (w *Watcher) PostWarnings(ctx context.Context, c *queue.Campaign, p *queue.Post) []string {
	_, warn, _ := w.PageWarnings(ctx)
	return warn(c, p)
}

// PageWarnings reads the open incidents once, for a page of the queue, and returns how many
// are open and the function that says which of them cover a post and which rules flagged
// it, as PostWarnings does, from what was read: it reads nothing more (a page of 100 posts
// once read the open incidents 100 times, which under an incident made the queue listing
// fall over; see docs/performance.md). The function may be called from several goroutines.
//
// When the incidents cannot be read, err says why and the function gives every post that
// error as its warning (a page shown anyway says why its warnings are missing).
func (w *Watcher) PageWarnings(ctx context.Context) (open int, warn func(c *queue.Campaign, p *queue.Post) []string, err error) {
	incs, err := w.st.Incidents(ctx, openOnly)
	if err != nil {
		failed := []string{"open incidents could not be read: " + err.Error()}
		return 0, func(*queue.Campaign, *queue.Post) []string { return failed }, err
	}
	covers := make([]incidentWarning, 0, len(incs))
	for _, in := range incs {
		r, set := w.rules.Rule(in.RuleID)
		if r == nil {
			continue
		}
		covers = append(covers, incidentWarning{
			ruleID: in.RuleID, rule: r, set: set, news: rules.PrepareNews(newsOf(in)),
			head: fmt.Sprintf("Incident #%d, rule %s (%s): ", in.ID, in.RuleID, in.Action),
			tail: fmt.Sprintf(" — %s; closes %s", headlines(in.Evidence, 1), in.ClosesAt.Format(time.RFC3339)),
		})
	}
	return len(incs), func(c *queue.Campaign, p *queue.Post) []string { return w.warnings(covers, c, p) }, nil
}

// incidentWarning is what a page needs of one open incident to warn about the posts it
// covers: its rule and news (read once for the page), and the text around the reason of
// each match.
type incidentWarning struct {
	ruleID     string
	rule       *rules.Rule
	set        *rules.Set
	news       rules.PreparedNews
	head, tail string
}

// warnings is one post's warnings against the incidents of its page. The post is read once
// for all of them (once per rule set: an incident whose rule a reload removed matches with
// the set it was loaded in).
func (w *Watcher) warnings(covers []incidentWarning, c *queue.Campaign, p *queue.Post) []string {
	var out []string
	var warned map[string]bool
	var post rules.PreparedPost
	var preparedBy *rules.Set
	for _, iw := range covers {
		if iw.set != preparedBy {
			post, preparedBy = iw.set.PreparePost(rules.PostInput{Text: p.Text, Topics: c.Topics}), iw.set
		}
		m, ok := iw.set.MatchPrepared(iw.rule, post, iw.news)
		if !ok {
			continue
		}
		if warned == nil {
			warned = map[string]bool{}
		}
		warned[iw.ruleID] = true
		out = append(out, iw.head+m.Reason()+iw.tail)
	}
	for _, id := range p.Flags {
		if warned[id] {
			continue // already explained by its open incident above
		}
		desc := ""
		if r, _ := w.rules.Rule(id); r != nil && r.Description != "" {
			desc = ": " + r.Description
		}
		out = append(out, fmt.Sprintf("Flagged by rule %s%s", id, desc))
	}
	return out
}
