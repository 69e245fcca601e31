package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/daemon/queue"
)

// readBody reads the whole request body, at most s.opt.MaxBody bytes (413 beyond).
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, mbe
		}
		return nil, queue.Errorf(queue.Invalid, "", "reading the request body failed: %v", err)
	}
	return b, nil
}

// decode reads a JSON object into v, refusing unknown fields and trailing data.
// optional allows an empty body (v keeps its zero value).
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	b, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return queue.Errorf(queue.Invalid, "", "the request body is empty; send a JSON object (see /api/v1/openapi.json)")
	}
	return decodeJSON(b, v)
}

// decodeJSON decodes exactly one JSON value from b into v and turns decoding errors into
// messages that say where: the unknown field and the fields accepted, the field with the
// wrong type, or the line and column of a syntax error or of a byte that is not UTF-8.
func decodeJSON(b []byte, v any) error {
	if !utf8.Valid(b) {
		// JSON is UTF-8 (RFC 8259). encoding/json would store a bad byte as U+FFFD: a text
		// saved as Latin-1 would be kept garbled instead of refused (queue.BadUTF8).
		i := queue.BadUTF8(string(b))
		line, col := position(b, i)
		return queue.UTF8Error("", fmt.Sprintf("line %d, column %d of the body", line, col), b[i])
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(b, v, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(b, int(dec.InputOffset()))
		return queue.Errorf(queue.Invalid, "", "malformed JSON: unexpected data after the value at line %d, column %d; send one JSON value", line, col)
	}
	return nil
}

func jsonError(b []byte, v any, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(b, int(syn.Offset))
		return queue.Errorf(queue.Invalid, "", "malformed JSON at line %d, column %d (byte %d): %s", line, col, syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(b, len(b))
		return queue.Errorf(queue.Invalid, "", "malformed JSON: the body ends early at line %d, column %d (truncated, or a bracket or quote is not closed)", line, col)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return queue.Errorf(queue.Invalid, "", "the body must be %s, got a JSON %s", jsonKind(typ.Type), typ.Value)
		}
		return queue.Errorf(queue.Invalid, field, "field %q must be %s, got a JSON %s", field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		known := fieldNames(reflect.TypeOf(v))
		return queue.Errorf(queue.Invalid, name, "unknown field %q; the accepted fields are: %s", name, strings.Join(known, ", "))
	case queue.ErrorKind(err) != "":
		return err
	}
	return queue.Errorf(queue.Invalid, "", "malformed JSON: %v", err)
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int) (line, col int) {
	if off > len(b) {
		off = len(b)
	}
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// fieldNames lists the JSON names of a struct's fields, for "accepted fields" messages.
func fieldNames(t reflect.Type) []string {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// parseWhen reads a due time: RFC 3339 with a zone, a local time in loc
// ("2026-05-01 09:00", "2026-05-01T09:00:05"), or "+DURATION" from now. The result is UTC.
func parseWhen(field, s string, loc *time.Location, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, queue.Errorf(queue.Invalid, field, "%s is required: when the post is due", field)
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := time.ParseDuration(rest)
		if err == nil && d >= 0 {
			return now.Add(d).UTC(), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, queue.Errorf(queue.Invalid, field,
		"cannot read time %q: it is not a time in a form tact reads; use RFC 3339 with a zone (2026-05-01T09:00:00+02:00), a local time in the campaign's zone %s (2026-05-01 09:00), or +DURATION (+2h)", s, loc)
}

// parseSince reads "24h" (that long ago) or an RFC 3339 time; "" gives def ago.
func parseSince(s string, def time.Duration, now time.Time) (time.Time, error) {
	if s == "" {
		return now.Add(-def), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, queue.Errorf(queue.Invalid, "since", "cannot read since=%q: use a duration such as 24h or an RFC 3339 time", s)
}

// parseLimit reads ?limit=, defaulting to def and capping at max.
func parseLimit(s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, queue.Errorf(queue.Invalid, "limit", "limit must be a positive whole number, got %q", s)
	}
	return min(n, max), nil
}

// parseDuration reads an optional duration field.
func parseDuration(field, s string) (queue.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, queue.Errorf(queue.Invalid, field, "%s: cannot read %q as a duration; use Go durations such as 90s, 30m or 48h", field, s)
	}
	return queue.Duration(d), nil
}

// pathID reads the numeric {name} path value.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, queue.Errorf(queue.Invalid, name, "%s must be a positive number, got %q", name, v)
	}
	return id, nil
}

// expectedVersion reads If-Match ("3", W/"3" or 3) and a version field from the body; they
// must agree when both are given. 0 means "do not check".
func expectedVersion(r *http.Request, body int64) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return body, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v < 1 {
		return 0, queue.Errorf(queue.Invalid, "If-Match", "If-Match must be the ETag of the object (its version, such as \"3\"), got %q", r.Header.Get("If-Match"))
	}
	if body != 0 && body != v {
		return 0, queue.Errorf(queue.Invalid, "version", "If-Match says version %d but the body says %d; send one", v, body)
	}
	return v, nil
}

func setETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", fmt.Sprintf("%q", strconv.FormatInt(version, 10)))
}

// checkURL accepts an empty string or an absolute http(s) URL.
func checkURL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return queue.Errorf(queue.Invalid, field, "%s must be an absolute http(s) URL, got %q", field, s)
	}
	return nil
}
