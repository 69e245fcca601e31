package x_test

import (
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x"
	"github.com/tact-hq/tact/plugins/x/xtest"
)

const callback = "http://127.0.0.1:8080/accounts/brand-x/callback"

// connect runs the whole connect flow against the fake, as the daemon does: the consent
// page URL, the person approving, the code exchanged with the PKCE verifier.
func connect(t *testing.T, srv *xtest.Server, n *x.Network) sdk.Credentials {
	t.Helper()
	ctx := plugintest.Context(t)
	verifier := "a-verifier-of-at-least-43-characters-0123456789"
	authURL, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: callback, State: "st-123", CodeChallenge: xtest.Challenge(verifier)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := srv.Approve(authURL)
	if err != nil {
		t.Fatalf("Approve(%s): %v", authURL, err)
	}
	u, _ := url.Parse(back)
	if u.Query().Get("state") != "st-123" || !strings.HasPrefix(back, callback) {
		t.Fatalf("redirect %s", back)
	}
	c, err := n.Exchange(ctx, sdk.ExchangeRequest{Code: u.Query().Get("code"), CodeVerifier: verifier, RedirectURI: callback})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return c
}

func TestConnectFlow(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	n := configure(t, x.New(), srv.AppSettings())
	authURL, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: callback, State: "s", CodeChallenge: "c"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if u.Path != "/i/oauth2/authorize" || q.Get("code_challenge_method") != "S256" || q.Get("client_id") != srv.ClientID ||
		q.Get("scope") != "tweet.read tweet.write users.read offline.access media.write" || strings.Contains(u.RawQuery, "+") {
		t.Fatalf("consent URL %s", authURL)
	}
	if d, _ := configure(t, x.New(), map[string]string{"client_id": "abc"}).AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: callback, State: "s", CodeChallenge: "c"}); !strings.HasPrefix(d, "https://x.com/i/oauth2/authorize?") {
		t.Errorf("default consent page %s", d)
	}

	started := time.Now()
	c := connect(t, srv, n)
	if c.AccessToken == "" || c.RefreshToken == "" || c.Subject != "@"+srv.Username {
		t.Fatalf("credentials %+v", c)
	}
	if lasts := c.ExpiresAt.Sub(started); lasts < 2*time.Hour-time.Minute || lasts > 2*time.Hour+time.Second {
		t.Errorf("ExpiresAt in %v, want X's two hours", lasts)
	}

	// The daemon hands the credentials to Configure as settings: the account posts.
	settings := srv.AppSettings()
	maps.Copy(settings, sdk.CredentialSettings(c))
	settings["state_dir"] = t.TempDir()
	posting := configure(t, x.New(), settings)
	if _, err := posting.Publish(ctx, sdk.Post{Text: "Connected"}, "k1"); err != nil {
		t.Fatal(err)
	}
}

// X's refresh tokens work once: each refresh returns a new pair, and the old refresh token
// is refused (Auth: connect again). The old access token keeps working until it expires.
func TestRefreshRotates(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	n := configure(t, x.New(), srv.AppSettings())
	first := connect(t, srv, n)
	second, err := n.Refresh(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken || second.RefreshToken == "" || second.Subject != first.Subject {
		t.Fatalf("refresh did not rotate: %+v -> %+v", first, second)
	}
	_, err = n.Refresh(ctx, first)
	plugintest.WantKind(t, err, sdk.Auth, "Value passed for the token was invalid")
	if _, err := n.Refresh(ctx, second); err != nil {
		t.Fatalf("the new refresh token: %v", err)
	}

	_, err = n.Refresh(ctx, sdk.Credentials{AccessToken: "a"})
	plugintest.WantKind(t, err, sdk.Auth, "offline.access")
	srv.Revoke(second.RefreshToken)
}

func TestTokenEndpointRefusals(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	n := configure(t, x.New(), srv.AppSettings())
	verifier := "the-right-verifier-0123456789-0123456789-0123"
	authURL, _ := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: callback, State: "s", CodeChallenge: xtest.Challenge(verifier)})
	back, err := srv.Approve(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	code := u.Query().Get("code")

	// A verifier that does not match the challenge (PKCE S256) is refused.
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: "another-verifier", RedirectURI: callback})
	plugintest.WantKind(t, err, sdk.Permanent, "authorization code was invalid")
	// So is another redirect URI.
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: verifier, RedirectURI: "http://127.0.0.1:1/other"})
	plugintest.WantKind(t, err, sdk.Permanent, "start connecting again")
	// The right one works once.
	if _, err := n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: verifier, RedirectURI: callback}); err != nil {
		t.Fatal(err)
	}
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: verifier, RedirectURI: callback})
	plugintest.WantKind(t, err, sdk.Permanent, "authorization code was invalid")

	// A wrong client secret.
	wrong := srv.AppSettings()
	wrong["client_secret"] = "not-the-secret"
	bad := configure(t, x.New(), wrong)
	_, err = bad.Refresh(ctx, sdk.Credentials{RefreshToken: srv.IssueTokens().RefreshToken})
	plugintest.WantKind(t, err, sdk.Auth, "check the settings client_id and client_secret")

	// An app without client_id cannot start the flow.
	tok := srv.IssueTokens()
	noApp := configure(t, x.New(), map[string]string{"api_url": srv.URL, "access_token": tok.AccessToken})
	_, err = noApp.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: callback, State: "s", CodeChallenge: "c"})
	plugintest.WantKind(t, err, sdk.Permanent, `"client_id" is empty`)
}

// A public client (no secret) sends its client_id in the form instead of HTTP Basic.
func TestPublicClient(t *testing.T) {
	srv := newServer(t)
	srv.ClientSecret = ""
	n := configure(t, x.New(), srv.AppSettings())
	c := connect(t, srv, n)
	if _, err := n.Refresh(plugintest.Context(t), c); err != nil {
		t.Fatal(err)
	}
}

// The person cancels on X's consent page: the callback gets error=access_denied and the
// state, as X sends them.
func TestDeny(t *testing.T) {
	srv := newServer(t)
	n := configure(t, x.New(), srv.AppSettings())
	authURL, _ := n.AuthCodeURL(plugintest.Context(t), sdk.AuthRequest{RedirectURI: callback, State: "st", CodeChallenge: "c"})
	back, err := srv.Deny(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	if u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st" || u.Query().Get("code") != "" {
		t.Fatalf("redirect %s", back)
	}
}

// A token expires after two hours on the fake as on X: Configure then skips the check,
// and X refuses the token if it is used anyway (401, Auth).
func TestFakeExpiresTokens(t *testing.T) {
	srv := newServer(t)
	now := time.Now()
	srv.Now = func() time.Time { return now }
	tok := srv.IssueTokens()
	n := configure(t, x.New(), connectedSettings(srv, tok))
	now = now.Add(2*time.Hour + time.Second)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "late"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "X refused the access token")
}
