package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

// The role matrix: every route of the web UI and of the HTTP API, from their route tables,
// against every kind of caller: nobody, a wrong token, a made-up session, an ended session,
// an expired session, and each role with and without the CSRF token. What each caller must
// get is derived from the role the route declares, so a route added to either table is
// checked without anyone writing a test for it, and a route that declares no role fails.

var roles = []queue.Role{queue.RoleViewer, queue.RoleMarketer, queue.RoleAdmin}

// matrix is the fixture seen by the callers of the matrix.
type matrix struct {
	f       *fixture
	server  *httptest.Server
	srv     string
	signed  map[queue.Role]*client // signed in, one per role
	csrf    map[queue.Role]string
	strange map[string]*client // callers without a valid session, by what they hold
	expired *client            // a session the clock will have run out
	fill    *strings.Replacer
}

func newMatrix(t *testing.T) *matrix {
	f := mustFixture(t)
	srv := f.daemonServer()
	m := &matrix{f: f, server: srv, srv: srv.URL, signed: map[queue.Role]*client{}, csrf: map[queue.Role]string{}, strange: map[string]*client{}}
	for _, role := range roles {
		c := f.on(srv)
		c.login(f.tokens[role])
		m.signed[role], m.csrf[role] = c, c.csrf("/")
	}
	m.strange["no session"] = f.on(srv)

	wrong := f.on(srv) // tried a token that is not valid: holds the login form's cookie only
	tok := wrong.csrf("/login")
	if resp, _ := wrong.do("POST", "/login", url.Values{"csrf": {tok}, "token": {"tact_" + strings.Repeat("x", 43)}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login with a wrong token: %d, want 401", resp.StatusCode)
	}
	m.strange["wrong token"] = wrong

	// A cookie signed with the real key for a session the store never had: only the store
	// can tell.
	id := base64.RawURLEncoding.EncodeToString([]byte("an id this server never handed out"))[:43]
	mac := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
	mac.Write([]byte("session"))
	mac.Write([]byte{0})
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	forged := id + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	m.strange["made-up session"] = f.replay(srv, []*http.Cookie{{Name: "tact_session", Value: forged}})

	ended := f.on(srv)
	ended.login(f.tokens[queue.RoleAdmin])
	saved := ended.cookies()
	if resp, _ := ended.do("POST", "/logout", url.Values{"csrf": {ended.csrf("/")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	m.strange["ended session"] = f.replay(srv, saved)

	m.expired = f.on(srv)
	m.expired.login(f.tokens[queue.RoleAdmin])

	incidents, err := f.store.Incidents(f.ctx, queue.IncidentFilter{})
	if err != nil || len(incidents) == 0 {
		t.Fatalf("the fixture has no incident (%v)", err)
	}
	m.fill = strings.NewReplacer(
		// Web UI
		"/posts/{id}", fmt.Sprintf("/posts/%d", f.posts["colours"].ID),
		"/campaigns/{id}", fmt.Sprintf("/campaigns/%d", f.spring.ID),
		"/incidents/{id}", fmt.Sprintf("/incidents/%d", incidents[0].ID),
		"/media/{id}", "/media/"+strings.Repeat("0", 64),
		"{event}", "hold",
		// API (a post of its own: the matrix deletes it)
		"/api/v1/posts/{id}", fmt.Sprintf("/api/v1/posts/%d", f.posts["shipping"].ID),
		"/api/v1/incidents/{id}", fmt.Sprintf("/api/v1/incidents/%d", incidents[0].ID),
		"/api/v1/media/{id}", "/api/v1/media/"+strings.Repeat("0", 64),
		"{campaign}", "spring-sale",
		"{name}", "nobody",
	)
	return m
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// path is the route's pattern with its wildcards filled in.
func (m *matrix) path(t *testing.T, pattern string) string {
	t.Helper()
	p := strings.TrimSuffix(m.fill.Replace(pattern), "{$}")
	if w := wildcard.FindString(p); w != "" {
		t.Fatalf("route %s: the matrix has no value for %s: add one to newMatrix's fill", pattern, w)
	}
	return p
}

// send makes one request as c (nil: no cookies at all) and answers its status and where it
// redirects.
func (m *matrix) send(t *testing.T, c *client, method, path string, form url.Values, hdr ...string) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, m.srv+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// asExpired sends as the expired session: the web UI's clock is moved past SessionTTL for
// this request only.
func (m *matrix) asExpired(t *testing.T, method, path string, form url.Values, hdr ...string) (int, string, string) {
	t.Helper()
	m.f.offset.Store(int64(web.SessionTTL + time.Minute))
	defer m.f.offset.Store(0)
	return m.send(t, m.expired, method, path, form, hdr...)
}

func (m *matrix) auditCount(t *testing.T) int {
	t.Helper()
	es, err := m.f.store.AuditLog(m.f.ctx, time.Time{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func refused(status int, loc string) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || (status == http.StatusSeeOther && strings.HasPrefix(loc, "/login"))
}

func TestRoleMatrixWebUI(t *testing.T) {
	m := newMatrix(t)
	public := map[string]func(t *testing.T, m *matrix){
		"GET /login":          matrixLoginPage,
		"POST /login":         matrixLogin,
		"POST /logout":        matrixLogout,
		"GET /static/":        matrixStatic,
		" /":                  matrixNotFound,
		"GET /oauth/callback": matrixOAuthCallback,
	}
	seen := map[string]bool{}
	for _, rt := range m.f.handler.Routes() {
		name := rt.Method + " " + rt.Path
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if rt.Public {
				check, ok := public[name]
				if !ok {
					t.Fatalf("public route %s has no expectations in the role matrix: say what anyone may do with it, or give it a role", name)
				}
				check(t, m)
				return
			}
			if !rt.Role.Valid() {
				t.Fatalf("route %s declares no valid role (%q): every route must say who may use it", name, rt.Role)
			}
			if rt.Method != "GET" && rt.Role == queue.RoleViewer {
				t.Fatalf("viewers may only read, but %s is open to them", name)
			}
			path := m.path(t, rt.Path)
			switch rt.Method {
			case "GET":
				m.webPage(t, rt, path)
			case "POST":
				m.webAction(t, rt, path)
			default:
				t.Fatalf("route %s: the matrix knows GET pages and POST actions only; add the expectations for %s", name, rt.Method)
			}
		})
	}
	for name := range public {
		if !seen[name] {
			t.Errorf("the matrix expects a public route %s that the web UI does not have", name)
		}
	}
}

// webPage: a page sends anyone without a session in force to the login (and back here
// afterwards), refuses roles below its own, and shows itself to the others.
func (m *matrix) webPage(t *testing.T, rt web.Route, path string) {
	for who, c := range m.strange {
		status, loc, _ := m.send(t, c, "GET", path, nil)
		if status != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(path) {
			t.Errorf("%s: GET %s = %d %q, want a redirect to the login page", who, path, status, loc)
		}
	}
	if status, loc, _ := m.asExpired(t, "GET", path, nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Errorf("expired session: GET %s = %d %q, want a redirect to the login page", path, status, loc)
	}
	for _, role := range roles {
		status, loc, body := m.send(t, m.signed[role], "GET", path, nil)
		if !role.Allows(rt.Role) {
			if status != http.StatusForbidden || !strings.Contains(body, string(role)) {
				t.Errorf("%s on a %s page: GET %s = %d, want 403 naming the role", role, rt.Role, path, status)
			}
		} else if refused(status, loc) {
			t.Errorf("%s on a %s page: GET %s refused with %d %q", role, rt.Role, path, status, loc)
		}
	}
}

// webAction: an action refuses, with 403 and no change, anyone without a session in force,
// every role without the session's CSRF token, and roles below its own.
func (m *matrix) webAction(t *testing.T, rt web.Route, path string) {
	before := m.auditCount(t)
	form := url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "version": {"1"}, "reason": {"matrix"}}
	for who, c := range m.strange {
		if status, _, _ := m.send(t, c, "POST", path, form); status != http.StatusForbidden {
			t.Errorf("%s: POST %s = %d, want 403", who, path, status)
		}
	}
	if status, _, _ := m.asExpired(t, "POST", path, url.Values{"csrf": {m.csrf[queue.RoleAdmin]}, "version": {"1"}, "reason": {"matrix"}}); status != http.StatusForbidden {
		t.Errorf("expired session: POST %s = %d, want 403", path, status)
	}
	for _, role := range roles {
		for name, f := range map[string]url.Values{
			"no CSRF token":             {"version": {"1"}, "reason": {"matrix"}},
			"another session's token":   {"csrf": {m.csrf[otherRole(role)]}, "version": {"1"}, "reason": {"matrix"}},
			"a token of the right form": form,
		} {
			if status, _, body := m.send(t, m.signed[role], "POST", path, f); status != http.StatusForbidden || !strings.Contains(body, "security token") {
				t.Errorf("%s with %s: POST %s = %d, want 403 about the security token", role, name, path, status)
			}
		}
	}
	if after := m.auditCount(t); after != before {
		t.Errorf("refused POSTs to %s changed something: %d audit entries, were %d", path, after, before)
	}
	for _, role := range roles {
		status, loc, body := m.send(t, m.signed[role], "POST", path, url.Values{"csrf": {m.csrf[role]}, "version": {"1"}, "reason": {"matrix"}})
		if !role.Allows(rt.Role) {
			if status != http.StatusForbidden || !strings.Contains(body, "needs "+string(rt.Role)) {
				t.Errorf("%s on a %s action: POST %s = %d, want 403 naming the role it needs", role, rt.Role, path, status)
			}
		} else if refused(status, loc) {
			t.Errorf("%s on a %s action: POST %s refused with %d %q", role, rt.Role, path, status, loc)
		}
	}
}

func otherRole(r queue.Role) queue.Role {
	if r == queue.RoleAdmin {
		return queue.RoleViewer
	}
	return queue.RoleAdmin
}

func matrixLoginPage(t *testing.T, m *matrix) {
	for who, c := range m.strange {
		if status, _, body := m.send(t, c, "GET", "/login", nil); status != http.StatusOK || !strings.Contains(body, `name="token"`) {
			t.Errorf("%s: GET /login = %d, want the login form", who, status)
		}
	}
	for _, role := range roles {
		if status, loc, _ := m.send(t, m.signed[role], "GET", "/login", nil); status != http.StatusSeeOther || loc != "/" {
			t.Errorf("%s, signed in: GET /login = %d %q, want a redirect to the queue", role, status, loc)
		}
	}
}

func matrixLogin(t *testing.T, m *matrix) {
	c := m.f.on(m.server)
	c.csrf("/login") // the form's cookie, without its token in the form
	if status, _, _ := m.send(t, c, "POST", "/login", url.Values{"token": {m.f.tokens[queue.RoleAdmin]}}); status != http.StatusForbidden {
		t.Errorf("POST /login without the form's token = %d, want 403", status)
	}
	if status, _, _ := m.send(t, m.strange["no session"], "POST", "/login", url.Values{"token": {m.f.tokens[queue.RoleAdmin]}, "csrf": {"x"}}); status != http.StatusForbidden {
		t.Errorf("POST /login without the form's cookie = %d, want 403", status)
	}
}

func matrixLogout(t *testing.T, m *matrix) {
	for _, role := range roles {
		c := m.f.on(m.server)
		c.login(m.f.tokens[role])
		if status, _, _ := m.send(t, c, "POST", "/logout", url.Values{}); status != http.StatusForbidden {
			t.Errorf("%s: POST /logout without the CSRF token = %d, want 403", role, status)
		}
		c.wantLoggedIn("after a refused logout")
		if status, loc, _ := m.send(t, c, "POST", "/logout", url.Values{"csrf": {c.csrf("/")}}); status != http.StatusSeeOther || loc != "/login" {
			t.Errorf("%s: POST /logout = %d %q, want a redirect to the login page", role, status, loc)
		}
		c.wantLoggedOut("after logout")
	}
	for who, c := range m.strange {
		if status, loc, _ := m.send(t, c, "POST", "/logout", url.Values{}); status != http.StatusSeeOther || loc != "/login" {
			t.Errorf("%s: POST /logout = %d %q, want a redirect to the login page", who, status, loc)
		}
	}
}

func matrixStatic(t *testing.T, m *matrix) {
	for who, c := range m.strange {
		if status, _, _ := m.send(t, c, "GET", "/static/style.css", nil); status != http.StatusOK {
			t.Errorf("%s: GET /static/style.css = %d, want 200", who, status)
		}
	}
}

func matrixNotFound(t *testing.T, m *matrix) {
	for who, c := range m.strange {
		if status, _, _ := m.send(t, c, "GET", "/no/such/page", nil); status != http.StatusNotFound {
			t.Errorf("%s: GET /no/such/page = %d, want 404", who, status)
		}
	}
	if status, _, _ := m.send(t, m.signed[queue.RoleViewer], "GET", "/no/such/page", nil); status != http.StatusNotFound {
		t.Errorf("viewer: GET /no/such/page = %d, want 404", status)
	}
}

// TestRoleMatrixAPI: every API route, with the web UI's session cookie as well as bearer
// tokens, as tactd mounts the two.
func TestRoleMatrixAPI(t *testing.T) {
	m := newMatrix(t)
	for _, rt := range api.Routes() {
		name := rt.Method + " " + rt.Path
		t.Run(name, func(t *testing.T) {
			if !rt.Role.Valid() {
				t.Fatalf("route %s declares no valid role (%q): every route must say who may call it", name, rt.Role)
			}
			if rt.Method != "GET" && rt.Role == queue.RoleViewer {
				t.Fatalf("viewers may only read, but %s is open to them", name)
			}
			path := m.path(t, rt.Path)
			unsafe := rt.Method != "GET"
			want401 := func(who string, status int) {
				if status != http.StatusUnauthorized {
					t.Errorf("%s: %s %s = %d, want 401", who, rt.Method, path, status)
				}
			}
			for who, c := range m.strange {
				status, _, _ := m.send(t, c, rt.Method, path, nil, "X-CSRF-Token", "AAAA")
				want401(who, status)
			}
			status, _, _ := m.send(t, m.strange["no session"], rt.Method, path, nil, "Authorization", "Bearer tact_"+strings.Repeat("x", 43))
			want401("wrong bearer token", status)
			status, _, _ = m.asExpired(t, rt.Method, path, nil, "X-CSRF-Token", m.csrf[queue.RoleAdmin])
			want401("expired session", status)

			for _, role := range roles {
				callers := map[string][]string{
					"bearer token":   {"Authorization", "Bearer " + m.f.tokens[role]},
					"session cookie": {"X-CSRF-Token", m.csrf[role]},
				}
				if unsafe {
					// A cookie alone never authorises a change: without the CSRF header it is
					// no credential at all.
					status, _, _ := m.send(t, m.signed[role], rt.Method, path, nil)
					want401(string(role)+" by cookie without X-CSRF-Token", status)
					status, _, _ = m.send(t, m.signed[role], rt.Method, path, nil, "X-CSRF-Token", m.csrf[otherRole(role)])
					want401(string(role)+" by cookie with another session's X-CSRF-Token", status)
				}
				for how, hdr := range callers {
					c := m.signed[role]
					if how == "bearer token" {
						c = m.strange["no session"]
					}
					status, _, body := m.send(t, c, rt.Method, path, nil, hdr...)
					if !role.Allows(rt.Role) {
						if status != http.StatusForbidden || !strings.Contains(body, "needs the "+string(rt.Role)) {
							t.Errorf("%s by %s on a %s route: %s %s = %d, want 403 naming the role: %s", role, how, rt.Role, rt.Method, path, status, body)
						}
					} else if status == http.StatusUnauthorized || status == http.StatusForbidden {
						t.Errorf("%s by %s on a %s route: %s %s refused with %d: %s", role, how, rt.Role, rt.Method, path, status, body)
					}
				}
			}
		})
	}
}
