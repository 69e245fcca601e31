package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

func init() {
	register("incident", "list, declare and resolve incidents", incidentCmd)
}

const incidentUsage = `incident list [--state open|closed|resolved] [--since 168h]
       tactctl incident declare --rule ID --note TEXT
       tactctl incident resolve ID --note TEXT`

func incidentCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("incident", incidentUsage), "missing subcommand")
	}
	switch args[0] {
	case "list", "ls":
		return incidentList(ctx, a, args[1:])
	case "declare":
		return incidentDeclare(ctx, a, args[1:])
	case "resolve":
		return incidentResolve(ctx, a, args[1:])
	}
	return usageError(a.flags("incident", incidentUsage), "unknown subcommand %q", args[0])
}

func incidentList(ctx context.Context, a *App, args []string) error {
	fs := a.flags("incident list", "incident list [--state open|closed|resolved] [--since 168h] [--rule ID]")
	state := fs.String("state", "", "only incidents in this state")
	since := fs.String("since", "", "only incidents opened since then (a duration such as 168h, or a time)")
	rule := fs.String("rule", "", "only this rule's incidents")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	q := url.Values{}
	for k, v := range map[string]string{"state": *state, "since": *since, "rule": *rule} {
		if v != "" {
			q.Set(k, v)
		}
	}
	raw, err := a.get(ctx, "/api/v1/incidents?"+q.Encode())
	if err != nil {
		return err
	}
	var l api.List[*queue.Incident]
	if printed, err := a.printJSONOr(raw, &l); printed || err != nil {
		return err
	}
	if len(l.Items) == 0 {
		fmt.Fprintln(a.Stdout, "no incidents")
		return nil
	}
	t := newTable(a.Stdout, "ID", "STATE", "RULE", "ACTION", "OPENED", "BY", "EVIDENCE")
	for _, in := range l.Items {
		ev := in.Note
		if len(in.Evidence) > 0 {
			ev = in.Evidence[len(in.Evidence)-1].Title
			if len(in.Evidence) > 1 {
				ev += fmt.Sprintf(" (+%d more)", len(in.Evidence)-1)
			}
		}
		t.row(strconv.FormatInt(in.ID, 10), string(in.State), in.RuleID, in.Action, when(in.OpenedAt, ""),
			in.OpenedBy.String(), clip(orDash(ev), 70))
	}
	return t.flush()
}

func incidentDeclare(ctx context.Context, a *App, args []string) error {
	fs := a.flags("incident declare", "incident declare --rule ID --note TEXT")
	rule := fs.String("rule", "", "the rule whose action applies (required; 'tactctl rules' lists them)")
	note := fs.String("note", "", "what happened (required)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q (quote the --note)", rest)
	}
	if strings.TrimSpace(*rule) == "" || strings.TrimSpace(*note) == "" {
		return usageError(fs, "--rule and --note are required")
	}
	raw, err := a.send(ctx, "POST", "/api/v1/incidents", api.DeclareInput{Rule: *rule, Note: *note})
	if err != nil {
		return err
	}
	return a.printIncident(raw, "declared")
}

func incidentResolve(ctx context.Context, a *App, args []string) error {
	fs := a.flags("incident resolve", "incident resolve ID --note TEXT")
	note := fs.String("note", "", "why it is over (required)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one incident ID")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
	if err != nil || id < 1 {
		return usageError(fs, "%q is not an incident ID (a positive number)", rest[0])
	}
	if strings.TrimSpace(*note) == "" {
		return usageError(fs, "--note is required: say why the incident is over")
	}
	raw, err := a.send(ctx, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", id), api.NoteInput{Note: *note})
	if err != nil {
		return err
	}
	return a.printIncident(raw, "resolved")
}

func (a *App) printIncident(raw []byte, verb string) error {
	var in queue.Incident
	if printed, err := a.printJSONOr(raw, &in); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "%s incident %d (rule %s, action %s), now %s\n", verb, in.ID, in.RuleID, in.Action, in.State)
	return nil
}
