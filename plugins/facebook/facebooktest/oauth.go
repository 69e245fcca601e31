package facebooktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/internal/oauthtest"
)

// grant is what an access token stands for: a user, or one of their Pages.
type grant struct {
	user        User
	pageID      string // set for a Page token
	scopes      []string
	long        bool      // a long-lived user token (or a Page token derived from one)
	expires     time.Time // zero: never
	invalidated int       // the 190 subcode it now answers with (458, 460, 467), or 0
	from        string    // for a Page token, the user token it was derived from
}

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

type authCode struct {
	redirectURI, challenge, method string
	scopes                         []string
	expires                        time.Time
	used                           bool
}

// Dialog is a Login dialog the fake showed: what the app asked for.
type Dialog struct {
	ClientID, RedirectURI, State, Scope, ConfigID, CodeChallenge, CodeChallengeMethod string
}

// codeTTL is how long a code from the dialog may be exchanged.
const codeTTL = 10 * time.Minute

func (s *Server) issueUserLocked(scopes []string, long bool) string {
	tok := "EAAG" + oauthtest.Token(36)
	g := &grant{user: s.User, scopes: slices.Clone(scopes), long: long, expires: s.now().Add(s.ShortTTL)}
	if long {
		g.expires = s.now().Add(s.LongTTL)
	}
	s.tokens[tok] = g
	return tok
}

// issuePageLocked is the Page token of pageID for user token u: it never expires when u
// is long-lived, and ends with u otherwise.
func (s *Server) issuePageLocked(u *grant, pageID string) string {
	tok := "EAAP" + oauthtest.Token(36)
	g := &grant{user: u.user, pageID: pageID, scopes: slices.Clone(u.scopes), long: u.long}
	if !u.long {
		g.expires = u.expires
	}
	for t, other := range s.tokens {
		if other == u {
			g.from = t
		}
	}
	s.tokens[tok] = g
	return tok
}

// IssuePageToken is a Page token of pageID with scopes, from a long-lived user token, as
// the Graph API Explorer would give one.
func (s *Server) IssuePageToken(pageID string, scopes ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.tokens[s.issueUserLocked(scopes, true)]
	return s.issuePageLocked(u, pageID)
}

// Invalidate makes token answer 190 with subcode from now on: 458 (the person removed the
// app), 460 (they changed their password) or 467 (they logged out). A user token takes the
// Page tokens derived from it along.
func (s *Server) Invalidate(token string, subcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		g.invalidated = subcode
		for _, other := range s.tokens {
			if other.from == token {
				other.invalidated = subcode
			}
		}
	}
}

// ExpiresAt is when token expires by the server's clock; zero: never (or unknown token).
func (s *Server) ExpiresAt(token string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		return g.expires
	}
	return time.Time{}
}

// TokenPage is the Page a Page token acts as ("" for a user token or an unknown one).
func (s *Server) TokenPage(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		return g.pageID
	}
	return ""
}

// Scopes are the permissions of a token.
func (s *Server) Scopes(token string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.tokens[token]; g != nil {
		return slices.Clone(g.scopes)
	}
	return nil
}

// Dialogs returns the Login dialogs shown so far, oldest first.
func (s *Server) Dialogs() []Dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dialogs)
}

// Approve is the person pressing Continue on the Login dialog at authURL (what the
// plugin's AuthCodeURL returned), with DeclinedScopes unticked: it loads the dialog and
// submits its form, as a browser would, and returns where Facebook sends the browser back
// (redirect_uri with code and state, or with error, error_reason and error_description;
// Facebook adds the fragment "#_=_"). An error means the dialog itself refused the request
// (an unknown app or a redirect URI the app does not list), as Facebook shows on its page.
func (s *Server) Approve(authURL string) (string, error) { return s.decide(authURL, "allow") }

// Deny is the person pressing Cancel on the dialog at authURL.
func (s *Server) Deny(authURL string) (string, error) { return s.decide(authURL, "deny") }

