package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// MaxImportRows bounds one CSV import; a bigger file is refused as a whole.
const MaxImportRows = 10000

// ImportError is one bad row (or the file itself, Line 0) of a CSV import.
type ImportError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"` // campaign | at | text | account
	Message string `json:"message"`
}

func (e ImportError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// CampaignLookup finds a campaign by name; Store.CampaignByName is one.
type CampaignLookup func(ctx context.Context, name string) (*queue.Campaign, error)

// importLayouts are the local-time forms accepted besides RFC 3339, read in the campaign's zone.
var importLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// ParseImport reads a bulk import, one post per row: campaign,at,text[,account]. A first
// row starting with "campaign" is a header naming the columns (campaign, at, text, account,
// link, draft, in any order), as the API's import accepts. at is RFC 3339, "2006-01-02
// 15:04" in the campaign's time zone (defaultLoc when the campaign has none), or +DURATION,
// and must be after now. account, when given, is one or more of the campaign's accounts
// separated by ';', '|' or spaces; empty means all of them.
//
// The file is validated as a whole: bad lists every bad row with its line number, and posts
// is nil whenever bad is not empty, so the caller imports all rows or none. err is only for
// failures to read the input or to look up campaigns.
func ParseImport(ctx context.Context, r io.Reader, campaigns CampaignLookup, now time.Time, defaultLoc *time.Location) (posts []*queue.Post, bad []ImportError, err error) {
	if defaultLoc == nil {
		defaultLoc = time.UTC
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	known := map[string]*queue.Campaign{}
	cols := importColumns[:4]
	first := true
	rows := 0
	for {
		rec, rerr := cr.Read()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			var pe *csv.ParseError
			if errors.As(rerr, &pe) {
				bad = append(bad, ImportError{Line: pe.Line, Message: "not valid CSV: " + pe.Err.Error() + " (quote a text that contains commas, quotes or line breaks with \"…\", and double the quotes inside it)"})
				return nil, bad, nil
			}
			return nil, nil, fmt.Errorf("reading the CSV: %w", rerr)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "campaign") {
				hdr, herr := importHeader(rec, line)
				if herr != nil {
					return nil, []ImportError{*herr}, nil
				}
				cols = hdr
				continue
			}
		}
		rows++
		if rows > MaxImportRows {
			return nil, []ImportError{{Line: line, Message: fmt.Sprintf("the file has more than %d rows: split it into several imports", MaxImportRows)}}, nil
		}
		p, rowBad, lerr := parseRow(ctx, rec, cols, line, known, campaigns, now, defaultLoc)
		if lerr != nil {
			return nil, nil, lerr
		}
		if len(rowBad) > 0 {
			bad = append(bad, rowBad...)
			continue
		}
		posts = append(posts, p)
	}
	if rows == 0 {
		bad = append(bad, ImportError{Line: 0, Message: "the file has no posts: each row is campaign,at,text[,account]"})
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	return posts, nil, nil
}

// importColumns are the columns of an import file, in the order used without a header
// (the same as the API's POST /api/v1/posts/import).
var importColumns = []string{"campaign", "at", "text", "account", "link", "draft"}

// importHeader reads a header row naming the columns, so that files with the columns in
// another order, or with link and draft columns, import too.
func importHeader(rec []string, line int) ([]string, *ImportError) {
	cols := make([]string, len(rec))
	seen := map[string]bool{}
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "accounts" {
			h = "account"
		}
		if !slices.Contains(importColumns, h) {
			return nil, &ImportError{line, h, fmt.Sprintf("unknown column %q in the header: the columns are %s", h, strings.Join(importColumns, ", "))}
		}
		if seen[h] {
			return nil, &ImportError{line, h, fmt.Sprintf("column %q appears twice in the header", h)}
		}
		seen[h] = true
		cols[i] = h
	}
	for _, need := range []string{"campaign", "at", "text"} {
		if !seen[need] {
			return nil, &ImportError{line, need, fmt.Sprintf("the header has no %q column: it needs campaign, at and text", need)}
		}
	}
	return cols, nil
}

