package facebook

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tact-hq/tact/plugins/sdk"
)

// requiredScopes are the permissions posting to a Page and reading its posts back take.
var requiredScopes = []string{"pages_show_list", "pages_manage_posts", "pages_read_engagement"}

// oauthScopes are the permissions asked for: the scopes setting, or requiredScopes.
func (c *config) oauthScopes() []string {
	if len(c.scopes) > 0 {
		return c.scopes
	}
	return requiredScopes
}

// AuthCodeURL is Facebook Login's dialog (https://www.facebook.com/{version}/dialog/oauth)
// with the PKCE challenge, which Facebook Login documents for manually built flows.
func (n *Network) AuthCodeURL(ctx context.Context, req sdk.AuthRequest) (string, error) {
	c := n.cfg()
	if err := c.appReady("connect an account"); err != nil {
		return "", err
	}
	if req.RedirectURI == "" || req.State == "" || req.CodeChallenge == "" {
		return "", sdk.Errorf(sdk.Permanent, "facebook: AuthCodeURL needs a redirect URI, a state and a PKCE code challenge")
	}
	q := url.Values{
		"client_id":             {c.clientID},
		"redirect_uri":          {req.RedirectURI},
		"state":                 {req.State},
		"response_type":         {"code"},
		"code_challenge":        {req.CodeChallenge},
		"code_challenge_method": {"S256"},
	}
	if c.configID != "" {
		q.Set("config_id", c.configID) // a Login for Business configuration names its permissions
	} else {
		q.Set("scope", strings.Join(c.oauthScopes(), ","))
	}
	return c.dialogURL + "/" + c.version + "/dialog/oauth?" + q.Encode(), nil
}

// Exchange trades the code for a user token (GET /oauth/access_token, with the app secret
// and the PKCE verifier), that one for a long-lived user token (fb_exchange_token), checks
// the permissions the person granted, and takes the Page's token from /me/accounts: from a
// long-lived user token it does not expire. Only the Page token is kept; the Page's id goes
// back in Extra as the page_id setting, its name as the subject.
func (n *Network) Exchange(ctx context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	c := n.cfg()
	if err := c.appReady("connect an account"); err != nil {
		return sdk.Credentials{}, err
	}
	short, err := n.token(ctx, c, url.Values{
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
		"redirect_uri":  {req.RedirectURI},
		"code":          {req.Code},
		"code_verifier": {req.CodeVerifier},
	}, sdk.Permanent, "start connecting the account again")
	if err != nil {
		return sdk.Credentials{}, err
	}
	return n.derive(ctx, c, short.AccessToken, sdk.Permanent)
}

// derive goes from a user token to the Page's credentials: a long-lived user token, the
// permissions check, then the Page token. A refusal is of kind refused.
func (n *Network) derive(ctx context.Context, c *config, userToken string, refused sdk.ErrorKind) (sdk.Credentials, error) {
	long, err := n.token(ctx, c, url.Values{
		"grant_type":        {"fb_exchange_token"},
		"client_id":         {c.clientID},
		"client_secret":     {c.clientSecret},
		"fb_exchange_token": {userToken},
	}, refused, "connect the account again")
	if err != nil {
		return sdk.Credentials{}, err
	}
	if err := n.checkPermissions(ctx, c, long.AccessToken, refused); err != nil {
		return sdk.Credentials{}, err
	}
	pg, err := n.pageToken(ctx, c, long.AccessToken, refused)
	if err != nil {
		return sdk.Credentials{}, err
	}
	return sdk.Credentials{AccessToken: pg.AccessToken, Subject: pg.Name, Extra: map[string]string{"page_id": pg.ID}}, nil
}

// Refresh has nothing to renew for a Page token from connecting, which does not expire:
// it returns old as it is. A user token in old.RefreshToken (put there by hand) is used to
// derive the Page's token again; one Facebook refuses is Auth.
func (n *Network) Refresh(ctx context.Context, old sdk.Credentials) (sdk.Credentials, error) {
	if old.RefreshToken == "" {
		return old, nil
	}
	c := n.cfg()
	if err := c.appReady("renew the token"); err != nil {
		return sdk.Credentials{}, err
	}
	creds, err := n.derive(ctx, c, old.RefreshToken, sdk.Auth)
	if err != nil {
		return sdk.Credentials{}, err
	}
	creds.RefreshToken = old.RefreshToken
	return creds, nil
}

