package api_test

import (
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// TestCampaignLeadIsBounded is issue 10's "lead": "100000h" on a minutely schedule: the
// API refuses a lead beyond [daemon] max_lead (default 90 days) with a 400 naming the
// field, the limit and what to do, on create and on update, and changes nothing.
func TestCampaignLeadIsBounded(t *testing.T) {
	e := newEnv(t)
	r := e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns", map[string]any{"name": "runaway", "accounts": []string{"brand-bsky"},
		"schedule": "* * * * *", "pool": []string{"every minute"}, "lead": "100000h"})
	if r.status != 400 || r.str("field") != "lead" || !strings.Contains(r.str("error"), "2160h") || !strings.Contains(r.str("error"), "max_lead") {
		t.Fatalf("create with lead 100000h: %d %s; want 400 on lead naming the limit 2160h and max_lead", r.status, r.raw)
	}
	e.must(404, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/runaway", nil))

	c := e.campaign("weekly", map[string]any{"schedule": "0 9 * * MON", "pool": []string{"tip"}, "lead": "168h"})
	r = e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/weekly", map[string]any{"lead": "2161h"})
	if r.status != 400 || r.str("field") != "lead" {
		t.Fatalf("update with lead 2161h: %d %s", r.status, r.raw)
	}
	got := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/weekly", nil))
	if got.str("lead") != "168h0m0s" || got.body["version"] != c.body["version"] {
		t.Fatalf("a refused update changed the campaign: %s", got.raw)
	}
	e.must(200, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/weekly", map[string]any{"lead": "2160h"}))
}

// TestCampaignZoneMustBeIANA: "Local" follows the host, and an empty zone in an edit
// would be UTC; both are refused with an example of what to write.
func TestCampaignZoneMustBeIANA(t *testing.T) {
	e := newEnv(t)
	r := e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns", map[string]any{"name": "host", "accounts": []string{"brand-bsky"}, "timezone": "Local"})
	if r.status != 400 || r.str("field") != "timezone" || !strings.Contains(r.str("error"), "Europe/Paris") {
		t.Fatalf("zone Local: %d %s", r.status, r.raw)
	}
	e.campaign("paris", map[string]any{"timezone": "Europe/Paris"})
	for _, zone := range []string{"Local", "", " "} {
		r = e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/paris", map[string]any{"timezone": zone})
		if r.status != 400 || r.str("field") != "timezone" || !strings.Contains(r.str("error"), "Europe/Paris") {
			t.Errorf("edit to zone %q: %d %s", zone, r.status, r.raw)
		}
	}
	if z := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/paris", nil)).str("timezone"); z != "Europe/Paris" {
		t.Fatalf("zone now %q", z)
	}
}

// TestOpenPostLimitThroughTheAPI: a campaign at [daemon] max_open_posts_per_campaign
// refuses a new post and an import with a 409 that says what to do, and shows the limit
// as its problem.
func TestOpenPostLimitThroughTheAPI(t *testing.T) {
	e := newEnvWithStore(t, []sqlite.Option{sqlite.WithLimits(queue.Limits{MaxOpenPosts: 2})})
	e.campaign("spring", nil)
	e.post("spring", "one", "+1h")
	r := e.do(queue.RoleMarketer, "POST", "/api/v1/posts/import", "spring,+2h,two\nspring,+3h,three\n", "Content-Type", "text/csv")
	if r.status != 409 || r.str("field") != "open_posts" || !strings.Contains(r.str("error"), "max_open_posts_per_campaign") {
		t.Fatalf("import beyond the limit: %d %s", r.status, r.raw)
	}
	e.post("spring", "two", "+2h")
	r = e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": "spring", "text": "three", "at": "+3h"})
	if r.status != 409 || r.str("field") != "open_posts" || !strings.Contains(r.str("error"), "reject or delete some") {
		t.Fatalf("post beyond the limit: %d %s", r.status, r.raw)
	}
	c := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/spring", nil))
	if c.body["open_posts"] != 2.0 || !strings.Contains(c.str("problem"), "2 open posts") {
		t.Fatalf("campaign at the limit: %s", c.raw)
	}
	l := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns", nil))
	if items := l.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["problem"] == nil {
		t.Fatalf("campaign list does not show the problem: %s", l.raw)
	}
	if n := len(e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil)).body["items"].([]any)); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}

// TestBodyThatIsNotUTF8 is refused with its line and column, not stored as U+FFFD (nor a
// 503 from the plugins later): every JSON body goes through the same decoder.
func TestBodyThatIsNotUTF8(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", nil)
	for _, c := range []struct{ method, path, body, where string }{
		{"POST", "/api/v1/posts", "{\"campaign\": \"spring\", \"at\": \"+1h\",\n \"text\": \"Caf\xe9\"}", "line 2, column 14"},
		{"POST", "/api/v1/campaigns", `{"name": "autumn", "accounts": ["brand-bsky"], "topics": ["caf` + "\xe9" + `"]}`, "line 1, column 63"},
		{"POST", "/api/v1/posts/import", `[{"campaign": "spring", "at": "+1h", "text": "` + "\xff" + `"}]`, "line 1, column 47"},
		{"POST", "/api/v1/context", `{"title": "` + "\xc3" + `"}`, "line 1, column 12"},
	} {
		r := e.do(queue.RoleAdmin, c.method, c.path, c.body)
		if r.status != 400 || !strings.Contains(r.str("error"), "not valid UTF-8") || !strings.Contains(r.str("error"), c.where) || !strings.Contains(r.str("error"), "save the file") {
			t.Errorf("%s %s: %d %s; want 400 saying where (%s)", c.method, c.path, r.status, r.raw, c.where)
		}
	}
	if n := len(e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil)).body["items"].([]any)); n != 0 {
		t.Fatalf("%d posts stored", n)
	}
	e.must(404, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/autumn", nil))
}
