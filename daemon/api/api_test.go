package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
	"github.com/tact-hq/tact/plugins/sdk"
)

// accountList is the configured accounts, as the daemon would list them from tact.toml.
type accountList []api.AccountInfo

func (l accountList) Accounts(context.Context) ([]api.AccountInfo, error) { return l, nil }

// lengthValidator stands in for the plugins' Validate: it counts runes against a limit,
// which is what the outbox plugin does.
type lengthValidator struct{ max int }

func (v lengthValidator) Validate(_ context.Context, accounts []string, p sdk.Post) ([]string, error) {
	var out []string
	if n := len([]rune(p.Text)); n > v.max {
		for _, a := range accounts {
			out = append(out, fmt.Sprintf("%s: text: %d characters, the limit is %d", a, n, v.max))
		}
	}
	return out, nil
}

type kickCounter struct{ n atomic.Int64 }

func (k *kickCounter) Kick() { k.n.Add(1) }

// env is a real SQLite store behind the real handler on an httptest server.
type env struct {
	t      testing.TB
	store  *sqlite.DB
	srv    *httptest.Server
	clock  *clock.Fake
	kicks  *kickCounter
	tokens map[queue.Role]string
	routes []api.Route
}

var t0 = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, mod ...func(*api.Options, *clock.Fake)) *env {
	t.Helper()
	return newEnvWithStore(t, nil, mod...)
}

