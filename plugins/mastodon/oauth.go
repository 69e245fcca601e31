package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Connecting an account (sdk.Authorizer; docs/plugins.md, "Connecting accounts"). Mastodon
// has no developer portal: an app is registered on the account's server itself (POST
// /api/v1/apps) for the daemon's redirect URI, then the person approves it on the
// server's /oauth/authorize page, and /oauth/token trades the code (with the PKCE
// verifier, Mastodon 4.3+) for a token. The registration is kept in state_dir (and in
// memory), so that the consent page and the way back use the same app and a server gets
// one registration per redirect URI; the client id and secret also travel with the
// credentials (Extra), sealed by the daemon, for refreshes on servers whose tokens expire
// (Pleroma, Akkoma: Mastodon's do not).

// oauthScopes are the scopes tact asks for: reading the account and its statuses (Lookup,
// verify_credentials) and writing statuses and media.
const oauthScopes = "read write"

// The settings Exchange adds to the credentials (Credentials.Extra).
const (
	settingClientID     = "client_id"
	settingClientSecret = "client_secret"
)

var _ sdk.Authorizer = (*Network)(nil)

// registration is an app registered on a server for one redirect URI.
type registration struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scopes       string `json:"scopes"`
}

// appsFile is where state_dir keeps the server's registrations, by redirect URI.
func (n *Network) appsFile() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stateDir == "" {
		return ""
	}
	u, _ := url.Parse(n.server)
	return filepath.Join(n.stateDir, "mastodon-apps-"+safeName(u.Host)+".json")
}

// app returns the registration for redirect, registering one if there is none.
func (n *Network) app(ctx context.Context, redirect string, register bool) (registration, error) {
	n.appsMu.Lock()
	defer n.appsMu.Unlock()
	if r, ok := n.apps[redirect]; ok && r.Scopes == oauthScopes {
		return r, nil
	}
	file := n.appsFile()
	saved := map[string]registration{}
	if file != "" {
		if b, err := os.ReadFile(file); err == nil {
			_ = json.Unmarshal(b, &saved)
		}
		if r, ok := saved[redirect]; ok && r.Scopes == oauthScopes {
			n.apps[redirect] = r
			return r, nil
		}
	}
	if !register {
		return registration{}, sdk.Errorf(sdk.Auth, "mastodon: no app is registered on %s for %s (state_dir was emptied, or the plugin restarted without one): connect the account again", redact.URL(n.serverURL()), redirect)
	}
	form := url.Values{"client_name": {"tact"}, "redirect_uris": {redirect}, "scopes": {oauthScopes}, "website": {"https://github.com/tact-hq/tact"}}
	var got struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := n.oauthPost(ctx, "/api/v1/apps", form, &got); err != nil {
		return registration{}, err
	}
	if got.ClientID == "" || got.ClientSecret == "" {
		return registration{}, sdk.Errorf(sdk.Retryable, "mastodon: POST /api/v1/apps answered without client_id and client_secret: is this a Mastodon-compatible server?")
	}
	r := registration{ClientID: got.ClientID, ClientSecret: got.ClientSecret, Scopes: oauthScopes}
	n.apps[redirect] = r
	if file != "" {
		saved[redirect] = r
		if err := writePrivateJSON(file, saved); err != nil {
			n.log.Warn("mastodon: the app registration could not be kept in state_dir; a restarted plugin registers again", "err", err)
		}
	}
	return r, nil
}

// writePrivateJSON writes v to path (mode 0600) through a file renamed into place.
func writePrivateJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (n *Network) serverURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.server
}

// AuthCodeURL registers the app on the server if needed and returns its consent page.
func (n *Network) AuthCodeURL(ctx context.Context, req sdk.AuthRequest) (string, error) {
	if !n.isConfigured() {
		return "", sdk.Errorf(sdk.Permanent, "mastodon: AuthCodeURL called before Configure")
	}
	if req.RedirectURI == "" || req.State == "" || req.CodeChallenge == "" {
		return "", sdk.Errorf(sdk.Permanent, "mastodon: AuthCodeURL needs the redirect URI, the state and the PKCE code challenge")
	}
	r, err := n.app(ctx, req.RedirectURI, true)
	if err != nil {
		return "", err
	}
	q := url.Values{"response_type": {"code"}, "client_id": {r.ClientID}, "redirect_uri": {req.RedirectURI},
		"scope": {oauthScopes}, "state": {req.State}, "code_challenge": {req.CodeChallenge}, "code_challenge_method": {"S256"}}
	return n.serverURL() + "/oauth/authorize?" + q.Encode(), nil
}

