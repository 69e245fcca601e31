// Package web is tact's web UI for marketers and admins, served by tactd at "/": the
// approval queue, the calendar, campaigns (with the evidence of a pause), incidents, rules in
// force, the audit log and CSV import.
//
// Pages are rendered on the server with html/template and work without JavaScript: every
// action is a form POST answered by a redirect with a flash message. htmx (vendored in
// static/, no Node at build or run time) boosts links and forms so that pages swap without a
// full reload, and a small script updates length counts while a post is edited.
//
// The UI offers the same actions as the HTTP API through the same services (daemon/api's
// Validator, Accounts, Rules, Watch, Warnings, Kicker) and the Store; every state change
// goes through the Store, which enforces the state machine and writes the audit log.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/desk"
	"github.com/tact-hq/tact/daemon/queue"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures the web UI. Store is required; the services may be nil in a deployment
// that lacks them, and the pages then say what is not configured.
type Options struct {
	Store     queue.Store
	Logger    *slog.Logger
	Validator api.Validator
	Accounts  api.Accounts
	Rules     api.Rules
	Watch     api.Watch
	Warnings  api.Warnings
	Kicker    api.Kicker
	// Media keeps attachments: posts' thumbnails and uploads from the edit form.
	Media api.MediaStore
	// Connector connects accounts from the accounts page (accounts.go); nil: the page says
	// connecting is not available.
	Connector Connector
	// DefaultTimeZone (IANA) is used for campaigns without a zone and for pages that are
	// not about one campaign (calendar, incidents, audit). Empty means UTC.
	DefaultTimeZone string
	// SecureCookies marks cookies Secure (and uses the __Host- prefix): set it whenever
	// the UI is reached over HTTPS.
	SecureCookies bool
	// SessionKey signs session cookies and CSRF tokens. Keep it stable across restarts so
	// that people stay logged in; when empty a random key is made and every restart logs
	// everyone out.
	SessionKey []byte
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
}

// Handler is the web UI. It is an http.Handler; SessionUser lets the API accept the UI's
// session cookie.
type Handler struct {
	opt   Options
	log   *slog.Logger
	loc   *time.Location
	key   []byte
	pages map[string]*template.Template
	mux   *http.ServeMux
	table []Route    // what mux serves (Routes)
	desk  *desk.Desk // the commands the API shares (daemon/desk)
}

