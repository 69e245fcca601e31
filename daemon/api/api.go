// Package api is tact's HTTP API under /api/v1: campaigns, posts and approvals, incidents,
// pushed context, rules, accounts, plugins, users and the audit log, as JSON. It owns
// authentication by bearer token, the role each route needs, the mapping of domain errors
// to status codes, and the OpenAPI description of every route. The daemon mounts the
// handler New returns; the web UI reuses Authenticate, Authorize and WriteError.
package api

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/daemon/desk"
	"github.com/tact-hq/tact/daemon/queue"
)

// DefaultMaxBody is the request body limit when Options.MaxBody is 0.
const DefaultMaxBody = 1 << 20

// Options are what the API needs. Store is required; the services may be nil, and the
// routes that need a missing one answer 503 saying what is not configured.
type Options struct {
	Store     queue.Store
	Logger    *slog.Logger
	Validator Validator
	Accounts  Accounts
	Rules     Rules
	Watch     Watch
	Warnings  Warnings
	Kicker    Kicker
	// DefaultTimeZone is the zone of campaigns that name none (default UTC).
	DefaultTimeZone string
	// DefaultLate is the grace of campaigns that set none ([daemon] late, default 30m).
	DefaultLate time.Duration
	Now         func() time.Time
	Version     string
	// MaxBody limits request bodies in bytes (default 1 MiB); larger ones get 413.
	MaxBody int64
	// SessionUser, if set, authenticates requests that carry no Authorization header
	// through the web UI's session (see SessionFunc for the CSRF contract).
	SessionUser SessionFunc
	// MaxConcurrent is how many API requests run at once (default 8); the others wait for a
	// turn. The store's read pool is small and shared with the publisher: a burst of API
	// calls queued on it would make the publisher's reads wait behind them, and posts go
	// out late. Waiting here keeps the burst in front of the API only.
	MaxConcurrent int
	// Media keeps uploaded attachments; nil answers the media routes 503, and posts naming
	// media are refused. MediaFetcher, if set, lets POST /api/v1/media take a public URL.
	Media        MediaStore
	MediaFetcher MediaFetcher
	// AnswerCounts, if set, counts how the queue listing's requests were answered (kept
	// or built; see answers.go), for /metrics.
	AnswerCounts *AnswerCounts
	// Connector connects accounts (connect.go); nil answers 503.
	Connector Connector
}

// server holds the options and the route table.
type server struct {
	opt     Options
	log     *slog.Logger
	loc     *time.Location
	started time.Time
	routes  []route
	zones   sync.Map // time zone name -> *time.Location
	slots   chan struct{}
	waiting atomic.Int64 // requests waiting for a slot
	posts   *PostBuilder
	desk    *desk.Desk // the commands the web UI shares (daemon/desk)
	answers answers    // kept answers of the queue listing (answers.go)
}

// handlerFunc serves one route for an authenticated, authorized user. It writes the
// success answer itself and returns errors for WriteError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, u *queue.User) error

// route is one API route: the role it needs and what the OpenAPI document says about it.
type route struct {
	method  string
	path    string
	role    queue.Role
	summary string
	// query lists the documented query parameters.
	query []string
	// in and out are values of the request and success-response body types (nil: none);
	// status is the success status.
	in, out any
	status  int
	h       handlerFunc
}

// New returns the API handler. It serves /api/v1/... and answers unknown paths under it
// with a JSON 404.
func New(opt Options) http.Handler {
	s := newServer(opt)
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.HandleFunc(rt.method+" "+rt.path, s.serve(rt))
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		// Nothing more specific matched: either the path is unknown, or it exists with
		// other methods. Say which, in JSON like every other error.
		var allow []string
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/api/v1/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: "method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allow, ", ")})
			return
		}
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no API route " + r.Method + " " + r.URL.Path + "; see /api/v1/openapi.json for the list"})
	})
	return mux
}