// newEnvWithStore is newEnv with the store opened with opts too (its limits).
func newEnvWithStore(t testing.TB, opts []sqlite.Option, mod ...func(*api.Options, *clock.Fake)) *env {
	t.Helper()
	clock := clock.NewFake(t0)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"), append([]sqlite.Option{sqlite.WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, store: db, clock: clock, kicks: &kickCounter{}, tokens: map[queue.Role]string{}}
	opt := api.Options{
		Store:     db,
		Validator: lengthValidator{max: 50},
		Accounts: accountList{
			{Name: "brand-mastodon", Plugin: "mastodon", PluginVersion: "1.0.0", Healthy: true},
			{Name: "brand-bsky", Plugin: "bluesky", Healthy: true},
		},
		Kicker:  e.kicks,
		Now:     clock.Now,
		Version: "test",
	}
	for _, m := range mod {
		m(&opt, clock)
	}
	e.routes = api.Routes()
	e.srv = httptest.NewServer(api.New(opt))
	t.Cleanup(e.srv.Close)
	for _, role := range []queue.Role{queue.RoleViewer, queue.RoleMarketer, queue.RoleAdmin} {
		tok := queue.NewToken()
		if err := db.CreateUser(ctx, queue.System("test"), &queue.User{Name: string(role) + "-user", Role: role}, queue.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = tok
	}
	return e
}

// response is an answer with its decoded JSON body.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

// do sends a request as role ("" for no token); body is JSON-encoded unless it is a string.
func (e *env) do(role queue.Role, method, path string, body any, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

// must checks the status and returns the response.
func (e *env) must(want int, r response) response {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

func (e *env) campaign(name string, extra map[string]any) response {
	e.t.Helper()
	body := map[string]any{"name": name, "accounts": []string{"brand-mastodon", "brand-bsky"}, "topics": []string{"travel"}}
	for k, v := range extra {
		body[k] = v
	}
	return e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns", body))
}

func (e *env) post(campaign, text, at string) int64 {
	e.t.Helper()
	r := e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": campaign, "text": text, "at": at}))
	return int64(r.body["id"].(float64))
}

func (e *env) postState(id int64) string {
	e.t.Helper()
	return e.must(200, e.do(queue.RoleViewer, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil)).str("state")
}

func TestEveryRouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	fill := strings.NewReplacer("{campaign}", "spring", "{id}", "1", "{name}", "nobody")
	rank := map[queue.Role]int{queue.RoleViewer: 1, queue.RoleMarketer: 2, queue.RoleAdmin: 3}
	for _, rt := range e.routes {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			if !rt.Role.Valid() {
				t.Fatalf("route has no valid role (%q): every route must say who may call it", rt.Role)
			}
			if rt.Method != "GET" && rt.Role == queue.RoleViewer {
				t.Fatalf("viewers may only read, but %s is open to them", rt.Method)
			}
			path := fill.Replace(rt.Path)
			if r := e.do("", rt.Method, path, nil); r.status != 401 || r.str("error") == "" {
				t.Errorf("no token: status %d, want 401 with an error: %s", r.status, r.raw)
			}
			r := e.do("", rt.Method, path, nil, "Authorization", "Bearer tact_not-a-real-token")
			if r.status != 401 {
				t.Errorf("wrong token: status %d, want 401: %s", r.status, r.raw)
			}
			for role, n := range rank {
				r := e.do(role, rt.Method, path, nil)
				if n < rank[rt.Role] && r.status != 403 {
					t.Errorf("role %s on a %s route: status %d, want 403: %s", role, rt.Role, r.status, r.raw)
				}
				if n >= rank[rt.Role] && (r.status == 401 || r.status == 403) {
					t.Errorf("role %s on a %s route: refused with %d: %s", role, rt.Role, r.status, r.raw)
				}
			}
		})
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	ops := 0
	for _, m := range doc.Paths {
		ops += len(m)
	}
	if ops != len(e.routes) {
		t.Errorf("the document has %d operations, the server %d routes", ops, len(e.routes))
	}
	for _, rt := range e.routes {
		op := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if op == nil {
			t.Errorf("%s %s is not described", rt.Method, rt.Path)
			continue
		}
		if op["summary"] == "" || op["x-tact-role"] != string(rt.Role) {
			t.Errorf("%s %s: summary %q, role %v", rt.Method, rt.Path, op["summary"], op["x-tact-role"])
		}
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			if !strings.Contains(fmt.Sprint(op["parameters"]), "name:"+m[1]) {
				t.Errorf("%s %s: path parameter %s not described", rt.Method, rt.Path, m[1])
			}
		}
	}
	// Every $ref resolves.
	for _, ref := range findRefs(r.raw) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("dangling $ref %s", ref)
		}
	}
	if p := doc.Components.Schemas["PostInput"]; !strings.Contains(fmt.Sprint(p), "campaign") {
		t.Errorf("PostInput schema lacks its fields: %v", p)
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func findRefs(raw []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, v := range x {
				if k == "$ref" {
					out = append(out, v.(string))
				}
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	walk(v)
	return out
}

func TestPostLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.campaign("spring", map[string]any{"timezone": "Europe/Paris"})
	if c.header.Get("ETag") != `"1"` || c.str("approval") != "required" {
		t.Fatalf("campaign: etag %q, %s", c.header.Get("ETag"), c.raw)
	}
	kicks := e.kicks.n.Load()
	// A local time is read in the campaign's zone (Paris is UTC+2 in May).
	r := e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{
		"campaign": "spring", "text": "Spring fares are here", "at": "2026-05-02 09:00", "account": "brand-mastodon"}))
	if r.str("due_at") != "2026-05-02T07:00:00Z" || r.str("state") != "pending" || r.str("timezone") != "Europe/Paris" {
		t.Fatalf("created post: %s", r.raw)
	}
	if acc := fmt.Sprint(r.body["accounts"]); acc != "[brand-mastodon]" {
		t.Errorf("accounts = %s", acc)
	}
	if e.kicks.n.Load() == kicks {
		t.Error("creating a post did not kick the scheduler")
	}
	id := int64(r.body["id"].(float64))

	kicks = e.kicks.n.Load()
	a := e.must(200, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), nil))
	if a.str("state") != "approved" || !strings.HasSuffix(a.str("approved_by"), "marketer-user") || a.header.Get("ETag") != `"2"` {
		t.Fatalf("approve: %s etag %s", a.raw, a.header.Get("ETag"))
	}
	if e.kicks.n.Load() == kicks {
		t.Error("approving did not kick the publisher")
	}

	// Editing an approved post sends it back to pending.
	ed := e.must(200, e.do(queue.RoleMarketer, "PATCH", fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"text": "Spring fares are here!"}, "If-Match", `"2"`))
	if ed.str("state") != "pending" || ed.str("text") != "Spring fares are here!" {
		t.Fatalf("edit: %s", ed.raw)
	}

	// Reject needs a reason, and keeps it.
	bad := e.must(400, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/reject", id), map[string]any{}))
	if bad.str("field") != "reason" {
		t.Errorf("reject without reason: %s", bad.raw)
	}
	rj := e.must(200, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/reject", id), map[string]any{"reason": "wrong tone"}))
	if rj.str("state") != "rejected" || rj.str("reason") != "wrong tone" {
		t.Fatalf("reject: %s", rj.raw)
	}

	// The audit log has it all, by name.
	au := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/audit?since=1h", nil))
	for _, action := range []string{"post.create", "post.approve", "post.reject"} {
		if !strings.Contains(string(au.raw), action) {
			t.Errorf("audit log lacks %s: %s", action, au.raw)
		}
	}
	// A viewer cannot approve.
	e.must(403, e.do(queue.RoleViewer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), nil))
}

