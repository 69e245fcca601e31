// Package xtest runs a fake of X's API v2 for tests: the endpoints the x plugin uses, as X
// documents them (docs.x.com and its OpenAPI description, version 2.167, 2026), on one
// loopback server that stands for both api.x.com and x.com.
//
// What it reproduces:
//   - OAuth 2.0 with PKCE: the consent page GET /i/oauth2/authorize (an HTML page with an
//     approve button, or Approve/Deny from a test) redirecting to the callback with code
//     and state; POST /2/oauth2/token for the authorization_code grant (the code lives 30
//     seconds and is single use, redirect_uri must match, code_verifier must match the S256
//     code_challenge) and the refresh_token grant (offline.access only; each refresh token
//     is single use and rotates, so an old one is refused); confidential clients
//     authenticate with HTTP Basic, public ones send client_id; access tokens last two
//     hours (AccessTokenTTL). Refusals are 400 {"error": "invalid_request",
//     "error_description": "Value passed for the token was invalid."}: X answers
//     invalid_request where RFC 6749 says invalid_grant. POST /2/oauth2/revoke.
//   - Bearer tokens on every API call: a missing, unknown, revoked or expired one is 401
//     with X's problem body; a token without the scope an endpoint needs is 403.
//   - GET /2/users/me; POST /2/tweets with {"text", "media": {"media_ids"}} answering 201
//     {"data": {"id", "text", "edit_history_tweet_ids"}}, the text counted as X counts it
//     (280, sdk.CountX), links wrapped in t.co (http(s) URLs and bare domains in .com,
//     .org, .net, .io and .co; X wraps every domain with a known top-level domain), &, <
//     and > escaped as X's v2 text is, a t.co link to the media appended, the duplicate
//     refusal (403 "You are not allowed to create a Tweet with duplicate content.") for a
//     text the account posted in the last DuplicateWindow; DELETE /2/tweets/:id answering
//     {"data": {"deleted": true}}; GET /2/users/:id/tweets, newest first, with
//     max_results (5 to 100), start_time, exclude and pagination_token.
//   - Tweet ids are snowflakes: the creation time is in the id, as on X.
//   - The chunked media upload of the current reference: POST /2/media/upload/initialize,
//     /2/media/upload/{id}/append (multipart, segment_index), /2/media/upload/{id}/finalize
//     (processing_info for video and GIF, polled with GET /2/media/upload?command=STATUS),
//     POST /2/media/metadata for alt text (at most 1000 characters); X's size limits
//     (images 5 MB, GIFs 15 MB, video 512 MB) and at most 4 images, or one GIF or video.
//   - Rate limits per endpoint and 15-minute window (the user limits of X's table: 100
//     tweets, 50 deletes, 900 timeline reads), with x-rate-limit-limit, -remaining and
//     -reset (epoch seconds) on every answer and 429 past the limit.
//
// What it does not: OAuth 1.0a, app-only bearer tokens, X's 24-hour and monthly caps,
// replies, quotes, polls and the other fields of a post, the simple (non-chunked) upload,
// the command=INIT form of the upload that older guides show, real media processing
// (every upload succeeds after ProcessingPolls polls), and the exact wording of refusals
// X does not document (too long, empty, bad media ids: 400 invalid-request). Deleting a
// post that does not exist answers 404 resource-not-found.
package xtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Tweet is a post the server holds.
type Tweet struct {
	ID        string
	Text      string // as sent
	Shown     string // as X shows it: links in t.co, &<> escaped, the media link appended
	MediaIDs  []string
	CreatedAt time.Time
	Deleted   bool
	ByHand    bool // posted with AddTweet, not through the API
}

// Fault is a canned answer for the next request that matches Method and Path (a path
// prefix, e.g. "/2/tweets").
type Fault struct {
	Method string
	Path   string
	Status int
	Header http.Header
	Body   string
}

