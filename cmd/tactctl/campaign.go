package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

func init() {
	register("campaign", "list, create, pause and resume campaigns", campaignCmd)
}

const campaignUsage = `campaign list
       tactctl campaign create NAME --account A --topic T [--schedule CRON --pool FILE --lead 48h] [--approval autopilot --veto 2h] [--timezone ZONE] [--late 30m]
       tactctl campaign pause NAME --reason TEXT
       tactctl campaign resume NAME`

func campaignCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		fs := a.flags("campaign", campaignUsage)
		return usageError(fs, "missing subcommand")
	}
	switch args[0] {
	case "list", "ls":
		return campaignList(ctx, a, args[1:])
	case "create":
		return campaignCreate(ctx, a, args[1:])
	case "pause":
		return campaignPause(ctx, a, args[1:])
	case "resume":
		return campaignResume(ctx, a, args[1:])
	}
	return usageError(a.flags("campaign", campaignUsage), "unknown subcommand %q", args[0])
}

func campaignList(ctx context.Context, a *App, args []string) error {
	fs := a.flags("campaign list", "campaign list [--state active|paused|archived]")
	state := fs.String("state", "", "show only campaigns in this state")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	path := "/api/v1/campaigns"
	if *state != "" {
		path += "?state=" + url.QueryEscape(*state)
	}
	raw, err := a.get(ctx, path)
	if err != nil {
		return err
	}
	var l api.List[*queue.Campaign]
	if printed, err := a.printJSONOr(raw, &l); printed || err != nil {
		return err
	}
	if len(l.Items) == 0 {
		fmt.Fprintln(a.Stdout, "no campaigns; create one with 'tactctl campaign create NAME --account A --topic T'")
		return nil
	}
	t := newTable(a.Stdout, "NAME", "STATE", "APPROVAL", "ACCOUNTS", "TOPICS", "ZONE", "SCHEDULE", "WHY PAUSED")
	for _, c := range l.Items {
		approval := string(c.Approval)
		if c.Approval == queue.ApprovalAutopilot {
			approval += " (veto " + c.Veto.D().String() + ")"
		}
		why := ""
		if c.Pause != nil {
			why = c.Pause.Reason
			if prefix := "rule " + c.Pause.RuleID + ": "; c.Pause.RuleID != "" && !strings.HasPrefix(why, prefix) {
				why = prefix + why
			}
		}
		t.row(c.Name, string(c.State), approval, strings.Join(c.Accounts, ","), strings.Join(c.Topics, ","),
			orDash(c.TimeZone), orDash(c.Schedule), clip(orDash(why), 60))
	}
	if err := t.flush(); err != nil {
		return err
	}
	// A campaign held back by a limit ([daemon] max_open_posts_per_campaign, max_lead)
	// says so in full: the table would cut the sentence.
	for _, c := range l.Items {
		if c.Problem != "" {
			fmt.Fprintf(a.Stdout, "\ncampaign %s: %s\n", c.Name, c.Problem)
		}
	}
	return nil
}

func campaignCreate(ctx context.Context, a *App, args []string) error {
	fs := a.flags("campaign create", "campaign create NAME --account A --topic T [--schedule CRON --pool FILE --lead 48h] [--approval autopilot --veto 2h] [--timezone ZONE] [--late 30m]")
	var accounts, topics list
	fs.Var(&accounts, "account", "account to post to (repeat, or a,b)")
	fs.Var(&topics, "topic", "topic the safety rules match against (repeat, or a,b)")
	schedule := fs.String("schedule", "", "cron spec for a recurring campaign, e.g. \"0 9 * * MON\" (CRON_TZ= allowed)")
	pool := fs.String("pool", "", "file of texts for the recurring posts, one per line (# starts a comment)")
	lead := fs.String("lead", "", "how long before each tick its post is created for approval (default 48h)")
	approval := fs.String("approval", "", "required (a person approves each post; default) or autopilot")
	veto := fs.String("veto", "", "autopilot: approve this long before due unless someone objects (default 2h)")
	zone := fs.String("timezone", "", "IANA time zone of the campaign (default: the daemon's)")
	late := fs.String("late", "", "how overdue a post may still be sent (default 30m)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give exactly one campaign NAME (got %d arguments)", len(rest))
	}
	if len(accounts) == 0 {
		return usageError(fs, "--account is required: the accounts the campaign posts to")
	}
	if (*schedule == "") != (*pool == "") {
		return usageError(fs, "--schedule and --pool go together: a recurring campaign posts the pool's texts in turn")
	}
	in := api.CampaignInput{Name: rest[0], Accounts: accounts, Topics: topics, TimeZone: *zone,
		Approval: *approval, Veto: *veto, Late: *late, Schedule: *schedule, Lead: *lead}
	if *pool != "" {
		if in.Pool, err = readPool(*pool); err != nil {
			return err
		}
	}
	raw, err := a.send(ctx, "POST", "/api/v1/campaigns", in)
	if err != nil {
		return err
	}
	var c queue.Campaign
	if printed, err := a.printJSONOr(raw, &c); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "created campaign %s (%s approval, zone %s, accounts %s)\n", c.Name, c.Approval, c.TimeZone, strings.Join(c.Accounts, ", "))
	return nil
}

// readPool reads a pool file: one post text per line; blank lines and # comments skipped.
func readPool(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--pool: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := queue.CheckUTF8(fmt.Sprintf("--pool %s:%d", path, n), sc.Text()); err != nil {
			return nil, err
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--pool %s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--pool %s has no texts: write one post per line", path)
	}
	return out, nil
}

func campaignPause(ctx context.Context, a *App, args []string) error {
	fs := a.flags("campaign pause", "campaign pause NAME --reason TEXT")
	reason := fs.String("reason", "", "why the campaign stops (required; people see it)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give exactly one campaign NAME (got %d arguments)", len(rest))
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError(fs, "--reason is required: say why the campaign stops")
	}
	return a.campaignAction(ctx, rest[0], "pause", api.ReasonInput{Reason: *reason})
}

func campaignResume(ctx context.Context, a *App, args []string) error {
	fs := a.flags("campaign resume", "campaign resume NAME")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give exactly one campaign NAME (got %d arguments)", len(rest))
	}
	return a.campaignAction(ctx, rest[0], "resume", nil)
}

func (a *App) campaignAction(ctx context.Context, name, action string, in any) error {
	raw, err := a.send(ctx, "POST", "/api/v1/campaigns/"+url.PathEscape(name)+"/"+action, in)
	if err != nil {
		return err
	}
	var c queue.Campaign
	if printed, err := a.printJSONOr(raw, &c); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "campaign %s is %s\n", c.Name, c.State)
	return nil
}