func TestStaleVersionIsAConflictWithTheCurrentPost(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	id := e.post("spring", "Spring fares", "+2h")
	// Marketer A edits at version 1; marketer B still holds version 1.
	e.must(200, e.do(queue.RoleMarketer, "PATCH", fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"text": "Spring fares, now"}, "If-Match", `"1"`))
	r := e.must(409, e.do(queue.RoleMarketer, "PATCH", fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"text": "mine"}, "If-Match", `"1"`))
	post, _ := r.body["post"].(map[string]any)
	if post == nil || post["text"] != "Spring fares, now" || post["version"].(float64) < 2 {
		t.Fatalf("409 body lacks the current post: %s", r.raw)
	}
	r = e.must(409, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), map[string]any{"version": 1}))
	if r.body["post"] == nil || !strings.Contains(r.str("error"), "version") {
		t.Fatalf("stale approve: %s", r.raw)
	}
	if e.postState(id) != "pending" {
		t.Error("a stale approve changed the post")
	}
	// If-Match and a version field that disagree are refused.
	cur := fmt.Sprintf(`"%d"`, int(post["version"].(float64)))
	e.must(400, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), map[string]any{"version": 1}, "If-Match", cur))
	e.must(200, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), nil, "If-Match", cur))
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) { o.MaxBody = 4 << 10 })
	e.campaign("spring", nil)
	cases := []struct {
		name, body string
		status     int
		field      string
		msg        string
	}{
		{"too large", `{"campaign":"spring","at":"+1h","text":"` + strings.Repeat("x", 5000) + `"}`, 413, "", "larger than 4 KiB"},
		{"unknown field", `{"campaign":"spring","at":"+1h","txt":"hello"}`, 400, "txt", `unknown field "txt"`},
		{"malformed", "{\"campaign\": \"spring\",\n \"at\": \"+1h\",,\n}", 400, "", "line 2, column"},
		{"truncated", `{"campaign": "spring"`, 400, "", "ends early"},
		{"wrong type", `{"campaign":"spring","at":"+1h","text":42}`, 400, "text", "must be a string"},
		{"trailing data", `{"campaign":"spring","at":"+1h","text":"a"} {}`, 400, "", "after the value"},
		{"past time", `{"campaign":"spring","at":"2026-05-01T07:59:00Z","text":"late"}`, 400, "at", "in the past"},
		{"past due_at", `{"campaign":"spring","due_at":"2026-04-30 10:00","text":"late"}`, 400, "due_at", "in the past"},
		{"bad time", `{"campaign":"spring","at":"tomorrow","text":"x"}`, 400, "at", "cannot read time"},
		{"unknown campaign", `{"campaign":"autumn","at":"+1h","text":"x"}`, 400, "campaign", `"autumn"`},
		{"unknown account", `{"campaign":"spring","at":"+1h","text":"x","accounts":["brand-x"]}`, 400, "accounts", `"brand-x"`},
		{"empty", ``, 400, "", "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(queue.RoleMarketer, "POST", "/api/v1/posts", c.body)
			if r.status != c.status || r.str("field") != c.field || !strings.Contains(r.str("error"), c.msg) {
				t.Errorf("got %d field %q: %s; want %d field %q containing %q", r.status, r.str("field"), r.raw, c.status, c.field, c.msg)
			}
		})
	}
	if n := len(e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil)).body["items"].([]any)); n != 0 {
		t.Errorf("%d posts stored from bad input", n)
	}
	// Campaigns: bad zone, bad cron, unknown account, each naming its field.
	for field, body := range map[string]map[string]any{
		"timezone": {"name": "x1", "accounts": []string{"brand-bsky"}, "timezone": "Mars/Olympus"},
		"schedule": {"name": "x2", "accounts": []string{"brand-bsky"}, "schedule": "61 * * * *", "pool": []string{"a"}},
		"accounts": {"name": "x3", "accounts": []string{"nope"}},
		"veto":     {"name": "x4", "accounts": []string{"brand-bsky"}, "approval": "autopilot", "veto": "two hours"},
		"name":     {"name": "no spaces", "accounts": []string{"brand-bsky"}},
	} {
		r := e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns", body)
		if r.status != 400 || r.str("field") != field {
			t.Errorf("campaign with bad %s: %d %s", field, r.status, r.raw)
		}
	}
	// A 404 for an unknown campaign in the path names it.
	r := e.must(404, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/autumn", nil))
	if !strings.Contains(r.str("error"), `"autumn"`) {
		t.Errorf("404: %s", r.raw)
	}
	e.must(404, e.do(queue.RoleViewer, "GET", "/api/v1/nothing-here", nil))
	r = e.must(405, e.do(queue.RoleViewer, "DELETE", "/api/v1/campaigns/spring/pause", nil))
	if r.header.Get("Allow") != "POST" || !strings.Contains(r.str("error"), "allowed: POST") {
		t.Errorf("405: %v %s", r.header, r.raw)
	}
}