// New returns the web UI handler, to be mounted at "/".
func New(opt Options) *Handler {
	if opt.Store == nil {
		panic("web.New: Options.Store is required")
	}
	h := &Handler{opt: opt, log: opt.Logger, key: opt.SessionKey, desk: desk.New(opt.Store, opt.Kicker)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.opt.Now == nil {
		h.opt.Now = time.Now
	}
	h.loc = time.UTC
	if opt.DefaultTimeZone != "" {
		if loc, err := time.LoadLocation(opt.DefaultTimeZone); err == nil {
			h.loc = loc
		} else {
			h.log.Warn("web: unknown default time zone, using UTC", "timezone", opt.DefaultTimeZone, "err", err)
		}
	}
	if len(h.key) == 0 {
		h.key = make([]byte, 32)
		if _, err := rand.Read(h.key); err != nil {
			panic("web.New: no randomness: " + err.Error())
		}
	}
	h.pages = mustParsePages()
	h.routes()
	return h
}

func (h *Handler) routes() {
	m := &routeTable{mux: http.NewServeMux()}
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /logout", h.logout)

	read := queue.RoleViewer
	m.Handle("GET /{$}", h.page(read, h.queuePage))
	m.Handle("GET /posts/{id}/edit", h.page(read, h.editPage))
	m.Handle("POST /posts/{id}/edit", h.action(queue.RoleMarketer, h.editPost))
	m.Handle("POST /posts/{id}/{event}", h.action(queue.RoleMarketer, h.applyPost))
	m.Handle("POST /posts/approve", h.action(queue.RoleMarketer, h.bulkApprove))
	m.Handle("POST /posts/{id}/media", h.actionUpTo(queue.RoleMarketer, h.uploadLimit(), h.attachMedia))
	m.Handle("POST /posts/{id}/media/remove", h.action(queue.RoleMarketer, h.detachMedia))
	m.Handle("GET /media/{id}", h.page(read, h.serveMedia))
	m.Handle("GET /count", h.page(read, h.countText))
	m.Handle("GET /import", h.page(read, h.importPage))
	m.Handle("POST /import", h.action(queue.RoleMarketer, h.importCSV))
	m.Handle("GET /calendar", h.page(read, h.calendarPage))
	m.Handle("GET /campaigns", h.page(read, h.campaignsPage))
	m.Handle("POST /campaigns/pause-all", h.action(queue.RoleAdmin, h.pauseAll))
	m.Handle("POST /campaigns/resume-all", h.action(queue.RoleAdmin, h.resumeAll))
	m.Handle("POST /campaigns/{id}/pause", h.action(queue.RoleMarketer, h.pauseCampaign))
	m.Handle("POST /campaigns/{id}/resume", h.action(queue.RoleMarketer, h.resumeCampaign))
	m.Handle("GET /incidents", h.page(read, h.incidentsPage))
	m.Handle("POST /incidents/declare", h.action(queue.RoleAdmin, h.declareIncident))
	m.Handle("POST /incidents/{id}/resolve", h.action(queue.RoleAdmin, h.resolveIncident))
	m.Handle("GET /rules", h.page(read, h.rulesPage))
	m.Handle("POST /rules/reload", h.action(queue.RoleAdmin, h.reloadRules))
	m.Handle("GET /audit", h.page(read, h.auditPage))
	m.Handle("GET /accounts", h.page(queue.RoleAdmin, h.accountsPage))
	m.Handle("POST /accounts/{name}/connect", h.action(queue.RoleAdmin, h.connectAccount))
	m.Handle("POST /accounts/{name}/password", h.action(queue.RoleAdmin, h.connectPassword))
	m.HandleFunc("GET /oauth/callback", h.oauthCallback)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, http.StatusNotFound, "There is no page at "+r.URL.Path+".", "Use the menu above.")
	})
	h.mux, h.table = m.mux, m.routes
}

// Route is one route of the web UI and who may use it. Routes lists them for the role
// matrix (matrix_test.go), which tries every route with every kind of caller.
type Route struct {
	Method string // empty: every method
	Path   string
	// Role is the least role the route needs, as its page or action wrapper checks it.
	Role queue.Role
	// Public routes take no session: the login form, logout, static files, "not found".
	Public bool
}

// Routes lists every route the handler serves.
func (h *Handler) Routes() []Route { return slices.Clone(h.table) }

// guarded is a handler made by page or action: it checks the session and the role itself.
type guarded struct {
	role queue.Role
	http.Handler
}

// routeTable registers routes on the mux and lists them with the role their handler checks,
// so that the list cannot differ from what is served: a handler that is not guarded is
// listed as public, and the role matrix wants to be told what anyone may do with it.
type routeTable struct {
	mux    *http.ServeMux
	routes []Route
}

func (t *routeTable) Handle(pattern string, hd http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	rt := Route{Method: method, Path: path, Public: true}
	if g, ok := hd.(guarded); ok {
		rt.Role, rt.Public = g.role, false
	}
	t.routes = append(t.routes, rt)
	t.mux.Handle(pattern, hd)
}

func (t *routeTable) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	t.Handle(pattern, http.HandlerFunc(fn))
}

// ServeHTTP serves the UI with security headers on every response.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// No inline script or style anywhere: the CSP forbids them, so an injected one cannot run.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// request is what a page or action handler gets: the signed-in user and its session.
type request struct {
	*http.Request
	user *queue.User
	sess *session
}

func (rq *request) actor() queue.Actor { return queue.Actor{Kind: queue.ActorUser, Name: rq.user.Name} }

func (rq *request) can(role queue.Role) bool { return rq.user.Role.Allows(role) }

// page wraps a GET handler: a visitor without a session is sent to the login page.
func (h *Handler) page(need queue.Role, fn func(http.ResponseWriter, *request)) http.Handler {
	return guarded{need, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, s, ok := h.sessionFrom(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		rq := &request{Request: r, user: u, sess: s}
		if !rq.can(need) {
			h.fail(w, r, rq, http.StatusForbidden, "Your role ("+string(u.Role)+") may not see this page.", "Ask an admin for a role that allows it.")
			return
		}
		fn(w, rq)
	})}
}

