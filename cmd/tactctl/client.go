package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/daemon/queue"
)

// Helpers for the commands that talk to the daemon: requests with the token, errors that
// say what to do, flag parsing that allows flags after arguments, and tables.

// APIError is an error answer from the daemon.
type APIError struct {
	Status  int
	Message string
	Field   string
	Body    map[string]any // the whole error body (current post on a conflict, bad rows...)
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		fmt.Fprintf(&b, " (field %q)", e.Field)
	}
	if h := e.hint(); h != "" {
		b.WriteString("\n  " + h)
	}
	return b.String()
}

// hint says what to do next, by status.
func (e *APIError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return tokenHint
	case http.StatusForbidden:
		return "your user's role does not allow this; ask an admin for a role that does ('tactctl user role NAME --role ROLE')"
	case http.StatusNotFound:
		return "check the name or id: 'tactctl campaign list', 'tactctl queue', 'tactctl incident list'"
	case http.StatusConflict:
		if e.Field == queue.FieldOpenPosts {
			return "" // the message says what to do: wait, or reject or delete posts
		}
		if p, ok := e.Body["post"].(map[string]any); ok {
			return fmt.Sprintf("post %v is now %v (version %v); look at it with 'tactctl queue' and try again", num(p["id"]), p["state"], num(p["version"]))
		}
		return "someone changed it first, or it is not in a state that allows this; look again and retry"
	case http.StatusServiceUnavailable:
		return "the daemon cannot do this right now; retry, or look at the daemon's log"
	case http.StatusInternalServerError:
		return "the daemon failed; its log has the detail (journalctl -u tactd)"
	}
	return ""
}

const tokenHint = "set TACT_TOKEN or pass --token; the admin's token is in DATA_DIR/admin.token (/var/lib/tact/admin.token by default), and 'tactctl user add' makes more"

func num(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprint(v)
}

// textUTF8 refuses a request whose strings are not UTF-8 (an argument typed in a Latin-1
// terminal, a file in another encoding), naming the field: encoding/json would quietly
// send each bad byte as U+FFFD, and the daemon would keep the garbled text. (The daemon
// refuses such bytes in the files tactctl sends as they are, such as a CSV import.)
func textUTF8(field string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		return queue.CheckUTF8(field, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return textUTF8(field, v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := textUTF8(field, v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := textUTF8(field, it.Value()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if err := textUTF8(name, v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// request sends a request to the daemon and returns the answer's body. in is sent as JSON
// unless it is a []byte (sent as is, with contentType); hdr are extra header name, value pairs.
func (a *App) request(ctx context.Context, method, path string, in any, contentType string, hdr ...string) ([]byte, error) {
	if a.Token == "" {
		return nil, errors.New("no API token: " + tokenHint)
	}
	base := strings.TrimRight(a.Server, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad server address %q: use a URL such as http://127.0.0.1:8080 (--server or TACT_SERVER)", a.Server)
	}
	var body io.Reader
	switch b := in.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		if err := textUTF8("", reflect.ValueOf(in)); err != nil {
			return nil, err
		}
		j, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the daemon at %s: %v (is tactd running? set --server or TACT_SERVER)", a.Server, unwrapURLError(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the daemon's answer: %v", err)
	}
	if res.StatusCode >= 300 {
		return raw, apiError(res.StatusCode, raw)
	}
	return raw, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func apiError(status int, raw []byte) error {
	e := &APIError{Status: status}
	if json.Unmarshal(raw, &e.Body) == nil {
		e.Message, _ = e.Body["error"].(string)
		e.Field, _ = e.Body["field"].(string)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("the daemon answered %d %s: %s", status, http.StatusText(status), strings.TrimSpace(string(raw)))
	}
	return e
}

// get and send are request for JSON.
func (a *App) get(ctx context.Context, path string) ([]byte, error) {
	return a.request(ctx, http.MethodGet, path, nil, "")
}

func (a *App) send(ctx context.Context, method, path string, in any) ([]byte, error) {
	return a.request(ctx, method, path, in, "")
}

// decode reads an answer into v.
func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("the daemon's answer is not what this tactctl expects (%v); are tactctl and tactd the same version?", err)
	}
	return nil
}

// printJSONOr prints raw with --json (printed is true), and otherwise decodes it into v for
// the command's table.
func (a *App) printJSONOr(raw []byte, v any) (printed bool, err error) {
	if a.JSON {
		return true, a.printJSON(raw)
	}
	return false, decode(raw, v)
}

// printJSON prints the API's JSON as it came.
func (a *App) printJSON(raw []byte) error {
	raw = bytes.TrimRight(raw, "\n")
	_, err := fmt.Fprintf(a.Stdout, "%s\n", raw)
	return err
}

// flags makes a flag set for "tactctl NAME" that reports to stderr.
func (a *App) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("tactctl "+name, flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.Stderr, "usage: tactctl %s\n", usage)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(a.Stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags wherever they appear among the arguments ("reject 12 13 --reason x")
// and returns the arguments. Errors were printed with the usage; they carry status 2.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitError{0}
			}
			return nil, exitError{2}
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, fs.Args()...), nil
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError prints what is wrong with the command line and the usage; status 2.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitError{2}
}

// list is a repeatable string flag that also splits on commas: --account a --account b,c.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }
func (l *list) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// table prints aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// clip shortens s to n characters for a table cell.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// when shows t in zone tz (the campaign's), or in the local zone when tz is "".
func when(t time.Time, tz string) string {
	if t.IsZero() {
		return "-"
	}
	loc := time.Local
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printJSONValue prints v as indented JSON (for answers tactctl assembles from pages).
func (a *App) printJSONValue(v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
