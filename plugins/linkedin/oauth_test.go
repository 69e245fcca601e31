package linkedin_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/linkedin"
	"github.com/tact-hq/tact/plugins/linkedin/linkedintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// app are an account's settings before it is connected: the app's credentials only.
func app(srv *linkedintest.Server, extra ...string) map[string]string {
	s := map[string]string{"api_url": srv.URL, "oauth_url": srv.URL, "client_id": srv.ClientID, "client_secret": srv.ClientSecret}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

var quiet = linkedin.WithLogger(slog.New(slog.DiscardHandler))

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// connect runs the code flow as the daemon will: consent URL, the member approves, the
// code comes back with the state, and is exchanged with the verifier.
func connect(t *testing.T, srv *linkedintest.Server, n *linkedin.Network) sdk.Credentials {
	t.Helper()
	ctx := plugintest.Context(t)
	const verifier = "a-verifier-of-enough-length-0123456789-abcdefghijklmnop"
	const redirect = "http://127.0.0.1:8080/oauth/callback"
	authURL, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "st-42", CodeChallenge: pkce(verifier)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := srv.Approve(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	if !strings.HasPrefix(back, redirect+"?") || u.Query().Get("state") != "st-42" || u.Query().Get("code") == "" {
		t.Fatalf("redirected back to %s", back)
	}
	creds, err := n.Exchange(ctx, sdk.ExchangeRequest{Code: u.Query().Get("code"), CodeVerifier: verifier, RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestConnectAMemberThenPublishAndRefresh(t *testing.T) {
	srv := newServer(t)
	n := linkedin.New(quiet, linkedin.WithClock(srv.Time))
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, app(srv)); err != nil {
		t.Fatalf("Configure with the app's credentials only: %v", err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "too early"}, "k0")
	plugintest.WantKind(t, err, sdk.Auth, "not connected yet")

	start := time.Now()
	creds := connect(t, srv, n)
	consent := srv.Consents()[0]
	if strings.Join(consent.Scopes, " ") != "openid profile w_member_social" || consent.CodeChallengeMethod != "S256" {
		t.Fatalf("consent page asked for %+v", consent)
	}
	if creds.AccessToken == "" || creds.RefreshToken == "" || creds.Subject != srv.Member.Name || creds.Extra["author"] != srv.Member.URN() {
		t.Fatalf("credentials = %+v", creds)
	}
	if d := creds.ExpiresAt.Sub(start); d < 59*24*time.Hour || d > 61*24*time.Hour {
		t.Fatalf("ExpiresAt in %s, want 60 days", d)
	}
	if d := creds.RefreshExpiresAt.Sub(start); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Fatalf("RefreshExpiresAt in %s, want 365 days", d)
	}

	// The daemon hands the credentials back as settings.
	connected := app(srv)
	maps.Copy(connected, sdk.CredentialSettings(creds))
	if err := n.Configure(ctx, connected); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "connected"}, "k1"); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[0]; p.Author != srv.Member.URN() {
		t.Fatalf("posted as %s", p.Author)
	}

	// 59 days on, a refresh gives a new 60-day token; the refresh token keeps its end.
	srv.Advance(59 * 24 * time.Hour)
	renewed, err := n.Refresh(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.AccessToken == creds.AccessToken || renewed.RefreshToken != creds.RefreshToken || !renewed.RefreshExpiresAt.Equal(creds.RefreshExpiresAt) {
		t.Fatalf("renewed = %+v\nfrom %+v", renewed, creds)
	}
	if renewed.Subject != creds.Subject || renewed.Extra["author"] != srv.Member.URN() {
		t.Fatalf("renewed lost who it is: %+v", renewed)
	}
	if got := srv.ExpiresAt(renewed.AccessToken); got.Sub(renewed.ExpiresAt).Abs() > 2*time.Second || renewed.ExpiresAt.Sub(creds.ExpiresAt) < 58*24*time.Hour {
		t.Fatalf("LinkedIn says the new token expires %s, the plugin %s (the first one %s)", got, renewed.ExpiresAt, creds.ExpiresAt)
	}

	// A revoked refresh token: the member must connect again.
	srv.Revoke(creds.RefreshToken)
	_, err = n.Refresh(ctx, creds)
	plugintest.WantKind(t, err, sdk.Auth, "invalid_grant")
}

func TestConnectAPage(t *testing.T) {
	srv := newServer(t)
	n := linkedin.New(quiet)
	if err := n.Configure(plugintest.Context(t), app(srv, "author", page)); err != nil {
		t.Fatal(err)
	}
	creds := connect(t, srv, n)
	if got := strings.Join(srv.Consents()[0].Scopes, " "); got != "w_organization_social r_organization_social" {
		t.Fatalf("scopes asked = %s", got)
	}
	if creds.Subject != page || creds.Extra["author"] != page {
		t.Fatalf("credentials = %+v", creds)
	}
}

func TestConnectFailures(t *testing.T) {
	srv := newServer(t)
	n := linkedin.New(quiet)
	ctx := plugintest.Context(t)
	const redirect = "http://127.0.0.1:8080/cb"

	_, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: "c"})
	if err == nil {
		t.Fatal("AuthCodeURL before Configure")
	}
	if err := n.Configure(ctx, settings(srv)); err != nil {
		t.Fatal(err)
	}
	_, err = n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: "c"})
	plugintest.WantKind(t, err, sdk.Permanent, "set the account's client_id and client_secret")

	if err := n.Configure(ctx, app(srv)); err != nil {
		t.Fatal(err)
	}
	authURL, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: pkce("right")})
	if err != nil {
		t.Fatal(err)
	}
	// The member presses Cancel.
	back, err := srv.Deny(authURL)
	if err != nil || !strings.Contains(back, "error=user_cancelled_authorize") || !strings.Contains(back, "state=s") {
		t.Fatalf("Deny = %s, %v", back, err)
	}
	// The wrong PKCE verifier: LinkedIn refuses the code, and it cannot be tried again.
	back, err = srv.Approve(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	code := u.Query().Get("code")
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: "wrong", RedirectURI: redirect})
	plugintest.WantKind(t, err, sdk.Permanent, "code verifier does not match")
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: "right", RedirectURI: redirect})
	plugintest.WantKind(t, err, sdk.Permanent, "start connecting the account again")
	// A code more than 30 minutes old.
	back, _ = srv.Approve(authURL)
	u, _ = url.Parse(back)
	srv.Advance(31 * time.Minute)
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: u.Query().Get("code"), CodeVerifier: "right", RedirectURI: redirect})
	plugintest.WantKind(t, err, sdk.Permanent, "authorization code expired")

	// A wrong client secret.
	if err := n.Configure(ctx, app(srv, "client_secret", "not-it")); err != nil {
		t.Fatal(err)
	}
	_, err = n.Refresh(ctx, sdk.Credentials{RefreshToken: srv.RefreshToken})
	plugintest.WantKind(t, err, sdk.Auth, "invalid_client")
	// No refresh token at all (an app LinkedIn did not approve for them).
	_, err = n.Refresh(ctx, sdk.Credentials{AccessToken: "x"})
	plugintest.WantKind(t, err, sdk.Auth, "no refresh token")

	// A scope the app's products do not grant comes back as an error on the redirect.
	if err := n.Configure(ctx, app(srv, "scopes", "w_member_social rw_ads")); err != nil {
		t.Fatal(err)
	}
	authURL, _ = n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: pkce("v")})
	back, err = srv.Approve(authURL)
	if err != nil || !strings.Contains(back, "error=unauthorized_scope_error") {
		t.Fatalf("Approve with a scope the app lacks = %s, %v", back, err)
	}
	// An unregistered redirect URI is refused on LinkedIn's own page.
	srv.RedirectURIs = []string{"https://tact.example/oauth/callback"}
	authURL, _ = n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: pkce("v")})
	if _, err := srv.Approve(authURL); err == nil || !strings.Contains(err.Error(), "redirect_uri does not match") {
		t.Fatalf("Approve with an unregistered redirect = %v", err)
	}
}