// Server is the fake. Set its exported fields before the first request; use its methods
// at any time.
type Server struct {
	*httptest.Server

	ClientID     string
	ClientSecret string // "" makes the app a public client (client_id in the body)
	UserID       string
	Username     string
	Name         string
	// AccessTokenTTL is how long an access token lasts (X: two hours).
	AccessTokenTTL time.Duration
	// DuplicateWindow is how long X refuses the same text again (default 24 hours).
	DuplicateWindow time.Duration
	// Limits overrides the requests allowed per 15 minutes, by "METHOD /path" ("POST
	// /2/tweets", "GET /2/users/:id/tweets").
	Limits map[string]int
	// ProcessingPolls is how many status polls a video or GIF stays in_progress.
	ProcessingPolls int
	// AutoApprove makes the consent page redirect at once, as if the person approved.
	AutoApprove bool
	// Now is the server's clock.
	Now func() time.Time
	// HoldCreates makes every tweet creation store the tweet and then never answer, until
	// the client goes away.
	HoldCreates bool

	faults      faketest.Queue[Fault]
	dropCreates faketest.Countdown

	mu       sync.Mutex
	tweets   []*Tweet
	media    map[string]*upload
	uploads  [][]byte
	codes    map[string]*authCode
	access   map[string]*grant
	refresh  map[string]*grant
	windows  map[string]*window
	seq      int64
	requests []string
}

var (
	tweetPath    = regexp.MustCompile(`^/2/tweets/([0-9]+)$`)
	timelinePath = regexp.MustCompile(`^/2/users/([0-9]+)/tweets$`)
	appendPath   = regexp.MustCompile(`^/2/media/upload/([0-9]+)/append$`)
	finalizePath = regexp.MustCompile(`^/2/media/upload/([0-9]+)/finalize$`)
)

// New starts a fake with one account (@tactbrand) and a confidential app; close it with
// Close.
func New() *Server {
	s := &Server{
		ClientID:        "dGFjdC1jbGllbnQtaWQ6MTpjaQ",
		ClientSecret:    "tact-client-secret-0123456789",
		UserID:          "1455609735267856388",
		Username:        "tactbrand",
		Name:            "Tact Brand",
		AccessTokenTTL:  2 * time.Hour,
		DuplicateWindow: 24 * time.Hour,
		Now:             time.Now,
		media:           map[string]*upload{},
		codes:           map[string]*authCode{},
		access:          map[string]*grant{},
		refresh:         map[string]*grant{},
		windows:         map[string]*window{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AppSettings are the settings of an account using this fake's app, before it connects:
// the x plugin's client_id, client_secret, api_url and authorize_url.
func (s *Server) AppSettings() map[string]string {
	return map[string]string{
		"client_id": s.ClientID, "client_secret": s.ClientSecret,
		"api_url": s.URL, "authorize_url": s.URL + "/i/oauth2/authorize",
	}
}

// Fail queues f: the next matching request gets its answer instead of being served.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n tweet creations store the tweet and then close the
// connection without answering.
func (s *Server) DropAfterCreate(n int) { s.dropCreates.Set(n) }

// Tweets returns the tweets the server holds (not deleted), oldest first.
func (s *Server) Tweets() []Tweet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Tweet
	for _, t := range s.tweets {
		if !t.Deleted {
			out = append(out, *t)
		}
	}
	return out
}

// AddTweet stores a tweet as if the account had posted text in X's app.
func (s *Server) AddTweet(text string) Tweet {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &Tweet{ID: s.nextID(), Text: text, Shown: shown(text, 0), CreatedAt: s.Now().UTC(), ByHand: true}
	s.tweets = append(s.tweets, t)
	return *t
}

// Uploads are the bytes of every finalized media upload, in order.
func (s *Server) Uploads() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uploads)
}

// Requests returns "METHOD /path" for every request served so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests matched method and path prefix.
func (s *Server) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, method+" "+pathPrefix) {
			n++
		}
	}
	return n
}

