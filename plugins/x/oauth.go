package x

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Scopes are what the plugin asks X for: read and write posts, read the account (who it
// is, its timeline for Lookup), upload media, and a refresh token (offline.access).
var Scopes = []string{"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"}

var _ sdk.Authorizer = (*Network)(nil)

// AuthCodeURL is X's consent page (authorize_url, https://x.com/i/oauth2/authorize) for
// the daemon's callback, with PKCE S256.
func (n *Network) AuthCodeURL(ctx context.Context, req sdk.AuthRequest) (string, error) {
	n.mu.Lock()
	authURL, clientID := n.authURL, n.clientID
	n.mu.Unlock()
	if clientID == "" {
		return "", sdk.Errorf(sdk.Permanent, "x: setting \"client_id\" is empty: set it to the OAuth 2.0 Client ID of your app (X developer console, Keys and tokens)")
	}
	if req.RedirectURI == "" || req.State == "" || req.CodeChallenge == "" {
		return "", sdk.Errorf(sdk.Permanent, "x: AuthCodeURL needs a redirect URI, a state and a code challenge")
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {req.RedirectURI},
		"scope":                 {strings.Join(Scopes, " ")},
		"state":                 {req.State},
		"code_challenge":        {req.CodeChallenge},
		"code_challenge_method": {"S256"},
	}
	sep := "?"
	if strings.Contains(authURL, "?") {
		sep = "&"
	}
	// X documents %20 between scopes, not '+'.
	return authURL + sep + strings.ReplaceAll(q.Encode(), "+", "%20"), nil
}

// Exchange trades the code for tokens at POST /2/oauth2/token and reads who they act as
// (GET /2/users/me): the Subject is @username.
func (n *Network) Exchange(ctx context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	if req.Code == "" || req.CodeVerifier == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "x: Exchange needs the code X sent back and the PKCE verifier")
	}
	c, err := n.tokenRequest(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {req.Code},
		"redirect_uri":  {req.RedirectURI},
		"code_verifier": {req.CodeVerifier},
	}, "the authorization code")
	if err != nil {
		return sdk.Credentials{}, err
	}
	a := n.apiWith(c.AccessToken)
	var me userMe
	if _, err := a.getJSON(ctx, "/2/users/me", &me); err != nil {
		return sdk.Credentials{}, fmt.Errorf("x: reading the connected account: %w", err)
	}
	if me.Data.Username != "" {
		c.Subject = "@" + me.Data.Username
	}
	return c, nil
}

// Refresh uses the refresh token for new credentials. X rotates refresh tokens: the
// answer carries a new one and the old one stops working, so the credentials returned
// must replace the old ones at once.
func (n *Network) Refresh(ctx context.Context, old sdk.Credentials) (sdk.Credentials, error) {
	if old.RefreshToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "x: the account has no refresh token (X gives one only with the offline.access scope): connect the account again")
	}
	c, err := n.tokenRequest(ctx, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.RefreshToken},
	}, "the refresh token")
	if err != nil {
		return sdk.Credentials{}, err
	}
	if c.RefreshToken == "" {
		c.RefreshToken = old.RefreshToken
	}
	c.Subject = old.Subject
	return c, nil
}

// tokenRequest posts form to X's token endpoint, authenticating the app as X documents:
// HTTP Basic with client_id and client_secret for a confidential client, client_id in the
// form for a public one.
func (n *Network) tokenRequest(ctx context.Context, form url.Values, what string) (sdk.Credentials, error) {
	n.mu.Lock()
	base, clientID, secret, client, now := n.apiBase, n.clientID, n.clientSecret, n.client, n.now
	n.mu.Unlock()
	if clientID == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "x: setting \"client_id\" is empty: set it to the OAuth 2.0 Client ID of your app (X developer console, Keys and tokens)")
	}
	if secret == "" {
		form.Set("client_id", clientID)
	}
	const path = "/2/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "x: building POST %s: %v", path, redact.Error(err, base))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-x/"+Version)
	if secret != "" {
		req.SetBasicAuth(clientID, secret) // base64("id:secret"), as X documents
	}
	started := now()
	resp, err := client.Do(req)
	if err != nil {
		return sdk.Credentials{}, sdk.Errorf(sdk.Retryable, "x: POST %s%s: %v", redact.URL(base), path, redact.Error(err, base))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return sdk.Credentials{}, sdk.Errorf(sdk.Retryable, "x: reading the answer to POST %s: %v", path, err)
	}
	var tok struct {
		AccessToken      string `json:"access_token"`
		RefreshToken     string `json:"refresh_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Scope            string `json:"scope"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tok)
	if resp.StatusCode != http.StatusOK {
		return sdk.Credentials{}, tokenError(resp.StatusCode, resp.Header, tok.Error, tok.ErrorDescription, body, what, now())
	}
	if tok.AccessToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Retryable, "x: POST %s answered 200 without an access token", path)
	}
	c := sdk.Credentials{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if tok.ExpiresIn > 0 {
		// From when the request left: the token may not outlive what X said.
		c.ExpiresAt = started.Add(time.Duration(tok.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
	}
	return c, nil
}

// tokenError types a refusal of the token endpoint. A code or refresh token X refuses
// (400; X says invalid_request where RFC 6749 says invalid_grant) or app credentials it
// refuses (401) need a person: Auth for a refresh, Permanent for an exchange (the person
// connecting starts again).
func tokenError(status int, h http.Header, code, desc string, body []byte, what string, now time.Time) error {
	said := strings.TrimSpace(code + ": " + desc)
	if code == "" {
		said = sdk.Excerpt(string(body), 200)
	}
	where := fmt.Sprintf("x: POST /2/oauth2/token answered %d (%s)", status, said)
	kind := sdk.Auth
	if what == "the authorization code" {
		kind = sdk.Permanent
	}
	switch {
	case status == http.StatusBadRequest:
		if what == "the authorization code" {
			return sdk.Errorf(kind, "%s: X refused %s (it is valid for 30 seconds and once, and the redirect URI must be the one registered): start connecting again", where, what)
		}
		return sdk.Errorf(kind, "%s: X refused %s (used already, or the person removed the app from X's connected apps): connect the account again", where, what)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return sdk.Errorf(kind, "%s: X refused the app's credentials: check the settings client_id and client_secret (X developer console, Keys and tokens; a public client has no secret)", where)
	case status == http.StatusTooManyRequests:
		return sdk.RateLimit(rateLimitWait(h, now), "%s", where)
	case status >= 500:
		return sdk.Errorf(sdk.Retryable, "%s", where)
	default:
		return sdk.Errorf(sdk.Permanent, "%s", where)
	}
}