func newServer(opt Options) *server {
	if opt.Store == nil {
		panic("api.New: Options.Store is required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.DefaultTimeZone == "" {
		opt.DefaultTimeZone = "UTC"
	}
	if opt.DefaultLate <= 0 {
		opt.DefaultLate = queue.DefaultLate
	}
	loc, err := time.LoadLocation(opt.DefaultTimeZone)
	if err != nil {
		panic("api.New: DefaultTimeZone: " + err.Error())
	}
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = 8
	}
	if opt.AnswerCounts == nil {
		opt.AnswerCounts = &AnswerCounts{}
	}
	s := &server{opt: opt, log: opt.Logger, loc: loc, started: opt.Now(), slots: make(chan struct{}, opt.MaxConcurrent)}
	s.answers.counts = opt.AnswerCounts
	s.desk = desk.New(opt.Store, opt.Kicker)
	s.posts = &PostBuilder{Store: opt.Store, Validator: opt.Validator, Media: opt.Media, Now: s.now, Location: s.location}
	s.routes = s.table()
	return s
}

// serve authenticates, authorizes and runs one route.
func (s *server) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.slots <- struct{}{}:
		default:
			s.waiting.Add(1)
			select {
			case s.slots <- struct{}{}:
				s.waiting.Add(-1)
			case <-r.Context().Done():
				s.waiting.Add(-1)
				return // the client went away while waiting
			}
		}
		defer func() { <-s.slots }()
		u, err := s.user(r)
		if err == nil {
			err = Authorize(u, rt.role)
		}
		if err == nil {
			err = rt.h(w, r, u)
		}
		if err != nil {
			WriteError(w, s.log, r, err)
		}
	}
}

