package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

func init() {
	register("status", "the daemon's state: posts by state, paused campaigns, incidents, accounts, rules", statusCmd)
}

func statusCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("status", "status")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "status takes no arguments, got %q", rest)
	}
	raw, err := a.get(ctx, "/api/v1/status")
	if err != nil {
		return err
	}
	var st api.Status
	if printed, err := a.printJSONOr(raw, &st); printed || err != nil {
		return err
	}
	w := a.Stdout
	fmt.Fprintf(w, "tactd %s, up %s\n", orDash(st.Version), st.Uptime)
	var parts []string
	for _, s := range queue.PostStates {
		if n := st.Posts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if parts == nil {
		parts = []string{"none"}
	}
	fmt.Fprintf(w, "posts:      %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "campaigns:  %d active, %d paused, %d archived\n",
		st.Campaigns[queue.CampaignActive], st.Campaigns[queue.CampaignPaused], st.Campaigns[queue.CampaignArchived])
	for _, p := range st.Paused {
		if p.Pause == nil {
			fmt.Fprintf(w, "  paused %s\n", p.Name)
			continue
		}
		by := p.Pause.By.Name
		if p.Pause.RuleID != "" {
			by = "rule " + p.Pause.RuleID
		}
		fmt.Fprintf(w, "  paused %s by %s at %s: %s\n", p.Name, by, when(p.Pause.At, ""), strings.TrimPrefix(p.Pause.Reason, by+": "))
		for _, ev := range p.Pause.Evidence {
			fmt.Fprintf(w, "    evidence: %s (%s) %s\n", ev.Title, ev.Source, ev.URL)
		}
	}
	fmt.Fprintf(w, "incidents:  %d open\n", len(st.OpenIncidents))
	for _, in := range st.OpenIncidents {
		fmt.Fprintf(w, "  #%d rule %s (%s) since %s\n", in.ID, in.RuleID, in.Action, when(in.OpenedAt, ""))
	}
	sort.Slice(st.Accounts, func(i, j int) bool { return st.Accounts[i].Name < st.Accounts[j].Name })
	var sick []string
	for _, acc := range st.Accounts {
		if !acc.Healthy {
			sick = append(sick, acc.Name+": "+orDash(acc.Detail))
		}
	}
	fmt.Fprintf(w, "accounts:   %d, %d need attention\n", len(st.Accounts), len(sick))
	for _, s := range sick {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if st.Rules != nil {
		fmt.Fprintf(w, "rules:      %d in force, loaded %s\n", st.Rules.Count, when(st.Rules.LoadedAt, ""))
		if st.Rules.LastReloadError != "" {
			fmt.Fprintf(w, "  last reload FAILED (previous rules still in force): %s\n", st.Rules.LastReloadError)
		}
	}
	if len(st.Feeds) > 0 {
		failing := 0
		for _, f := range st.Feeds {
			if f.Failures > 0 {
				failing++
			}
		}
		fmt.Fprintf(w, "feeds:      %d, %d failing\n", len(st.Feeds), failing)
		for _, f := range st.Feeds {
			if f.Failures > 0 {
				fmt.Fprintf(w, "  %s: %d failed polls in a row, last at %s: %s\n", f.Name, f.Failures, when(f.ErrorAt, ""), f.LastError)
			}
		}
	}
	if len(st.Missing) > 0 {
		fmt.Fprintf(w, "not running: %s\n", strings.Join(st.Missing, ", "))
	}
	return nil
}
