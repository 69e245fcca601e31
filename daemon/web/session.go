package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

// SessionTTL is how long a login lasts. The store decides expiry (queue.SessionStore), so a
// session ends on time even if its cookie is kept.
const SessionTTL = 12 * time.Hour

// session is a sign-in as the store keeps it.
type session = queue.Session

// The session cookie is "ID.MAC": ID is 32 random bytes and MAC their HMAC-SHA256 under the
// session key, both in unpadded base64url (43 characters each). The ID is all the browser
// holds; the store keeps its SHA-256 with the user, the expiry and the CSRF secret, so the
// server ends a session by deleting it (docs/operations.md, "Web sessions"). The MAC turns
// away made-up cookies before any database read.
const (
	sessionIDBytes  = 32
	sessionIDLen    = 43 // base64url of 32 bytes, unpadded
	sessionCookieLn = 2*sessionIDLen + 1
)

var cookieB64 = base64.RawURLEncoding.Strict()

func newSessionID() string {
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return cookieB64.EncodeToString(b)
}

func (h *Handler) cookieName(base string) string {
	if h.opt.SecureCookies {
		return "__Host-" + base // requires Secure, Path=/ and no Domain: cannot be set by a subdomain
	}
	return base
}

func (h *Handler) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (h *Handler) encodeSessionCookie(id string) string {
	return id + "." + cookieB64.EncodeToString(h.mac("session", id))
}

// decodeSessionCookie returns the session id a cookie value carries, if the value is one
// this server made: exactly one spelling of it is accepted.
func (h *Handler) decodeSessionCookie(v string) (string, bool) {
	if len(v) != sessionCookieLn || v[sessionIDLen] != '.' {
		return "", false
	}
	id, sig := v[:sessionIDLen], v[sessionIDLen+1:]
	if raw, err := cookieB64.DecodeString(id); err != nil || len(raw) != sessionIDBytes {
		return "", false
	}
	got, err := cookieB64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("session", id)) {
		return "", false
	}
	return id, true
}

// sessionFrom authenticates r by its session cookie against the Store: the session must be
// in force now, and its user is read as stored now (role included).
func (h *Handler) sessionFrom(r *http.Request) (*queue.User, *session, bool) {
	c, err := r.Cookie(h.cookieName("tact_session"))
	if err != nil {
		return nil, nil, false
	}
	id, ok := h.decodeSessionCookie(c.Value)
	if !ok {
		return nil, nil, false
	}
	ctx, now := r.Context(), h.now()
	s, u, err := h.opt.Store.Session(ctx, queue.HashToken(id), now)
	if err != nil {
		if queue.ErrorKind(err) != queue.NotFound && !api.ClientGone(ctx, err) {
			h.log.ErrorContext(ctx, "web: session lookup", "err", err)
		}
		return nil, nil, false
	}
	if now.Sub(s.LastSeenAt) >= queue.SessionTouchEvery {
		if err := h.opt.Store.TouchSession(ctx, s.IDHash, now); err != nil && !api.ClientGone(ctx, err) {
			h.log.WarnContext(ctx, "web: could not record a session's use", "user", u.Name, "err", err)
		}
	}
	return u, s, true
}

