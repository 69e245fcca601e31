package linkedin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// AttentionWindow is how long before LinkedIn access runs out that the account needs a
// person: LinkedIn mails no reminder, and a member reconnects in a minute.
const AttentionWindow = 7 * 24 * time.Hour

// ExpiryNotice says when c's LinkedIn access runs out within AttentionWindow (or has run
// out) without the daemon being able to renew it, as a sentence for the account's "needs
// attention", and ok. Access that can be renewed ends with the refresh token (LinkedIn
// does not extend it on use: 365 days from the first connection); without a refresh token
// it ends with the access token (60 days). Far enough, or unknown: "", false. The plugin
// logs it at Configure; the daemon may call it with the stored credentials.
func ExpiryNotice(c sdk.Credentials, now time.Time) (string, bool) {
	end, what := c.ExpiresAt, "access token"
	if c.RefreshToken != "" {
		if c.RefreshExpiresAt.IsZero() {
			return "", false // renewable, and LinkedIn did not say until when
		}
		end, what = c.RefreshExpiresAt, "refresh token"
	}
	if end.IsZero() {
		return "", false
	}
	date := end.UTC().Format(time.DateOnly)
	switch left := end.Sub(now); {
	case left <= 0:
		return fmt.Sprintf("linkedin: the %s expired on %s: connect the account again (tactctl account connect)", what, date), true
	case left <= AttentionWindow:
		days := int(left.Hours()/24 + 0.5)
		return fmt.Sprintf("linkedin: the %s expires on %s (in %d days) and LinkedIn cannot renew it without a person: connect the account again before then (tactctl account connect)", what, date, days), true
	}
	return "", false
}

// scopes are the OAuth scopes asked for: the scopes setting, or what posting as the
// author needs. A member: openid and profile (to learn whom the token posts as) and
// w_member_social. An organization: w_organization_social, and r_organization_social so
// that Lookup can read the page's posts after a crash.
func (c *config) oauthScopes() []string {
	switch {
	case len(c.scopes) > 0:
		return c.scopes
	case c.organization():
		return []string{"w_organization_social", "r_organization_social"}
	default:
		return []string{"openid", "profile", "w_member_social"}
	}
}

// AuthCodeURL is LinkedIn's consent page (GET https://www.linkedin.com/oauth/v2/authorization).
func (n *Network) AuthCodeURL(ctx context.Context, req sdk.AuthRequest) (string, error) {
	c := n.cfg()
	if err := c.appReady("connect an account"); err != nil {
		return "", err
	}
	if req.RedirectURI == "" || req.State == "" || req.CodeChallenge == "" {
		return "", sdk.Errorf(sdk.Permanent, "linkedin: AuthCodeURL needs a redirect URI, a state and a PKCE code challenge")
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.clientID},
		"redirect_uri":          {req.RedirectURI},
		"state":                 {req.State},
		"scope":                 {strings.Join(c.oauthScopes(), " ")},
		"code_challenge":        {req.CodeChallenge},
		"code_challenge_method": {"S256"},
	}
	return c.oauthURL + "/oauth/v2/authorization?" + q.Encode(), nil
}

// Exchange trades the code for tokens (POST /oauth/v2/accessToken) and learns whom they
// post as: the organization of the author setting, or the member who approved (userinfo).
// The author goes back in Extra as the author setting, so Configure needs no call to know it.
func (n *Network) Exchange(ctx context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	c := n.cfg()
	if err := c.appReady("connect an account"); err != nil {
		return sdk.Credentials{}, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {req.Code},
		"redirect_uri":  {req.RedirectURI},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
		"code_verifier": {req.CodeVerifier},
	}
	creds, scopes, err := n.token(ctx, c, form, sdk.Permanent, "start connecting the account again")
	if err != nil {
		return sdk.Credentials{}, err
	}
	need := "w_member_social"
	if c.organization() {
		need = "w_organization_social"
	}
	if len(scopes) > 0 && !slices.Contains(scopes, need) {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "linkedin: LinkedIn granted %s but not %s, which posting needs: add the product that grants it (Share on LinkedIn, or Community Management API for pages) to the app on LinkedIn's developer portal, then connect again", strings.Join(scopes, ", "), need)
	}
	if c.organization() {
		creds.Subject = c.author
		creds.Extra = map[string]string{"author": c.author}
		return creds, nil
	}
	who, err := n.userinfo(ctx, c, creds.AccessToken)
	if err != nil {
		return sdk.Credentials{}, fmt.Errorf("linkedin: connected, but could not learn which member approved (it needs the openid and profile scopes): %w", err)
	}
	if c.author != "" && c.author != who.urn() {
		return sdk.Credentials{}, sdk.Errorf(sdk.Permanent, "linkedin: the member who approved is %s (%s), not the account's author %s: sign in to LinkedIn as that member and connect again, or change author", who.urn(), who.Name, c.author)
	}
	creds.Subject = who.Name
	if creds.Subject == "" {
		creds.Subject = who.urn()
	}
	creds.Extra = map[string]string{"author": who.urn()}
	return creds, nil
}

