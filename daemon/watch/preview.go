package watch

import (
	"context"
	"errors"
	"sort"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// Preview evaluates candidate rule files (name -> TOML) against the recent context (the
// preview window, 72h by default) and the live queue, without installing them or changing
// anything. A rule "would act" when recent items from at least min_sources distinct sources
// match its news side within its window, or when an incident for its id is open now. The
// result lists what would change now: active campaigns it would pause, pending or approved
// posts it would hold, posts it would flag (already paused or held ones are not repeated).
// Invalid files are an Invalid error listing every FILE:LINE problem.
func (r *Rules) Preview(ctx context.Context, files map[string][]byte) (api.Preview, error) {
	if len(files) == 0 {
		return api.Preview{}, queue.Errorf(queue.Invalid, "files", "no rule files given: send at least one rule file to preview")
	}
	set, err := rules.Parse(files)
	if err != nil {
		var perr *rules.Errors
		if errors.As(err, &perr) {
			return api.Preview{}, &queue.Error{Kind: queue.Invalid, Field: "files", Message: "the rule files are invalid, nothing was previewed", Err: err}
		}
		return api.Preview{}, err
	}
	st := r.opt.Store
	if st == nil {
		return api.Preview{}, queue.Errorf(queue.Unavailable, "", "preview needs the database, which this rule manager was not given")
	}
	now := r.opt.Now().UTC()
	recent, err := st.RecentContext(ctx, now.Add(-r.opt.PreviewWindow), 10000)
	if err != nil {
		return api.Preview{}, err
	}
	type found struct {
		news    []rules.Text
		titles  []string
		sources map[string]bool
	}
	byRule := map[string]*found{}
	get := func(id string) *found {
		f := byRule[id]
		if f == nil {
			f = &found{sources: map[string]bool{}}
			byRule[id] = f
		}
		return f
	}
	for _, it := range recent {
		for _, m := range set.MatchNews(textOf(it)) {
			if itemTime(it, it.SeenAt).Add(m.Rule.Window).Before(now) {
				continue
			}
			f := get(m.Rule.ID)
			f.news = append(f.news, textOf(it))
			f.titles = append(f.titles, it.Title)
			f.sources[it.Source] = true
		}
	}
	open, err := st.Incidents(ctx, openOnly)
	if err != nil {
		return api.Preview{}, err
	}
	openRules := map[string]bool{}
	for _, in := range open {
		if set.Rule(in.RuleID) == nil {
			continue
		}
		openRules[in.RuleID] = true
		f := get(in.RuleID)
		f.news = append(f.news, newsOf(in)...)
	}
	var plans []*plan
	out := api.Preview{Campaigns: []api.PreviewCampaign{}, Posts: []api.PreviewPost{}, Headlines: map[string][]string{}}
	for _, rule := range set.Rules() {
		f := byRule[rule.ID]
		if f == nil || (!openRules[rule.ID] && len(f.sources) < max(rule.MinSources, 1)) {
			continue
		}
		if len(f.titles) > 0 {
			out.Headlines[rule.ID] = f.titles
		}
		plans = append(plans, newPlan(set, rule, rule.Action, f.news))
	}
	if err := planCampaigns(ctx, st, plans); err != nil {
		return api.Preview{}, err
	}
	if err := planPosts(ctx, st, plans); err != nil {
		return api.Preview{}, err
	}
	for _, p := range plans {
		for _, c := range p.campaigns {
			out.Campaigns = append(out.Campaigns, api.PreviewCampaign{ID: c.ID, Name: c.Name, Rule: p.rule.ID, Action: p.act})
		}
		for _, post := range p.holds {
			out.Posts = append(out.Posts, api.PreviewPost{ID: post.ID, Campaign: post.Campaign, Rule: p.rule.ID, Action: rules.ActionHold, Text: post.Text})
		}
		for _, post := range p.flags {
			out.Posts = append(out.Posts, api.PreviewPost{ID: post.ID, Campaign: post.Campaign, Rule: p.rule.ID, Action: rules.ActionFlag, Text: post.Text})
		}
	}
	sort.SliceStable(out.Campaigns, func(i, j int) bool {
		if out.Campaigns[i].Name != out.Campaigns[j].Name {
			return out.Campaigns[i].Name < out.Campaigns[j].Name
		}
		return out.Campaigns[i].Rule < out.Campaigns[j].Rule
	})
	sort.SliceStable(out.Posts, func(i, j int) bool { return out.Posts[i].ID < out.Posts[j].ID })
	return out, nil
}