// SessionUser returns the user signed in to the web UI by r's session cookie, so that the
// API can accept the cookie as well as a bearer token. For methods other than GET, HEAD and
// OPTIONS it also requires the session's CSRF token in the X-CSRF-Token header (or the csrf
// form field), so a cookie alone never authorises a change.
func (h *Handler) SessionUser(r *http.Request) (*queue.User, bool) {
	u, s, ok := h.sessionFrom(r)
	if !ok {
		return nil, false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return u, true
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	if !h.validCSRF(s, tok) {
		return nil, false
	}
	return u, true
}

// csrfToken is the per-session token put in every form.
func (h *Handler) csrfToken(s *session) string {
	return base64.RawURLEncoding.EncodeToString(h.mac("csrf", s.CSRFSecret))
}

func (h *Handler) validCSRF(s *session, tok string) bool {
	if s == nil || tok == "" {
		return false
	}
	return hmac.Equal([]byte(tok), []byte(h.csrfToken(s)))
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     h.cookieName(name),
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.opt.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func randomString() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// The login form has no session yet, so it is protected by a double-submit token: a random
// value in a short-lived cookie, and its MAC in the form.
func (h *Handler) loginToken(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(h.mac("login", nonce))
}

type loginData struct {
	Next  string
	Error string
	CSRF  string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.sessionFrom(r); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	nonce := randomString()
	h.setCookie(w, "tact_login", nonce, 30*time.Minute)
	h.render(w, r, nil, status, "login", "Log in", loginData{Next: safeNext(r.FormValue("next")), Error: msg, CSRF: h.loginToken(nonce)})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(h.cookieName("tact_login"))
	if err != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(h.loginToken(c.Value))) {
		h.fail(w, r, nil, http.StatusForbidden, "The login form expired or was not sent from this site.", "Reload the login page and paste your token again.")
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" {
		h.renderLogin(w, r, http.StatusBadRequest, "Paste your API token in the Token field. An admin creates one with: tactctl user add NAME --role marketer")
		return
	}
	hash := queue.HashToken(tok)
	u, err := h.opt.Store.UserByTokenHash(r.Context(), hash)
	if err != nil {
		if queue.ErrorKind(err) != queue.NotFound {
			h.log.ErrorContext(r.Context(), "web: login lookup", "err", err)
			h.renderLogin(w, r, http.StatusServiceUnavailable, "Could not check the token right now (the error is logged). Try again in a moment.")
			return
		}
		h.log.InfoContext(r.Context(), "web: login refused: unknown token", "remote", r.RemoteAddr)
		h.renderLogin(w, r, http.StatusUnauthorized, "That token is not valid: it may have been mistyped, revoked, or its user deleted. Check it, or ask an admin for a new one (tactctl user add NAME --role marketer).")
		return
	}
	// A browser keeps one session: the one it may still hold ends now.
	h.endCookieSession(r)
	id, now := newSessionID(), h.now()
	s := &session{IDHash: queue.HashToken(id), UserID: u.ID, CSRFSecret: randomString(), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := h.opt.Store.CreateSession(r.Context(), s); err != nil {
		if !api.ClientGone(r.Context(), err) {
			h.log.ErrorContext(r.Context(), "web: login: start the session", "user", u.Name, "err", err)
		}
		h.renderLogin(w, r, http.StatusServiceUnavailable, "Your token is good, but the session could not be started right now (the error is logged). Try again in a moment.")
		return
	}
	h.setCookie(w, "tact_session", h.encodeSessionCookie(id), SessionTTL)
	h.setCookie(w, "tact_login", "", -1)
	h.log.InfoContext(r.Context(), "web: login", "user", u.Name, "role", u.Role)
	h.setFlash(w, flash{Kind: "ok", Text: "Welcome, " + u.Name + ". You are logged in as " + string(u.Role) + "."})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout ends the session on the server, so that a copy of the cookie (another tab, a
// saved request, a shared computer's disk) opens nothing afterwards.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	u, s, ok := h.sessionFrom(r)
	if ok {
		if !h.validCSRF(s, r.PostFormValue("csrf")) {
			h.fail(w, r, nil, http.StatusForbidden, "This form is missing its security token.", "Reload the page and press Log out again.")
			return
		}
		if err := h.opt.Store.EndSession(r.Context(), s.IDHash); err != nil {
			if !api.ClientGone(r.Context(), err) {
				h.log.ErrorContext(r.Context(), "web: logout", "user", u.Name, "err", err)
			}
			h.fail(w, r, nil, http.StatusServiceUnavailable, "You are still logged in: the session could not be ended right now (the error is logged).", "Press Log out again in a moment.")
			return
		}
		h.log.InfoContext(r.Context(), "web: logout", "user", u.Name)
	}
	h.setCookie(w, "tact_session", "", -1)
	h.setFlash(w, flash{Kind: "ok", Text: "You are logged out."})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// endCookieSession ends the session r's cookie names, if any; a failure only leaves a
// session that expires on its own.
func (h *Handler) endCookieSession(r *http.Request) {
	c, err := r.Cookie(h.cookieName("tact_session"))
	if err != nil {
		return
	}
	if id, ok := h.decodeSessionCookie(c.Value); ok {
		if err := h.opt.Store.EndSession(r.Context(), queue.HashToken(id)); err != nil && !api.ClientGone(r.Context(), err) {
			h.log.WarnContext(r.Context(), "web: could not end the previous session", "err", err)
		}
	}
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind string `json:"k"` // ok | error
	Text string `json:"t"`
}

func (h *Handler) setFlash(w http.ResponseWriter, f flash) {
	b, _ := json.Marshal(f)
	p := base64.RawURLEncoding.EncodeToString(b)
	h.setCookie(w, "tact_flash", p+"."+base64.RawURLEncoding.EncodeToString(h.mac("flash", p)), time.Minute)
}

// takeFlash reads and clears the flash message. It is signed so that nothing but this
// server can put words on the page.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(h.cookieName("tact_flash"))
	if err != nil {
		return nil
	}
	h.setCookie(w, "tact_flash", "", -1)
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("flash", p)) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(raw, &f) != nil {
		return nil
	}
	return &f
}
