// Package importer reads bulk imports of posts: CSV rows campaign,at,text[,account], with an
// optional header row naming the columns (campaign, at, text, account, link, draft, in any
// order). It owns the file format, the line numbers and the all-or-nothing rule. Turning
// one row into a post is the caller's Build: the HTTP API and the web UI both pass the
// API's post builder, the code that checks a single new post, so a row is accepted exactly
// when the same post sent alone would be, and both front ends import the same files.
package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// MaxRows bounds one import: every row costs a check by each target network's plugin, so a
// bigger file is refused as a whole, with a message saying to split it.
const MaxRows = 10000

// columns are the columns an import may have, in the order used when there is no header.
// Without a header a row has the first three to six of them.
var columns = []string{"campaign", "at", "text", "account", "link", "draft"}

// Row is one row of an import, its cells trimmed. Account may name several accounts
// separated by ';', '|' or white space.
type Row struct {
	Line     int // the file line the row starts on (a quoted text may span several)
	Campaign string
	At       string
	Text     string
	Account  string
	Link     string
	Draft    bool
}

// Problem is one reason an import is refused: a bad row, or the file itself. Line is 0 only
// for a file with no posts at all.
type Problem struct {
	Line    int
	Field   string // campaign, at, text, accounts, link, draft; "" for the row or file as a whole
	Message string
}

func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Message)
}

// Result is an import checked as a whole: either Posts (every row good, none stored yet)
// or Problems, never both.
type Result struct {
	Posts    []*queue.Post
	Problems []Problem // in the order of the file
	Rows     int       // rows read, the header not counted
}

// Summary says in one sentence why nothing was imported, for a Result with Problems.
func (r Result) Summary() string {
	if r.Rows == 0 {
		return "the file cannot be imported; nothing was imported: fix the line shown and import the whole file again"
	}
	return fmt.Sprintf("%d of %d rows are invalid; nothing was imported: fix them and import the whole file again", len(r.Problems), max(r.Rows, len(r.Problems)))
}

// Build checks one row and makes the post it describes, without storing it. A refusal is a
// queue error of kind Invalid, NotFound or Conflict, naming the field at fault; any other
// error (the store or a plugin failed) stops the import.
type Build func(ctx context.Context, row Row) (*queue.Post, error)

// Import reads a CSV import from r and builds every row with build. A broken quote stops
// the reading (the reader cannot be trusted past it); otherwise every bad row is reported.
// err is only for failures that are not the file's fault.
func Import(ctx context.Context, r io.Reader, build Build) (Result, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	// A space after a comma, before a quoted cell ("a, \"b, c\""), is common in hand-written
	// files; without this the quote would be a bare quote inside an unquoted cell.
	cr.TrimLeadingSpace = true
	cols := columns[:4]
	var c Checker
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return Result{}, fmt.Errorf("reading the import: %w", err)
			}
			c.rows++
			c.problems = append(c.problems, Problem{Line: pe.StartLine, Message: fmt.Sprintf(
				"not valid CSV at line %d, column %d: %v; the rest of the file was not read (quote a text that contains commas, quotes or line breaks with \"…\", and double the quotes inside it)",
				pe.Line, pe.Column, pe.Err)})
			break
		}
		line, _ := cr.FieldPos(0)
		if p := badUTF8(cr, rec, cols); p != nil {
			c.rows++
			c.problems = append(c.problems, *p)
			continue
		}
		if first && strings.EqualFold(strings.TrimSpace(rec[0]), "campaign") {
			hdr, p := header(rec, line)
			if p != nil {
				c.problems = append(c.problems, *p)
				break
			}
			cols = hdr
			continue
		}
		if c.rows == MaxRows {
			c.problems = append(c.problems, Problem{Line: line, Message: fmt.Sprintf("the file has more than %d rows: split it into several imports", MaxRows)})
			break
		}
		row, err := read(line, rec, cols)
		var p *queue.Post
		if err == nil {
			p, err = build(ctx, row)
		}
		if err := c.Add(line, p, err); err != nil {
			return Result{}, err
		}
	}
	return c.Result(), nil
}