func TestApprovingAPostWithProblemsIsRefused(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	long := strings.Repeat("long ", 20)
	r := e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": "spring", "text": long, "at": "+3h"}))
	if probs := fmt.Sprint(r.body["problems"]); !strings.Contains(probs, "brand-mastodon: text: 99 characters, the limit is 50") {
		t.Fatalf("problems not stored: %s", r.raw)
	}
	id := int64(r.body["id"].(float64))
	a := e.must(409, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", id), nil))
	if a.str("field") != "problems" || a.body["problems"] == nil {
		t.Fatalf("approve with problems: %s", a.raw)
	}
	// Shortening the text clears the problems; then it can be approved.
	ed := e.must(200, e.do(queue.RoleMarketer, "PATCH", fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"text": "short"}))
	if ed.body["problems"] != nil {
		t.Fatalf("problems kept after the edit: %s", ed.raw)
	}
	// Bulk approve: one good, one missing.
	b := e.must(409, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/approve", map[string]any{"ids": []int64{id, 999}}))
	if fmt.Sprint(b.body["approved"]) != fmt.Sprintf("[%d]", id) || !strings.Contains(string(b.raw), `"status": 404`) {
		t.Fatalf("bulk approve: %s", b.raw)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", map[string]any{"timezone": "Europe/Paris"})
	bad := "campaign,at,text,account\n" +
		"spring,2026-05-03 10:00,Good one,brand-bsky\n" +
		"autumn,2026-05-03 10:00,Unknown campaign\n" +
		"spring,2026-04-01 10:00,In the past\n" +
		"spring,2026-05-03 11:00,Wrong account,brand-x\n" +
		"spring,2026-05-03 12:00\n"
	r := e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", bad, "Content-Type", "text/csv"))
	rows, _ := r.body["rows"].([]any)
	want := map[float64]string{3: "campaign", 4: "at", 5: "accounts", 6: ""}
	if len(rows) != len(want) {
		t.Fatalf("want %d bad rows: %s", len(want), r.raw)
	}
	for _, x := range rows {
		row := x.(map[string]any)
		f, ok := want[row["line"].(float64)]
		if !ok || row["field"] != nilIfEmpty(f) {
			t.Errorf("unexpected bad row %v", row)
		}
	}
	if !strings.Contains(r.str("error"), "nothing was imported") {
		t.Errorf("error: %s", r.str("error"))
	}
	if n := len(e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil)).body["items"].([]any)); n != 0 {
		t.Fatalf("%d posts imported from a bad file", n)
	}
	// A good file without a header imports every row; a JSON array too.
	good := "spring,2026-05-03 10:00,One\nspring,\"2026-05-03 11:00\",\"Two, with a comma\",brand-bsky\n"
	r = e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", good))
	if n := len(r.body["items"].([]any)); n != 2 {
		t.Fatalf("imported %d: %s", n, r.raw)
	}
	r = e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", `[{"campaign":"spring","at":"+5h","text":"Three"}]`))
	// JSON rows are numbered by item.
	r = e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", `[{"campaign":"spring","at":"+5h","text":"ok"},{"campaign":"spring","at":"+5h","txt":"x"}]`))
	if !strings.Contains(string(r.raw), `"line": 2`) || !strings.Contains(string(r.raw), `"field": "txt"`) {
		t.Errorf("json import errors: %s", r.raw)
	}
	list := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?campaign=spring&state=pending", nil))
	if n := len(list.body["items"].([]any)); n != 3 {
		t.Errorf("%d pending posts, want 3", n)
	}
}

