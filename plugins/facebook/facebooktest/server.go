// Package facebooktest runs a fake Facebook for tests: the Graph API calls the facebook
// plugin makes for a Page and Facebook Login's OAuth endpoints, on one loopback httptest
// server. It follows Meta's public documentation for Graph API v26.0: the Page Feed, Page
// Photos, Page Post and Page published_posts references, the Pages API "Posts" guide,
// "Handling Errors", "Rate Limits", the access token guide (long-lived user tokens, Page
// tokens), "Manually Build a Login Flow" and "OIDC Code Flow with PKCE".
//
// What it reproduces, as documented:
//   - versioned paths (/v26.0/…); the version each post was made with is kept. A version
//     older than OldestVersion is served anyway, as Facebook upgrades calls to a retired
//     version to the oldest one it still serves;
//   - access tokens in an Authorization: Bearer (or OAuth) header or an access_token
//     parameter; appsecret_proof (HMAC-SHA256 of the token keyed by the app secret)
//     required when RequireAppSecretProof is set, as the app setting "Require App Secret";
//   - Graph error bodies {"error":{"message","type","code","error_subcode","is_transient",
//     "error_user_title","error_user_msg","fbtrace_id"}} with Facebook's HTTP statuses:
//     190 OAuthException for a token that is unknown, expired (subcode 463), revoked by the
//     person (458) or invalidated by a password change (460), with a WWW-Authenticate
//     header; 2500 without a token; 200 for a missing permission or a user token posting to
//     a Page ("requires both pages_read_engagement and pages_manage_posts"); 100 subcode 33
//     for an object that does not exist (a deleted post, a wrong Page id); 506 for a post
//     identical to the Page's last one; 324 for a file that is not an image Facebook takes;
//   - rate limits (RateLimit): codes 4, 17, 32, 613 and the Pages BUC code 80001, with the
//     X-Business-Use-Case-Usage header (Page tokens; estimated_time_to_regain_access in
//     minutes, counting down on the fake clock), X-Page-Usage (code 32) and X-App-Usage
//     (user tokens); every answer carries its usage header, as Facebook's do;
//   - POST /{page-id}/feed (message, link, attached_media[i]={"media_fbid":…}, form,
//     multipart or JSON bodies): {"id":"{page-id}_{post-id}"}; a message over 63,206
//     characters is refused;
//   - POST /{page-id}/photos (multipart source; caption, or the deprecated message;
//     alt_text_custom; published): {"id","post_id"} when published, {"id"} when not; JPEG,
//     BMP, PNG, GIF and TIFF of up to 10 MB; unpublished photos are kept about 24 hours;
//   - GET /{page-id}/published_posts and /feed (fields, since, until, limit up to 100,
//     after cursors; newest first), GET and DELETE /{post-id} ({"success":true});
//   - GET /me (the Page itself with a Page token), /me/accounts (each Page's token: one
//     that never expires from a long-lived user token, one that ends with the user token
//     from a short-lived one), /me/permissions;
//   - Facebook Login (oauth.go): the dialog (a real HTML form a browser can submit, or
//     Approve/Deny), its redirects back (with Facebook's "#_=_" fragment), codes valid 10
//     minutes and once, PKCE (S256 or plain) checked when a challenge was sent, the code
//     exchange, and fb_exchange_token for a 60-day user token.
//
// What it does not: videos, reels, stories, scheduled and unpublished feed posts, link
// previews (Facebook reads the linked page; the fake never fetches anything, and refuses a
// photo given by url), targeting, mentions, comments, edits, the real quotas behind the
// rate limits (RateLimit throttles on demand), data access expiry, Facebook Login for
// Business configurations beyond passing config_id through, and the id_token of the OIDC
// flow. Error subcodes 36007-36009 of the code exchange and the wording of several
// refusals (an over-long message, a bad link, a code verifier that does not match) are
// the fake's own where Meta documents none.
package facebooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/internal/faketest"
)

// MaxMessage is the longest message Facebook takes in a post, in characters.
const MaxMessage = 63206

// MaxPhotoBytes is the largest photo Facebook takes ("Files can not exceed 10MB").
const MaxPhotoBytes = 10 << 20