// Refresh renews the access token with the refresh token (grant_type=refresh_token). A
// refused refresh token is Auth: the member must connect again.
func (n *Network) Refresh(ctx context.Context, old sdk.Credentials) (sdk.Credentials, error) {
	c := n.cfg()
	if err := c.appReady("renew the token"); err != nil {
		return sdk.Credentials{}, err
	}
	if old.RefreshToken == "" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "linkedin: there is no refresh token to renew the access token with (LinkedIn gives them only to apps it approved for them): connect the account again before the access token expires")
	}
	if !old.RefreshExpiresAt.IsZero() && !n.now().Before(old.RefreshExpiresAt) {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "linkedin: the refresh token expired on %s: connect the account again", old.RefreshExpiresAt.UTC().Format(time.DateOnly))
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.RefreshToken},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
	}
	creds, _, err := n.token(ctx, c, form, sdk.Auth, "connect the account again")
	if err != nil {
		return sdk.Credentials{}, err
	}
	if creds.RefreshToken == "" || (creds.RefreshToken == old.RefreshToken && !old.RefreshExpiresAt.IsZero()) {
		// The same refresh token: LinkedIn does not extend it, and the end it gave first
		// does not drift by a second with each renewal.
		creds.RefreshToken, creds.RefreshExpiresAt = old.RefreshToken, old.RefreshExpiresAt
	}
	creds.Subject, creds.Extra = old.Subject, old.Extra
	return creds, nil
}

func (c *config) appReady(what string) error {
	switch {
	case !c.configured:
		return fmt.Errorf("linkedin: cannot %s before Configure", what)
	case c.clientID == "":
		return sdk.Errorf(sdk.Permanent, "linkedin: to %s, set the account's client_id and client_secret (create an app on LinkedIn's developer portal; its Auth tab shows both)", what)
	}
	return nil
}

// token calls LinkedIn's token endpoint. A refusal (4xx) is of kind refused, with what a
// person should do; 429 is RateLimited and 5xx or a transport failure Retryable.
func (n *Network) token(ctx context.Context, c *config, form url.Values, refused sdk.ErrorKind, todo string) (sdk.Credentials, []string, error) {
	var out struct {
		AccessToken           string `json:"access_token"`
		ExpiresIn             int64  `json:"expires_in"`
		RefreshToken          string `json:"refresh_token"`
		RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
		Scope                 string `json:"scope"`
	}
	now := n.now()
	_, f, err := n.do(ctx, "POST /oauth/v2/accessToken", request{method: http.MethodPost, url: c.oauthURL + "/oauth/v2/accessToken",
		body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded", out: &out})
	if f != nil && f.status >= 400 && f.status < 500 && f.status != http.StatusTooManyRequests {
		return sdk.Credentials{}, nil, sdk.Errorf(refused, "linkedin: LinkedIn refused the token request (%d %s): %s", f.status, f.message(), todo)
	}
	if err != nil {
		return sdk.Credentials{}, nil, err
	}
	if out.AccessToken == "" {
		return sdk.Credentials{}, nil, sdk.Errorf(sdk.Retryable, "linkedin: LinkedIn's token endpoint answered without an access_token")
	}
	creds := sdk.Credentials{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken}
	if out.ExpiresIn > 0 {
		creds.ExpiresAt = now.Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
	}
	if out.RefreshToken != "" && out.RefreshTokenExpiresIn > 0 {
		creds.RefreshExpiresAt = now.Add(time.Duration(out.RefreshTokenExpiresIn) * time.Second).UTC().Truncate(time.Second)
	}
	return creds, strings.FieldsFunc(out.Scope, func(r rune) bool { return r == ',' || r == ' ' }), nil
}

// member is who an access token belongs to, from OpenID Connect's userinfo.
type member struct {
	Sub  string `json:"sub"`
	Name string `json:"name"`
}

func (m member) urn() string { return "urn:li:person:" + m.Sub }

// userinfo asks who token belongs to (GET /v2/userinfo; needs the openid and profile
// scopes).
func (n *Network) userinfo(ctx context.Context, c *config, token string) (member, error) {
	var m member
	_, _, err := n.do(ctx, "GET /v2/userinfo", request{method: http.MethodGet, url: c.apiURL + "/v2/userinfo", bearer: token, out: &m})
	if err != nil {
		return member{}, err
	}
	if m.Sub == "" || !authorURN.MatchString(m.urn()) {
		return member{}, sdk.Errorf(sdk.Retryable, "linkedin: GET /v2/userinfo answered without a member id tact can use (sub %q)", m.Sub)
	}
	return m, nil
}
