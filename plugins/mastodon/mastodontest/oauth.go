package mastodontest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/internal/oauthtest"
)

// The OAuth side of the fake, as Mastodon documents it (docs.joinmastodon.org: methods/apps,
// methods/oauth, spec/oauth) and as its Doorkeeper-based implementation answers:
//   - POST /api/v1/apps registers a client (client_name, redirect_uris, scopes, website;
//     form or JSON) and answers the Application entity with client_id and client_secret;
//     a redirect URI that is not absolute is refused with 422.
//   - GET /oauth/authorize shows the consent page (HTML) for response_type=code, client_id,
//     redirect_uri (one the app registered), scope (a subset of the app's), state and the
//     PKCE parameters (code_challenge, code_challenge_method=S256; Mastodon 4.3+); a bad
//     client or redirect URI shows an error page and does not redirect. The page's
//     Authorize button (POST /oauth/authorize) redirects to redirect_uri with code and
//     state; Deny redirects with error=access_denied.
//   - POST /oauth/token trades the code (one use, ten minutes, the same client, redirect
//     URI and a code_verifier whose S256 is the challenge) for {access_token, token_type:
//     "Bearer", scope, created_at}; refusals are 400 {"error": "invalid_grant", ...} and
//     401 {"error": "invalid_client", ...}.
//
// Mastodon's tokens do not expire and it issues no refresh token. Servers such as Pleroma
// and Akkoma do: TokenLifetime > 0 makes the fake answer expires_in and a refresh_token,
// take grant_type=refresh_token (rotating the refresh token, the old one refused with
// invalid_grant), and refuse an expired access token with 401 "The access token expired".

type app struct {
	id, secret, name string
	redirects        []string
	scopes           []string
}

type grant struct {
	clientID, redirect, scope, challenge string
	expires                              time.Time
}

type issued struct {
	clientID, scope string
	expires         time.Time // zero: never
}

// RegisteredApps is how many apps were registered through POST /api/v1/apps.
func (s *Server) RegisteredApps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.apps)
}

// Approve is a person pressing Authorize on the consent page of authURL (what
// AuthCodeURL returned): it checks the request as GET /oauth/authorize does and returns
// the URL the browser is sent back to, with the code and the state.
func (s *Server) Approve(authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(authURL, s.URL+"/oauth/authorize?") {
		return "", fmt.Errorf("%s is not this server's consent page (%s/oauth/authorize)", authURL, s.URL)
	}
	req, problem := s.authRequest(u.Query())
	if problem != "" {
		return "", fmt.Errorf("the consent page refuses the request: %s", problem)
	}
	return s.approve(req), nil
}

// Deny is a person pressing Deny: the URL the browser is sent back to, with the error.
func (s *Server) Deny(authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	req, problem := s.authRequest(u.Query())
	if problem != "" {
		return "", fmt.Errorf("the consent page refuses the request: %s", problem)
	}
	return denyURL(req), nil
}

// RevokeRefreshTokens makes every refresh token issued so far refused (invalid_grant), as
// when the person revokes the app in their settings.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
}

// tokenOK reports whether the bearer token is accepted now, and why not.
func (s *Server) tokenOK(token string) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked {
		return false, "The access token is invalid"
	}
	if token == s.Token {
		return true, ""
	}
	t, ok := s.tokens[token]
	if !ok {
		return false, "The access token is invalid"
	}
	if !t.expires.IsZero() && !s.Now().Before(t.expires) {
		return false, "The access token expired"
	}
	return true, ""
}

// serveOAuth answers the public OAuth routes; it reports whether the path was one.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == "/api/v1/apps" && r.Method == http.MethodPost:
		s.registerApp(w, r)
	case r.URL.Path == "/oauth/authorize" && r.Method == http.MethodGet:
		s.consentPage(w, r)
	case r.URL.Path == "/oauth/authorize" && r.Method == http.MethodPost:
		s.consentAnswer(w, r)
	case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
		s.token(w, r)
	default:
		return false
	}
	return true
}

func (s *Server) registerApp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fail(w, 422, "Validation failed: Redirect URI can't be blank")
		return
	}
	redirects := r.PostForm["redirect_uris[]"]
	if v := r.PostForm.Get("redirect_uris"); v != "" {
		redirects = append(redirects, strings.Fields(v)...)
	}
	name := r.PostForm.Get("client_name")
	if name == "" {
		fail(w, 422, "Validation failed: Application name can't be blank")
		return
	}
	if len(redirects) == 0 {
		fail(w, 422, "Validation failed: Redirect URI can't be blank")
		return
	}
	for _, ru := range redirects {
		if u, err := url.Parse(ru); ru != "urn:ietf:wg:oauth:2.0:oob" && (err != nil || !u.IsAbs() || u.Host == "") {
			fail(w, 422, "Validation failed: Redirect URI must be an absolute URI.")
			return
		}
	}
	scopes := strings.Fields(r.PostForm.Get("scopes"))
	if len(scopes) == 0 {
		scopes = []string{"read"}
	}
	a := &app{id: randomHex(16), secret: randomHex(16), name: name, redirects: redirects, scopes: scopes}
	s.mu.Lock()
	s.next++
	appID := strconv.Itoa(s.next)
	s.apps[a.id] = a
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"id": appID, "name": name, "website": nullable(r.PostForm.Get("website")),
		"scopes": scopes, "redirect_uri": strings.Join(redirects, "\n"), "redirect_uris": redirects,
		"client_id": a.id, "client_secret": a.secret, "client_secret_expires_at": 0})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// authRequest checks the query of a consent page request; problem says what is wrong.
