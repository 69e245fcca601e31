package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

// daemonServer serves the web UI and the HTTP API side by side, as tactd does: the API
// takes the UI's session cookie through web.Handler.SessionUser.
func (f *fixture) daemonServer() *httptest.Server {
	f.t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api.New(api.Options{
		Store: f.store, Validator: lengthValidator{testAccounts}, Accounts: staticAccounts(testAccounts),
		Rules: f.rules, Watch: f.watcher, Warnings: f.watcher, Kicker: f.kicks,
		DefaultTimeZone: "Europe/Paris", SessionUser: f.handler.SessionUser,
	}))
	mux.Handle("/", f.handler)
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv
}

// on returns a client of srv with its own cookie jar.
func (f *fixture) on(srv *httptest.Server) *client {
	c := f.client()
	c.base = srv.URL
	return c
}

// cookies returns the client's cookies for its server, to be replayed later.
func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.base)
	return c.hc.Jar.Cookies(u)
}

// replay returns a fresh client holding only the cookies saved earlier: someone who copied
// them from the browser's disk, or a tab that kept them.
func (f *fixture) replay(srv *httptest.Server, saved []*http.Cookie) *client {
	c := f.on(srv)
	u, _ := url.Parse(srv.URL)
	c.hc.Jar.SetCookies(u, saved)
	return c
}