func (s *Server) decide(authURL, decision string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("facebooktest: %q is not a URL", authURL)
	}
	if _, p := splitVersion(u.Path); p != "/dialog/oauth" {
		return "", fmt.Errorf("facebooktest: %q is not a Login dialog URL (/{version}/dialog/oauth)", authURL)
	}
	form := u.Query()
	form.Set("decision", decision)
	// The boxes the page shows ticked, but those the person unticks.
	tick := func(page string, form url.Values) {
		for _, m := range grantBox.FindAllStringSubmatch(page, -1) {
			if sc := html.UnescapeString(m[1]); !slices.Contains(s.DeclinedScopes, sc) {
				form.Add("grant", sc)
			}
		}
	}
	return oauthtest.Press(oauthtest.Page{Fake: "facebooktest", Page: "the Login dialog", Form: "the Login dialog"},
		s.URL+u.Path+"?"+u.RawQuery, s.URL+u.Path, form, tick)
}

var grantBox = regexp.MustCompile(`name="grant" value="([^"]*)"`)

func splitScopes(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}

// knownScopes are the permissions the fake's dialog knows.
var knownScopes = []string{"public_profile", "email", "openid", "pages_show_list", "pages_manage_posts", "pages_read_engagement",
	"pages_read_user_content", "pages_manage_engagement", "pages_manage_metadata", "business_management", "publish_video"}

