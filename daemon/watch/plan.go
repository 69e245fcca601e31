package watch

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// A plan is what one rule's open incident does to the queue.
//
// The decisions, per action:
//   - pause: a campaign whose topics match the rule is paused as a whole. A post whose own
//     text (or the names it shares with the news) matches, in a campaign that does not match
//     by topic, is held instead: pausing an unrelated campaign because of one post would
//     stop far more than the clash, and a hold takes the post out of the queue until a
//     person looks at it again.
//   - hold: every pending or approved post that matches (by its campaign's topics or by its
//     text) is held.
//   - flag: every matching post not yet flagged for the rule is flagged.
//
// A plan is computed in two steps so that the urgent part lands first: planCampaigns
// decides the campaign pauses from the campaign list alone (a thousand rows), and the
// watcher commits them at once; planPosts then matches every open post, in parallel, for
// the holds and flags. The publish gate covers the moment between the two.
type plan struct {
	set  *rules.Set // the set rule belongs to (a retired rule keeps its old set)
	rule *rules.Rule
	act  string // the incident's action (as recorded when it opened)
	news []rules.Text

	campaigns map[int64]*queue.Campaign // paused by this plan (active ones only)
	holds     []*queue.Post
	flags     []*queue.Post

	// topicMatch caches, per campaign, whether its topics alone match the rule. It is only
	// touched by the goroutine that drives the plan, never by the matching workers.
	topicMatch map[int64]bool
}

func newPlan(set *rules.Set, rule *rules.Rule, action string, news []rules.Text) *plan {
	return &plan{set: set, rule: rule, act: action, news: news, campaigns: map[int64]*queue.Campaign{}, topicMatch: map[int64]bool{}}
}

// pauseAction is the campaign part of the plan, holdAction the post part.
func (p *plan) pauseAction() queue.IncidentAction {
	var a queue.IncidentAction
	for id := range p.campaigns {
		a.PauseCampaigns = append(a.PauseCampaigns, id)
	}
	slices.Sort(a.PauseCampaigns)
	return a
}

func (p *plan) postAction() queue.IncidentAction {
	var a queue.IncidentAction
	for _, post := range p.holds {
		a.HoldPosts = append(a.HoldPosts, post.ID)
	}
	for _, post := range p.flags {
		a.FlagPosts = append(a.FlagPosts, post.ID)
	}
	return a
}

// campaignMatches reports whether c's topics alone clash with the rule.
func (p *plan) campaignMatches(c *queue.Campaign) bool {
	m, ok := p.topicMatch[c.ID]
	if !ok {
		if len(c.Topics) > 0 {
			_, m = p.set.MatchPost(p.rule, rules.PostInput{Topics: c.Topics}, p.news)
		}
		p.topicMatch[c.ID] = m
	}
	return m
}

// needsText reports whether post must be matched by its text for this plan, and whether it
// already matches by its campaign's topics.
func (p *plan) needsText(c *queue.Campaign, post *queue.Post) (need, byTopic bool) {
	byTopic = p.campaignMatches(c)
	switch p.act {
	case rules.ActionPause:
		return !byTopic && holdable(post), false
	case rules.ActionHold:
		return !byTopic && holdable(post), byTopic && holdable(post)
	case rules.ActionFlag:
		if slices.Contains(post.Flags, p.rule.ID) {
			return false, false
		}
		return !byTopic, byTopic
	}
	return false, false
}

func (p *plan) take(post *queue.Post) {
	if p.act == rules.ActionFlag {
		p.flags = append(p.flags, post)
	} else {
		p.holds = append(p.holds, post)
	}
}

func (p *plan) textMatches(c *queue.Campaign, post *queue.Post) bool {
	_, ok := p.set.MatchPost(p.rule, rules.PostInput{Text: post.Text, Topics: c.Topics}, p.news)
	return ok
}

func holdable(p *queue.Post) bool {
	return p.State == queue.PostPending || p.State == queue.PostApproved
}

// planCampaigns decides which active campaigns the pause plans pause, from the campaign
// list alone, so that campaigns with nothing queued (a recurring one will create posts)
// are paused too.
func planCampaigns(ctx context.Context, st queue.Store, plans []*plan) error {
	pausing := false
	for _, p := range plans {
		pausing = pausing || p.act == rules.ActionPause
	}
	if !pausing {
		return nil
	}
	cs, err := st.Campaigns(ctx, queue.CampaignFilter{State: queue.CampaignActive})
	if err != nil {
		return err
	}
	for _, c := range cs {
		for _, p := range plans {
			if p.act == rules.ActionPause && p.campaignMatches(c) {
				p.campaigns[c.ID] = c
			}
		}
	}
	return nil
}

// textJob is one post to match by text for one plan.
type textJob struct {
	p    *plan
	c    *queue.Campaign
	post *queue.Post
}

// planPosts matches every open post against the plans in a single pass over the queue: the
// store streams posts, and the text matching (the costly part) runs on every core while the
// next batch is read.
func planPosts(ctx context.Context, st queue.Store, plans []*plan) error {
	if len(plans) == 0 {
		return nil
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan []textJob, workers*2)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var hits []textJob
			for batch := range jobs {
				for _, j := range batch {
					if j.p.textMatches(j.c, j.post) {
						hits = append(hits, j)
					}
				}
			}
			mu.Lock()
			for _, j := range hits {
				j.p.take(j.post)
			}
			mu.Unlock()
		})
	}
	const batchSize = 256
	batch := make([]textJob, 0, batchSize)
	err := st.ScanOpenPosts(ctx, func(c *queue.Campaign, post *queue.Post) error {
		if c == nil || c.State == queue.CampaignArchived {
			return nil
		}
		for _, p := range plans {
			need, byTopic := p.needsText(c, post)
			switch {
			case byTopic:
				p.take(post) // only this goroutine appends until the workers finish
			case need:
				batch = append(batch, textJob{p, c, post})
			}
		}
		if len(batch) >= batchSize {
			select {
			case jobs <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]textJob, 0, batchSize)
		}
		return nil
	})
	if len(batch) > 0 && err == nil {
		jobs <- batch
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return err
	}
	for _, p := range plans {
		byID := func(a, b *queue.Post) int { return cmp.Compare(a.ID, b.ID) }
		slices.SortFunc(p.holds, byID)
		slices.SortFunc(p.flags, byID)
	}
	return nil
}

// maxNews bounds the news texts a post is compared with: the latest items of a long
// incident say what it is about, and every post is compared with each of them.
const maxNews = 20

// newsOf turns an incident's evidence into the news texts MatchPost compares posts with
// (the names a post shares with the news come from these): extra (the full items just
// seen, with their summaries) first, then the latest evidence titles not among them.
func newsOf(in *queue.Incident, extra ...rules.Text) []rules.Text {
	out := make([]rules.Text, 0, min(len(in.Evidence)+len(extra), maxNews))
	seen := map[string]bool{}
	for _, x := range extra {
		if len(out) < maxNews && !seen[x.Title] {
			seen[x.Title] = true
			out = append(out, x)
		}
	}
	for i := len(in.Evidence) - 1; i >= 0 && len(out) < maxNews; i-- {
		e := in.Evidence[i]
		if !seen[e.Title] {
			seen[e.Title] = true
			out = append(out, rules.Text{Title: e.Title, Source: e.Source})
		}
	}
	return out
}
