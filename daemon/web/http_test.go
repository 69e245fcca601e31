package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

func TestPagesNeedALogin(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	for _, path := range []string{"/", "/calendar", "/campaigns", "/incidents", "/rules", "/audit", "/import"} {
		resp, _ := c.do("GET", path, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %d %q, want a redirect to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := c.do("POST", "/posts/1/approve", url.Values{"version": {"1"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without a session: %d, want 403", resp.StatusCode)
	}
}

func TestLogin(t *testing.T) {
	f := mustFixture(t)

	t.Run("bad token is refused with a way out", func(t *testing.T) {
		c := f.client()
		tok := c.csrf("/login")
		resp, body := c.do("POST", "/login", url.Values{"csrf": {tok}, "token": {"tact_not-a-real-token"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That token is not valid") || !strings.Contains(body, "tactctl user add") {
			t.Fatalf("bad token: %d\n%s", resp.StatusCode, body)
		}
		if r2, _ := c.do("GET", "/", nil); r2.StatusCode != http.StatusSeeOther {
			t.Fatalf("a refused login still gave access: %d", r2.StatusCode)
		}
	})

	t.Run("login form without its token is refused", func(t *testing.T) {
		c := f.client()
		resp, _ := c.do("POST", "/login", url.Values{"token": {f.tokens[queue.RoleAdmin]}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("login without csrf: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("cookie attributes", func(t *testing.T) {
		c := f.client()
		tok := c.csrf("/login")
		resp, _ := c.do("POST", "/login", url.Values{"csrf": {tok}, "token": {f.tokens[queue.RoleMarketer]}})
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "tact_session" {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.MaxAge <= 0 || sess.Path != "/" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, an expiry", sess)
		}
	})

	t.Run("secure cookies", func(t *testing.T) {
		h := web.New(web.Options{Store: f.store, SecureCookies: true})
		srv := httptest.NewServer(h)
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if !ck.Secure || !strings.HasPrefix(ck.Name, "__Host-") {
				t.Errorf("cookie %s: Secure=%v; want Secure and the __Host- prefix", ck.Name, ck.Secure)
			}
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		c := f.client()
		c.login(f.tokens[queue.RoleViewer])
		tok := c.csrf("/")
		if resp, _ := c.do("POST", "/logout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout GET / = %d, want a redirect to the login", resp.StatusCode)
		}
	})
}

func TestSessionEnds(t *testing.T) {
	f := mustFixture(t)

	t.Run("tampered cookie", func(t *testing.T) {
		c := f.client()
		c.login(f.tokens[queue.RoleViewer])
		u, _ := url.Parse(f.srv.URL)
		cks := c.hc.Jar.Cookies(u)
		tampered := false
		for _, ck := range cks {
			if ck.Name == "tact_session" {
				// Another session id under the real one's MAC: only the MAC can tell.
				id, sig, _ := strings.Cut(ck.Value, ".")
				b := []byte(id)
				b[0] = map[bool]byte{true: 'B', false: 'A'}[b[0] == 'A']
				ck.Value = string(b) + "." + sig
				tampered = true
			}
		}
		if !tampered {
			t.Fatal("no session cookie to tamper with")
		}
		c.hc.Jar.SetCookies(u, cks)
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("tampered cookie accepted: %d", resp.StatusCode)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		c := f.client()
		c.login(f.tokens[queue.RoleViewer])
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("fresh session: %d", resp.StatusCode)
		}
		f.offset.Store(int64(web.SessionTTL + time.Minute))
		defer f.offset.Store(0)
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("expired session accepted: %d", resp.StatusCode)
		}
	})

	t.Run("deleted user", func(t *testing.T) {
		c := f.client()
		c.login(f.tokens[queue.RoleMarketer])
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("fresh session: %d", resp.StatusCode)
		}
		if err := f.store.DeleteUser(f.ctx, queue.System("test"), "mona"); err != nil {
			t.Fatal(err)
		}
		if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a deleted user's session still works: %d", resp.StatusCode)
		}
	})
}

func TestCSRFAndRoles(t *testing.T) {
	f := mustFixture(t)
	id := f.posts["lastday"].ID
	path := fmt.Sprintf("/posts/%d/approve", id)
	version := fmt.Sprint(f.posts["lastday"].Version)

	marketer := f.client()
	marketer.login(f.tokens[queue.RoleMarketer])
	other := f.client()
	other.login(f.tokens[queue.RoleAdmin])
	otherTok := other.csrf("/")

	for name, form := range map[string]url.Values{
		"no token":                {"version": {version}},
		"another session's token": {"version": {version}, "csrf": {otherTok}},
		"a made-up token":         {"version": {version}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
	} {
		resp, body := marketer.do("POST", path, form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("%s: %d, want 403 saying the security token is missing\n%s", name, resp.StatusCode, body)
		}
	}
	if got := f.get(id).State; got != queue.PostPending {
		t.Fatalf("a refused POST changed the post: %s", got)
	}

	viewer := f.client()
	viewer.login(f.tokens[queue.RoleViewer])
	_, page := viewer.do("GET", "/", nil)
	if strings.Contains(page, "/approve\"") || strings.Contains(page, ">Approve<") || strings.Contains(page, "Approve selected") {
		t.Error("the viewer's queue offers approve actions")
	}
	if !strings.Contains(page, "Last day of the spring sale") {
		t.Error("the viewer does not see the queue")
	}
	resp, body := viewer.do("POST", path, url.Values{"version": {version}, "csrf": {viewer.csrf("/")}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "viewer") {
		t.Fatalf("viewer approve with a valid CSRF token: %d, want 403\n%s", resp.StatusCode, body)
	}
	if got := f.get(id).State; got != queue.PostPending {
		t.Fatalf("the viewer's POST changed the post: %s", got)
	}

	// A marketer may not declare incidents; an admin may.
	resp, _ = marketer.do("POST", "/incidents/declare", url.Values{"csrf": {marketer.csrf("/")}, "rule": {"air-disaster"}, "note": {"test"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("marketer declaring an incident: %d, want 403", resp.StatusCode)
	}

	// With the token, the marketer's approve goes through, and the scheduler is woken.
	resp, _ = marketer.do("POST", path, url.Values{"version": {version}, "csrf": {marketer.csrf("/")}, "back": {"/?state=pending"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?state=pending" {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if p := f.get(id); p.State != queue.PostApproved || !strings.Contains(p.ApprovedBy, "mona") {
		t.Fatalf("after approve: %s by %q", p.State, p.ApprovedBy)
	}
	if f.kicks.n.Load() == 0 {
		t.Error("approving did not wake the scheduler")
	}
	// back may only point to this site.
	resp, _ = marketer.do("POST", fmt.Sprintf("/posts/%d/hold", id), url.Values{"csrf": {marketer.csrf("/")}, "back": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Fatalf("back=//evil.example/ redirected to %q", loc)
	}
}

func TestSessionUserForTheAPI(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	u, _ := url.Parse(f.srv.URL)
	tok := c.csrf("/")
	req := func(method, csrf string) *http.Request {
		r := httptest.NewRequest(method, "/api/v1/posts", nil)
		for _, ck := range c.hc.Jar.Cookies(u) {
			r.AddCookie(ck)
		}
		if csrf != "" {
			r.Header.Set("X-CSRF-Token", csrf)
		}
		return r
	}
	if usr, ok := f.handler.SessionUser(req("GET", "")); !ok || usr.Name != "mona" {
		t.Fatalf("GET with the session cookie: %v %v", usr, ok)
	}
	if _, ok := f.handler.SessionUser(req("POST", "")); ok {
		t.Fatal("POST with the cookie but no CSRF header was accepted")
	}
	if usr, ok := f.handler.SessionUser(req("POST", tok)); !ok || usr.Name != "mona" {
		t.Fatal("POST with the cookie and the CSRF header was refused")
	}
	if _, ok := f.handler.SessionUser(httptest.NewRequest("GET", "/api/v1/posts", nil)); ok {
		t.Fatal("a request without a cookie was accepted")
	}
}

func TestEveryPageRenders(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleAdmin])
	for path, want := range map[string][]string{
		"/":                 {"Awaiting approval", "Last day of the spring sale", "Approve selected", "brand-bluesky", "/ 300", "Flagged by rule earthquake"},
		"/?state=approved":  {"Approved, not yet published"},
		"/calendar":         {"Previous week", "brand-mastodon"},
		"/campaigns":        {"lisbon-flights", "Airliner with 242 aboard crashes after take-off", "https://news.example.org/airliner-crash", "Resume lisbon-flights"},
		"/incidents":        {"air-disaster", "Declare incident", "Resolve #"},
		"/rules":            {"air-disaster", "earthquake", "Reload rule files"},
		"/audit":            {"post.approve"},
		"/audit?since=soon": {"The Since field was not used"},
		"/import":           {"campaign,at,text"},
		"/posts/1/edit":     {"Save post #1"},
		"/static/style.css": {"focus-visible"},
		"/static/app.js":    {"data-count-source"},
	} {
		resp, body := c.do("GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, resp.StatusCode, body)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q", path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}
	if resp, body := c.do("GET", "/nope", nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no page at /nope") {
		t.Errorf("GET /nope: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/?state=bogus", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /?state=bogus: %d, want a redirect with an explanation", resp.StatusCode)
	}
}

func TestPauseAllAndResumeAll(t *testing.T) {
	f := mustFixture(t)
	admin := f.client()
	admin.login(f.tokens[queue.RoleAdmin])
	marketer := f.client()
	marketer.login(f.tokens[queue.RoleMarketer])
	if resp, _ := marketer.do("POST", "/campaigns/pause-all", url.Values{"csrf": {marketer.csrf("/")}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("marketer pause-all: %d, want 403", resp.StatusCode)
	}
	resp, _ := admin.do("POST", "/campaigns/pause-all", url.Values{"csrf": {admin.csrf("/")}, "reason": {"Crisis: all quiet"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause-all: %d", resp.StatusCode)
	}
	if c, _ := f.store.Campaign(f.ctx, f.spring.ID); c.State != queue.CampaignPaused || c.Pause.Reason != "Crisis: all quiet" {
		t.Fatalf("spring after pause-all: %s %+v", c.State, c.Pause)
	}
	_, page := admin.do("GET", "/campaigns", nil)
	if !strings.Contains(page, "Paused 1 active campaign") {
		t.Errorf("no flash after pause-all:\n%s", page)
	}
	admin.do("POST", "/campaigns/resume-all", url.Values{"csrf": {admin.csrf("/")}})
	if c, _ := f.store.Campaign(f.ctx, f.spring.ID); c.State != queue.CampaignActive {
		t.Fatalf("spring after resume-all: %s", c.State)
	}
	if c, _ := f.store.Campaign(f.ctx, f.travel.ID); c.State != queue.CampaignPaused {
		t.Fatalf("resume-all resumed the campaign the rule paused: %s", c.State)
	}
}

func TestStaleEditIsRefused(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	p := f.posts["colours"]
	tok := c.csrf("/")
	// Someone else edits the post after this person opened it.
	other := "New colours are in: sage and rust."
	if _, err := f.store.EditPost(f.ctx, queue.System("test"), p.ID, p.Version, queue.PostEdit{Text: &other}); err != nil {
		t.Fatal(err)
	}
	mine := "New colours: sage, rust, sand and sky."
	resp, body := c.do("POST", fmt.Sprintf("/posts/%d/edit", p.ID), url.Values{"csrf": {tok}, "version": {fmt.Sprint(p.Version)}, "text": {mine}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "changed since you opened it") || !strings.Contains(body, other) || !strings.Contains(body, mine) {
		t.Fatalf("stale edit: %d\n%s", resp.StatusCode, body)
	}
	if got := f.get(p.ID).Text; got != other {
		t.Fatalf("the stale edit overwrote the text: %q", got)
	}
}

func TestEditChecks(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	p := f.posts["colours"]
	edit := func(text, due string) (int, string) {
		resp, body := c.do("POST", fmt.Sprintf("/posts/%d/edit", p.ID), url.Values{"csrf": {c.csrf("/")}, "version": {fmt.Sprint(f.get(p.ID).Version)}, "text": {text}, "due": {due}})
		return resp.StatusCode, body
	}
	if code, body := edit("", ""); code != http.StatusBadRequest || !strings.Contains(body, "The text is empty") {
		t.Errorf("empty text: %d", code)
	}
	past := time.Now().In(f.paris).Add(-2 * time.Hour).Format("2006-01-02T15:04")
	if code, body := edit(p.Text, past); code != http.StatusBadRequest || !strings.Contains(body, "is in the past") {
		t.Errorf("due in the past: %d", code)
	}
	if code, body := edit(p.Text, "next tuesday"); code != http.StatusBadRequest || !strings.Contains(body, "is not a date and time") {
		t.Errorf("bad due: %d", code)
	}
	if got := f.get(p.ID); got.Text != p.Text || !got.DueAt.Equal(p.DueAt) {
		t.Fatalf("a refused edit changed the post: %+v", got)
	}
	// Too long for Bluesky: saved, with the network's problem, and approve is refused.
	long := strings.Repeat("linen ", 60)
	if code, _ := edit(long, ""); code != http.StatusSeeOther {
		t.Fatalf("long edit: %d", code)
	}
	got := f.get(p.ID)
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "brand-bluesky") {
		t.Fatalf("problems after a too-long edit: %q", got.Problems)
	}
	resp, _ := c.do("POST", fmt.Sprintf("/posts/%d/approve", p.ID), url.Values{"csrf": {c.csrf("/")}, "version": {fmt.Sprint(got.Version)}})
	if resp.StatusCode != http.StatusSeeOther || f.get(p.ID).State != queue.PostPending {
		t.Fatalf("a post with problems was approved")
	}
}

func TestReloadErrorIsShown(t *testing.T) {
	f := mustFixture(t)
	if err := os.WriteFile(filepath.Join(f.rulesIn, "broken.toml"), []byte("[[rule]]\nid = \"x\"\naction = \"explode\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.rules.Reload(context.Background()); err == nil {
		t.Fatal("a broken rule file reloaded without error")
	}
	c := f.client()
	c.login(f.tokens[queue.RoleViewer])
	_, body := c.do("GET", "/rules", nil)
	if !strings.Contains(body, "The last reload failed") || !strings.Contains(body, "broken.toml") || !strings.Contains(body, "air-disaster") {
		t.Fatalf("rules page after a failed reload:\n%s", body)
	}
}

func TestHoldReleasePauseAndStaleApprove(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	post := func(path string, form url.Values) string {
		t.Helper()
		form.Set("csrf", c.csrf("/"))
		resp, _ := c.do("POST", path, form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		_, page := c.do("GET", resp.Header.Get("Location"), nil)
		return page
	}
	p := f.posts["shipping"]
	post(fmt.Sprintf("/posts/%d/hold", p.ID), url.Values{"version": {fmt.Sprint(p.Version)}})
	if got := f.get(p.ID).State; got != queue.PostHeld {
		t.Fatalf("after hold: %s", got)
	}
	page := post(fmt.Sprintf("/posts/%d/release", p.ID), url.Values{"version": {fmt.Sprint(f.get(p.ID).Version)}})
	if got := f.get(p.ID).State; got != queue.PostPending || !strings.Contains(page, "pending again and needs an approval") {
		t.Fatalf("after release: %s", got)
	}

	// Approving with the version shown before someone else's edit is refused, and says why.
	old := f.get(p.ID).Version
	text := "Free shipping on every order, this week only."
	if _, err := f.store.EditPost(f.ctx, queue.System("test"), p.ID, 0, queue.PostEdit{Text: &text}); err != nil {
		t.Fatal(err)
	}
	page = post(fmt.Sprintf("/posts/%d/approve", p.ID), url.Values{"version": {fmt.Sprint(old)}})
	if got := f.get(p.ID).State; got != queue.PostPending || !strings.Contains(page, "changed since you opened it") {
		t.Fatalf("stale approve: %s", got)
	}
	page = post(fmt.Sprintf("/posts/%d/reject", p.ID), url.Values{"version": {"0"}})
	if got := f.get(p.ID).State; got != queue.PostPending || !strings.Contains(page, "say why in the Reason field") {
		t.Fatalf("reject without a reason: %s", got)
	}

	page = post(fmt.Sprintf("/campaigns/%d/pause", f.spring.ID), url.Values{"reason": {" "}})
	if c, _ := f.store.Campaign(f.ctx, f.spring.ID); c.State != queue.CampaignActive || !strings.Contains(page, "say why") {
		t.Fatalf("pause without a reason: %s", c.State)
	}
	post(fmt.Sprintf("/campaigns/%d/pause", f.spring.ID), url.Values{"reason": {"Supplier strike"}})
	cp, _ := f.store.Campaign(f.ctx, f.spring.ID)
	if cp.State != queue.CampaignPaused || cp.Pause.Reason != "Supplier strike" || cp.Pause.By.Name != "mona" {
		t.Fatalf("after pause: %s %+v", cp.State, cp.Pause)
	}
	// No rule paused it, so resume needs no confirmation.
	page = post(fmt.Sprintf("/campaigns/%d/resume", f.spring.ID), url.Values{})
	if cp, _ := f.store.Campaign(f.ctx, f.spring.ID); cp.State != queue.CampaignActive || !strings.Contains(page, "Resumed campaign spring-sale") {
		t.Fatalf("after resume: %s", cp.State)
	}
}

// BenchmarkQueuePage renders a full queue page (300 cards: lengths, warnings from the real
// watcher, actions) from a store holding 2,000 open posts.
func BenchmarkQueuePage(b *testing.B) {
	f := mustFixture(b)
	due := time.Now().Add(48 * time.Hour)
	var ps []*queue.Post
	for i := range 2000 {
		ps = append(ps, &queue.Post{CampaignID: f.spring.ID, Text: fmt.Sprintf("Post %d of the spring sale https://shop.example.com/p/%d", i, i),
			Accounts: f.spring.Accounts, DueAt: due.Add(time.Duration(i) * time.Minute).UTC(), State: queue.PostPending})
	}
	if err := f.store.CreatePosts(f.ctx, queue.System("bench"), ps); err != nil {
		b.Fatal(err)
	}
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	b.ResetTimer()
	for b.Loop() {
		resp, body := c.do("GET", "/", nil)
		if resp.StatusCode != http.StatusOK || strings.Count(body, `class="card state-`) != 300 {
			b.Fatalf("queue page: %d, %d cards", resp.StatusCode, strings.Count(body, `class="card state-`))
		}
	}
}

func TestMissedAndUnknownPosts(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])

	// "colours" passes its time while nobody approves it: missed (with the two posts due before it).
	col := f.posts["colours"]
	if _, err := f.store.MarkMissed(f.ctx, col.DueAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// "shipping" is approved, claimed and its outcome lost: unknown.
	ship := f.posts["shipping"]
	f.apply("shipping", queue.EventApprove)
	claims, err := f.store.ClaimDue(f.ctx, queue.ClaimRequest{Now: ship.DueAt.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range claims {
		if cl.Post.ID != ship.ID {
			continue
		}
		if err := f.store.Finish(f.ctx, cl.Delivery.ID, queue.Outcome{State: queue.DeliveryUnknown, Error: "connection reset"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.get(ship.ID).State; got != queue.PostUnknown {
		t.Fatalf("fixture: shipping is %s, want unknown", got)
	}

	_, page := c.do("GET", "/", nil)
	if !strings.Contains(page, "Posts wait for a person outside this list") || !strings.Contains(page, `href="/?state=missed">3 missed`) || !strings.Contains(page, `href="/?state=unknown">1 unknown`) {
		t.Fatalf("the queue does not point to the missed and unknown posts:\n%s", page)
	}
	_, page = c.do("GET", "/?state=missed", nil)
	if !strings.Contains(page, fmt.Sprintf(`action="/posts/%d/edit"`, col.ID)) {
		t.Error("a missed post cannot be rescheduled from the queue")
	}
	_, page = c.do("GET", "/?state=unknown", nil)
	if !strings.Contains(page, fmt.Sprintf(`action="/posts/%d/succeed"`, ship.ID)) || !strings.Contains(page, "It did not go out") || !strings.Contains(page, "connection reset") {
		t.Fatal("an unknown post offers no way to say what happened")
	}
	resp, _ := c.do("POST", fmt.Sprintf("/posts/%d/succeed", ship.ID), url.Values{"csrf": {c.csrf("/")}, "version": {fmt.Sprint(f.get(ship.ID).Version)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("succeed: %d", resp.StatusCode)
	}
	if got := f.get(ship.ID).State; got != queue.PostPublished {
		t.Fatalf("after 'It went out': %s", got)
	}
}

// GET /count measures a text as a network counts it, for the live counter of countings the
// browser does not repeat (X's), to logged-in users only.
func TestCountEndpoint(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	if resp, _ := c.do("GET", "/count?counting=x&text=hi", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /count without a session: %d, want a redirect to the login", resp.StatusCode)
	}
	c.login(f.tokens[queue.RoleViewer])
	for _, tc := range []struct{ counting, text, want string }{
		{"x", "Launch today example.com 日本", `{"length":41}`},
		{"x", "https://tact.com/a/very/long/path/that/counts/twenty-three", `{"length":23}`},
		{"mastodon", "https://tact.example/a/very/long/path/that/counts/twenty-three", `{"length":23}`},
		{"graphemes", "👨‍👩‍👧", `{"length":1}`},
	} {
		resp, body := c.do("GET", "/count?counting="+tc.counting+"&text="+url.QueryEscape(tc.text), nil)
		if resp.StatusCode != 200 || strings.TrimSpace(body) != tc.want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("count %s %q: %d %s, want %s", tc.counting, tc.text, resp.StatusCode, body, tc.want)
		}
	}
	if resp, _ := c.do("GET", "/count?counting=x&text=%ff", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid UTF-8: %d, want 400", resp.StatusCode)
	}
}