// User is a Facebook account that manages Pages.
type User struct {
	ID, Name string
}

// Page is a Facebook Page the user can act on.
type Page struct {
	ID, Name, Category string
	// Tasks are the user's tasks on the Page (CREATE_CONTENT lets them post).
	Tasks []string
}

// Post is a Page post the fake holds.
type Post struct {
	ID        string // {page-id}_{post-id}
	PageID    string
	Message   string
	Link      string
	Kind      string   // "status", "link", "photo" or "photos"
	Photos    []string // photo ids, for photo posts
	Version   string   // the Graph API version it was created with
	CreatedAt time.Time
	Deleted   bool
}

// Photo is an uploaded photo.
type Photo struct {
	ID, PageID, ContentType, Caption, AltText string
	Data                                      []byte
	Published                                 bool
	PostID                                    string // the post it belongs to, once published or attached
	UploadedAt                                time.Time
}

// Fault is a canned answer for the next request that matches Method and Path, a prefix of
// the path after the version ("/104857600123456/feed").
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

	// AppID and AppSecret are the app's (the App Dashboard's Settings > Basic).
	AppID, AppSecret string
	// RedirectURIs are the app's Valid OAuth Redirect URIs; empty accepts any (tests whose
	// daemon listens on a port of the moment).
	RedirectURIs []string
	// User approves dialogs; Pages are the Pages they manage, first the default one.
	User  User
	Pages []Page
	// DeclinedScopes are the permissions the person unticks on the dialog.
	DeclinedScopes []string
	// UserToken is a long-lived user token and PageToken a Page token of Pages[0] derived
	// from it, issued at start with DefaultScopes.
	UserToken, PageToken string
	// ShortTTL and LongTTL are the lifetimes of short- and long-lived user tokens
	// (Facebook: about an hour or two, and 60 days).
	ShortTTL, LongTTL time.Duration
	// RequireAppSecretProof makes every Graph call with a token need appsecret_proof.
	RequireAppSecretProof bool
	// OldestVersion is the oldest version Facebook serves ("" any): older ones are served
	// as it.
	OldestVersion string
	// HoldCreates makes every post creation store the post and then never answer, until
	// the client goes away: the plugin process dies while waiting.
	HoldCreates bool
	// Now is the server's clock; Advance moves it on.
	Now func() time.Time

	faults      faketest.Queue[Fault]
	dropCreates faketest.Countdown

	mu        sync.Mutex
	offset    time.Duration
	posts     []*Post
	photos    map[string]*Photo
	tokens    map[string]*grant
	codes     map[string]*authCode
	dialogs   []Dialog
	requests  []string
	throttle  *throttle
	next      int64
	traceSeed int
}

// DefaultScopes are the permissions of the tokens issued at start: what posting to a Page
// and reading its posts back take.
var DefaultScopes = []string{"pages_show_list", "pages_manage_posts", "pages_read_engagement"}

// New starts a fake Facebook; close it with Close.
func New() *Server {
	s := &Server{
		AppID:     "1234567890123456",
		AppSecret: "0123456789abcdef0123456789abcdef",
		User:      User{ID: "10160000000000001", Name: "Ana Pereira"},
		Pages: []Page{
			{ID: "104857600123456", Name: "Tram Tours Lisbon", Category: "Travel Company", Tasks: []string{"ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"}},
			{ID: "104857600654321", Name: "Tram Tours Porto", Category: "Travel Company", Tasks: []string{"ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"}},
		},
		ShortTTL: 2 * time.Hour,
		LongTTL:  60 * 24 * time.Hour,
		Now:      time.Now,
		photos:   map[string]*Photo{},
		tokens:   map[string]*grant{},
		codes:    map[string]*authCode{},
		next:     1_116_689_038_356_556,
	}
	s.mu.Lock()
	s.UserToken = s.issueUserLocked(DefaultScopes, true)
	s.PageToken = s.issuePageLocked(s.tokens[s.UserToken], s.Pages[0].ID)
	s.mu.Unlock()
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail queues f: the next matching request gets its answer instead of being served.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n post creations (a feed post or a published photo)
// store the post and then close the connection without answering.
func (s *Server) DropAfterCreate(n int) { s.dropCreates.Set(n) }

// Advance moves the server's clock on by d (tokens, codes and rate limits end by it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Time is the server's clock now: give it to the plugin (facebook.WithClock) in tests
// that advance it.
func (s *Server) Time() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return s.Now().Add(s.offset) }

