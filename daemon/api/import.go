package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"

	"github.com/tact-hq/tact/daemon/importer"
	"github.com/tact-hq/tact/daemon/queue"
)

// importPosts takes CSV (see daemon/importer: campaign,at,text[,account], optional header
// naming the columns, link and draft columns too) or a JSON array of PostInput, checks every
// row as a single new post, and stores all of them in one transaction, or none if any row
// is bad: the answer then lists each bad row by line.
func (s *server) importPosts(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	b, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return queue.Errorf(queue.Invalid, "", "the request body is empty; send CSV lines campaign,at,text[,account] or a JSON array of posts")
	}
	var res importer.Result
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || (mt != "text/csv" && bytes.TrimSpace(b)[0] == '[') {
		res, err = s.importJSON(r.Context(), b)
	} else {
		res, err = s.posts.ImportCSV(r.Context(), bytes.NewReader(b))
	}
	if err != nil {
		return err
	}
	if len(res.Problems) == 1 && res.Problems[0].Line == 0 {
		return queue.Errorf(queue.Invalid, "", "%s", res.Problems[0].Message)
	}
	if len(res.Problems) > 0 {
		rows := make([]RowError, len(res.Problems))
		for i, p := range res.Problems {
			rows[i] = RowError{Line: p.Line, Field: p.Field, Error: p.Message}
		}
		return &detailError{err: queue.Errorf(queue.Invalid, "", "%s", res.Summary()), rows: rows}
	}
	posts := res.Posts
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

// importJSON checks a JSON array of PostInput, numbering rows by item (from 1).
func (s *server) importJSON(ctx context.Context, b []byte) (importer.Result, error) {
	var raw []json.RawMessage
	if err := decodeJSON(b, &raw); err != nil {
		return importer.Result{}, err
	}
	if len(raw) == 0 {
		return importer.Result{}, queue.Errorf(queue.Invalid, "", "the JSON array has no posts")
	}
	var c importer.Checker
	seen := map[string]*queue.Campaign{}
	for i, m := range raw {
		var in PostInput
		err := decodeJSON(m, &in)
		var p *queue.Post
		if err == nil {
			p, err = s.posts.Build(ctx, in, seen)
		}
		if err := c.Add(i+1, p, err); err != nil {
			return importer.Result{}, err
		}
	}
	return c.Result(), nil
}

// ImportCSV checks a CSV import (the format is importer's) and builds every row as Build
// builds a single new post; it stores nothing. The API's import and the web UI's CSV upload
// both call it, so they accept and refuse the same files.
func (b *PostBuilder) ImportCSV(ctx context.Context, r io.Reader) (importer.Result, error) {
	seen := map[string]*queue.Campaign{}
	return importer.Import(ctx, r, func(ctx context.Context, row importer.Row) (*queue.Post, error) {
		return b.Build(ctx, PostInput{Campaign: row.Campaign, At: row.At, Text: row.Text,
			Account: row.Account, Link: row.Link, Draft: row.Draft}, seen)
	})
}