func (c *config) appReady(what string) error {
	switch {
	case !c.configured:
		return fmt.Errorf("facebook: cannot %s before Configure", what)
	case c.clientID == "":
		return sdk.Errorf(sdk.Permanent, "facebook: to %s, set the account's client_id and client_secret (the App ID and App Secret in the app's Settings > Basic on developers.facebook.com)", what)
	}
	return nil
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// token calls Facebook's token endpoint (GET /{version}/oauth/access_token). A refusal is
// of kind refused, with what a person should do; a rate limit stays RateLimited, and a
// server failure or a broken connection Retryable.
func (n *Network) token(ctx context.Context, c *config, params url.Values, refused sdk.ErrorKind, todo string) (tokenAnswer, error) {
	var out tokenAnswer
	f, err := n.do(ctx, call{method: http.MethodGet, url: c.graphURL + "/" + c.version + "/oauth/access_token?" + params.Encode(),
		where: "GET /oauth/access_token"}, &out)
	if f != nil && f.status < 500 && sdk.KindOf(err) != sdk.RateLimited {
		return tokenAnswer{}, sdk.Errorf(refused, "facebook: Facebook refused the token request (%s): %s", f.message(), todo)
	}
	if err != nil {
		return tokenAnswer{}, err
	}
	if out.AccessToken == "" {
		return tokenAnswer{}, sdk.Errorf(sdk.Retryable, "facebook: Facebook's token endpoint answered without an access_token")
	}
	return out, nil
}

// checkPermissions refuses a user token without the permissions posting needs: the person
// may untick them on Facebook's dialog (GET /me/permissions).
func (n *Network) checkPermissions(ctx context.Context, c *config, userToken string, refused sdk.ErrorKind) error {
	var out struct {
		Data []permission `json:"data"`
	}
	if _, err := n.graph(ctx, c, userToken, http.MethodGet, "/me/permissions", nil, &out); err != nil {
		return fmt.Errorf("facebook: connected, but could not read the permissions granted: %w", err)
	}
	var missing []string
	for _, want := range requiredScopes {
		if !slices.Contains(out.Data, permission{Permission: want, Status: "granted"}) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return sdk.Errorf(refused, "facebook: the person who connected did not grant %s, which posting to the Page needs: connect again and keep them ticked on Facebook's dialog (the app must have them in its use case on developers.facebook.com)", strings.Join(missing, ", "))
	}
	return nil
}

// permission is one entry of /me/permissions.
type permission struct {
	Permission string `json:"permission"`
	Status     string `json:"status"` // "granted" or "declined"
}

// page is one entry of /me/accounts.
type page struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	AccessToken string   `json:"access_token"`
	Tasks       []string `json:"tasks"`
}

// pageToken is the Page of page_id among those the user token's person manages (GET
// /me/accounts), with its token; without page_id, their only Page.
func (n *Network) pageToken(ctx context.Context, c *config, userToken string, refused sdk.ErrorKind) (page, error) {
	var pages []page
	q := url.Values{"fields": {"id,name,access_token,tasks"}, "limit": {"100"}}
	for range 10 {
		var out struct {
			Data   []page `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if _, err := n.graph(ctx, c, userToken, http.MethodGet, "/me/accounts", q, &out); err != nil {
			return page{}, fmt.Errorf("facebook: connected, but could not list the Pages: %w", err)
		}
		pages = append(pages, out.Data...)
		if out.Paging.Next == "" || out.Paging.Cursors.After == "" {
			break
		}
		q.Set("after", out.Paging.Cursors.After)
	}
	var names []string
	for _, p := range pages {
		names = append(names, fmt.Sprintf("%s (%s)", p.ID, p.Name))
	}
	var pg *page
	switch {
	case len(pages) == 0:
		return page{}, sdk.Errorf(refused, "facebook: the person who connected gave the app no Page: connect again and choose the Page on Facebook's dialog (a Page in a business portfolio may also need business_management in scopes)")
	case c.pageID == "" && len(pages) > 1:
		return page{}, sdk.Errorf(refused, "facebook: the person who connected manages several Pages: set page_id to one of %s, then connect again", strings.Join(names, ", "))
	case c.pageID == "":
		pg = &pages[0]
	default:
		for i := range pages {
			if pages[i].ID == c.pageID {
				pg = &pages[i]
			}
		}
		if pg == nil {
			return page{}, sdk.Errorf(refused, "facebook: the person who connected did not give the app Page %s (it gave %s): connect again as someone who manages it, and choose it on Facebook's dialog", c.pageID, strings.Join(names, ", "))
		}
	}
	if len(pg.Tasks) > 0 && !slices.Contains(pg.Tasks, "CREATE_CONTENT") {
		return page{}, sdk.Errorf(refused, "facebook: the person who connected cannot create content on the Page %s (their tasks: %s): give them that task in the Page's settings, then connect again", pg.Name, strings.Join(pg.Tasks, ", "))
	}
	if pg.AccessToken == "" {
		return page{}, sdk.Errorf(sdk.Retryable, "facebook: /me/accounts listed the Page %s without its access token", pg.ID)
	}
	return *pg, nil
}