// Posts returns the posts the server holds (not deleted), oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, p := range s.posts {
		if !p.Deleted {
			q := *p
			q.Photos = slices.Clone(p.Photos)
			out = append(out, q)
		}
	}
	return out
}

// AddPost puts a post on a Page as a person would by hand, created now.
func (s *Server) AddPost(pageID, message string) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &Post{ID: s.postID(pageID), PageID: pageID, Message: message, Kind: "status", CreatedAt: s.now()}
	s.posts = append(s.posts, p)
	return *p
}

// Photo returns the photo id, if uploaded.
func (s *Server) Photo(id string) (Photo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.photos[id]
	if !ok {
		return Photo{}, false
	}
	return *p, true
}

// Requests returns "METHOD /path" for every request served so far, the version included.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests had method and a path (after the version) starting
// with pathPrefix.
func (s *Server) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		m, p, _ := strings.Cut(r, " ")
		if _, rest := splitVersion(p); m == method && strings.HasPrefix(rest, pathPrefix) {
			n++
		}
	}
	return n
}

// ErrorBody is a Graph API error body as Facebook writes it, for canned faults.
func ErrorBody(code, subcode int, message string, transient bool) string {
	e := map[string]any{"message": message, "type": errorType(code), "code": code, "fbtrace_id": "AbCdEfGhIjK"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if transient {
		e["is_transient"] = true
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

func errorType(code int) string {
	switch code {
	case 100, 33:
		return "GraphMethodException"
	case 1, 2:
		return "FacebookApiException"
	}
	return "OAuthException"
}

// graphError answers a Graph API error. user, if set, is error_user_title and
// error_user_msg.
func (s *Server) graphError(w http.ResponseWriter, status, code, subcode int, message string, user ...string) {
	s.writeError(w, status, errorType(code), code, subcode, code == 1 || code == 2, message, user...)
}

// oauthError answers an error of the token endpoint: an OAuthException, never transient.
func (s *Server) oauthError(w http.ResponseWriter, code, subcode int, message string) {
	s.writeError(w, http.StatusBadRequest, "OAuthException", code, subcode, false, message)
}

func (s *Server) writeError(w http.ResponseWriter, status int, typ string, code, subcode int, transient bool, message string, user ...string) {
	e := map[string]any{"message": message, "type": typ, "code": code, "is_transient": transient, "fbtrace_id": s.trace()}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if len(user) == 2 {
		e["error_user_title"], e["error_user_msg"] = user[0], user[1]
	}
	if code == 190 || code == 102 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+strings.ReplaceAll(message, `"`, `'`)+`"`)
	}
	faketest.WriteJSON(w, status, map[string]any{"error": e})
}

func (s *Server) trace() string {
	s.mu.Lock()
	s.traceSeed++
	n := s.traceSeed
	s.mu.Unlock()
	return "A" + strconv.FormatInt(int64(n)*7919+1000003, 36) + "xYz"
}

var versionRE = regexp.MustCompile(`^/(v[0-9]+\.[0-9]+)(/.*)?$`)

// splitVersion splits "/v26.0/me" into "v26.0" and "/me"; an unversioned path has "".
func splitVersion(p string) (string, string) {
	m := versionRE.FindStringSubmatch(p)
	if m == nil {
		return "", p
	}
	if m[2] == "" {
		return m[1], "/"
	}
	return m[1], m[2]
}

var (
	nodeRE   = regexp.MustCompile(`^/([0-9]+(?:_[0-9]+)?)$`)
	edgeRE   = regexp.MustCompile(`^/([0-9]+|me)/([a-z_]+)$`)
	postIDRE = regexp.MustCompile(`^[0-9]+_[0-9]+$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	version, p := splitVersion(r.URL.Path)
	if f, ok := s.faults.Take(func(f Fault) bool { return f.Method == r.Method && strings.HasPrefix(p, f.Path) }); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}
	if s.OldestVersion != "" && version != "" && olderVersion(version, s.OldestVersion) {
		version = s.OldestVersion
	}
	switch {
	case p == "/dialog/oauth":
		s.dialog(w, r)
		return
	case p == "/oauth/access_token" && r.Method == http.MethodGet:
		s.accessToken(w, r)
		return
	}
	if err := parseBody(r); err != nil {
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) The request body could not be read: "+err.Error())
		return
	}
	g := s.authenticate(w, r)
	if g == nil {
		return
	}
	if s.throttled(w, g) {
		return
	}
	s.usageHeaders(w, g)
	switch {
	case p == "/me" && r.Method == http.MethodGet:
		s.me(w, g)
	case p == "/me/accounts" && r.Method == http.MethodGet:
		s.accounts(w, r, g)
	case p == "/me/permissions" && r.Method == http.MethodGet:
		s.permissions(w, g)
	case edgeRE.MatchString(p):
		m := edgeRE.FindStringSubmatch(p)
		id, edge := m[1], m[2]
		if id == "me" {
			id = g.pageID
		}
		switch {
		case edge == "feed" && r.Method == http.MethodPost:
			s.createFeedPost(w, r, g, id, version)
		case edge == "photos" && r.Method == http.MethodPost:
			s.createPhoto(w, r, g, id, version)
		case (edge == "published_posts" || edge == "feed") && r.Method == http.MethodGet:
			s.listPosts(w, r, g, id)
		default:
			s.unsupported(w, r.Method, id)
		}
	case nodeRE.MatchString(p):
		id := nodeRE.FindStringSubmatch(p)[1]
		switch r.Method {
		case http.MethodGet:
			s.getNode(w, r, g, id)
		case http.MethodDelete:
			s.deletePost(w, g, id)
		default:
			s.unsupported(w, r.Method, id)
		}
	default:
		s.graphError(w, http.StatusBadRequest, 2500, 0, "Unknown path components: "+p)
	}
}

func olderVersion(v, than string) bool {
	num := func(v string) float64 {
		f, _ := strconv.ParseFloat(strings.TrimPrefix(v, "v"), 64)
		return f
	}
	return num(v) < num(than)
}

// parseBody reads a form, multipart or JSON body into r.Form (JSON values as strings, as
// Facebook reads them).
func parseBody(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		return r.ParseMultipartForm(MaxPhotoBytes + 1<<20)
	case "application/json":
		if err := r.ParseForm(); err != nil {
			return err
		}
		var body map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			return err
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				r.Form.Set(k, v)
			default:
				b, _ := json.Marshal(v)
				r.Form.Set(k, string(b))
			}
		}
		return nil
	}
	return r.ParseForm()
}

// authenticate is the grant of the request's token, or nil after answering as Facebook
// does.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *grant {
	tok := r.Form.Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			tok = t
		} else if t, ok := strings.CutPrefix(h, "OAuth "); ok {
			tok = t
		}
	}
	if tok == "" {
		s.graphError(w, http.StatusBadRequest, 2500, 0, "An active access token must be used to query information about the current user.")
		return nil
	}
	s.mu.Lock()
	g := s.tokens[tok]
	now := s.now()
	s.mu.Unlock()
	switch {
	case g == nil:
		s.graphError(w, http.StatusBadRequest, 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return nil
	case g.invalidated != 0:
		msg := map[int]string{
			458: fmt.Sprintf("Error validating access token: The user has not authorized application %s.", s.AppID),
			460: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
			467: "Error validating access token: The session is invalid because the user logged out.",
		}[g.invalidated]
		s.graphError(w, http.StatusBadRequest, 190, g.invalidated, msg)
		return nil
	case !g.expires.IsZero() && !now.Before(g.expires):
		s.graphError(w, http.StatusBadRequest, 190, 463, fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.",
			g.expires.UTC().Format("Monday, 02-Jan-06 15:04:05 MST"), now.UTC().Format("Monday, 02-Jan-06 15:04:05 MST")))
		return nil
	}
	if s.RequireAppSecretProof {
		proof := r.Form.Get("appsecret_proof")
		mac := hmac.New(sha256.New, []byte(s.AppSecret))
		mac.Write([]byte(tok))
		switch want := hex.EncodeToString(mac.Sum(nil)); {
		case proof == "":
			s.graphError(w, http.StatusBadRequest, 100, 0, "API calls from the server require an appsecret_proof argument")
			return nil
		case !hmac.Equal([]byte(proof), []byte(want)):
			s.graphError(w, http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument")
			return nil
		}
	}
	return g
}

func (s *Server) unsupported(w http.ResponseWriter, method, id string) {
	verb := map[string]string{http.MethodGet: "get", http.MethodPost: "post", http.MethodDelete: "delete"}[method]
	s.graphError(w, http.StatusBadRequest, 100, 33, fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", verb, id))
}

func (s *Server) page(id string) *Page {
	for i := range s.Pages {
		if s.Pages[i].ID == id {
			return &s.Pages[i]
		}
	}
	return nil
}

// mayPost reports whether g may post as page id; otherwise it answers.
func (s *Server) mayPost(w http.ResponseWriter, g *grant, id string) bool {
	switch pg := s.page(id); {
	case pg == nil:
		s.unsupported(w, http.MethodPost, id)
	case g.pageID != id:
		// A user token, or another Page's: since 2018 only the Page's token posts as it.
		s.graphError(w, http.StatusForbidden, 200, 0, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission")
	case !g.has("pages_manage_posts") || !g.has("pages_read_engagement"):
		s.graphError(w, http.StatusForbidden, 200, 0, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission")
	case !slices.Contains(pg.Tasks, "CREATE_CONTENT"):
		s.graphError(w, http.StatusForbidden, 200, 0, "(#200) The user does not have the CREATE_CONTENT task on this Page")
	default:
		return true
	}
	return false
}

func (s *Server) postID(pageID string) string {
	s.next++
	return pageID + "_" + strconv.FormatInt(s.next, 10)
}

func (s *Server) photoID() string {
	s.next++
	return strconv.FormatInt(s.next, 10)
}

type mediaRef struct {
	MediaFBID string `json:"media_fbid"`
}

func (s *Server) createFeedPost(w http.ResponseWriter, r *http.Request, g *grant, pageID, version string) {
	if !s.mayPost(w, g, pageID) {
		return
	}
	f := r.Form
	message, link := f.Get("message"), f.Get("link")
	var attached []string
	for i := 0; ; i++ {
		v := f.Get(fmt.Sprintf("attached_media[%d]", i))
		if v == "" {
			break
		}
		var m mediaRef
		if err := json.Unmarshal([]byte(v), &m); err != nil || m.MediaFBID == "" {
			s.graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf(`(#100) param attached_media[%d] must be an object like {"media_fbid":"…"}`, i))
			return
		}
		attached = append(attached, m.MediaFBID)
	}
	if v := f.Get("attached_media"); v != "" && len(attached) == 0 {
		var list []mediaRef
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) param attached_media must be an array of objects")
			return
		}
		for _, m := range list {
			attached = append(attached, m.MediaFBID)
		}
	}
	switch {
	case message == "" && link == "" && len(attached) == 0:
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) Either link or message must be supplied")
		return
	case utf8.RuneCountInString(message) > MaxMessage:
		s.graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) Param message must be at most %d characters long", MaxMessage))
		return
	case link != "" && !webLink(link):
		s.graphError(w, http.StatusBadRequest, 1609005, 0, "(#1609005) Error Posting Link: the link could not be posted", "Error Posting Link", "The link you're trying to share can't be posted.")
		return
	case link != "" && len(attached) > 0:
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) attached_media cannot be used with link")
		return
	case f.Get("published") == "false" || f.Get("published") == "0":
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) The fake serves published posts only")
		return
	}

	s.mu.Lock()
	now := s.now()
	for i, id := range attached {
		ph := s.photos[id]
		switch {
		case ph == nil || ph.PageID != pageID || now.Sub(ph.UploadedAt) > 24*time.Hour:
			s.mu.Unlock()
			s.graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) attached_media[%d]: photo %s does not exist or belongs to another Page", i, id))
			return
		case ph.Published || ph.PostID != "":
			s.mu.Unlock()
			s.graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) attached_media[%d]: photo %s is already published", i, id))
			return
		}
	}
	kind := "status"
	switch {
	case link != "":
		kind = "link"
	case len(attached) > 0:
		kind = "photos"
	}
	if last := s.lastPostLocked(pageID); kind != "photos" && last != nil && last.Message != "" && last.Message == message && last.Link == link {
		s.mu.Unlock()
		s.graphError(w, http.StatusBadRequest, 506, 1455006, "(#506) Duplicate status message", "Duplicate post",
			"This status update is identical to the last one you posted. Try posting something different, or delete your previous update.")
		return
	}
	post := &Post{ID: s.postID(pageID), PageID: pageID, Message: message, Link: link, Kind: kind, Photos: attached, Version: version, CreatedAt: now}
	for _, id := range attached {
		s.photos[id].PostID = post.ID
	}
	s.posts = append(s.posts, post)
	hold := s.HoldCreates
	s.mu.Unlock()
	s.answerCreate(w, r, hold, map[string]any{"id": post.ID})
}