// table is every route. Each entry carries the role it needs: the access test walks this
// list, and the OpenAPI document is written from it.
func (s *server) table() []route {
	const (
		viewer   = queue.RoleViewer
		marketer = queue.RoleMarketer
		admin    = queue.RoleAdmin
	)
	ok, created, none := http.StatusOK, http.StatusCreated, http.StatusNoContent
	return []route{
		{"GET", "/api/v1/status", viewer, "Daemon status: version, uptime, posts by state, paused campaigns, open incidents, accounts, rules", nil, nil, Status{}, ok, s.status},
		{"GET", "/api/v1/openapi.json", viewer, "This OpenAPI description", nil, nil, map[string]any{}, ok, s.openapi},

		{"GET", "/api/v1/campaigns", viewer, "List campaigns", []string{"state"}, nil, List[*queue.Campaign]{}, ok, s.listCampaigns},
		{"POST", "/api/v1/campaigns", marketer, "Create a campaign", nil, CampaignInput{}, queue.Campaign{}, created, s.createCampaign},
		{"POST", "/api/v1/campaigns/pause-all", admin, "Pause every active campaign (crisis mode)", nil, ReasonInput{}, Count{}, ok, s.pauseAll},
		{"POST", "/api/v1/campaigns/resume-all", admin, "Resume every campaign paused by pause-all", nil, nil, Count{}, ok, s.resumeAll},
		{"GET", "/api/v1/campaigns/{campaign}", viewer, "Get a campaign by name (or id)", nil, nil, queue.Campaign{}, ok, s.getCampaign},
		{"PATCH", "/api/v1/campaigns/{campaign}", marketer, "Change a campaign (If-Match or version: stale -> 409)", nil, CampaignPatch{}, queue.Campaign{}, ok, s.updateCampaign},
		{"POST", "/api/v1/campaigns/{campaign}/pause", marketer, "Pause a campaign with a reason", nil, ReasonInput{}, queue.Campaign{}, ok, s.pauseCampaign},
		{"POST", "/api/v1/campaigns/{campaign}/resume", marketer, "Resume a paused campaign", nil, VersionInput{}, queue.Campaign{}, ok, s.resumeCampaign},

		{"GET", "/api/v1/posts", viewer, "List posts soonest due first, with filters and cursor pagination", []string{"campaign", "account", "state", "due_after", "due_before", "cursor", "limit"}, nil, PostList{}, ok, s.listPosts},
		{"POST", "/api/v1/posts", marketer, "Create a post (validated by the target networks)", nil, PostInput{}, PostView{}, created, s.createPost},
		{"POST", "/api/v1/posts/import", marketer, "Import posts from CSV (campaign,at,text[,account]) or a JSON array; all or nothing", nil, []PostInput{}, List[PostView]{}, created, s.importPosts},
		{"POST", "/api/v1/posts/approve", marketer, "Approve several posts", nil, BulkInput{}, BulkResult{}, ok, s.bulkApprove},
		{"GET", "/api/v1/posts/{id}", viewer, "Get a post", nil, nil, PostView{}, ok, s.getPost},
		{"PATCH", "/api/v1/posts/{id}", marketer, "Edit a post (an approved post goes back to pending; If-Match or version: stale -> 409)", nil, PostPatch{}, PostView{}, ok, s.editPost},
		{"DELETE", "/api/v1/posts/{id}", marketer, "Delete a post that is not published", nil, nil, nil, none, s.deletePost},
		{"POST", "/api/v1/posts/{id}/submit", marketer, "Submit a draft for approval", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventSubmit)},
		{"POST", "/api/v1/posts/{id}/approve", marketer, "Approve a pending post", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventApprove)},
		{"POST", "/api/v1/posts/{id}/reject", marketer, "Reject a post (reason required)", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventReject)},
		{"POST", "/api/v1/posts/{id}/hold", marketer, "Hold a post", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventHold)},
		{"POST", "/api/v1/posts/{id}/release", marketer, "Release a held post back to pending", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventRelease)},
		{"POST", "/api/v1/posts/{id}/retry", marketer, "Send a failed or unknown post again", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventRetry)},
		{"POST", "/api/v1/posts/{id}/succeed", marketer, "Mark an unknown post as published (a person checked the network)", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventSucceed)},
		{"POST", "/api/v1/posts/{id}/fail", marketer, "Mark an unknown post as failed (a person checked the network)", nil, ActionInput{}, PostView{}, ok, s.action(queue.EventFail)},

		{"POST", "/api/v1/media", marketer, "Upload an attachment: the body is the file (any Content-Type; the type is sniffed), a multipart form's \"file\" part, or JSON {\"url\"} for a public file the daemon fetches once. 201 stored, 200 already stored; posts name it by the id answered", nil, MediaURLInput{}, MediaView{}, created, s.uploadMedia},
		{"GET", "/api/v1/media/{id}", viewer, "An attachment's bytes", nil, nil, nil, ok, s.serveMedia},

		{"GET", "/api/v1/incidents", viewer, "List incidents", []string{"state", "rule", "since", "limit"}, nil, List[*queue.Incident]{}, ok, s.listIncidents},
		{"POST", "/api/v1/incidents", admin, "Declare an incident for a rule by hand (the rule's action applies)", nil, DeclareInput{}, queue.Incident{}, created, s.declareIncident},
		{"GET", "/api/v1/incidents/{id}", viewer, "Get an incident", nil, nil, queue.Incident{}, ok, s.getIncident},
		{"POST", "/api/v1/incidents/{id}/resolve", admin, "Resolve an incident by hand", nil, NoteInput{}, queue.Incident{}, ok, s.resolveIncident},

		{"POST", "/api/v1/context", marketer, "Push a context item (news); answers the item and the incidents it opened or extended", nil, ContextInput{}, ContextResult{}, created, s.pushContext},
		{"GET", "/api/v1/context", viewer, "Recent context items", []string{"since", "limit"}, nil, List[*queue.ContextItem]{}, ok, s.recentContext},

		{"GET", "/api/v1/rules", viewer, "Rules in force and the last reload's outcome", nil, nil, RulesStatus{}, ok, s.rulesStatus},
		{"POST", "/api/v1/rules/reload", admin, "Reload the rule files (on error the previous rules stay in force)", nil, nil, RulesStatus{}, ok, s.rulesReload},
		{"POST", "/api/v1/rules/preview", admin, "Dry-run rule files against the live queue and recent context", nil, PreviewInput{}, Preview{}, ok, s.rulesPreview},

		{"GET", "/api/v1/accounts", viewer, "Configured accounts and their health: connected as whom, token expiry, last publish, last error, what needs attention (never their settings or tokens)", nil, nil, List[AccountInfo]{}, ok, s.listAccounts},
		{"POST", "/api/v1/accounts/{name}/connect", admin, "Connect an account: the network's consent page to open (OAuth; it sends the browser back to public_url/oauth/callback), or, with settings, an app password tried and kept encrypted", nil, ConnectInput{}, ConnectAnswer{}, ok, s.connectAccount},
		{"GET", "/api/v1/plugins", viewer, "Plugins in use and the accounts they serve", nil, nil, List[PluginInfo]{}, ok, s.listPlugins},

		{"GET", "/api/v1/users", admin, "List users", nil, nil, List[*queue.User]{}, ok, s.listUsers},
		{"POST", "/api/v1/users", admin, "Create a user; the answer carries its token, shown this once", nil, UserInput{}, UserCreated{}, created, s.createUser},
		{"PATCH", "/api/v1/users/{name}", admin, "Change a user's role (their web sessions end)", nil, RoleInput{}, queue.User{}, ok, s.setUserRole},
		{"POST", "/api/v1/users/{name}/token", admin, "Give a user a new token, shown this once (the old token and their web sessions stop working)", nil, nil, UserCreated{}, ok, s.replaceToken},
		{"DELETE", "/api/v1/users/{name}", admin, "Delete a user (its token and web sessions stop working)", nil, nil, nil, none, s.deleteUser},

		{"GET", "/api/v1/audit", viewer, "The audit log, newest first", []string{"since", "limit"}, nil, List[queue.AuditEntry]{}, ok, s.audit},
	}
}

