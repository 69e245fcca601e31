package linkedintest

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/internal/oauthtest"
)

// grant is what an access or refresh token stands for.
type grant struct {
	member  Member
	scopes  []string
	created time.Time
	expires time.Time
	revoked bool
	refresh string // for an access token, the refresh token it came with
}

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

type authCode struct {
	clientID, redirectURI, challenge string
	scopes                           []string
	expires                          time.Time
	used                             bool
}

// Consent is a consent page the fake showed: what the app asked for.
type Consent struct {
	ClientID, RedirectURI, State, CodeChallenge, CodeChallengeMethod string
	Scopes                                                           []string
}

// codeTTL is how long an authorization code may be exchanged (LinkedIn: 30 minutes).
const codeTTL = 30 * time.Minute

// IssueToken gives Member an access token with scopes, and a refresh token unless
// NoRefreshTokens, as the token endpoint would, without the consent page.
func (s *Server) IssueToken(scopes ...string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(s.Member, scopes)
}

func (s *Server) issueLocked(m Member, scopes []string) (access, refresh string) {
	now := s.now()
	access = "AQ" + oauthtest.Token(30)
	g := &grant{member: m, scopes: slices.Clone(scopes), created: now, expires: now.Add(s.AccessTTL)}
	if !s.NoRefreshTokens {
		refresh = "AQR" + oauthtest.Token(30)
		s.refresh[refresh] = &grant{member: m, scopes: slices.Clone(scopes), created: now, expires: now.Add(s.RefreshTTL)}
		g.refresh = refresh
	}
	s.tokens[access] = g
	return access, refresh
}

// Revoke makes an access or refresh token invalid from now on, as when the member removes
// the app from their permitted services; revoking an access token revokes its refresh
// token too.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		g.revoked = true
		token = g.refresh
	}
	if g := s.refresh[token]; g != nil {
		g.revoked = true
	}
}

// Time is the server's clock now (Now, moved on by Advance): give it to the plugin
// (linkedin.WithClock) in tests that advance it.
func (s *Server) Time() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// ExpiresAt is when token (access or refresh) expires, by the server's clock.
func (s *Server) ExpiresAt(token string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		return g.expires
	}
	if g := s.refresh[token]; g != nil {
		return g.expires
	}
	return time.Time{}
}

// Scopes are the scopes of an access token.
func (s *Server) Scopes(token string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		return slices.Clone(g.scopes)
	}
	return nil
}

// Consents returns the consent pages shown so far, oldest first.
func (s *Server) Consents() []Consent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.consents)
}

// Approve is the member approving the consent page at authURL (what the plugin's
// AuthCodeURL returned): it loads the page and submits its Allow button, as a browser
// would, and returns where LinkedIn sends the browser back (redirect_uri with code and
// state, or with error and error_description). An error means the page itself refused
// the request (an unknown client_id or unregistered redirect_uri), as LinkedIn shows on
// its own page.
func (s *Server) Approve(authURL string) (string, error) { return s.decide(authURL, "allow") }

// Deny is the member pressing Cancel on the consent page at authURL.
func (s *Server) Deny(authURL string) (string, error) { return s.decide(authURL, "deny") }