// TestImportFileProblems: what is wrong with the file itself (its header, its quoting) is
// reported by line like a bad row, and a file without posts says so; the format is the
// web UI's too (daemon/importer).
func TestImportFileProblems(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	for _, c := range []struct {
		name, body string
		line       float64
		field, msg string
	}{
		{"column twice", "campaign,at,text,campaign\nspring,+1h,x,spring\n", 1, "campaign", `column "campaign" appears twice`},
		{"no text column", "\ncampaign,at\nspring,+1h\n", 2, "text", `no "text" column`},
		{"broken quote", "spring,+1h,fine\nspring,+1h,\"never closed\n", 2, "", "not valid CSV"},
	} {
		r := e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", c.body, "Content-Type", "text/csv"))
		rows, _ := r.body["rows"].([]any)
		if len(rows) != 1 {
			t.Errorf("%s: want one bad line: %s", c.name, r.raw)
			continue
		}
		row := rows[0].(map[string]any)
		if row["line"] != c.line || row["field"] != nilIfEmpty(c.field) || !strings.Contains(row["error"].(string), c.msg) || !strings.Contains(r.str("error"), "nothing was imported") {
			t.Errorf("%s: %s", c.name, r.raw)
		}
	}
	r := e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", "campaign,at,text\n", "Content-Type", "text/csv"))
	if r.body["rows"] != nil || !strings.Contains(r.str("error"), "no posts") {
		t.Errorf("header only: %s", r.raw)
	}
	if n := len(e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil)).body["items"].([]any)); n != 0 {
		t.Fatalf("%d posts imported from bad files", n)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestPostsArePaged(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	for i := range 5 {
		e.post("spring", fmt.Sprintf("post %d", i), fmt.Sprintf("+%dh", 5-i))
	}
	var texts []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?limit=2&cursor="+cursor, nil))
		for _, it := range r.body["items"].([]any) {
			texts = append(texts, it.(map[string]any)["text"].(string))
		}
		if cursor = r.str("next"); cursor == "" {
			break
		}
	}
	if got := strings.Join(texts, ","); got != "post 4,post 3,post 2,post 1,post 0" {
		t.Errorf("pages gave %s (want soonest due first)", got)
	}
	r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?due_before=%2B3h", nil))
	if n := len(r.body["items"].([]any)); n != 2 {
		t.Errorf("due_before=+3h: %d posts, want 2", n)
	}
	e.must(400, e.do(queue.RoleViewer, "GET", "/api/v1/posts?state=sent", nil))
}

