package web_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

// The accounts page on the fixture's store, with a real connect.Service (no plugin is
// reached here: the connect flow through a plugin process and the browser are tested end
// to end in cmd/tactd).

var connectedAccounts = []api.AccountInfo{
	{Name: "brand-mastodon", Plugin: "mastodon", PluginVersion: "1.0.0", Healthy: true, Connect: "oauth",
		Connection: &api.Connection{Kind: "oauth", Subject: "@brand@social.example", ConnectedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), ConnectedBy: "adam",
			TokenExpiresAt: time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)},
		LastPublishedAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), LastError: "permanent: 422 text too long", LastErrorAt: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC),
		NeedsAttention: []string{"the token expires on 6 Mar 2026 10:00 CET (within 7 days): connect the account again"}},
	{Name: "brand-bluesky", Plugin: "bluesky", Healthy: false, Connect: "password", NeedsAttention: []string{"not connected: connect it on the Accounts page or with tactctl account connect brand-bluesky"}},
	{Name: "brand-hook", Plugin: "webhook", Healthy: true},
}

func accountsServer(t *testing.T, f *fixture, key []byte, publicURL string) *httptest.Server {
	t.Helper()
	svc, err := connect.New(connect.Options{Store: f.store, Key: key, PublicURL: publicURL,
		Method: func(context.Context, string) (connect.Method, error) { return connect.OAuth, nil }, Plugin: func(string) string { return "mastodon" }})
	if err != nil {
		t.Fatal(err)
	}
	h := web.New(web.Options{Store: f.store, Logger: slog.New(slog.DiscardHandler), Accounts: staticAccounts(connectedAccounts), Connector: svc,
		DefaultTimeZone: "Europe/Paris", SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestAccountsPage(t *testing.T) {
	f := mustFixture(t)
	key := make([]byte, 32)
	rand.Read(key)
	srv := accountsServer(t, f, key, "https://tact.example")
	admin := f.on(srv)
	admin.login(f.tokens[queue.RoleAdmin])
	resp, body := admin.do("GET", "/accounts", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /accounts = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`href="/accounts" aria-current="page">Accounts</a>`,
		"@brand@social.example", "Fri 6 Mar 2026 10:00 CET", "by adam", "Mon 2 Mar 2026 09:00 CET", "permanent: 422 text too long",
		"the token expires on 6 Mar 2026 10:00 CET (within 7 days): connect the account again",
		`action="/accounts/brand-mastodon/connect"`, `hx-boost="false"`, ">Connect again</button>",
		`action="/accounts/brand-bluesky/password"`, `name="identifier"`, `name="app_password" type="password"`,
		"not connected: connect it on the Accounts page", "credentials in tact.toml",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the accounts page lacks %q", want)
		}
	}
	if strings.Contains(body, `action="/accounts/brand-hook/`) {
		t.Error("an account whose plugin connects nothing offers a Connect form")
	}
	if strings.Contains(body, "disabled") || strings.Contains(body, "blocked-oauth") {
		t.Error("connecting is shown as blocked with secrets_key and public_url set")
	}
	// Marketers and viewers see no link to it (the role matrix checks the page refuses them).
	m := f.on(srv)
	m.login(f.tokens[queue.RoleMarketer])
	if _, body := m.do("GET", "/", nil); strings.Contains(body, `href="/accounts"`) {
		t.Error("a marketer's menu links to the admin's accounts page")
	}
}

// Without secrets_key (or public_url), the page says what to set before anyone presses
// Connect, and the buttons are off.
func TestAccountsPageSaysWhatIsMissing(t *testing.T) {
	f := mustFixture(t)
	for name, tc := range map[string]struct {
		key    []byte
		public string
		want   string
	}{
		"no secrets_key": {nil, "https://tact.example", "head -c32 /dev/urandom | base64 &gt; /etc/tact/secrets.key"},
		"no public_url":  {make([]byte, 32), "", "public_url"},
	} {
		srv := accountsServer(t, f, tc.key, tc.public)
		admin := f.on(srv)
		admin.login(f.tokens[queue.RoleAdmin])
		_, body := admin.do("GET", "/accounts", nil)
		if !strings.Contains(body, `id="blocked-oauth"`) || !strings.Contains(body, tc.want) || !strings.Contains(body, "disabled") {
			t.Errorf("%s: the page does not say what is missing (%q)", name, tc.want)
		}
		// Pressing Connect anyway changes nothing and says the same.
		resp, _ := admin.do("POST", "/accounts/brand-mastodon/connect", url.Values{"csrf": {admin.csrf("/accounts")}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/accounts" {
			t.Errorf("%s: POST connect = %d %s", name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := admin.do("GET", "/accounts", nil); !strings.Contains(body, "Could not connect brand-mastodon") {
			t.Errorf("%s: no flash after the refused Connect", name)
		}
	}
}

// The network's way back needs no session but a state the daemon handed out: a made-up
// one gets a page that says what to do, and changes nothing.
func TestOAuthCallbackRefusesAnUnknownState(t *testing.T) {
	f := mustFixture(t)
	key := make([]byte, 32)
	srv := accountsServer(t, f, key, "https://tact.example")
	before, _ := f.store.AuditLog(f.ctx, time.Time{}, 1000)
	resp, err := http.Get(srv.URL + "/oauth/callback?state=made-up&code=c0de")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "Not connected") || !strings.Contains(string(b), "start again") {
		t.Fatalf("GET /oauth/callback with a made-up state = %d\n%s", resp.StatusCode, b)
	}
	if after, _ := f.store.AuditLog(f.ctx, time.Time{}, 1000); len(after) != len(before) {
		t.Fatal("a refused callback changed something")
	}
	if cs, _ := f.store.Credentials(f.ctx); len(cs) != 0 {
		t.Fatal("a refused callback stored credentials")
	}
}

// matrixOAuthCallback (the role matrix's expectation for GET /oauth/callback): whoever
// calls it without a state the daemon handed out is refused and changes nothing.
func matrixOAuthCallback(t *testing.T, m *matrix) {
	before := m.auditCount(t)
	for who, c := range m.strange {
		if status, _, _ := m.send(t, c, "GET", "/oauth/callback?state=made-up&code=x", nil); status < 400 {
			t.Errorf("%s: GET /oauth/callback with a made-up state = %d, want a refusal", who, status)
		}
	}
	for _, role := range roles {
		if status, _, _ := m.send(t, m.signed[role], "GET", "/oauth/callback?state=made-up&code=x", nil); status < 400 {
			t.Errorf("%s: GET /oauth/callback with a made-up state = %d, want a refusal", role, status)
		}
	}
	if after := m.auditCount(t); after != before {
		t.Errorf("refused callbacks changed something: %d audit entries, were %d", after, before)
	}
}