// badUTF8 reports the first cell of rec that is not valid UTF-8, by its line and column:
// a file saved as Latin-1 or Windows-1252 is refused here rather than when a plugin is
// handed its text (see queue.BadUTF8).
func badUTF8(cr *csv.Reader, rec, cols []string) *Problem {
	for i, cell := range rec {
		field := fmt.Sprintf("column %d", i+1)
		if i < len(cols) {
			field = cols[i]
		}
		if field == "account" {
			field = "accounts"
		}
		if err := queue.CheckUTF8(field, cell); err != nil {
			line, _ := cr.FieldPos(i)
			return &Problem{Line: line, Field: field, Message: err.Error()}
		}
	}
	return nil
}

// header reads a header row naming the columns, so that files with the columns in another
// order, or with link and draft columns, import too.
func header(rec []string, line int) ([]string, *Problem) {
	cols := make([]string, len(rec))
	seen := map[string]bool{}
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "accounts" {
			h = "account"
		}
		if !slices.Contains(columns, h) {
			return nil, &Problem{line, h, fmt.Sprintf("unknown column %q in the header: the columns are %s", h, strings.Join(columns, ", "))}
		}
		if seen[h] {
			return nil, &Problem{line, h, fmt.Sprintf("column %q appears twice in the header", h)}
		}
		seen[h] = true
		cols[i] = h
	}
	for _, need := range []string{"campaign", "at", "text"} {
		if !seen[need] {
			return nil, &Problem{line, need, fmt.Sprintf("the header has no %q column: it needs campaign, at and text", need)}
		}
	}
	return cols, nil
}

// read turns a record into a Row. It checks only what the file format decides (the number
// of cells, the draft flag); Build checks the rest.
func read(line int, rec, cols []string) (Row, error) {
	row := Row{Line: line}
	if len(rec) < 3 || len(rec) > len(cols) {
		return row, queue.Errorf(queue.Invalid, "", "has %d fields; expected %d to %d (%s)", len(rec), min(3, len(cols)), len(cols), strings.Join(cols, ","))
	}
	for i, v := range rec {
		v = strings.TrimSpace(v)
		switch cols[i] {
		case "campaign":
			row.Campaign = v
		case "at":
			row.At = v
		case "text":
			row.Text = v
		case "account":
			row.Account = v
		case "link":
			row.Link = v
		case "draft":
			switch strings.ToLower(v) {
			case "", "false", "no", "0":
			case "true", "yes", "1":
				row.Draft = true
			default:
				return row, queue.Errorf(queue.Invalid, "draft", "draft must be true or false, got %q", v)
			}
		}
	}
	return row, nil
}

// Checker gathers an import row by row: the posts of the good rows and a Problem for each
// bad one. Import uses it for CSV; the API uses it for a JSON array of posts, so both
// formats number, report and refuse rows alike.
type Checker struct {
	posts    []*queue.Post
	problems []Problem
	rows     int
}

// Add records one row: the post made of it, or the error that refused it. An error that is
// not the row's fault (see Build) is returned, and the import must stop.
func (c *Checker) Add(line int, p *queue.Post, err error) error {
	c.rows++
	if err == nil {
		c.posts = append(c.posts, p)
		return nil
	}
	switch queue.ErrorKind(err) {
	case queue.Invalid, queue.NotFound, queue.Conflict:
		c.problems = append(c.problems, Problem{Line: line, Field: queue.ErrorField(err), Message: err.Error()})
		return nil
	}
	return err
}

// Result is what was gathered: the posts if every row was good, else only the problems.
func (c *Checker) Result() Result {
	res := Result{Posts: c.posts, Problems: c.problems, Rows: c.rows}
	if c.rows == 0 && len(c.problems) == 0 {
		res.Problems = []Problem{{Message: "the file has no posts: each row is campaign,at,text[,account]"}}
	}
	if len(res.Problems) > 0 {
		res.Posts = nil
	}
	return res
}
