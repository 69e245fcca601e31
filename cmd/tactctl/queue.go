package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
)

func init() {
	register("queue", "the supervision queue: posts soonest due first", queueCmd)
}

// openStates is what 'tactctl queue' shows by default: everything not settled.
const openStates = "draft,pending,approved,held,publishing,unknown,failed,missed"

func queueCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("queue", "queue [--campaign NAME] [--state pending] [--account A] [--limit 100]")
	campaign := fs.String("campaign", "", "only this campaign's posts")
	state := fs.String("state", "", "only posts in these states (comma-separated; \"all\" for every state; default: all but published and rejected)")
	account := fs.String("account", "", "only posts to this account")
	limit := fs.Int("limit", 100, "show at most this many posts")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	if *limit < 1 {
		return usageError(fs, "--limit must be at least 1")
	}
	q := url.Values{}
	switch *state {
	case "":
		q.Set("state", openStates)
	case "all":
	default:
		q.Set("state", *state)
	}
	if *campaign != "" {
		q.Set("campaign", *campaign)
	}
	if *account != "" {
		q.Set("account", *account)
	}
	// Follow the cursor until the limit; with --json, print the pages as one list.
	var all api.List[api.PostView]
	for cursor := ""; len(all.Items) < *limit; {
		q.Set("limit", strconv.Itoa(min(*limit-len(all.Items), 1000)))
		q.Set("cursor", cursor)
		raw, err := a.get(ctx, "/api/v1/posts?"+q.Encode())
		if err != nil {
			return err
		}
		var page api.List[api.PostView]
		if err := decode(raw, &page); err != nil {
			return err
		}
		all.Items = append(all.Items, page.Items...)
		all.Next = page.Next
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if a.JSON {
		if all.Items == nil {
			all.Items = []api.PostView{}
		}
		return a.printJSONValue(all)
	}
	if len(all.Items) == 0 {
		fmt.Fprintln(a.Stdout, "no posts")
		return nil
	}
	t := newTable(a.Stdout, "ID", "DUE", "STATE", "CAMPAIGN", "ACCOUNTS", "TEXT", "NOTES")
	for _, p := range all.Items {
		var notes []string
		if p.Reason != "" {
			notes = append(notes, "reason: "+p.Reason)
		}
		for _, pr := range p.Problems {
			notes = append(notes, "problem: "+pr)
		}
		for _, w := range p.Warnings {
			notes = append(notes, "warning: "+w)
		}
		for _, f := range p.Flags {
			notes = append(notes, "flag: "+f)
		}
		t.row(strconv.FormatInt(p.ID, 10), when(p.DueAt, p.TimeZone), string(p.State), p.Campaign,
			strings.Join(p.Accounts, ","), clip(p.Text, 50), clip(orDash(strings.Join(notes, "; ")), 80))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if all.Next != "" {
		fmt.Fprintf(a.Stdout, "(more than %d posts; raise --limit or filter)\n", *limit)
	}
	return nil
}
