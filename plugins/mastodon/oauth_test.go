package mastodon_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/mastodon"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk"
)

const redirect = "https://tact.example/oauth/callback"

// verifier is a PKCE verifier and challenge its S256 challenge (RFC 7636).
const verifier = "a-verifier-of-forty-three-characters-or-mor"

var challenge = func() string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}()

// An account with no token is configured but not connected: nothing is sent to the
// server, and every call that would need it answers Auth, so its posts are held.
func TestNotConnected(t *testing.T) {
	srv := newServer(t)
	n := mastodon.New()
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, map[string]string{"server": srv.URL}); err != nil {
		t.Fatalf("Configure without a token: %v", err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "hello"}, "k1")
	plugintest.WantKind(t, err, sdk.Auth, "not connected")
	if got := srv.Requests(); len(got) != 0 {
		t.Fatalf("requests to the server: %v", got)
	}
	// An expired token is not sent either.
	err = n.Configure(ctx, map[string]string{"server": srv.URL, sdk.SettingAccessToken: "old", sdk.SettingExpiresAt: "2020-01-01T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "hello"}, "k1")
	plugintest.WantKind(t, err, sdk.Auth, "expired on 1 Jan 2020")
	if got := srv.Requests(); len(got) != 0 {
		t.Fatalf("requests to the server: %v", got)
	}
}

// connect runs the flow as the daemon does: AuthCodeURL, the person approves on the
// fake's consent page, Exchange with the verifier.
func connect(t *testing.T, srv *mastodontest.Server, n *mastodon.Network) sdk.Credentials {
	t.Helper()
	ctx := plugintest.Context(t)
	u, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "st-1", CodeChallenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	back, err := srv.Approve(u)
	if err != nil {
		t.Fatal(err)
	}
	q := mustQuery(t, back)
	if q.Get("state") != "st-1" || q.Get("code") == "" || !strings.HasPrefix(back, redirect+"?") {
		t.Fatalf("the consent page sent the browser to %s", back)
	}
	c, err := n.Exchange(ctx, sdk.ExchangeRequest{Code: q.Get("code"), CodeVerifier: verifier, RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// The whole flow against the fake: the app is registered once on the server and kept in
// state_dir, the consent page gets the PKCE challenge, the code is traded with the
// verifier, and the token then works for publishing.
func TestConnectThroughTheServer(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	n := mastodon.New()
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, map[string]string{"server": srv.URL, "state_dir": filepath.Join(dir, "state")}); err != nil {
		t.Fatal(err)
	}
	u, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "st-1", CodeChallenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	q := mustQuery(t, u)
	if !strings.HasPrefix(u, srv.URL+"/oauth/authorize?") || q.Get("code_challenge") != challenge || q.Get("code_challenge_method") != "S256" ||
		q.Get("redirect_uri") != redirect || q.Get("scope") != "read write" || q.Get("response_type") != "code" || q.Get("client_id") == "" {
		t.Fatalf("consent page %s", u)
	}
	if srv.RegisteredApps() != 1 {
		t.Fatalf("%d apps registered", srv.RegisteredApps())
	}
	if fi, err := os.Stat(filepath.Join(dir, "state", "mastodon-apps-"+strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_")+".json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the registration in state_dir: %v %v", fi, err)
	}

	// A second plugin process (the daemon restarted between the consent page and the way
	// back) finds the registration in state_dir instead of making another.
	again := mastodon.New()
	if err := again.Configure(ctx, map[string]string{"server": srv.URL, "state_dir": filepath.Join(dir, "state")}); err != nil {
		t.Fatal(err)
	}
	back, err := srv.Approve(u)
	if err != nil {
		t.Fatal(err)
	}
	code := mustQuery(t, back).Get("code")

	// A wrong verifier is refused (PKCE), and the code is spent with it.
	_, err = again.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: "not-the-verifier-not-the-verifier-not-the-v", RedirectURI: redirect})
	plugintest.WantKind(t, err, sdk.Auth, "invalid_grant")
	_, err = again.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: verifier, RedirectURI: redirect})
	plugintest.WantKind(t, err, sdk.Auth, "invalid_grant")

	c := connect(t, srv, again)
	if srv.RegisteredApps() != 1 {
		t.Fatalf("%d apps registered, want the first one reused", srv.RegisteredApps())
	}
	if c.Subject != "@tact@"+strings.TrimPrefix(srv.URL, "http://") || c.AccessToken == "" || c.RefreshToken != "" || !c.ExpiresAt.IsZero() {
		t.Fatalf("credentials %+v: want a token that does not expire, as Mastodon's", c)
	}
	connected := mastodon.New()
	s := sdk.CredentialSettings(c)
	s["server"] = srv.URL
	if err := connected.Configure(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := connected.Publish(ctx, sdk.Post{Text: "Connected from tact"}, "k1"); err != nil {
		t.Fatal(err)
	}
	if sts := srv.Statuses(); len(sts) != 1 || sts[0].Text != "Connected from tact" {
		t.Fatalf("statuses %+v", sts)
	}
}

// A person who presses Deny sends the browser back with access_denied.
func TestConsentDenied(t *testing.T) {
	srv := newServer(t)
	n := mastodon.New()
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, map[string]string{"server": srv.URL}); err != nil {
		t.Fatal(err)
	}
	u, _ := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "st-2", CodeChallenge: challenge})
	back, err := srv.Deny(u)
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, back); q.Get("error") != "access_denied" || q.Get("state") != "st-2" || q.Get("code") != "" {
		t.Fatalf("denied: %s", back)
	}
}

// On servers whose tokens expire (Pleroma, Akkoma), Refresh trades the refresh token for a
// new one; a refresh token the server refuses is Auth: the account needs a person.
func TestRefresh(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv.Now = clock
	srv.TokenLifetime = 2 * time.Hour
	n := mastodon.New(mastodon.WithClock(clock))
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, map[string]string{"server": srv.URL}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv, n)
	if c.RefreshToken == "" || !c.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("credentials %+v", c)
	}
	mu.Lock()
	now = now.Add(3 * time.Hour)
	mu.Unlock()
	expired := mastodon.New(mastodon.WithClock(clock))
	s := sdk.CredentialSettings(c)
	s["server"] = srv.URL
	if err := expired.Configure(ctx, s); err != nil {
		t.Fatal(err)
	}
	_, err := expired.Publish(ctx, sdk.Post{Text: "late"}, "k1")
	plugintest.WantKind(t, err, sdk.Auth, "expired")

	fresh, err := n.Refresh(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == c.AccessToken || fresh.RefreshToken == c.RefreshToken || fresh.Subject != c.Subject || !fresh.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("refreshed %+v from %+v", fresh, c)
	}
	// The old refresh token was rotated away.
	_, err = n.Refresh(ctx, c)
	plugintest.WantKind(t, err, sdk.Auth, "invalid_grant")
	srv.RevokeRefreshTokens()
	_, err = n.Refresh(ctx, fresh)
	plugintest.WantKind(t, err, sdk.Auth, "connect the account again")
}