// action wraps a POST handler: it needs a session, the session's CSRF token in the form,
// and a role that allows the action. Anything else is refused with 403 and changes nothing.
func (h *Handler) action(need queue.Role, fn func(http.ResponseWriter, *request)) http.Handler {
	return h.actionUpTo(need, maxBody, fn)
}

// actionUpTo is action with a body limit of its own: an upload form takes files up to the
// media limit rather than maxBody.
func (h *Handler) actionUpTo(need queue.Role, limit int64, fn func(http.ResponseWriter, *request)) http.Handler {
	return guarded{need, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		u, s, ok := h.sessionFrom(r)
		if !ok {
			h.fail(w, r, nil, http.StatusForbidden, "You are not logged in, or your session has expired.", "Log in again, then repeat what you were doing.")
			return
		}
		rq := &request{Request: r, user: u, sess: s}
		if err := r.ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			h.fail(w, r, rq, http.StatusBadRequest, "The form could not be read: "+err.Error()+".", fmt.Sprintf("Files are limited to %s; make it smaller (split a bigger import).", sizeText(limit)))
			return
		}
		if !h.validCSRF(s, r.PostFormValue("csrf")) {
			h.fail(w, r, rq, http.StatusForbidden, "This form is missing its security token or the token is from another session.", "Reload the page and submit the form again.")
			return
		}
		if !rq.can(need) {
			h.fail(w, r, rq, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not do this; it needs %s.", u.Role, need), "Ask an admin for a role that allows it.")
			return
		}
		if err := formUTF8(r.PostForm); err != nil {
			h.fail(w, r, rq, http.StatusBadRequest, "The form could not be used: "+err.Error()+".", "Nothing was changed. Type or paste the text into the page again.")
			return
		}
		fn(w, rq)
	})}
}

const maxBody = 4 << 20

// back returns the local URL a form asked to return to, or def. Only paths on this site are
// accepted (safeNext), so the field cannot be used to redirect elsewhere.
func back(r *http.Request, def string) string {
	b := r.PostFormValue("back")
	if b == "" || safeNext(b) != b {
		return def
	}
	return b
}

// done redirects after a successful or refused action, with a flash message.
func (h *Handler) done(w http.ResponseWriter, r *request, to string, kind, msg string) {
	h.setFlash(w, flash{Kind: kind, Text: msg})
	http.Redirect(w, r.Request, to, http.StatusSeeOther)
}

// explain turns a domain error into a sentence for people. Domain errors carry their own
// message (what is wrong); others are logged and reported without their text.
func (h *Handler) explain(ctx context.Context, err error, what string) string {
	switch queue.ErrorKind(err) {
	case "":
		if api.ClientGone(ctx, err) { // nobody will read the answer: not an internal error
			h.log.DebugContext(ctx, "web: client went away", "doing", what, "err", err)
			return "Could not " + what + ": the request was cancelled."
		}
		h.log.ErrorContext(ctx, "web: "+what, "err", err)
		return "Could not " + what + " because of an internal error; it has been logged. Try again, and tell an admin if it persists."
	case queue.Unavailable:
		return "Could not " + what + ": the database is busy. Try again in a moment."
	default:
		msg := err.Error()
		if f := queue.ErrorField(err); f != "" && !strings.Contains(msg, f) {
			msg = f + ": " + msg
		}
		return "Could not " + what + ": " + msg + "."
	}
}

func (h *Handler) kick() {
	if h.opt.Kicker != nil {
		h.opt.Kicker.Kick()
	}
}

func (h *Handler) now() time.Time { return h.opt.Now() }

// zone returns the location of a campaign's time zone, or the default.
func (h *Handler) zone(c *queue.Campaign) *time.Location {
	if c != nil && c.TimeZone != "" {
		if loc, err := time.LoadLocation(c.TimeZone); err == nil {
			return loc
		}
	}
	return h.loc
}