func (s *Server) decide(authURL, decision string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil || u.Path != "/oauth/v2/authorization" {
		return "", fmt.Errorf("linkedintest: %q is not a consent page URL (/oauth/v2/authorization)", authURL)
	}
	// A redirect at once is a refusal (a scope the app may not ask for).
	form := u.Query()
	form.Set("decision", decision)
	return oauthtest.Press(oauthtest.Page{Fake: "linkedintest", Page: "the consent page", Form: "the consent form"},
		s.URL+u.Path+"?"+u.RawQuery, s.URL+"/oauth/v2/authorization", form, nil)
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LinkedIn (fake): allow access</title></head>
<body>
<h1>{{.App}} would like to</h1>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<p>Signed in as {{.Member}}.</p>
<form method="post" action="/oauth/v2/authorization">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form>
</body></html>
`))

func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth/v2/authorization" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		s.authorize(w, r)
	case r.URL.Path == "/oauth/v2/accessToken" && r.Method == http.MethodPost:
		s.accessToken(w, r)
	case r.URL.Path == "/oauth/v2/introspectToken" && r.Method == http.MethodPost:
		s.introspect(w, r)
	default:
		http.NotFound(w, r)
	}
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	faketest.WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// authorize shows the consent page (GET) or takes its answer (POST).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := r.Form
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	switch {
	case q.Get("client_id") != s.ClientID:
		// LinkedIn cannot trust the redirect_uri of an unknown app: it says so on its page.
		http.Error(w, "The passed in client_id is invalid \""+q.Get("client_id")+"\"", http.StatusBadRequest)
		return
	case redirect == "" || err != nil || ru.Fragment != "" || (len(s.RedirectURIs) > 0 && !slices.Contains(s.RedirectURIs, redirect)):
		http.Error(w, "The redirect_uri does not match the registered value", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) { oauthtest.RedirectBack(w, r, redirect, q.Get("state"), v, "") }
	scopes := strings.Fields(q.Get("scope"))
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"response_type must be code"}})
		return
	}
	if len(scopes) == 0 {
		back(url.Values{"error": {"invalid_scope"}, "error_description": {"scope is required"}})
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(s.AppScopes, sc) {
			back(url.Values{"error": {"unauthorized_scope_error"}, "error_description": {fmt.Sprintf("Scope %q is not authorized for your application", sc)}})
			return
		}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" && method != "S256" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256"}})
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		s.consents = append(s.consents, Consent{ClientID: s.ClientID, RedirectURI: redirect, State: q.Get("state"),
			CodeChallenge: challenge, CodeChallengeMethod: method, Scopes: scopes})
		s.mu.Unlock()
		fields := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"} {
			if v := q.Get(k); v != "" {
				fields[k] = v
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, map[string]any{"App": "tact", "Scopes": scopes, "Member": s.Member.Name, "Fields": fields})
		return
	}
	if q.Get("decision") != "allow" {
		back(url.Values{"error": {"user_cancelled_authorize"}, "error_description": {"The user cancelled the authorization"}})
		return
	}
	code := "AQT" + oauthtest.Token(24)
	s.mu.Lock()
	s.codes[code] = &authCode{clientID: s.ClientID, redirectURI: redirect, challenge: challenge, scopes: scopes, expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	back(url.Values{"code": {code}})
}

// codeMismatch is LinkedIn's answer to a code that cannot be exchanged.
const codeMismatch = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists"

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != s.ClientID || f.Get("client_secret") != s.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var access, refresh string
	var g *grant
	switch f.Get("grant_type") {
	case "authorization_code":
		c := s.codes[f.Get("code")]
		if c == nil || c.used || !now.Before(c.expires) || c.redirectURI != f.Get("redirect_uri") || !verifierMatches(c.challenge, f.Get("code_verifier")) {
			if c != nil {
				c.used = true // a code is good for one try
			}
			oauthError(w, http.StatusBadRequest, "invalid_request", codeMismatch)
			return
		}
		c.used = true
		access, refresh = s.issueLocked(s.Member, c.scopes)
		g = s.tokens[access]
	case "refresh_token":
		rg := s.refresh[f.Get("refresh_token")]
		if rg == nil || rg.revoked || !now.Before(rg.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant or refresh token is invalid, expired or revoked.")
			return
		}
		// A new access token; the refresh token stays, its lifetime not extended.
		refresh = f.Get("refresh_token")
		access = "AQ" + oauthtest.Token(30)
		g = &grant{member: rg.member, scopes: rg.scopes, created: now, expires: now.Add(s.AccessTTL), refresh: refresh}
		s.tokens[access] = g
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	out := map[string]any{"access_token": access, "expires_in": int64(g.expires.Sub(now) / time.Second),
		"scope": strings.Join(g.scopes, ","), "token_type": "Bearer"}
	if rg := s.refresh[refresh]; rg != nil {
		out["refresh_token"] = refresh
		out["refresh_token_expires_in"] = int64(rg.expires.Sub(now) / time.Second)
	}
	faketest.WriteJSON(w, http.StatusOK, out)
}

// verifierMatches checks PKCE S256. A code asked for without a challenge takes any
// verifier, as LinkedIn's standard flow does.
func verifierMatches(challenge, verifier string) bool {
	return challenge == "" || verifier != "" && oauthtest.S256(verifier) == challenge
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("client_id") != s.ClientID:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid client id or token")
		return
	case f.Get("client_secret") != s.ClientSecret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client secret")
		return
	}
	s.mu.Lock()
	g := s.tokens[f.Get("token")]
	now := s.now()
	s.mu.Unlock()
	if g == nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid client id or token")
		return
	}
	status := "active"
	switch {
	case g.revoked:
		status = "revoked"
	case !now.Before(g.expires):
		status = "expired"
	}
	faketest.WriteJSON(w, http.StatusOK, map[string]any{
		"active": status == "active", "status": status, "client_id": s.ClientID,
		"created_at": g.created.Unix(), "authorized_at": g.created.Unix(), "expires_at": g.expires.Unix(),
		"scope": strings.Join(g.scopes, ","), "auth_type": "3L",
	})
}

func (s *Server) userinfo(w http.ResponseWriter, g *grant) {
	if !g.has("openid") {
		denied(w, "userinfo.GET.NO_VERSION")
		return
	}
	out := map[string]any{"sub": g.member.ID, "locale": map[string]string{"country": "US", "language": "en"}}
	if g.has("profile") {
		out["name"] = g.member.Name
		if first, last, ok := strings.Cut(g.member.Name, " "); ok {
			out["given_name"], out["family_name"] = first, last
		}
	}
	faketest.WriteJSON(w, http.StatusOK, out)
}
