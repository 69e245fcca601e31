package watch

import (
	"context"
	"slices"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// A plan is what one rule's open incident does to the queue, computed in one pass over every
// open post (and every active campaign, for campaigns with nothing queued yet).
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
type plan struct {
	set  *rules.Set // the set rule belongs to (a retired rule keeps its old set)
	rule *rules.Rule
	act  string // the incident's action (as recorded when it opened)
	news []rules.Text

	campaigns map[int64]*queue.Campaign // paused by this plan (active ones only)
	holds     []*queue.Post
	flags     []*queue.Post

	// topicMatch caches, per campaign, whether its topics alone match the rule.
	topicMatch map[int64]bool
}

func newPlan(set *rules.Set, rule *rules.Rule, action string, news []rules.Text) *plan {
	return &plan{set: set, rule: rule, act: action, news: news, campaigns: map[int64]*queue.Campaign{}, topicMatch: map[int64]bool{}}
}

// storeAction is what the store applies.
func (p *plan) storeAction() queue.IncidentAction {
	var a queue.IncidentAction
	for id := range p.campaigns {
		a.PauseCampaigns = append(a.PauseCampaigns, id)
	}
	slices.Sort(a.PauseCampaigns)
	for _, post := range p.holds {
		a.HoldPosts = append(a.HoldPosts, post.ID)
	}
	for _, post := range p.flags {
		a.FlagPosts = append(a.FlagPosts, post.ID)
	}
	return a
}

func (p *plan) empty() bool {
	return len(p.campaigns) == 0 && len(p.holds) == 0 && len(p.flags) == 0
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

// visitCampaign takes in a campaign that may have nothing queued.
func (p *plan) visitCampaign(c *queue.Campaign) {
	if p.act == rules.ActionPause && c.State == queue.CampaignActive && p.campaignMatches(c) {
		p.campaigns[c.ID] = c
	}
}

// visitPost takes in one open post with its campaign.
func (p *plan) visitPost(c *queue.Campaign, post *queue.Post) {
	byTopic := p.campaignMatches(c)
	switch p.act {
	case rules.ActionPause:
		if byTopic {
			if c.State == queue.CampaignActive {
				p.campaigns[c.ID] = c
			}
			return
		}
		if holdable(post) && p.postMatches(c, post) {
			p.holds = append(p.holds, post)
		}
	case rules.ActionHold:
		if holdable(post) && (byTopic || p.postMatches(c, post)) {
			p.holds = append(p.holds, post)
		}
	case rules.ActionFlag:
		if !slices.Contains(post.Flags, p.rule.ID) && (byTopic || p.postMatches(c, post)) {
			p.flags = append(p.flags, post)
		}
	}
}

func (p *plan) postMatches(c *queue.Campaign, post *queue.Post) bool {
	_, ok := p.set.MatchPost(p.rule, rules.PostInput{Text: post.Text, Topics: c.Topics}, p.news)
	return ok
}

func holdable(p *queue.Post) bool {
	return p.State == queue.PostPending || p.State == queue.PostApproved
}

// makePlans computes the plans of several rules in a single pass over the queue: the cost of
// a whole-queue scan is paid once however many incidents need acting on.
func makePlans(ctx context.Context, st queue.Store, plans []*plan) error {
	if len(plans) == 0 {
		return nil
	}
	seen := map[int64]bool{}
	err := st.ScanOpenPosts(ctx, func(c *queue.Campaign, post *queue.Post) error {
		seen[c.ID] = true
		if c.State == queue.CampaignArchived {
			return nil
		}
		for _, p := range plans {
			p.visitPost(c, post)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Campaigns with nothing queued still get paused: a recurring one will create posts.
	cs, err := st.Campaigns(ctx, queue.CampaignFilter{State: queue.CampaignActive})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if seen[c.ID] {
			continue
		}
		for _, p := range plans {
			p.visitCampaign(c)
		}
	}
	return nil
}

// newsOf turns an incident's evidence into the news texts MatchPost compares posts with
// (the names a post shares with the news come from these).
func newsOf(in *queue.Incident, extra ...rules.Text) []rules.Text {
	out := make([]rules.Text, 0, len(in.Evidence)+len(extra))
	out = append(out, extra...)
	for _, e := range in.Evidence {
		out = append(out, rules.Text{Title: e.Title, Source: e.Source})
	}
	return out
}