// problem answers with X's error body (RFC 7807 problem details).
func problem(w http.ResponseWriter, status int, typ, title, detail string, extra map[string]any) {
	body := map[string]any{"title": title, "detail": detail, "type": typ, "status": status}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func invalidRequest(w http.ResponseWriter, message string) {
	problem(w, http.StatusBadRequest, "https://api.x.com/2/problems/invalid-request", "Invalid Request",
		"One or more parameters to your request was invalid.", map[string]any{"errors": []map[string]any{{"message": message, "parameters": map[string]any{}}}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if f, ok := s.faults.Take(func(f Fault) bool { return f.Method == r.Method && strings.HasPrefix(r.URL.Path, f.Path) }); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/i/oauth2/authorize":
		s.consent(w, r)
		return
	case r.Method == http.MethodPost && p == "/2/oauth2/token":
		s.token(w, r)
		return
	case r.Method == http.MethodPost && p == "/2/oauth2/revoke":
		s.revoke(w, r)
		return
	}

	route, scope := s.route(r)
	if route == "" {
		problem(w, http.StatusNotFound, "about:blank", "Not Found", "Sorry, that page does not exist", nil)
		return
	}
	g := s.bearer(r)
	if g == nil {
		problem(w, http.StatusUnauthorized, "about:blank", "Unauthorized", "Unauthorized", nil)
		return
	}
	if !slices.Contains(g.scopes, scope) {
		problem(w, http.StatusForbidden, "about:blank", "Forbidden", "You are not permitted to perform this action.", nil)
		return
	}
	if !s.allow(w, route) {
		problem(w, http.StatusTooManyRequests, "about:blank", "Too Many Requests", "Too Many Requests", nil)
		return
	}
	switch route {
	case "GET /2/users/me":
		faketest.WriteJSON(w, 200, map[string]any{"data": map[string]any{"id": s.UserID, "name": s.Name, "username": s.Username}})
	case "POST /2/tweets":
		s.createTweet(w, r)
	case "DELETE /2/tweets/:id":
		s.deleteTweet(w, tweetPath.FindStringSubmatch(p)[1])
	case "GET /2/users/:id/tweets":
		s.timeline(w, r, timelinePath.FindStringSubmatch(p)[1])
	case "POST /2/media/upload/initialize":
		s.initUpload(w, r)
	case "POST /2/media/upload/:id/append":
		s.appendUpload(w, r, appendPath.FindStringSubmatch(p)[1])
	case "POST /2/media/upload/:id/finalize":
		s.finalizeUpload(w, finalizePath.FindStringSubmatch(p)[1])
	case "GET /2/media/upload":
		s.uploadStatus(w, r)
	case "POST /2/media/metadata":
		s.metadata(w, r)
	}
}

// route names the endpoint of r as X's rate-limit table does, and the scope it needs.
func (s *Server) route(r *http.Request) (route, scope string) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/2/users/me":
		return "GET /2/users/me", "users.read"
	case r.Method == http.MethodPost && p == "/2/tweets":
		return "POST /2/tweets", "tweet.write"
	case r.Method == http.MethodDelete && tweetPath.MatchString(p):
		return "DELETE /2/tweets/:id", "tweet.write"
	case r.Method == http.MethodGet && timelinePath.MatchString(p):
		return "GET /2/users/:id/tweets", "tweet.read"
	case r.Method == http.MethodPost && p == "/2/media/upload/initialize":
		return "POST /2/media/upload/initialize", "media.write"
	case r.Method == http.MethodPost && appendPath.MatchString(p):
		return "POST /2/media/upload/:id/append", "media.write"
	case r.Method == http.MethodPost && finalizePath.MatchString(p):
		return "POST /2/media/upload/:id/finalize", "media.write"
	case r.Method == http.MethodGet && p == "/2/media/upload":
		return "GET /2/media/upload", "media.write"
	case r.Method == http.MethodPost && p == "/2/media/metadata":
		return "POST /2/media/metadata", "media.write"
	}
	return "", ""
}

// defaultLimits are X's per-user limits per 15 minutes (docs.x.com, "Rate limits").
var defaultLimits = map[string]int{
	"GET /2/users/me":         75,
	"POST /2/tweets":          100,
	"DELETE /2/tweets/:id":    50,
	"GET /2/users/:id/tweets": 900,
}