// tokenAnswer is /oauth/token's answer (Mastodon's Token entity, with the expiry and
// refresh token other servers add).
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	CreatedAt    int64  `json:"created_at"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func (t tokenAnswer) credentials(now time.Time, r registration) sdk.Credentials {
	c := sdk.Credentials{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		Extra: map[string]string{settingClientID: r.ClientID, settingClientSecret: r.ClientSecret}}
	if t.ExpiresIn > 0 {
		from := now
		if t.CreatedAt > 0 {
			from = time.Unix(t.CreatedAt, 0)
		}
		c.ExpiresAt = from.Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
	}
	return c
}

// Exchange trades the code for a token and asks the server who it acts as.
func (n *Network) Exchange(ctx context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	if !n.isConfigured() {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "mastodon: Exchange called before Configure")
	}
	r, err := n.app(ctx, req.RedirectURI, false)
	if err != nil {
		return sdk.Credentials{}, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {req.Code}, "client_id": {r.ClientID}, "client_secret": {r.ClientSecret},
		"redirect_uri": {req.RedirectURI}, "code_verifier": {req.CodeVerifier}, "scope": {oauthScopes}}
	var t tokenAnswer
	if err := n.oauthPost(ctx, "/oauth/token", form, &t); err != nil {
		return sdk.Credentials{}, err
	}
	if t.AccessToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Retryable, "mastodon: POST /oauth/token answered without an access_token")
	}
	c := t.credentials(n.now(), r)
	server := n.serverURL()
	probe := &Network{client: n.client, now: n.now, log: n.log, server: server, token: t.AccessToken}
	var account struct {
		Username string `json:"username"`
	}
	if _, err := probe.call(ctx, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, "", nil, &account); err != nil {
		return sdk.Credentials{}, err
	}
	u, _ := url.Parse(server)
	c.Subject = "@" + account.Username + "@" + u.Host
	return c, nil
}

// Refresh uses the refresh token of servers whose tokens expire.
func (n *Network) Refresh(ctx context.Context, old sdk.Credentials) (sdk.Credentials, error) {
	if !n.isConfigured() {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "mastodon: Refresh called before Configure")
	}
	if old.RefreshToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "mastodon: the account's token has no refresh token: connect the account again")
	}
	r := registration{ClientID: old.Extra[settingClientID], ClientSecret: old.Extra[settingClientSecret], Scopes: oauthScopes}
	if r.ClientID == "" || r.ClientSecret == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "mastodon: the credentials carry no client_id and client_secret to refresh with: connect the account again")
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}, "client_id": {r.ClientID},
		"client_secret": {r.ClientSecret}, "scope": {oauthScopes}}
	var t tokenAnswer
	if err := n.oauthPost(ctx, "/oauth/token", form, &t); err != nil {
		return sdk.Credentials{}, err
	}
	if t.AccessToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Retryable, "mastodon: POST /oauth/token answered without an access_token")
	}
	c := t.credentials(n.now(), r)
	if c.RefreshToken == "" {
		c.RefreshToken = old.RefreshToken // not rotated
	}
	c.Subject = old.Subject
	return c, nil
}

// oauthPost posts form to a public OAuth route of the server and decodes the JSON answer.
// Refusals are typed: invalid_grant and invalid_client are Auth (a person must connect
// again), other 4xx Permanent, 5xx and transport failures Retryable.
func (n *Network) oauthPost(ctx context.Context, path string, form url.Values, out any) error {
	server := n.serverURL()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+path, strings.NewReader(form.Encode()))
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "mastodon: building POST %s: %v", path, redact.Error(err, server))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-mastodon/"+Version)
	resp, err := n.client.Do(req)
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "mastodon: POST %s%s: %v", redact.URL(server), path, redact.Error(err, server))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "mastodon: reading answer to POST %s: %v", path, err)
	}
	where := fmt.Sprintf("mastodon: POST %s answered %d", path, resp.StatusCode)
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		if err := json.Unmarshal(data, out); err != nil {
			return sdk.Errorf(sdk.Retryable, "%s with JSON we cannot read: %v", where, err)
		}
		return nil
	case code == http.StatusTooManyRequests:
		return sdk.RateLimit(retryAfter(resp.Header, n.now()), "%s: %s", where, serverMessage(data))
	case code >= 500 || code == http.StatusRequestTimeout:
		return sdk.Errorf(sdk.Retryable, "%s: %s", where, serverMessage(data))
	case code == http.StatusUnauthorized || strings.Contains(string(data), "invalid_grant") || strings.Contains(string(data), "invalid_client"):
		if strings.Contains(string(data), "invalid_client") {
			n.forgetApps()
		}
		return sdk.Errorf(sdk.Auth, "%s: %s: connect the account again", where, serverMessage(data))
	default:
		return sdk.Errorf(sdk.Permanent, "%s: %s", where, serverMessage(data))
	}
}

// forgetApps drops the registrations the server no longer knows, so that the next
// connection registers again.
func (n *Network) forgetApps() {
	n.appsMu.Lock()
	defer n.appsMu.Unlock()
	clear(n.apps)
	if file := n.appsFile(); file != "" {
		_ = os.Remove(file)
	}
}