func parseRow(ctx context.Context, rec, cols []string, line int, known map[string]*queue.Campaign, lookup CampaignLookup, now time.Time, defaultLoc *time.Location) (*queue.Post, []ImportError, error) {
	if len(rec) < 3 || len(rec) > len(cols) {
		return nil, []ImportError{{Line: line, Message: fmt.Sprintf("has %d fields; expected %d to %d (%s)", len(rec), min(3, len(cols)), len(cols), strings.Join(cols, ","))}}, nil
	}
	var bad []ImportError
	f := map[string]string{}
	for i, v := range rec {
		f[cols[i]] = strings.TrimSpace(v)
	}
	name := f["campaign"]
	c, ok := known[name]
	switch {
	case name == "":
		bad = append(bad, ImportError{line, "campaign", "empty: give the campaign's name"})
	case !ok:
		var err error
		c, err = lookup(ctx, name)
		if err != nil && queue.ErrorKind(err) != queue.NotFound {
			return nil, nil, fmt.Errorf("looking up campaign %q: %w", name, err)
		}
		if err != nil {
			c = nil
		}
		known[name] = c
	}
	if name != "" && c == nil {
		bad = append(bad, ImportError{line, "campaign", fmt.Sprintf("no campaign named %q: fix the name or create the campaign first", name)})
	}
	if c != nil && c.State == queue.CampaignArchived {
		bad = append(bad, ImportError{line, "campaign", fmt.Sprintf("campaign %q is archived: it takes no new posts", name)})
	}

	loc := defaultLoc
	if c != nil && c.TimeZone != "" {
		if l, err := time.LoadLocation(c.TimeZone); err == nil {
			loc = l
		}
	}
	at, terr := parseWhen(f["at"], loc, now)
	switch {
	case terr != nil:
		bad = append(bad, ImportError{line, "at", terr.Error()})
	case !at.After(now):
		bad = append(bad, ImportError{line, "at", fmt.Sprintf("%s is in the past: give a time after now (%s)", at.In(loc).Format("2006-01-02 15:04 MST"), now.In(loc).Format("2006-01-02 15:04 MST"))})
	}

	text := f["text"]
	if text == "" {
		bad = append(bad, ImportError{line, "text", "empty: every post needs a text"})
	}

	link := f["link"]
	if link != "" && !linkOK(link) {
		bad = append(bad, ImportError{line, "link", fmt.Sprintf("%q is not an absolute http(s) URL", link)})
	}
	draft := false
	switch strings.ToLower(f["draft"]) {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		draft = true
	default:
		bad = append(bad, ImportError{line, "draft", fmt.Sprintf("must be true or false, got %q", f["draft"])})
	}

	accounts := strings.FieldsFunc(f["account"], func(r rune) bool { return r == ';' || r == ' ' || r == '|' || r == '\t' })
	if c != nil {
		seen := map[string]bool{}
		for _, a := range accounts {
			if !slices.Contains(c.Accounts, a) {
				bad = append(bad, ImportError{line, "account", fmt.Sprintf("%q is not one of campaign %q's accounts (%s)", a, c.Name, strings.Join(c.Accounts, ", "))})
			} else if seen[a] {
				bad = append(bad, ImportError{line, "account", fmt.Sprintf("%q is named twice", a)})
			}
			seen[a] = true
		}
		if len(accounts) == 0 {
			accounts = slices.Clone(c.Accounts)
		}
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	p := &queue.Post{
		CampaignID: c.ID,
		Campaign:   c.Name,
		Text:       text,
		Link:       link,
		Accounts:   accounts,
		DueAt:      at.UTC(),
		State:      queue.PostPending,
	}
	if draft {
		p.State = queue.PostDraft
	}
	return p, nil, nil
}

// parseWhen reads an RFC 3339 time, a local date and time in loc, or +DURATION from now.
func parseWhen(s string, loc *time.Location, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty: give the time the post is due, e.g. 2026-05-01 09:30")
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		if d, err := time.ParseDuration(rest); err == nil && d >= 0 {
			return now.Add(d), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range importLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-05-01 09:30 (in the campaign's time zone, %s), RFC 3339 such as 2026-05-01T09:30:00+02:00, or +2h", s, loc)
}