func TestCampaignPauseResume(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	r := e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/spring/pause", map[string]any{}))
	if r.str("field") != "reason" {
		t.Errorf("pause without reason: %s", r.raw)
	}
	p := e.must(200, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/spring/pause", map[string]any{"reason": "storm"}))
	if p.str("state") != "paused" || !strings.Contains(string(p.raw), "storm") {
		t.Fatalf("pause: %s", p.raw)
	}
	e.must(409, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/spring/pause", map[string]any{"reason": "again"}))
	st := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/status", nil))
	if !strings.Contains(string(st.raw), `"storm"`) {
		t.Errorf("status does not show the paused campaign: %s", st.raw)
	}
	kicks := e.kicks.n.Load()
	e.must(200, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/spring/resume", nil))
	if e.kicks.n.Load() == kicks {
		t.Error("resume did not kick")
	}
	// Pause-all is an admin's.
	e.must(403, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/pause-all", map[string]any{"reason": "crisis"}))
	pa := e.must(200, e.do(queue.RoleAdmin, "POST", "/api/v1/campaigns/pause-all", map[string]any{"reason": "crisis"}))
	if pa.body["count"].(float64) != 1 {
		t.Errorf("pause-all: %s", pa.raw)
	}
	ra := e.must(200, e.do(queue.RoleAdmin, "POST", "/api/v1/campaigns/resume-all", nil))
	if ra.body["count"].(float64) != 1 {
		t.Errorf("resume-all: %s", ra.raw)
	}
	// PATCH with a stale version is a conflict with the current campaign.
	e.must(200, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/spring", map[string]any{"topics": []string{"travel", "promotion"}}))
	c := e.must(409, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/spring", map[string]any{"topics": []string{"x"}}, "If-Match", `"1"`))
	if c.body["campaign"] == nil {
		t.Errorf("campaign conflict without the campaign: %s", c.raw)
	}
}

// withWatcher wires the real watcher and the shipped default rules.
func withWatcher(t *testing.T) func(*api.Options, *clock.Fake) {
	return func(o *api.Options, clk *clock.Fake) {
		ctx := context.Background()
		quiet := slog.New(slog.DiscardHandler)
		rs, err := watch.NewRules(ctx, []string{filepath.Join("..", "..", "rules", "default", "*.toml")}, watch.RulesOptions{Store: o.Store, Now: o.Now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		w, err := watch.New(watch.Options{Store: o.Store, Rules: rs, Logger: quiet, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		o.Rules, o.Watch, o.Warnings = rs, w, w
	}
}

func TestContextPush(t *testing.T) {
	e := newEnv(t, withWatcher(t))
	e.campaign("spring", nil)
	r := e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{"summary": "no title"}))
	if r.str("field") != "title" {
		t.Errorf("missing title: %s", r.raw)
	}
	e.must(400, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{"title": "x", "published_at": "yesterday"}))
	r = e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{
		"source": "wire", "title": "Plane crash near Lyon: airliner with 150 aboard", "url": "https://news.example/1", "published_at": "2026-05-01T07:55:00Z"}))
	item, _ := r.body["item"].(map[string]any)
	incs, _ := r.body["incidents"].([]any)
	if item == nil || item["title"] != "Plane crash near Lyon: airliner with 150 aboard" || item["id"].(float64) < 1 || len(incs) != 1 {
		t.Fatalf("push answer: %s", r.raw)
	}
	if c := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/spring", nil)); c.str("state") != "paused" {
		t.Errorf("the crash did not pause the travel campaign: %s", c.raw)
	}
	r = e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{"title": "Sunny weekend"}))
	if string(mustJSON(r.body["incidents"])) != "[]" || r.body["item"].(map[string]any)["source"] != "api" {
		t.Errorf("quiet push: %s", r.raw)
	}
	recent := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/context?since=1h", nil))
	if n := len(recent.body["items"].([]any)); n != 2 {
		t.Errorf("recent context: %d items", n)
	}
	incID := incs[0].(map[string]any)["id"].(float64)
	e.must(403, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", int(incID)), map[string]any{"note": "over"}))
	res := e.must(200, e.do(queue.RoleAdmin, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", int(incID)), map[string]any{"note": "over"}))
	if res.str("state") != "resolved" {
		t.Errorf("resolve: %s", res.raw)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestUsers(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, e.do(queue.RoleAdmin, "POST", "/api/v1/users", map[string]any{"name": "ana", "role": "marketer"}))
	tok := r.str("token")
	if !strings.HasPrefix(tok, "tact_") {
		t.Fatalf("no token: %s", r.raw)
	}
	list := e.must(200, e.do(queue.RoleAdmin, "GET", "/api/v1/users", nil))
	if strings.Contains(string(list.raw), tok) || strings.Contains(string(list.raw), queue.HashToken(tok)) {
		t.Fatal("the user list shows a token or its hash")
	}
	e.tokens["ana"] = tok
	e.must(200, e.do("ana", "GET", "/api/v1/status", nil))
	e.must(403, e.do("ana", "GET", "/api/v1/users", nil))
	e.must(400, e.do(queue.RoleAdmin, "POST", "/api/v1/users", map[string]any{"name": "bob", "role": "root"}))
	e.must(204, e.do(queue.RoleAdmin, "DELETE", "/api/v1/users/ana", nil))
	e.must(401, e.do("ana", "GET", "/api/v1/status", nil))
	r = e.must(409, e.do(queue.RoleAdmin, "DELETE", "/api/v1/users/admin-user", nil))
	if !strings.Contains(r.str("error"), "last admin") {
		t.Errorf("deleting the last admin: %s", r.raw)
	}
}

func TestMissingServicesAnswer503(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) { o.Rules, o.Watch = nil, nil })
	for _, p := range []string{"/api/v1/rules"} {
		r := e.must(503, e.do(queue.RoleViewer, "GET", p, nil))
		if !strings.Contains(r.str("error"), "rules engine") {
			t.Errorf("%s: %s", p, r.raw)
		}
	}
	e.must(503, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{"title": "x"}))
}

func TestSessionHook(t *testing.T) {
	web := &queue.User{Name: "web-ana", Role: queue.RoleMarketer}
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) {
		o.SessionUser = func(r *http.Request) (*queue.User, bool) {
			c, err := r.Cookie("session")
			return web, err == nil && c.Value == "ok"
		}
	})
	e.must(200, e.do("", "GET", "/api/v1/status", nil, "Cookie", "session=ok"))
	e.must(401, e.do("", "GET", "/api/v1/status", nil, "Cookie", "session=bad"))
	e.must(403, e.do("", "GET", "/api/v1/users", nil, "Cookie", "session=ok"))
}

func TestRules(t *testing.T) {
	e := newEnv(t, withWatcher(t))
	st := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/rules", nil))
	if n := len(st.body["rules"].([]any)); n < 5 {
		t.Fatalf("%d rules in force: %s", n, st.raw[:200])
	}
	e.must(403, e.do(queue.RoleMarketer, "POST", "/api/v1/rules/reload", nil))
	e.must(200, e.do(queue.RoleAdmin, "POST", "/api/v1/rules/reload", nil))
	au := e.must(200, e.do(queue.RoleAdmin, "GET", "/api/v1/audit", nil))
	if !strings.Contains(string(au.raw), `"name": "admin-user"`) || !strings.Contains(string(au.raw), "rules.reload") {
		t.Errorf("the reload is not audited with who asked: %s", au.raw)
	}
	// Preview: a campaign about air travel, a crash in the news, a rule that pauses it.
	// (The campaign is created after the news: the default air rule would have paused it.)
	e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/context", map[string]any{"title": "Airliner crash near Lyon, 150 aboard"}))
	e.campaign("flights", map[string]any{"topics": []string{"air-travel"}})
	e.post("flights", "Cheap flights to Lyon", "+3h")
	rule := `[[rule]]
id = "air-test"
description = "test"
action = "pause"
window = "24h"
resume = "manual"
[rule.news]
any = ["crash"]
min_sources = 1
[rule.posts]
topics = ["air-travel"]
`
	pv := e.must(200, e.do(queue.RoleAdmin, "POST", "/api/v1/rules/preview", map[string]any{"files": map[string]string{"air.toml": rule}}))
	if !strings.Contains(string(pv.raw), `"flights"`) {
		t.Errorf("preview does not pause the air campaign: %s", pv.raw)
	}
	bad := e.must(400, e.do(queue.RoleAdmin, "POST", "/api/v1/rules/preview", map[string]any{"files": map[string]string{"bad.toml": "[[rule]]\nid = \n"}}))
	if !strings.Contains(bad.str("error"), "bad.toml") {
		t.Errorf("preview of a broken file: %s", bad.raw)
	}
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	e.store.Close() // every store call now fails with a driver error
	r := e.must(500, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns", nil))
	if strings.Contains(string(r.raw), "sql") || !strings.Contains(r.str("error"), "daemon's log") {
		t.Errorf("500 body: %s", r.raw)
	}
	if !strings.Contains(logs.String(), "sql") || !strings.Contains(logs.String(), "/api/v1/campaigns") {
		t.Errorf("the internal error was not logged: %s", logs.String())
	}
}

func TestDeleteAndCampaignIfMatch(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	id := e.post("spring", "To be deleted", "+1h")
	e.must(409, e.do(queue.RoleMarketer, "DELETE", fmt.Sprintf("/api/v1/posts/%d", id), nil, "If-Match", `"7"`))
	e.must(204, e.do(queue.RoleMarketer, "DELETE", fmt.Sprintf("/api/v1/posts/%d", id), nil, "If-Match", `"1"`))
	e.must(404, e.do(queue.RoleViewer, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil))
	e.must(400, e.do(queue.RoleViewer, "GET", "/api/v1/posts/abc", nil))

	c := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/spring", nil))
	etag := c.header.Get("ETag")
	e.must(200, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/spring", map[string]any{"late": "1h"}, "If-Match", etag))
	r := e.must(409, e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns/spring/pause", map[string]any{"reason": "x"}, "If-Match", etag))
	if r.body["campaign"].(map[string]any)["late"] != "1h0m0s" {
		t.Errorf("conflict body: %s", r.raw)
	}
}

// BenchmarkImport measures a 1,000-row CSV import: every row checked, one transaction.
func BenchmarkImport(b *testing.B) {
	e := newEnv(b)
	e.campaign("spring", nil)
	var csv strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&csv, "spring,+%dm,Post number %d\n", 60+i, i)
	}
	body := csv.String()
	b.ResetTimer()
	for b.Loop() {
		e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", body, "Content-Type", "text/csv"))
	}
}

// BenchmarkListPosts measures one 100-post page of the queue out of 5,000.
func BenchmarkListPosts(b *testing.B) {
	e := newEnv(b)
	e.campaign("spring", nil)
	var csv strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&csv, "spring,+%dm,Post number %d\n", 60+i, i)
	}
	e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", csv.String()))
	b.ResetTimer()
	for b.Loop() {
		e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?limit=100&state=pending", nil))
	}
}