// answerCreate answers a creation, unless it is held or dropped.
func (s *Server) answerCreate(w http.ResponseWriter, r *http.Request, hold bool, body any) {
	if hold {
		<-r.Context().Done()
		return
	}
	if s.dropCreates.Take() {
		faketest.HangUp(w)
		return
	}
	faketest.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) lastPostLocked(pageID string) *Post {
	for i := len(s.posts) - 1; i >= 0; i-- {
		if p := s.posts[i]; p.PageID == pageID && !p.Deleted {
			return p
		}
	}
	return nil
}

func webLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var photoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}

func (s *Server) createPhoto(w http.ResponseWriter, r *http.Request, g *grant, pageID, version string) {
	if !s.mayPost(w, g, pageID) {
		return
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File) == 0 {
		if r.Form.Get("url") != "" {
			s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Missing or invalid image file (the fake fetches no url: attach the file)")
		} else {
			s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Requires upload file")
		}
		return
	}
	var data []byte
	for _, files := range r.MultipartForm.File {
		f, err := files[0].Open()
		if err != nil {
			s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Missing or invalid image file")
			return
		}
		data, err = io.ReadAll(io.LimitReader(f, MaxPhotoBytes+1))
		f.Close()
		if err != nil {
			s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Missing or invalid image file")
			return
		}
		break
	}
	ct := sniff(data)
	switch {
	case len(data) > MaxPhotoBytes:
		s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Missing or invalid image file: files can not exceed 10MB")
		return
	case !slices.Contains(photoTypes, ct):
		s.graphError(w, http.StatusBadRequest, 324, 0, "(#324) Missing or invalid image file")
		return
	}
	f := r.Form
	caption := f.Get("caption")
	if caption == "" {
		caption = f.Get("message") // deprecated, still read
	}
	if utf8.RuneCountInString(caption) > MaxMessage {
		s.graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) Param caption must be at most %d characters long", MaxMessage))
		return
	}
	published := f.Get("published") != "false" && f.Get("published") != "0"
	s.mu.Lock()
	now := s.now()
	ph := &Photo{ID: s.photoID(), PageID: pageID, ContentType: ct, Caption: caption, AltText: f.Get("alt_text_custom"), Data: data, Published: published, UploadedAt: now}
	s.photos[ph.ID] = ph
	if !published {
		s.mu.Unlock()
		faketest.WriteJSON(w, http.StatusOK, map[string]any{"id": ph.ID})
		return
	}
	post := &Post{ID: s.postID(pageID), PageID: pageID, Message: caption, Kind: "photo", Photos: []string{ph.ID}, Version: version, CreatedAt: now}
	ph.PostID = post.ID
	s.posts = append(s.posts, post)
	hold := s.HoldCreates
	s.mu.Unlock()
	s.answerCreate(w, r, hold, map[string]any{"id": ph.ID, "post_id": post.ID})
}

