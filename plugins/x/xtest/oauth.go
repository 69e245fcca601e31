package xtest

import (
	"errors"
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

// codeTTL is how long an authorization code may wait for its exchange (X: 30 seconds).
const codeTTL = 30 * time.Second

type authCode struct {
	challenge, redirect string
	scopes              []string
	expires             time.Time
	used                bool
}

// grant is an access or refresh token the server issued.
type grant struct {
	scopes  []string
	expires time.Time // access tokens only
	revoked bool
}

// Tokens is what the token endpoint issued.
type Tokens struct {
	AccessToken  string
	RefreshToken string // empty without offline.access
	ExpiresAt    time.Time
	Scopes       []string
}

// AllScopes are the scopes the x plugin asks for.
var AllScopes = []string{"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"}

func randomToken(prefix string) string { return prefix + oauthtest.Token(24) }

// IssueTokens issues tokens for the account as if it had connected with scopes (AllScopes
// when none are given): a shortcut for tests that do not go through the consent page.
func (s *Server) IssueTokens(scopes ...string) Tokens {
	if len(scopes) == 0 {
		scopes = AllScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(scopes)
}

func (s *Server) issueLocked(scopes []string) Tokens {
	t := Tokens{AccessToken: randomToken("at-"), ExpiresAt: s.Now().Add(s.AccessTokenTTL).Truncate(time.Second), Scopes: slices.Clone(scopes)}
	s.access[t.AccessToken] = &grant{scopes: t.Scopes, expires: t.ExpiresAt}
	if slices.Contains(scopes, "offline.access") {
		t.RefreshToken = randomToken("rt-")
		s.refresh[t.RefreshToken] = &grant{scopes: t.Scopes}
	}
	return t
}

// Revoke makes a token (access or refresh) invalid from now on, as when the person removes
// the app from X's "Connected apps".
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]*grant{s.access, s.refresh} {
		if g := m[token]; g != nil {
			g.revoked = true
		}
	}
}

// bearer returns the grant of r's valid access token, or nil.
func (s *Server) bearer(r *http.Request) *grant {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[token]
	if g == nil || g.revoked || !s.Now().Before(g.expires) {
		return nil
	}
	return g
}

// authorizeRequest checks the consent page's query as X does and returns the callback.
func (s *Server) authorizeRequest(q url.Values) (*url.URL, []string, error) {
	if q.Get("client_id") != s.ClientID {
		return nil, nil, errors.New("something went wrong: you weren't able to give access to the App (unknown client_id)")
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		return nil, nil, errors.New("something went wrong: redirect_uri is not a URL")
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		return nil, nil, errors.New("something went wrong: response_type=code, state and code_challenge are required")
	}
	if q.Get("code_challenge_method") != "S256" {
		return nil, nil, fmt.Errorf("something went wrong: this fake accepts code_challenge_method S256 only, not %q", q.Get("code_challenge_method"))
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, sc := range scopes {
		if !slices.Contains([]string{"tweet.read", "tweet.write", "users.read", "offline.access", "media.write", "like.read", "follows.read"}, sc) {
			return nil, nil, fmt.Errorf("something went wrong: unknown scope %q", sc)
		}
	}
	return redirect, scopes, nil
}

// Approve is the person approving the consent page at authURL (what AuthCodeURL returned):
// it returns the callback URL X redirects the browser to, with code and state.
func (s *Server) Approve(authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	return s.approve(u.Query())
}

func (s *Server) approve(q url.Values) (string, error) {
	redirect, scopes, err := s.authorizeRequest(q)
	if err != nil {
		return "", err
	}
	code := randomToken("code-")
	s.mu.Lock()
	s.codes[code] = &authCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), scopes: scopes, expires: s.Now().Add(codeTTL)}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	back.Set("code", code)
	redirect.RawQuery = back.Encode()
	return redirect.String(), nil
}

// Deny is the person cancelling the consent page: the callback gets error=access_denied.
func (s *Server) Deny(authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	redirect, _, err := s.authorizeRequest(u.Query())
	if err != nil {
		return "", err
	}
	back := redirect.Query()
	back.Set("state", u.Query().Get("state"))
	back.Set("error", "access_denied")
	redirect.RawQuery = back.Encode()
	return redirect.String(), nil
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize app - X</title></head>
<body><main>
<h1>Tact wants to access your X account</h1>
<p>Signed in as @{{.User}}. The app will be able to: {{range .Scopes}}<span class="scope">{{.}}</span> {{end}}</p>
<form method="post" action="/i/oauth2/authorize?{{.Query}}">
<button type="submit" name="approve" value="1" id="allow">Authorize app</button>
<button type="submit" name="deny" value="1" id="cancel">Cancel</button>
</form></main></body></html>`))

// consent serves X's consent page; its form answers with the redirect to the callback.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, scopes, err := s.authorizeRequest(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.FormValue("deny") != "":
		back, _ := s.Deny(r.URL.String())
		http.Redirect(w, r, back, http.StatusFound)
	case r.Method == http.MethodPost || s.AutoApprove:
		back, err := s.approve(q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, back, http.StatusFound)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, map[string]any{"User": s.Username, "Scopes": scopes, "Query": template.URL(q.Encode())})
	}
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	faketest.WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// clientOK checks the client's authentication: HTTP Basic for a confidential client,
// client_id in the body for a public one.
func (s *Server) clientOK(r *http.Request) bool {
	if s.ClientSecret != "" {
		id, secret, ok := r.BasicAuth()
		return ok && id == s.ClientID && secret == s.ClientSecret
	}
	return r.PostForm.Get("client_id") == s.ClientID
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.ParseForm() != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter [grant_type].")
		return
	}
	if !s.clientOK(r) {
		tokenError(w, http.StatusUnauthorized, "unauthorized_client", "Missing valid authorization header")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	var t Tokens
	switch f.Get("grant_type") {
	case "authorization_code":
		c := s.codes[f.Get("code")]
		if c == nil || c.used || !s.Now().Before(c.expires) || c.redirect != f.Get("redirect_uri") ||
			oauthtest.S256(f.Get("code_verifier")) != c.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_request", "Value passed for the authorization code was invalid.")
			return
		}
		c.used = true
		t = s.issueLocked(c.scopes)
	case "refresh_token":
		g := s.refresh[f.Get("refresh_token")]
		if g == nil || g.revoked {
			tokenError(w, http.StatusBadRequest, "invalid_request", "Value passed for the token was invalid.")
			return
		}
		g.revoked = true // refresh tokens are single use: the answer carries the next one
		t = s.issueLocked(g.scopes)
	default:
		tokenError(w, http.StatusBadRequest, "invalid_request", "Value passed for the grant type was invalid.")
		return
	}
	out := map[string]any{"token_type": "bearer", "expires_in": int(s.AccessTokenTTL / time.Second),
		"access_token": t.AccessToken, "scope": strings.Join(t.Scopes, " ")}
	if t.RefreshToken != "" {
		out["refresh_token"] = t.RefreshToken
	}
	faketest.WriteJSON(w, 200, out)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || !s.clientOK(r) {
		tokenError(w, http.StatusUnauthorized, "unauthorized_client", "Missing valid authorization header")
		return
	}
	s.Revoke(r.PostForm.Get("token"))
	faketest.WriteJSON(w, 200, map[string]bool{"revoked": true})
}

// Challenge returns the S256 code challenge of verifier, for tests that build their own
// consent URL.
func Challenge(verifier string) string { return oauthtest.S256(verifier) }
