package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// csvColumns are the columns of an import file, in the order used when there is no header.
var csvColumns = []string{"campaign", "at", "text", "account", "link", "draft"}

// row is one import row before it is checked.
type row struct {
	line int
	in   PostInput
	err  error // a problem found while reading it
}

// importPosts takes CSV (campaign,at,text[,account], optional header naming the columns)
// or a JSON array of PostInput, checks every row, and stores all of them in one
// transaction, or none if any row is bad: the answer then lists each bad row by line.
func (s *server) importPosts(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	b, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return queue.Errorf(queue.Invalid, "", "the request body is empty; send CSV lines campaign,at,text[,account] or a JSON array of posts")
	}
	var rows []row
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || (mt != "text/csv" && bytes.TrimSpace(b)[0] == '[') {
		rows, err = jsonRows(b)
	} else {
		rows, err = csvRows(b)
	}
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return queue.Errorf(queue.Invalid, "", "the file has no posts")
	}
	var bad []RowError
	posts := make([]*queue.Post, 0, len(rows))
	seen := map[string]*queue.Campaign{}
	for _, rw := range rows {
		err := rw.err
		var p *queue.Post
		if err == nil {
			p, err = s.buildPost(r.Context(), r, rw.in, seen)
		}
		if err != nil {
			switch queue.ErrorKind(err) {
			case queue.Invalid, queue.NotFound, queue.Conflict:
				bad = append(bad, RowError{Line: rw.line, Field: queue.ErrorField(err), Error: err.Error()})
				continue
			}
			return err // the store or a plugin failed: not the row's fault
		}
		posts = append(posts, p)
	}
	if len(bad) > 0 {
		return &detailError{err: queue.Errorf(queue.Invalid, "", "%d of %d rows are invalid; nothing was imported: fix them and import the whole file again", len(bad), len(rows)), rows: bad}
	}
	if err := s.opt.Store.CreatePosts(r.Context(), actor(u), posts); err != nil {
		return err
	}
	s.kick()
	vs, err := s.views(r.Context(), posts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, List[PostView]{Items: vs})
	return nil
}

func jsonRows(b []byte) ([]row, error) {
	var raw []json.RawMessage
	if err := decodeJSON(b, &raw); err != nil {
		return nil, err
	}
	rows := make([]row, len(raw))
	for i, m := range raw {
		rows[i].line = i + 1
		rows[i].err = decodeJSON(m, &rows[i].in)
	}
	return rows, nil
}

func csvRows(b []byte) ([]row, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cols := csvColumns[:4]
	var rows []row
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// The reader cannot be trusted past a broken quote: report it and stop.
				rows = append(rows, row{line: pe.StartLine, err: queue.Errorf(queue.Invalid, "", "malformed CSV at line %d, column %d: %v (the rest of the file was not read)", pe.Line, pe.Column, pe.Err)})
				return rows, nil
			}
			return nil, queue.Errorf(queue.Invalid, "", "reading the CSV failed: %v", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "campaign") {
				hdr, err := csvHeader(rec)
				if err != nil {
					return nil, err
				}
				cols = hdr
				continue
			}
		}
		rows = append(rows, csvRow(line, rec, cols))
	}
	return rows, nil
}

// csvHeader reads a header line naming the columns, so that files with columns in another
// order, or with link and draft columns, import too.
func csvHeader(rec []string) ([]string, error) {
	cols := make([]string, len(rec))
	seen := map[string]bool{}
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "accounts" {
			h = "account"
		}
		known := false
		for _, c := range csvColumns {
			known = known || c == h
		}
		if !known {
			return nil, queue.Errorf(queue.Invalid, h, "line 1: unknown column %q; the columns are %s", h, strings.Join(csvColumns, ", "))
		}
		if seen[h] {
			return nil, queue.Errorf(queue.Invalid, h, "line 1: column %q appears twice", h)
		}
		seen[h] = true
		cols[i] = h
	}
	for _, need := range []string{"campaign", "at", "text"} {
		if !seen[need] {
			return nil, queue.Errorf(queue.Invalid, need, "line 1: the header has no %q column; it needs campaign, at and text", need)
		}
	}
	return cols, nil
}

func csvRow(line int, rec []string, cols []string) row {
	rw := row{line: line}
	if len(rec) < 3 || len(rec) > len(cols) {
		rw.err = queue.Errorf(queue.Invalid, "", "has %d fields; expected %d to %d (%s)", len(rec), min(3, len(cols)), len(cols), strings.Join(cols, ","))
		return rw
	}
	for i, v := range rec {
		v = strings.TrimSpace(v)
		switch cols[i] {
		case "campaign":
			rw.in.Campaign = v
		case "at":
			rw.in.At = v
		case "text":
			rw.in.Text = v
		case "account":
			rw.in.Account = v
		case "link":
			rw.in.Link = v
		case "draft":
			switch strings.ToLower(v) {
			case "", "false", "no", "0":
			case "true", "yes", "1":
				rw.in.Draft = true
			default:
				rw.err = queue.Errorf(queue.Invalid, "draft", "draft must be true or false, got %q", v)
			}
		}
	}
	if rw.in.At == "" && rw.err == nil {
		rw.err = queue.Errorf(queue.Invalid, "at", "at is empty: when the post is due")
	}
	return rw
}