var dialogPage = template.Must(template.New("dialog").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Facebook (fake): Log in with Facebook</title></head>
<body>
<h1>{{.User}}, continue to the app?</h1>
<form method="post" action="{{.Action}}">
<p>The app is asking for:</p>
<ul>{{range .Scopes}}<li><label><input type="checkbox" name="grant" value="{{.}}" checked> {{.}}</label></li>{{end}}</ul>
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="decision" value="allow" id="allow">Continue as {{.User}}</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form>
</body></html>
`))

// dialog shows the Login dialog (GET) or takes its answer (POST).
func (s *Server) dialog(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := r.Form
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	switch {
	case q.Get("client_id") != s.AppID:
		http.Error(w, "Invalid App ID: The provided app ID does not look like a valid app ID.", http.StatusBadRequest)
		return
	case redirect == "" || err != nil || !ru.IsAbs() || (len(s.RedirectURIs) > 0 && !slices.Contains(s.RedirectURIs, redirect)):
		http.Error(w, "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) { oauthtest.RedirectBack(w, r, redirect, q.Get("state"), v, "#_=_") }
	if rt := q.Get("response_type"); rt != "" && rt != "code" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"this fake serves response_type=code only"}})
		return
	}
	scopes := splitScopes(q.Get("scope"))
	if q.Get("config_id") != "" && len(scopes) == 0 {
		scopes = slices.Clone(DefaultScopes) // a Login for Business configuration's permissions
	}
	for _, sc := range scopes {
		if !slices.Contains(knownScopes, sc) {
			http.Error(w, "Invalid Scopes: "+sc+". This message is only shown to developers.", http.StatusBadRequest)
			return
		}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" && method != "S256" && method != "plain" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256 or plain"}})
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		s.dialogs = append(s.dialogs, Dialog{ClientID: q.Get("client_id"), RedirectURI: redirect, State: q.Get("state"), Scope: q.Get("scope"),
			ConfigID: q.Get("config_id"), CodeChallenge: challenge, CodeChallengeMethod: method})
		s.mu.Unlock()
		fields := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "state", "scope", "config_id", "response_type", "code_challenge", "code_challenge_method"} {
			if v := q.Get(k); v != "" {
				fields[k] = v
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = dialogPage.Execute(w, map[string]any{"User": s.User.Name, "Scopes": scopes, "Fields": fields, "Action": r.URL.Path})
		return
	}
	if q.Get("decision") != "allow" {
		back(url.Values{"error_reason": {"user_denied"}, "error": {"access_denied"}, "error_description": {"Permissions error."}})
		return
	}
	var granted []string
	for _, sc := range q["grant"] {
		if slices.Contains(scopes, sc) {
			granted = append(granted, sc)
		}
	}
	code := "AQD" + oauthtest.Token(48)
	s.mu.Lock()
	s.codes[code] = &authCode{redirectURI: redirect, challenge: challenge, method: method, scopes: granted, expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	back(url.Values{"code": {code}})
}

// accessToken is GET /oauth/access_token: a code from the dialog, or fb_exchange_token.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.AppID {
		s.oauthError(w, 101, 0, "Error validating application. Invalid application ID.")
		return
	}
	secret := q.Get("client_secret")
	if secret != "" && secret != s.AppSecret {
		s.oauthError(w, 1, 0, "Error validating client secret.")
		return
	}
	tok, code, subcode, msg := s.grantToken(q, secret)
	if code != 0 {
		s.oauthError(w, code, subcode, msg)
		return
	}
	s.mu.Lock()
	g := s.tokens[tok]
	expiresIn := int64(g.expires.Sub(s.now()) / time.Second)
	s.mu.Unlock()
	faketest.WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": expiresIn})
}

// grantToken issues the token q asks for, or says why not (a Graph error code, subcode
// and message).
func (s *Server) grantToken(q url.Values, secret string) (tok string, code, subcode int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if q.Get("grant_type") == "fb_exchange_token" {
		g := s.tokens[q.Get("fb_exchange_token")]
		switch {
		case secret == "":
			return "", 1, 0, "Missing client_secret parameter."
		case g == nil || g.pageID != "" || g.invalidated != 0 || !now.Before(g.expires):
			return "", 190, 0, "Invalid OAuth access token - Cannot parse access token"
		}
		return s.issueUserLocked(g.scopes, true), 0, 0, ""
	}
	c := s.codes[q.Get("code")]
	switch {
	case c == nil:
		return "", 100, 0, "Invalid verification code format."
	case c.used:
		return "", 100, 36009, "This authorization code has been used."
	}
	c.used = true // a code is good for one try
	switch {
	case !now.Before(c.expires):
		return "", 100, 36007, "This authorization code has expired."
	case c.redirectURI != q.Get("redirect_uri"):
		return "", 100, 36008, "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"
	case c.challenge != "" && !verifierMatches(c.challenge, c.method, q.Get("code_verifier")):
		return "", 100, 0, "Invalid code verifier: it does not match the code_challenge of the Login dialog request."
	case secret == "" && c.challenge == "":
		return "", 1, 0, "Missing client_secret parameter." // only the PKCE flow may go without it
	}
	return s.issueUserLocked(c.scopes, false), 0, 0, ""
}

// verifierMatches checks PKCE: S256 is base64url(SHA-256(verifier)), plain the verifier.
func verifierMatches(challenge, method, verifier string) bool {
	if verifier == "" {
		return false
	}
	if method == "plain" {
		return verifier == challenge
	}
	return oauthtest.S256(verifier) == challenge
}

func (s *Server) me(w http.ResponseWriter, g *grant) {
	if g.pageID != "" {
		s.mu.Lock()
		pg := s.page(g.pageID)
		s.mu.Unlock()
		faketest.WriteJSON(w, http.StatusOK, map[string]string{"id": pg.ID, "name": pg.Name})
		return
	}
	faketest.WriteJSON(w, http.StatusOK, map[string]string{"id": g.user.ID, "name": g.user.Name})
}

// accounts is GET /me/accounts: the user's Pages with a Page token each.
func (s *Server) accounts(w http.ResponseWriter, r *http.Request, g *grant) {
	if g.pageID != "" {
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
		return
	}
	data := []map[string]any{}
	if g.has("pages_show_list") {
		limit, _ := strconv.Atoi(r.Form.Get("limit"))
		if limit <= 0 || limit > 100 {
			limit = 25
		}
		start := 0
		if a := r.Form.Get("after"); a != "" {
			b, _ := base64.RawURLEncoding.DecodeString(a)
			start, _ = strconv.Atoi(string(b))
		}
		s.mu.Lock()
		for i := start; i < len(s.Pages) && len(data) < limit; i++ {
			pg := s.Pages[i]
			data = append(data, map[string]any{"access_token": s.issuePageLocked(g, pg.ID), "category": pg.Category,
				"name": pg.Name, "id": pg.ID, "tasks": pg.Tasks})
		}
		more := start+len(data) < len(s.Pages)
		s.mu.Unlock()
		out := map[string]any{"data": data}
		if len(data) > 0 {
			cur := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
			paging := map[string]any{"cursors": map[string]string{"before": cur(start), "after": cur(start + len(data))}}
			if more {
				paging["next"] = s.URL + r.URL.Path + "?limit=" + strconv.Itoa(limit) + "&after=" + cur(start+len(data))
			}
			out["paging"] = paging
		}
		faketest.WriteJSON(w, http.StatusOK, out)
		return
	}
	faketest.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}

// permissions is GET /me/permissions: what the person granted and declined.
func (s *Server) permissions(w http.ResponseWriter, g *grant) {
	data := []map[string]string{{"permission": "public_profile", "status": "granted"}}
	for _, sc := range g.scopes {
		data = append(data, map[string]string{"permission": sc, "status": "granted"})
	}
	for _, sc := range s.DeclinedScopes {
		if !g.has(sc) {
			data = append(data, map[string]string{"permission": sc, "status": "declined"})
		}
	}
	faketest.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}

// throttle is a rate limit RateLimit set: every Graph call answers code until it ends.
type throttle struct {
	code  int
	until time.Time
}

// RateLimit makes every Graph API call (not the OAuth endpoints) answer error code —
// 4 (app), 17 (user), 32 (Page), 613 (custom) or 80001 (Pages Business Use Case) — for
// the next minutes of the server's clock, with the usage headers Facebook sends:
// X-Business-Use-Case-Usage for Page tokens (its estimated_time_to_regain_access the
// minutes left), X-Page-Usage as well for code 32, X-App-Usage for user tokens.
func (s *Server) RateLimit(code, minutes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = &throttle{code: code, until: s.now().Add(time.Duration(minutes) * time.Minute)}
}

var throttleMessages = map[int]string{
	4:     "(#4) Application request limit reached",
	17:    "(#17) User request limit reached",
	32:    "(#32) Page request limit reached",
	613:   "(#613) Calls to this api have exceeded the rate limit.",
	80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}

// throttled answers the call if a rate limit is on.
func (s *Server) throttled(w http.ResponseWriter, g *grant) bool {
	s.mu.Lock()
	t := s.throttle
	now := s.now()
	if t != nil && !now.Before(t.until) {
		s.throttle, t = nil, nil
	}
	s.mu.Unlock()
	if t == nil {
		return false
	}
	left := int((t.until.Sub(now) + time.Minute - 1) / time.Minute)
	s.writeUsage(w, g, 100, left)
	if t.code == 32 {
		usage, _ := json.Marshal(map[string]int{"call_count": 100, "total_cputime": 35, "total_time": 40, "estimated_time_to_regain_access": left})
		w.Header().Set("X-Page-Usage", string(usage))
	}
	msg := throttleMessages[t.code]
	if msg == "" {
		msg = fmt.Sprintf("(#%d) Rate limit reached", t.code)
	}
	subcode := 0
	if t.code == 80001 {
		subcode = 2446079
	}
	s.graphError(w, http.StatusBadRequest, t.code, subcode, msg)
	return true
}

// usageHeaders adds the usage header of an ordinary answer.
func (s *Server) usageHeaders(w http.ResponseWriter, g *grant) { s.writeUsage(w, g, 4, 0) }

func (s *Server) writeUsage(w http.ResponseWriter, g *grant, percent, regain int) {
	if g.pageID != "" {
		usage, _ := json.Marshal(map[string][]map[string]any{g.pageID: {{"type": "pages", "call_count": percent,
			"total_cputime": min(percent, 35), "total_time": min(percent, 40), "estimated_time_to_regain_access": regain}}})
		w.Header().Set("X-Business-Use-Case-Usage", string(usage))
		return
	}
	usage, _ := json.Marshal(map[string]int{"call_count": percent, "total_cputime": min(percent, 35), "total_time": min(percent, 40)})
	w.Header().Set("X-App-Usage", string(usage))
}
