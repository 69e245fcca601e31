package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
)

func init() {
	register("approve", "approve pending posts: approve ID...", postAction("approve", false, false))
	register("reject", "reject posts: reject ID... --reason TEXT", postAction("reject", true, true))
	register("hold", "hold posts: hold ID... [--reason TEXT]", postAction("hold", true, false))
	register("release", "release held posts back to pending: release ID...", postAction("release", false, false))
	register("retry", "send failed or unknown posts again: retry ID...", postAction("retry", false, false))
}

// postAction makes the command for one person's action on posts, run on each ID in turn;
// one failing does not stop the others, and the exit status says whether all went through.
func postAction(action string, hasReason, needReason bool) func(context.Context, *App, []string) error {
	return func(ctx context.Context, a *App, args []string) error {
		usage := action + " ID..."
		if needReason {
			usage += " --reason TEXT"
		} else if hasReason {
			usage += " [--reason TEXT]"
		}
		fs := a.flags(action, usage)
		var reason *string
		if hasReason {
			reason = fs.String("reason", "", "why (shown to the post's author and kept in the audit log)")
		}
		rest, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(rest) == 0 {
			return usageError(fs, "give at least one post ID ('tactctl queue' lists them)")
		}
		ids := make([]int64, len(rest))
		for i, s := range rest {
			if ids[i], err = strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64); err != nil || ids[i] < 1 {
				return usageError(fs, "%q is not a post ID (a positive number)", s)
			}
		}
		var in *api.ActionInput
		if reason != nil {
			if needReason && strings.TrimSpace(*reason) == "" {
				return usageError(fs, "--reason is required: say what is wrong so the author can fix it")
			}
			in = &api.ActionInput{Reason: *reason}
		}
		var out []json.RawMessage
		failed := 0
		for _, id := range ids {
			var body any
			if in != nil {
				body = in
			}
			raw, err := a.send(ctx, "POST", fmt.Sprintf("/api/v1/posts/%d/%s", id, action), body)
			if err != nil {
				failed++
				fmt.Fprintf(a.Stderr, "post %d: %v\n", id, err)
				continue
			}
			if a.JSON {
				out = append(out, raw)
				continue
			}
			var p api.PostView
			if err := decode(raw, &p); err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "post %d: %s (due %s)\n", p.ID, p.State, when(p.DueAt, p.TimeZone))
		}
		if a.JSON {
			if out == nil {
				out = []json.RawMessage{}
			}
			if err := a.printJSONValue(out); err != nil {
				return err
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d posts could not be changed (see above)", failed, len(ids))
		}
		return nil
	}
}