type authReq struct {
	app                                             *app
	redirect, scope, state, challenge, responseType string
}

func (s *Server) authRequest(q url.Values) (authReq, string) {
	s.mu.Lock()
	a := s.apps[q.Get("client_id")]
	s.mu.Unlock()
	req := authReq{app: a, redirect: q.Get("redirect_uri"), scope: q.Get("scope"), state: q.Get("state"),
		challenge: q.Get("code_challenge"), responseType: q.Get("response_type")}
	if req.scope == "" {
		req.scope = "read"
	}
	switch {
	case a == nil:
		return req, "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
	case !slices.Contains(a.redirects, req.redirect):
		return req, "The redirect uri included is not valid."
	case req.responseType != "code":
		return req, "The authorization server does not support this response type."
	case !subset(strings.Fields(req.scope), a.scopes):
		return req, "The requested scope is invalid, unknown, or malformed."
	case req.challenge != "" && q.Get("code_challenge_method") != "S256":
		return req, "The code challenge method must be S256."
	}
	return req, ""
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

var consent = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{.App}}</title></head>
<body><main>
<h1>Authorization required</h1>
<p><strong>{{.App}}</strong> would like permission to access your account @{{.User}}. It is a third-party application.</p>
<p>Permissions: {{.Scope}}</p>
<form method="post" action="/oauth/authorize">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="decision" value="approve" id="authorize">Authorize</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
</main></body></html>`))

func (s *Server) consentPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, problem := s.authRequest(q)
	if problem != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!doctype html><title>An error has occurred</title><h1>An error has occurred</h1><p>%s</p>", template.HTMLEscapeString(problem))
		return
	}
	fields := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "scope", "state", "response_type", "code_challenge", "code_challenge_method"} {
		fields[k] = q.Get(k)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consent.Execute(w, map[string]any{"App": req.app.name, "User": s.Username, "Scope": req.scope, "Fields": fields})
}

func (s *Server) consentAnswer(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req, problem := s.authRequest(r.PostForm)
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("decision") == "deny" {
		http.Redirect(w, r, denyURL(req), http.StatusFound)
		return
	}
	http.Redirect(w, r, s.approve(req), http.StatusFound)
}

func (s *Server) approve(req authReq) string {
	code := randomHex(20)
	s.mu.Lock()
	s.grants[code] = &grant{clientID: req.app.id, redirect: req.redirect, scope: req.scope, challenge: req.challenge, expires: s.Now().Add(10 * time.Minute)}
	s.mu.Unlock()
	return withQuery(req.redirect, url.Values{"code": {code}, "state": {req.state}})
}

func denyURL(req authReq) string {
	return withQuery(req.redirect, url.Values{"error": {"access_denied"}, "state": {req.state},
		"error_description": {"The resource owner or authorization server denied the request."}})
}

func withQuery(base string, q url.Values) string {
	u, _ := url.Parse(base)
	v := u.Query()
	for k, vs := range q {
		if vs[0] != "" {
			v[k] = vs
		}
	}
	u.RawQuery = v.Encode()
	return u.String()
}

func oauthFail(w http.ResponseWriter, code int, err, desc string) {
	faketest.WriteJSON(w, code, map[string]string{"error": err, "error_description": desc})
}

const invalidGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthFail(w, 400, "invalid_request", "The request is missing a required parameter.")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	a := s.apps[f.Get("client_id")]
	s.mu.Unlock()
	if a == nil || a.secret != f.Get("client_secret") {
		oauthFail(w, 401, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	var scope string
	switch f.Get("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		g := s.grants[f.Get("code")]
		delete(s.grants, f.Get("code")) // one use, whatever happens
		s.mu.Unlock()
		switch {
		case g == nil || g.clientID != a.id || g.redirect != f.Get("redirect_uri") || !s.Now().Before(g.expires):
			oauthFail(w, 400, "invalid_grant", invalidGrant)
			return
		case g.challenge != "" && oauthtest.S256(f.Get("code_verifier")) != g.challenge:
			oauthFail(w, 400, "invalid_grant", invalidGrant)
			return
		}
		scope = g.scope
	case "refresh_token":
		if s.TokenLifetime <= 0 {
			oauthFail(w, 400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
			return
		}
		s.mu.Lock()
		old, ok := s.refresh[f.Get("refresh_token")]
		delete(s.refresh, f.Get("refresh_token")) // rotated: the old one is spent
		s.mu.Unlock()
		if !ok || old.clientID != a.id {
			oauthFail(w, 400, "invalid_grant", invalidGrant)
			return
		}
		scope = old.scope
	default:
		oauthFail(w, 400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	now := s.Now()
	tok := issued{clientID: a.id, scope: scope}
	access := randomB64()
	out := map[string]any{"access_token": access, "token_type": "Bearer", "scope": scope, "created_at": now.Unix()}
	if s.TokenLifetime > 0 {
		tok.expires = now.Add(s.TokenLifetime)
		rt := randomB64()
		out["expires_in"] = int(s.TokenLifetime.Seconds())
		out["refresh_token"] = rt
		s.mu.Lock()
		s.refresh[rt] = tok
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.tokens[access] = tok
	s.issuedTokens = append(s.issuedTokens, access)
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, out)
}

// ClientSecrets are the client secrets of the apps registered so far.
func (s *Server) ClientSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.apps {
		out = append(out, a.secret)
	}
	return out
}

// IssuedTokens are the access tokens the token endpoint gave, oldest first.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issuedTokens)
}

// RefreshTokens are the refresh tokens that are valid now.
func (s *Server) RefreshTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.refresh {
		out = append(out, k)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomB64() string { return oauthtest.Token(32) }