type window struct {
	reset time.Time
	used  int
}

// allow counts a request against its endpoint's window and writes the rate-limit
// headers X sends on every answer.
func (s *Server) allow(w http.ResponseWriter, route string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit, ok := s.Limits[route]
	if !ok {
		limit, ok = defaultLimits[route]
	}
	if !ok {
		limit = 500
	}
	now := s.Now()
	win := s.windows[route]
	if win == nil || !now.Before(win.reset) {
		win = &window{reset: now.Add(15 * time.Minute).Truncate(time.Second)}
		s.windows[route] = win
	}
	allowed := win.used < limit
	if allowed {
		win.used++
	}
	h := w.Header()
	h.Set("x-rate-limit-limit", strconv.Itoa(limit))
	h.Set("x-rate-limit-remaining", strconv.Itoa(limit-win.used))
	h.Set("x-rate-limit-reset", strconv.FormatInt(win.reset.Unix(), 10))
	return allowed
}

// twitterEpoch is when X's snowflake ids start counting milliseconds.
const twitterEpoch = 1288834974657

// nextID returns a snowflake id for now; callers hold s.mu.
func (s *Server) nextID() string {
	s.seq++
	ms := s.Now().UnixMilli() - twitterEpoch
	return strconv.FormatInt(ms<<22|(s.seq&0xFFF), 10)
}

func (s *Server) createTweet(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text  *string `json:"text"`
		Media *struct {
			MediaIDs []string `json:"media_ids"`
		} `json:"media"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		invalidRequest(w, "Content-Type must be application/json")
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		invalidRequest(w, "Invalid JSON: "+err.Error())
		return
	}
	text := ""
	if in.Text != nil {
		text = *in.Text
	}
	var ids []string
	if in.Media != nil {
		ids = in.Media.MediaIDs
		if len(ids) == 0 || len(ids) > 4 {
			invalidRequest(w, "$.media.media_ids: size must be between 1 and 4")
			return
		}
	}
	switch n := sdk.Count(sdk.CountX, text); {
	case strings.TrimSpace(text) == "" && len(ids) == 0:
		invalidRequest(w, "Requested tweet was empty: text or media is required")
		return
	case n > 280:
		invalidRequest(w, "Your Tweet text is too long. For more information on how X determines text length see https://github.com/twitter/twitter-text.")
		return
	}

	s.mu.Lock()
	now := s.Now().UTC()
	kinds := map[string]int{}
	for _, id := range ids {
		m := s.media[id]
		if m == nil || !m.finalized || m.pollsLeft > 0 || now.After(m.expires) {
			s.mu.Unlock()
			invalidRequest(w, "Your media IDs are invalid.")
			return
		}
		kinds[m.category]++
	}
	if len(ids) > 1 && kinds["tweet_image"] != len(ids) {
		s.mu.Unlock()
		invalidRequest(w, "A post may have up to 4 images, or one GIF, or one video.")
		return
	}
	for _, t := range s.tweets {
		if !t.Deleted && t.Text == text && text != "" && now.Sub(t.CreatedAt) < s.DuplicateWindow {
			s.mu.Unlock()
			problem(w, http.StatusForbidden, "about:blank", "Forbidden", "You are not allowed to create a Tweet with duplicate content.", nil)
			return
		}
	}
	t := &Tweet{ID: s.nextID(), Text: text, Shown: shown(text, len(ids)), MediaIDs: ids, CreatedAt: now}
	s.tweets = append(s.tweets, t)
	hold := s.HoldCreates
	s.mu.Unlock()
	if hold {
		<-r.Context().Done()
		return
	}
	if s.dropCreates.Take() {
		faketest.HangUp(w)
		return
	}
	faketest.WriteJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": t.ID, "text": t.Shown, "edit_history_tweet_ids": []string{t.ID}}})
}

var (
	linkRe     = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)'"]`)
	bareLinkRe = regexp.MustCompile(`(^|[\s(])((?:[A-Za-z0-9-]+\.)+(?:com|org|net|io|co)(?:/[^\s<>"]*[^\s<>".,;:!?)'"])?)`)
)