// sniff is the image type of data, as Facebook's upload reads it.
func sniff(data []byte) string {
	switch {
	case len(data) >= 4 && (string(data[:4]) == "II*\x00" || string(data[:4]) == "MM\x00*"):
		return "image/tiff"
	}
	return http.DetectContentType(data)
}

// postJSON is a post as the Graph API returns it, with the fields asked for.
func (s *Server) postJSON(p *Post, fields []string) map[string]any {
	out := map[string]any{"id": p.ID}
	if len(fields) == 0 {
		fields = []string{"created_time", "message", "id"}
	}
	for _, f := range fields {
		switch f {
		case "message":
			if p.Message != "" {
				out["message"] = p.Message
			}
		case "created_time":
			out["created_time"] = p.CreatedAt.UTC().Format("2006-01-02T15:04:05-0700")
		case "permalink_url":
			out["permalink_url"] = "https://www.facebook.com/" + p.ID
		case "is_published":
			out["is_published"] = true
		case "status_type":
			out["status_type"] = map[string]string{"status": "mobile_status_update", "link": "shared_story", "photo": "added_photos", "photos": "added_photos"}[p.Kind]
		}
	}
	return out
}

func fieldList(r *http.Request) []string {
	var out []string
	for _, f := range strings.Split(r.Form.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readTime reads since and until as Facebook does: a Unix timestamp or a date.
func readTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) listPosts(w http.ResponseWriter, r *http.Request, g *grant, pageID string) {
	switch {
	case s.page(pageID) == nil:
		s.unsupported(w, http.MethodGet, pageID)
		return
	case g.pageID != pageID || !g.has("pages_read_engagement"):
		s.graphError(w, http.StatusForbidden, 10, 0, "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature.")
		return
	}
	q := r.Form
	limit := 25
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param limit must be a non-negative integer")
			return
		case n > 100:
			s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) The limit parameter should not exceed 100")
			return
		case n > 0:
			limit = n
		}
	}
	since, hasSince := readTime(q.Get("since"))
	until, hasUntil := readTime(q.Get("until"))
	if (q.Get("since") != "" && !hasSince) || (q.Get("until") != "" && !hasUntil) {
		s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) since and until must be a Unix timestamp or a date")
		return
	}
	start := 0
	if a := q.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil {
			s.graphError(w, http.StatusBadRequest, 100, 0, "(#100) Invalid cursor")
			return
		}
		start = n
	}
	fields := fieldList(r)
	s.mu.Lock()
	var mine []*Post
	for i := len(s.posts) - 1; i >= 0; i-- {
		p := s.posts[i]
		if p.PageID != pageID || p.Deleted || (hasSince && p.CreatedAt.Before(since)) || (hasUntil && p.CreatedAt.After(until)) {
			continue
		}
		mine = append(mine, p)
	}
	data := []map[string]any{}
	for i := start; i < len(mine) && len(data) < limit; i++ {
		data = append(data, s.postJSON(mine[i], fields))
	}
	s.mu.Unlock()
	out := map[string]any{"data": data}
	if len(data) > 0 {
		cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
		paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(start + len(data))}}
		if start+len(data) < len(mine) {
			next := *r.URL
			nq := next.Query()
			nq.Del("access_token")
			nq.Set("after", cursor(start+len(data)))
			nq.Set("limit", strconv.Itoa(limit))
			next.RawQuery = nq.Encode()
			paging["next"] = s.URL + next.RequestURI()
		}
		out["paging"] = paging
	}
	faketest.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) findPost(id string) *Post {
	for _, p := range s.posts {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request, g *grant, id string) {
	s.mu.Lock()
	var out map[string]any
	if pg := s.page(id); pg != nil {
		out = map[string]any{"id": pg.ID, "name": pg.Name}
	} else if p := s.findPost(id); p != nil && !p.Deleted && g.pageID == p.PageID {
		out = s.postJSON(p, fieldList(r))
	}
	s.mu.Unlock()
	if out == nil {
		s.unsupported(w, http.MethodGet, id)
		return
	}
	faketest.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) deletePost(w http.ResponseWriter, g *grant, id string) {
	s.mu.Lock()
	p := s.findPost(id)
	s.mu.Unlock()
	if p == nil || p.Deleted || !postIDRE.MatchString(id) {
		s.unsupported(w, http.MethodDelete, id)
		return
	}
	if g.pageID != p.PageID || !g.has("pages_manage_posts") {
		s.graphError(w, http.StatusForbidden, 200, 0, "(#200) Permissions error")
		return
	}
	s.mu.Lock()
	p.Deleted = true
	s.mu.Unlock()
	faketest.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
}