// api calls the HTTP API with a bearer token ("" for none) and a JSON body.
func (c *client) api(token, method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// wantLoggedOut fails unless the client's cookie opens nothing: pages send it to the login,
// actions are refused, and the API answers 401.
func (c *client) wantLoggedOut(why string) {
	c.t.Helper()
	if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		c.t.Errorf("%s: GET / = %d %q, want a redirect to the login page", why, resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.do("GET", "/login", nil); resp.StatusCode != http.StatusOK {
		c.t.Errorf("%s: GET /login = %d, want the login form", why, resp.StatusCode)
	}
	if status, body := c.api("", "GET", "/api/v1/posts", nil); status != http.StatusUnauthorized {
		c.t.Errorf("%s: GET /api/v1/posts with the cookie = %d (error %q), want 401", why, status, body["error"])
	}
}

// wantLoggedIn fails unless the client's cookie opens the queue and the API.
func (c *client) wantLoggedIn(why string) {
	c.t.Helper()
	if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: GET / = %d, want the queue", why, resp.StatusCode)
	}
	if status, body := c.api("", "GET", "/api/v1/posts", nil); status != http.StatusOK {
		c.t.Fatalf("%s: GET /api/v1/posts with the cookie = %d (error %q), want 200", why, status, body["error"])
	}
}

// TestLogoutEndsTheSessionEverywhere: a cookie saved before logout opens nothing after it,
// neither the pages nor the API.
func TestLogoutEndsTheSessionEverywhere(t *testing.T) {
	f := mustFixture(t)
	srv := f.daemonServer()
	c := f.on(srv)
	c.login(f.tokens[queue.RoleMarketer])
	saved := c.cookies()
	other := f.on(srv) // the same person in another browser: not logged out by this one
	other.login(f.tokens[queue.RoleMarketer])
	f.replay(srv, saved).wantLoggedIn("the saved cookie before logout")

	if resp, _ := c.do("POST", "/logout", url.Values{"csrf": {c.csrf("/")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	c.wantLoggedOut("after logout")
	f.replay(srv, saved).wantLoggedOut("the cookie saved before logout")
	other.wantLoggedIn("another browser's session")
}

// TestRoleChangeEndsSessions: when an admin changes a user's role through the API, the
// user's sessions end; signing in again gives the new role.
func TestRoleChangeEndsSessions(t *testing.T) {
	f := mustFixture(t)
	srv := f.daemonServer()
	c := f.on(srv)
	c.login(f.tokens[queue.RoleMarketer])
	saved := c.cookies()
	viewer := f.on(srv)
	viewer.login(f.tokens[queue.RoleViewer])

	admin := f.on(srv)
	if status, body := admin.api(f.tokens[queue.RoleAdmin], "PATCH", "/api/v1/users/mona", map[string]any{"role": "viewer"}); status != http.StatusOK || body["role"] != "viewer" {
		t.Fatalf("role change: %d %v", status, body)
	}
	c.wantLoggedOut("after the role change")
	f.replay(srv, saved).wantLoggedOut("the cookie saved before the role change")
	viewer.wantLoggedIn("another user's session")

	c.login(f.tokens[queue.RoleMarketer])
	id := f.posts["lastday"].ID
	resp, body := c.do("POST", "/posts/"+itoa(id)+"/approve", url.Values{"version": {itoa(f.posts["lastday"].Version)}, "csrf": {c.csrf("/")}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "viewer") {
		t.Fatalf("approve after being made viewer: %d, want 403 naming the role\n%s", resp.StatusCode, body)
	}
}

// TestTokenChangeEndsSessions: a new token (or deleting the user) ends the sessions opened
// with the old one; the old token no longer signs in.
func TestTokenChangeEndsSessions(t *testing.T) {
	f := mustFixture(t)
	srv := f.daemonServer()
	c := f.on(srv)
	c.login(f.tokens[queue.RoleMarketer])
	saved := c.cookies()

	admin := f.on(srv)
	status, body := admin.api(f.tokens[queue.RoleAdmin], "POST", "/api/v1/users/mona/token", nil)
	fresh, _ := body["token"].(string)
	if status != http.StatusOK || !strings.HasPrefix(fresh, "tact_") {
		t.Fatalf("new token: %d %v", status, body)
	}
	c.wantLoggedOut("after a new token")
	f.replay(srv, saved).wantLoggedOut("the cookie saved before the new token")
	tok := c.csrf("/login")
	if resp, _ := c.do("POST", "/login", url.Values{"csrf": {tok}, "token": {f.tokens[queue.RoleMarketer]}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the replaced token signed in: %d", resp.StatusCode)
	}
	c.login(fresh)
	c.wantLoggedIn("signed in with the new token")
	saved = c.cookies()

	if status, body := admin.api(f.tokens[queue.RoleAdmin], "DELETE", "/api/v1/users/mona", nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d %v", status, body)
	}
	f.replay(srv, saved).wantLoggedOut("the cookie of a deleted user")
}

// TestSessionExpiresOnTheServer: after SessionTTL the cookie opens nothing, whatever the
// browser keeps; the next sign-in prunes the expired session from the store, so even a
// clock set back does not revive it.
func TestSessionExpiresOnTheServer(t *testing.T) {
	f := mustFixture(t)
	srv := f.daemonServer()
	c := f.on(srv)
	c.login(f.tokens[queue.RoleViewer])
	saved := c.cookies()
	f.offset.Store(int64(web.SessionTTL - time.Minute))
	f.replay(srv, saved).wantLoggedIn("a minute before expiry")
	f.offset.Store(int64(web.SessionTTL))
	f.replay(srv, saved).wantLoggedOut("at expiry")
	f.on(srv).login(f.tokens[queue.RoleAdmin]) // prunes what expired
	f.offset.Store(0)
	f.replay(srv, saved).wantLoggedOut("expired, pruned, clock set back")
}

// TestMadeUpSessionCookies: cookies this server did not make, or made for a session it
// never stored, open nothing.
func TestMadeUpSessionCookies(t *testing.T) {
	f := mustFixture(t)
	srv := f.daemonServer()
	c := f.on(srv)
	c.login(f.tokens[queue.RoleAdmin])
	var real string
	for _, ck := range c.cookies() {
		if ck.Name == "tact_session" {
			real = ck.Value
		}
	}
	id, sig, ok := strings.Cut(real, ".")
	if !ok || len(id) != 43 || len(sig) != 43 {
		t.Fatalf("session cookie %q: want ID.MAC, 43 characters each", real)
	}
	flip := func(s string) string {
		b := []byte(s)
		b[5] ^= 'A' ^ 'B'
		if b[5] == s[5] {
			b[5] = 'C'
		}
		return string(b)
	}
	for name, v := range map[string]string{
		"another id, the same MAC": flip(id) + "." + sig,
		"the id, another MAC":      id + "." + flip(sig),
		"the id alone":             id,
		"garbage":                  "tact_" + strings.Repeat("x", 80),
		"the old signed format":    "djF8M3xhYmN8NDEwMjQ0NDgwMHxub25jZQ." + sig,
	} {
		r := f.replay(srv, []*http.Cookie{{Name: "tact_session", Value: v}})
		r.wantLoggedOut(name)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
