package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
)

func init() {
	register("post", "create posts, or import a CSV file of them", postCmd)
}

const postUsage = `post create --campaign NAME --at TIME --text TEXT [--account A]... [--link URL] [--draft]
       tactctl post import FILE.csv|FILE.json|-`

func postCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("post", postUsage), "missing subcommand")
	}
	switch args[0] {
	case "create", "add":
		return postCreate(ctx, a, args[1:])
	case "import":
		return postImport(ctx, a, args[1:])
	}
	return usageError(a.flags("post", postUsage), "unknown subcommand %q", args[0])
}

func postCreate(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post create", "post create --campaign NAME --at TIME --text TEXT [--account A]... [--link URL] [--draft]")
	campaign := fs.String("campaign", "", "campaign the post belongs to (required)")
	at := fs.String("at", "", "when it is due: 2026-05-01T09:00:00+02:00, a local time in the campaign's zone (\"2026-05-01 09:00\"), or +2h (required)")
	text := fs.String("text", "", "the post's text (required)")
	var accounts list
	fs.Var(&accounts, "account", "post to this account only (repeat; default: all the campaign's accounts)")
	link := fs.String("link", "", "link to attach")
	draft := fs.Bool("draft", false, "keep it as a draft (not yet submitted for approval)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q (quote the --text)", rest)
	}
	for _, req := range []struct{ flag, v string }{{"campaign", *campaign}, {"at", *at}, {"text", *text}} {
		if strings.TrimSpace(req.v) == "" {
			return usageError(fs, "--%s is required", req.flag)
		}
	}
	raw, err := a.send(ctx, "POST", "/api/v1/posts", api.PostInput{Campaign: *campaign, At: *at, Text: *text,
		Accounts: accounts, Link: *link, Draft: *draft})
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(raw)
	}
	var p api.PostView
	if err := decode(raw, &p); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "created post %d in %s, due %s, %s\n", p.ID, p.Campaign, when(p.DueAt, p.TimeZone), p.State)
	for _, pr := range p.Problems {
		fmt.Fprintf(a.Stdout, "  problem: %s\n", pr)
	}
	if len(p.Problems) > 0 {
		fmt.Fprintln(a.Stdout, "  it cannot be approved until these are fixed")
	}
	return nil
}

func postImport(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post import", "post import FILE.csv|FILE.json|-\n\nCSV lines are campaign,at,text[,account]; a header line naming the columns is optional.\nThe whole file is checked first: if any row is bad, nothing is imported.")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one FILE (or - for standard input)")
	}
	var data []byte
	if rest[0] == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(rest[0])
	}
	if err != nil {
		return fmt.Errorf("reading %s: %v", rest[0], err)
	}
	ctype := "text/csv"
	if strings.EqualFold(filepath.Ext(rest[0]), ".json") {
		ctype = "application/json"
	}
	raw, err := a.request(ctx, "POST", "/api/v1/posts/import", data, ctype)
	var ae *APIError
	if errors.As(err, &ae) && ae.Body["rows"] != nil {
		if a.JSON {
			_ = a.printJSON(raw)
		}
		var body api.ErrorBody
		_ = decode(raw, &body)
		for _, r := range body.Rows {
			field := ""
			if r.Field != "" {
				field = r.Field + ": "
			}
			fmt.Fprintf(a.Stderr, "%s:%d: %s%s\n", rest[0], r.Line, field, r.Error)
		}
		return fmt.Errorf("%s\n  fix the lines above and import the whole file again", body.Error)
	}
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(raw)
	}
	var l api.List[api.PostView]
	if err := decode(raw, &l); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "imported %d posts from %s\n", len(l.Items), rest[0])
	withProblems := 0
	for _, p := range l.Items {
		if len(p.Problems) > 0 {
			withProblems++
		}
	}
	if withProblems > 0 {
		fmt.Fprintf(a.Stdout, "%d of them have problems the networks would refuse; 'tactctl queue' shows them\n", withProblems)
	}
	return nil
}
