package facebook_test

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/facebook"
	"github.com/tact-hq/tact/plugins/facebook/facebooktest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// app are an account's settings before it is connected: the app's credentials only.
func app(srv *facebooktest.Server, extra ...string) map[string]string {
	s := map[string]string{"graph_url": srv.URL, "dialog_url": srv.URL, "client_id": srv.AppID, "client_secret": srv.AppSecret}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const (
	verifier = "a-verifier-of-enough-length-0123456789-abcdefghijklmnop"
	redirect = "http://127.0.0.1:8080/oauth/callback"
)

// approve runs the dialog as the daemon and a person will: the dialog URL, the person
// approves, the code comes back with the state. It returns the code.
func approve(t *testing.T, srv *facebooktest.Server, n *facebook.Network) string {
	t.Helper()
	authURL, err := n.AuthCodeURL(plugintest.Context(t), sdk.AuthRequest{RedirectURI: redirect, State: "st-42", CodeChallenge: pkce(verifier)})
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
	return u.Query().Get("code")
}

func connect(t *testing.T, srv *facebooktest.Server, n *facebook.Network) sdk.Credentials {
	t.Helper()
	creds, err := n.Exchange(plugintest.Context(t), sdk.ExchangeRequest{Code: approve(t, srv, n), CodeVerifier: verifier, RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestConnectAPageThenPublish(t *testing.T) {
	srv := newServer(t)
	n := facebook.New(quiet, facebook.WithClock(srv.Time))
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, app(srv, "page_id", page)); err != nil {
		t.Fatalf("Configure with the app's credentials only: %v", err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "too early"}, "k0")
	plugintest.WantKind(t, err, sdk.Auth, "not connected yet")

	creds := connect(t, srv, n)
	d := srv.Dialogs()[0]
	if d.Scope != "pages_show_list,pages_manage_posts,pages_read_engagement" || d.CodeChallengeMethod != "S256" || d.CodeChallenge != pkce(verifier) || d.ClientID != srv.AppID {
		t.Fatalf("the dialog asked for %+v", d)
	}
	if got := srv.Requests()[0]; got != "GET /"+facebook.DefaultVersion+"/dialog/oauth" {
		t.Fatalf("dialog request %q", got)
	}
	// The Page's own token, long-lived: Facebook gives one that never expires when it is
	// derived from a long-lived user token, and tact keeps nothing else.
	if srv.TokenPage(creds.AccessToken) != page || !srv.ExpiresAt(creds.AccessToken).IsZero() {
		t.Fatalf("the token acts as %q and expires %s; want Page %s, never", srv.TokenPage(creds.AccessToken), srv.ExpiresAt(creds.AccessToken), page)
	}
	if !creds.ExpiresAt.IsZero() || creds.RefreshToken != "" || creds.Subject != "Tram Tours Lisbon" || creds.Extra["page_id"] != page {
		t.Fatalf("credentials = %+v", creds)
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
	// 90 days on, long past the user token's 60, the Page token still posts, and there is
	// nothing to refresh.
	srv.Advance(90 * 24 * time.Hour)
	if _, err := n.Publish(ctx, sdk.Post{Text: "still connected"}, "k2"); err != nil {
		t.Fatal(err)
	}
	before := len(srv.Requests())
	renewed, err := n.Refresh(ctx, creds)
	if err != nil || renewed.AccessToken != creds.AccessToken || renewed.Subject != creds.Subject || len(srv.Requests()) != before {
		t.Fatalf("Refresh = %+v, %v with %d calls; want the same credentials, no call", renewed, err, len(srv.Requests())-before)
	}
	if posts := srv.Posts(); len(posts) != 2 || posts[0].PageID != page {
		t.Fatalf("posts = %+v", posts)
	}
}

// Which Page: page_id, or the person's only one; a Page they did not give the app, or
// cannot post to, is refused with what to do.
func TestConnectChoosesThePage(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	exchange := func(settings map[string]string) (sdk.Credentials, error) {
		n := facebook.New(quiet)
		if err := n.Configure(ctx, settings); err != nil {
			t.Fatal(err)
		}
		return n.Exchange(ctx, sdk.ExchangeRequest{Code: approve(t, srv, n), CodeVerifier: verifier, RedirectURI: redirect})
	}
	_, err := exchange(app(srv))
	plugintest.WantKind(t, err, sdk.Permanent, "manages several Pages: set page_id to one of 104857600123456 (Tram Tours Lisbon), 104857600654321 (Tram Tours Porto)")
	creds, err := exchange(app(srv, "page_id", "104857600654321"))
	if err != nil || creds.Extra["page_id"] != "104857600654321" || creds.Subject != "Tram Tours Porto" {
		t.Fatalf("Exchange for the second Page = %+v, %v", creds, err)
	}
	_, err = exchange(app(srv, "page_id", "999"))
	plugintest.WantKind(t, err, sdk.Permanent, "did not give the app Page 999")

	srv.Pages = srv.Pages[:1]
	srv.Pages[0].Tasks = []string{"ANALYZE", "MODERATE"}
	_, err = exchange(app(srv))
	plugintest.WantKind(t, err, sdk.Permanent, "cannot create content on the Page Tram Tours Lisbon")
	srv.Pages[0].Tasks = append(srv.Pages[0].Tasks, "CREATE_CONTENT")
	creds, err = exchange(app(srv))
	if err != nil || creds.Extra["page_id"] != page {
		t.Fatalf("Exchange with one Page = %+v, %v", creds, err)
	}
}

func TestConnectFailures(t *testing.T) {
	srv := newServer(t)
	n := facebook.New(quiet, facebook.WithClock(srv.Time))
	ctx := plugintest.Context(t)

	_, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: "c"})
	if err == nil {
		t.Fatal("AuthCodeURL before Configure")
	}
	if err := n.Configure(ctx, settings(srv)); err != nil {
		t.Fatal(err)
	}
	_, err = n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: "c"})
	plugintest.WantKind(t, err, sdk.Permanent, "set the account's client_id and client_secret")

	if err := n.Configure(ctx, app(srv, "page_id", page)); err != nil {
		t.Fatal(err)
	}
	authURL, err := n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: pkce("right")})
	if err != nil {
		t.Fatal(err)
	}
	// The person presses Cancel.
	back, err := srv.Deny(authURL)
	if err != nil || !strings.Contains(back, "error=access_denied") || !strings.Contains(back, "error_reason=user_denied") || !strings.Contains(back, "state=s") {
		t.Fatalf("Deny = %s, %v", back, err)
	}
	code := func() string {
		back, err := srv.Approve(authURL)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(back)
		return u.Query().Get("code")
	}
	exchange := func(code, verifier, redirectURI string) error {
		_, err := n.Exchange(ctx, sdk.ExchangeRequest{Code: code, CodeVerifier: verifier, RedirectURI: redirectURI})
		return err
	}
	// The wrong PKCE verifier: Facebook refuses the code, and it cannot be tried again.
	c := code()
	plugintest.WantKind(t, exchange(c, "wrong", redirect), sdk.Permanent, "Invalid code verifier")
	plugintest.WantKind(t, exchange(c, "right", redirect), sdk.Permanent, "This authorization code has been used")
	plugintest.WantKind(t, exchange(code(), "right", "https://elsewhere.example/cb"), sdk.Permanent, "redirect_uri is identical")
	// A code more than 10 minutes old.
	c = code()
	srv.Advance(11 * time.Minute)
	err = exchange(c, "right", redirect)
	plugintest.WantKind(t, err, sdk.Permanent, "This authorization code has expired")
	plugintest.WantKind(t, err, sdk.Permanent, "start connecting the account again")
	// The person unticks a permission posting needs.
	srv.DeclinedScopes = []string{"pages_manage_posts"}
	plugintest.WantKind(t, exchange(code(), "right", redirect), sdk.Permanent, "did not grant pages_manage_posts")
	srv.DeclinedScopes = nil

	// A wrong app secret.
	if err := n.Configure(ctx, app(srv, "page_id", page, "client_secret", "not-it")); err != nil {
		t.Fatal(err)
	}
	plugintest.WantKind(t, exchange(code(), "right", redirect), sdk.Permanent, "Error validating client secret")
	// An unregistered redirect URI is refused on Facebook's own page.
	srv.RedirectURIs = []string{"https://tact.example/oauth/callback"}
	authURL, _ = n.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: "s", CodeChallenge: pkce("v")})
	if _, err := srv.Approve(authURL); err == nil || !strings.Contains(err.Error(), "URL Blocked") {
		t.Fatalf("Approve with an unregistered redirect = %v", err)
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

// A Facebook Login for Business configuration names its permissions: config_id replaces
// scope on the dialog.
func TestConnectWithALoginForBusinessConfiguration(t *testing.T) {
	srv := newServer(t)
	n := facebook.New(quiet)
	if err := n.Configure(plugintest.Context(t), app(srv, "page_id", page, "config_id", "1122334455")); err != nil {
		t.Fatal(err)
	}
	creds := connect(t, srv, n)
	if d := srv.Dialogs()[0]; d.ConfigID != "1122334455" || d.Scope != "" {
		t.Fatalf("dialog = %+v", d)
	}
	if srv.TokenPage(creds.AccessToken) != page {
		t.Fatalf("credentials = %+v", creds)
	}
}

// A user token given as the refresh token derives the Page's token again; one Facebook no
// longer takes means connecting again.
func TestRefreshFromAUserToken(t *testing.T) {
	srv := newServer(t)
	n := facebook.New(quiet)
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, app(srv, "page_id", page)); err != nil {
		t.Fatal(err)
	}
	old := sdk.Credentials{AccessToken: "gone", RefreshToken: srv.UserToken, Subject: "Tram Tours Lisbon"}
	renewed, err := n.Refresh(ctx, old)
	if err != nil || srv.TokenPage(renewed.AccessToken) != page || renewed.RefreshToken != srv.UserToken || renewed.Extra["page_id"] != page {
		t.Fatalf("Refresh = %+v, %v", renewed, err)
	}
	srv.Invalidate(srv.UserToken, 458)
	_, err = n.Refresh(ctx, old)
	plugintest.WantKind(t, err, sdk.Auth, "connect the account again")
}
