package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
)

// urlish are names of request fields that may carry a URL or a path.
var urlish = regexp.MustCompile(`(?i)url|link|media|path|file|image|avatar|href|src|endpoint|server|hook|feed|uri`)

// How each such field may treat what it is given. A new field that matches urlish must be
// added here, with its treatment, or TestURLAndPathFieldsAreKnown fails: nobody adds a field
// the daemon might fetch or open without this suite trying it.
const (
	refused  = "refused"  // only upload ids: anything else is a 400, nothing is read or fetched
	stored   = "stored"   // kept as text (a link shown to people, sent to networks), never fetched by tactd
	fetched  = "fetched"  // fetched once, from public addresses only
	labelled = "labelled" // a label for inline content given in the same request; nothing is read
)

var urlFields = map[string]string{
	"POST /api/v1/posts link":          stored,
	"POST /api/v1/posts media":         refused,
	"PATCH /api/v1/posts/{id} link":    stored,
	"PATCH /api/v1/posts/{id} media":   refused,
	"POST /api/v1/posts/import link":   stored,
	"POST /api/v1/posts/import media":  refused,
	"POST /api/v1/media url":           fetched,
	"POST /api/v1/context url":         stored,
	"POST /api/v1/rules/preview files": labelled,
}

// fieldsOf lists the JSON names of t's fields (through pointers, slices and structs) whose
// names look like they take a URL or a path.
func fieldsOf(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, fieldsOf(f.Type, seen)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if urlish.MatchString(name) {
			out = append(out, name)
		}
		out = append(out, fieldsOf(f.Type, seen)...)
	}
	return out
}

func discoveredURLFields() map[string]bool {
	found := map[string]bool{}
	for _, rt := range api.Routes() {
		if rt.In == nil {
			continue
		}
		for _, f := range fieldsOf(reflect.TypeOf(rt.In), map[reflect.Type]bool{}) {
			found[rt.Method+" "+rt.Path+" "+f] = true
		}
	}
	return found
}

func TestURLAndPathFieldsAreKnown(t *testing.T) {
	found := discoveredURLFields()
	var missing, stale []string
	for k := range found {
		if _, ok := urlFields[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range urlFields {
		if !found[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("request fields that may take a URL or a path, not in urlFields (say how each is treated, and make sure this suite attacks it):\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("urlFields lists fields no route has any more:\n  %s", strings.Join(stale, "\n  "))
	}
}

// TestSSRFAndPathAttempts sends every field that takes a URL or a path the addresses and
// files an attacker with a marketer's (or an admin's) token would try: the daemon must
// never connect to them, never read the file, and never answer with its content.
func TestSSRFAndPathAttempts(t *testing.T) {
	var hits atomic.Int64
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(pngBytes(t, 1, 1))
	}))
	defer canary.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(canary.URL, "http://"), ":")
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "admin-only.png")
	const marker = "TACT-PRIVATE-FILE-CONTENT"
	if err := os.WriteFile(secret, append(pngBytes(t, 1, 1), marker...), 0o600); err != nil {
		t.Fatal(err)
	}
	mediaDir := filepath.Join(t.TempDir(), "media")
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) {
		st, err := media.Open(mediaDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		o.Media, o.MediaFetcher = st, media.NewFetcher(st, media.FetchOptions{Resolver: offline})
	}, withWatcher(t))
	e.campaign("summer", nil)
	postID := e.post("summer", "a post to edit", "+2h")

	hostile := []string{
		canary.URL + "/internal/admin.png",
		"http://localhost:" + port + "/x.png",
		"http://127.0.0.1:" + port + "/x.png",
		"http://[::1]:" + port + "/x.png",
		"http://[::ffff:127.0.0.1]:" + port + "/x.png",
		"http://0x7f000001:" + port + "/x.png",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://10.0.0.1/x.png",
		"gopher://127.0.0.1:" + port + "/_GET",
		"file://" + secret,
		secret,
		"../../" + filepath.Base(secret),
		"/etc/passwd",
		"/proc/self/environ",
	}
	// body builds a valid request around one field's value.
	body := func(route, field, v string) any {
		var value any = v
		if field == "media" {
			value = []string{v}
		}
		switch route {
		case "POST /api/v1/posts":
			return map[string]any{"campaign": "summer", "text": "x", "at": "+1h", field: value}
		case "PATCH /api/v1/posts/{id}":
			return map[string]any{field: value}
		case "POST /api/v1/posts/import":
			return []map[string]any{{"campaign": "summer", "text": "x", "at": "+1h", field: value}}
		case "POST /api/v1/media":
			return map[string]any{"url": v}
		case "POST /api/v1/context":
			return map[string]any{"source": "wire", "title": "Calm day", "url": v}
		case "POST /api/v1/rules/preview":
			return map[string]any{"files": map[string]string{v: "[[rule]]\nid = \"x\"\n"}}
		}
		t.Fatalf("no body for %s: add one", route)
		return nil
	}
	role := map[string]queue.Role{}
	for _, rt := range api.Routes() {
		role[rt.Method+" "+rt.Path] = rt.Role
	}
	tried := 0
	for key, how := range urlFields {
		method, rest, _ := strings.Cut(key, " ")
		path, field, _ := strings.Cut(rest, " ")
		route := method + " " + path
		url := strings.Replace(path, "{id}", fmt.Sprint(postID), 1)
		for _, v := range hostile {
			r := e.do(role[route], method, url, body(route, field, v), "Content-Type", "application/json")
			tried++
			if strings.Contains(string(r.raw), marker) || strings.Contains(string(r.raw), "root:x:0:0") {
				t.Errorf("%s %s=%q: the answer shows a file's content: %s", route, field, v, r.raw)
			}
			switch how {
			case refused, fetched:
				if r.status != 400 {
					t.Errorf("%s %s=%q: %d %s; want 400", route, field, v, r.status, r.raw)
				}
			case stored, labelled:
				if r.status >= 500 {
					t.Errorf("%s %s=%q: %d %s", route, field, v, r.status, r.raw)
				}
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the daemon made %d requests to a loopback server", n)
	}
	if entries, _ := os.ReadDir(mediaDir); len(entries) != 0 {
		t.Fatalf("%d files were stored as media", len(entries))
	}
	if want := len(urlFields) * len(hostile); tried != want {
		t.Fatalf("tried %d requests, want %d", tried, want)
	}
}