// shown is the text as X shows it: links wrapped in t.co, &, < and > escaped, and a t.co
// link to the media, if any, at the end.
func shown(text string, media int) string {
	n := 0
	tco := func() string {
		n++
		return fmt.Sprintf("https://t.co/Fake%04dLk", n)
	}
	out := linkRe.ReplaceAllStringFunc(text, func(string) string { return tco() })
	out = bareLinkRe.ReplaceAllStringFunc(out, func(m string) string {
		sub := bareLinkRe.FindStringSubmatch(m)
		if strings.HasPrefix(sub[2], "t.co/") {
			return m
		}
		return sub[1] + tco()
	})
	out = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(out)
	if media > 0 {
		if out != "" {
			out += " "
		}
		out += tco()
	}
	return strings.TrimSpace(out)
}

func (s *Server) deleteTweet(w http.ResponseWriter, id string) {
	s.mu.Lock()
	var found *Tweet
	for _, t := range s.tweets {
		if t.ID == id && !t.Deleted {
			found = t
		}
	}
	if found != nil {
		found.Deleted = true
	}
	s.mu.Unlock()
	if found == nil {
		problem(w, http.StatusNotFound, "https://api.x.com/2/problems/resource-not-found", "Not Found Error",
			"Could not find tweet with id: ["+id+"].", map[string]any{"resource_type": "tweet", "resource_id": id, "parameter": "id", "value": id})
		return
	}
	faketest.WriteJSON(w, 200, map[string]any{"data": map[string]any{"deleted": true}})
}

// pageTokenPrefix starts the fake's pagination tokens, opaque to clients as X's are.
const pageTokenPrefix = "7140dibdnow9c7btw4"

func (s *Server) timeline(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	if user != s.UserID {
		problem(w, http.StatusNotFound, "https://api.x.com/2/problems/resource-not-found", "Not Found Error",
			"Could not find user with id: ["+user+"].", map[string]any{"resource_type": "user", "resource_id": user, "parameter": "id", "value": user})
		return
	}
	max := 10
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			invalidRequest(w, "The `max_results` query parameter value ["+v+"] is not between 5 and 100")
			return
		}
		max = n
	}
	var since time.Time
	if v := q.Get("start_time"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			invalidRequest(w, "Invalid 'start_time':'"+v+"'. 'start_time' must be a valid RFC 3339 date-time (YYYY-MM-DDTHH:mm:ssZ).")
			return
		}
		since = t
	}
	offset := 0
	if v := q.Get("pagination_token"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, pageTokenPrefix))
		if err != nil || !strings.HasPrefix(v, pageTokenPrefix) {
			invalidRequest(w, "The `pagination_token` query parameter value ["+v+"] is not valid")
			return
		}
		offset = n
	}
	s.mu.Lock()
	var all []*Tweet
	for i := len(s.tweets) - 1; i >= 0; i-- {
		t := s.tweets[i]
		if t.Deleted || (!since.IsZero() && t.CreatedAt.Before(since)) {
			continue
		}
		all = append(all, t)
	}
	s.mu.Unlock()
	page := all[min(offset, len(all)):min(offset+max, len(all))]
	meta := map[string]any{"result_count": len(page)}
	body := map[string]any{"meta": meta}
	if len(page) > 0 {
		data := make([]map[string]any, len(page))
		for i, t := range page {
			data[i] = map[string]any{"id": t.ID, "text": t.Shown, "edit_history_tweet_ids": []string{t.ID}}
			if strings.Contains(q.Get("tweet.fields"), "created_at") {
				data[i]["created_at"] = t.CreatedAt.Format("2006-01-02T15:04:05.000Z")
			}
		}
		body["data"] = data
		meta["newest_id"], meta["oldest_id"] = page[0].ID, page[len(page)-1].ID
		if offset+max < len(all) {
			meta["next_token"] = pageTokenPrefix + strconv.Itoa(offset+max)
		}
	}
	faketest.WriteJSON(w, 200, body)
}
