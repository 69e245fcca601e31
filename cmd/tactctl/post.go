package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
)

func init() {
	register("post", "create posts, or import a CSV file of them", postCmd)
}

const postUsage = `post create --campaign NAME --at TIME --text TEXT [--account A]... [--link URL] [--media FILE|ID]... [--draft]
       tactctl post import FILE.csv|FILE.json|-
       tactctl post show ID
       tactctl post edit ID [--text TEXT] [--at TIME] [--link URL] [--account A]... [--media FILE|ID]... [--no-media] [--if-version N]
       tactctl post delete ID [--if-version N]`

func postCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("post", postUsage), "missing subcommand")
	}
	switch args[0] {
	case "create", "add":
		return postCreate(ctx, a, args[1:])
	case "import":
		return postImport(ctx, a, args[1:])
	case "show":
		return postShow(ctx, a, args[1:])
	case "edit":
		return postEdit(ctx, a, args[1:])
	case "delete", "rm":
		return postDelete(ctx, a, args[1:])
	}
	return usageError(a.flags("post", postUsage), "unknown subcommand %q", args[0])
}

func postCreate(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post create", "post create --campaign NAME --at TIME --text TEXT [--account A]... [--link URL] [--media FILE|ID]... [--draft]")
	campaign := fs.String("campaign", "", "campaign the post belongs to (required)")
	at := fs.String("at", "", "when it is due: 2026-05-01T09:00:00+02:00, a local time in the campaign's zone (\"2026-05-01 09:00\"), or +2h (required)")
	text := fs.String("text", "", "the post's text (required)")
	var accounts list
	fs.Var(&accounts, "account", "post to this account only (repeat; default: all the campaign's accounts)")
	link := fs.String("link", "", "link to attach")
	var mediaFlags list
	fs.Var(&mediaFlags, "media", "attach an image or video: a local file (uploaded first) or the id 'tactctl media upload' printed (repeat)")
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
	ids, err := a.mediaIDs(ctx, mediaFlags)
	if err != nil {
		return err
	}
	raw, err := a.send(ctx, "POST", "/api/v1/posts", api.PostInput{Campaign: *campaign, At: *at, Text: *text,
		Accounts: accounts, Link: *link, Media: ids, Draft: *draft})
	if err != nil {
		return err
	}
	var p api.PostView
	if printed, err := a.printJSONOr(raw, &p); printed || err != nil {
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
	var l api.List[api.PostView]
	if printed, err := a.printJSONOr(raw, &l); printed || err != nil {
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

// postID reads the one post ID argument.
func postID(fs *flag.FlagSet, rest []string) (int64, error) {
	if len(rest) != 1 {
		return 0, usageError(fs, "give one post ID ('tactctl queue' lists them)")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, usageError(fs, "%q is not a post ID (a positive number)", rest[0])
	}
	return id, nil
}

func postShow(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post show", "post show ID")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := postID(fs, rest)
	if err != nil {
		return err
	}
	raw, err := a.get(ctx, fmt.Sprintf("/api/v1/posts/%d", id))
	if err != nil {
		return err
	}
	var p api.PostView
	if printed, err := a.printJSONOr(raw, &p); printed || err != nil {
		return err
	}
	w := a.Stdout
	fmt.Fprintf(w, "post %d (version %d) in %s: %s\n", p.ID, p.Version, p.Campaign, p.State)
	fmt.Fprintf(w, "due:       %s\n", when(p.DueAt, p.TimeZone))
	fmt.Fprintf(w, "accounts:  %s\n", strings.Join(p.Accounts, ", "))
	if p.Link != "" {
		fmt.Fprintf(w, "link:      %s\n", p.Link)
	}
	if p.Reason != "" {
		fmt.Fprintf(w, "reason:    %s\n", p.Reason)
	}
	if p.ApprovedBy != "" {
		fmt.Fprintf(w, "approved:  by %s at %s\n", p.ApprovedBy, when(p.ApprovedAt, p.TimeZone))
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "problem:   %s\n", pr)
	}
	for _, wa := range p.Warnings {
		fmt.Fprintf(w, "warning:   %s\n", wa)
	}
	fmt.Fprintf(w, "\n%s\n\n", p.Text)
	if len(p.Deliveries) > 0 {
		t := newTable(w, "ACCOUNT", "DELIVERY", "ATTEMPTS", "URL", "ERROR")
		for _, d := range p.Deliveries {
			t.row(d.Account, string(d.State), strconv.Itoa(d.Attempts), orDash(d.URL), clip(orDash(d.LastError), 60))
		}
		return t.flush()
	}
	return nil
}

func postEdit(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post edit", "post edit ID [--text TEXT] [--at TIME] [--link URL] [--account A]... [--media FILE|ID]... [--no-media] [--if-version N]\n\nAn approved post goes back to pending: it needs a person's approval again.")
	text := fs.String("text", "", "new text")
	at := fs.String("at", "", "new due time (as for post create)")
	link := fs.String("link", "", "new link")
	var accounts list
	fs.Var(&accounts, "account", "post to these accounts instead (repeat)")
	var mediaFlags list
	fs.Var(&mediaFlags, "media", "attach these instead: local files (uploaded first) or attachment ids (repeat)")
	noMedia := fs.Bool("no-media", false, "remove every attachment")
	version := fs.Int64("if-version", 0, "only if the post is still at this version (from 'post show'); otherwise nothing changes")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := postID(fs, rest)
	if err != nil {
		return err
	}
	in := api.PostPatch{Version: *version}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["text"] {
		in.Text = text
	}
	if set["at"] {
		in.At = at
	}
	if set["link"] {
		in.Link = link
	}
	if set["account"] {
		acc := []string(accounts)
		in.Accounts = &acc
	}
	if set["media"] && *noMedia {
		return usageError(fs, "--media and --no-media contradict each other; give one")
	}
	if set["media"] || *noMedia {
		ids, err := a.mediaIDs(ctx, mediaFlags)
		if err != nil {
			return err
		}
		if ids == nil {
			ids = []string{}
		}
		in.Media = &ids
	}
	if in.Text == nil && in.At == nil && in.Link == nil && in.Accounts == nil && in.Media == nil {
		return usageError(fs, "nothing to change: give --text, --at, --link, --account, --media or --no-media")
	}
	raw, err := a.send(ctx, "PATCH", fmt.Sprintf("/api/v1/posts/%d", id), in)
	if err != nil {
		return err
	}
	var p api.PostView
	if printed, err := a.printJSONOr(raw, &p); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "post %d: %s (version %d, due %s)\n", p.ID, p.State, p.Version, when(p.DueAt, p.TimeZone))
	for _, pr := range p.Problems {
		fmt.Fprintf(a.Stdout, "  problem: %s\n", pr)
	}
	return nil
}

func postDelete(ctx context.Context, a *App, args []string) error {
	fs := a.flags("post delete", "post delete ID [--if-version N]")
	version := fs.Int64("if-version", 0, "only if the post is still at this version")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := postID(fs, rest)
	if err != nil {
		return err
	}
	var hdr []string
	if *version > 0 {
		hdr = []string{"If-Match", fmt.Sprintf("%q", strconv.FormatInt(*version, 10))}
	}
	if _, err := a.request(ctx, "DELETE", fmt.Sprintf("/api/v1/posts/%d", id), nil, "", hdr...); err != nil {
		return err
	}
	if a.JSON {
		return a.printJSONValue(map[string]int64{"deleted": id})
	}
	fmt.Fprintf(a.Stdout, "deleted post %d\n", id)
	return nil
}
