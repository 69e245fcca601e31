package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
)

func init() {
	register("pause", "pause every campaign at once (--all --reason TEXT), or one: pause NAME --reason TEXT", pauseCmd)
	register("resume", "resume every campaign paused with 'pause --all' (--all), or one: resume NAME", resumeCmd)
}

func pauseCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("pause", "pause --all --reason TEXT | pause NAME --reason TEXT")
	all := fs.Bool("all", false, "pause every active campaign (crisis mode; admin)")
	reason := fs.String("reason", "", "why (required; people see it)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError(fs, "--reason is required: say why publishing stops")
	}
	switch {
	case *all && len(rest) == 0:
	case !*all && len(rest) == 1:
		return a.campaignAction(ctx, rest[0], "pause", api.ReasonInput{Reason: *reason})
	default:
		return usageError(fs, "give --all, or one campaign NAME")
	}
	raw, err := a.send(ctx, "POST", "/api/v1/campaigns/pause-all", api.ReasonInput{Reason: *reason})
	if err != nil {
		return err
	}
	var n api.Count
	if printed, err := a.printJSONOr(raw, &n); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "paused %d campaigns; 'tactctl resume --all' resumes them\n", n.Count)
	return nil
}

func resumeCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("resume", "resume --all | resume NAME")
	all := fs.Bool("all", false, "resume every campaign paused by 'pause --all' (admin)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *all && len(rest) == 0:
	case !*all && len(rest) == 1:
		return a.campaignAction(ctx, rest[0], "resume", nil)
	default:
		return usageError(fs, "give --all, or one campaign NAME")
	}
	raw, err := a.send(ctx, "POST", "/api/v1/campaigns/resume-all", nil)
	if err != nil {
		return err
	}
	var n api.Count
	if printed, err := a.printJSONOr(raw, &n); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "resumed %d campaigns\n", n.Count)
	return nil
}