// An expired access token does not stop Configure (the daemon must still be able to
// refresh or reconnect through the process), but holds the account's posts.
func TestAnExpiredTokenHoldsPostsWithoutCallingLinkedIn(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page, "token_expires_at", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "the access token expired on "+time.Now().Add(-time.Hour).UTC().Format(time.DateOnly))
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), "urn:li:share:1"), sdk.Auth, "expired")
	if got := srv.Count("POST", "/rest/"); got != 0 {
		t.Fatalf("%d calls to LinkedIn with an expired token", got)
	}

	// Expiring while the process runs, by the plugin's clock.
	now := time.Now()
	m := configured(t, srv, []linkedin.Option{linkedin.WithClock(func() time.Time { return now })}, "author", page,
		"token_expires_at", now.Add(time.Hour).UTC().Format(time.RFC3339))
	now = now.Add(2 * time.Hour)
	_, err = m.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "expired")

	// Expired by LinkedIn's clock (the settings did not say when).
	srv.Advance(61 * 24 * time.Hour)
	o := configured(t, srv, nil, "author", page)
	_, err = o.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "EXPIRED_ACCESS_TOKEN")
}

// With the app's credentials, Configure asks LinkedIn about the token: revoked, or
// without the scope posting needs, it holds the account's posts with the reason.
func TestConfigureIntrospectsTheToken(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	memberOnly, _ := srv.IssueToken("openid", "profile", "w_member_social")
	n := linkedin.New(quiet)
	if err := n.Configure(ctx, app(srv, "author", page, "access_token", memberOnly)); err != nil {
		t.Fatal(err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "without w_organization_social")

	srv.Revoke(memberOnly)
	if err := n.Configure(ctx, app(srv, "access_token", memberOnly)); err != nil {
		t.Fatal(err)
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "LinkedIn says the access token is revoked")
	if got := srv.Count("POST", "/rest/posts"); got != 0 {
		t.Fatalf("%d posts sent with an unusable token", got)
	}

	// A token LinkedIn cannot say the owner of (no openid scope) and no author setting.
	writeOnly, _ := srv.IssueToken("w_member_social")
	if err := n.Configure(ctx, settings(srv, "access_token", writeOnly)); err != nil {
		t.Fatal(err)
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "set author to urn:li:person:ID")
}

func TestExpiryNotice(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		creds sdk.Credentials
		want  string
	}{
		{"no expiry known", sdk.Credentials{AccessToken: "a"}, ""},
		{"access token far off, no refresh", sdk.Credentials{AccessToken: "a", ExpiresAt: now.Add(30 * 24 * time.Hour)}, ""},
		{"access token in 3 days, no refresh", sdk.Credentials{AccessToken: "a", ExpiresAt: now.Add(3 * 24 * time.Hour)},
			"the access token expires on 2026-12-05 (in 3 days)"},
		{"access token expired, no refresh", sdk.Credentials{AccessToken: "a", ExpiresAt: now.Add(-time.Hour)}, "the access token expired on 2026-12-02"},
		{"access token in 3 days, refresh far off", sdk.Credentials{AccessToken: "a", ExpiresAt: now.Add(3 * 24 * time.Hour), RefreshToken: "r", RefreshExpiresAt: now.Add(200 * 24 * time.Hour)}, ""},
		{"refresh token in 7 days", sdk.Credentials{AccessToken: "a", RefreshToken: "r", RefreshExpiresAt: now.Add(7 * 24 * time.Hour)},
			"the refresh token expires on 2026-12-09 (in 7 days)"},
		{"refresh token of unknown end", sdk.Credentials{AccessToken: "a", ExpiresAt: now.Add(time.Hour), RefreshToken: "r"}, ""},
	}
	for _, tt := range tests {
		msg, ok := linkedin.ExpiryNotice(tt.creds, now)
		if ok != (tt.want != "") || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: ExpiryNotice = %q, %v; want %q", tt.name, msg, ok, tt.want)
		}
	}
}

func TestConfigureWarnsOfATokenAboutToExpire(t *testing.T) {
	srv := newServer(t)
	var log bytes.Buffer
	n := linkedin.New(linkedin.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	exp := time.Now().Add(3 * 24 * time.Hour).UTC()
	if err := n.Configure(plugintest.Context(t), settings(srv, "author", page, "token_expires_at", exp.Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "expires on "+exp.Format(time.DateOnly)) {
		t.Fatalf("log = %s", log.String())
	}
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "still works"}, "k"); err != nil {
		t.Fatalf("a token 3 days from expiry must still publish: %v", err)
	}
}