// List is the shape of every list answer; Next is the cursor of the following page.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Count answers bulk campaign actions.
type Count struct {
	Count int `json:"count"`
}

// kick wakes the scheduler and publisher after a change that can make work due.
func (s *server) kick() {
	if s.opt.Kicker != nil {
		s.opt.Kicker.Kick()
	}
}

// unavailable is the error for a route whose service is not configured.
func unavailable(what string) error {
	return queue.Errorf(queue.Unavailable, "", "%s is not available in this daemon (not configured or not started); see the daemon's log", what)
}

// now is the injected clock.
func (s *server) now() time.Time { return s.opt.Now() }

// location returns the zone of campaign c (the daemon's default when it names none).
func (s *server) location(c *queue.Campaign) *time.Location {
	if c == nil {
		return s.loc
	}
	return s.zone(c.TimeZone)
}

// zone is the location of a campaign whose time zone is name: the daemon's default when
// name is empty or unknown.
func (s *server) zone(name string) *time.Location {
	if name != "" {
		// time.LoadLocation reads the zone database from disk on every call: keep each zone.
		if loc, ok := s.zones.Load(name); ok {
			return loc.(*time.Location)
		}
		if loc, err := time.LoadLocation(name); err == nil {
			s.zones.Store(name, loc)
			return loc
		}
	}
	return s.loc
}

// Route describes one API route: its method and pattern, the least role it needs, and
// what it does.
type Route struct {
	Method  string
	Path    string
	Role    queue.Role
	Summary string
	// In is a value of the JSON request body's type (nil: the route takes none), so that
	// tests can find every field that takes a URL or a path.
	In any
}

// Routes lists every route New serves (for access tests, docs and the web UI).
func Routes() []Route {
	s := &server{}
	var out []Route
	for _, rt := range s.table() {
		out = append(out, Route{Method: rt.method, Path: rt.path, Role: rt.role, Summary: rt.summary, In: rt.in})
	}
	return out
}
