// Package mastodontest runs a fake Mastodon-compatible server for tests: it speaks the
// client REST API as Mastodon documents it (bearer tokens, JSON entities, {"error": "..."}
// bodies, 422 refusals, 429 with X-RateLimit-* headers, 202 for media still processing)
// and keeps the statuses it holds, so tests can check what really got posted. Knobs make
// it behave like other servers (GoToSocial ignores Idempotency-Key and refuses with 400)
// or fail the way real servers do. It also registers apps and runs the OAuth 2.0 code
// flow with PKCE (oauth.go), so that accounts can be connected against it.
package mastodontest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/mastodon"
)

// Status is a status the server holds.
type Status struct {
	ID          string
	Text        string
	MediaIDs    []string
	Visibility  string
	Language    string
	CreatedAt   time.Time
	IdemKey     string // the Idempotency-Key header it was created with
	ContentType string // content_type (GoToSocial, Pleroma, Akkoma; Mastodon ignores it)
	Deleted     bool
	MediaAlts   []string
	MediaTypes  []string
	Account     string
	contentHTML string
}

// Fault is a canned answer for the next request that matches Method and Path (a path
// prefix, e.g. "/api/v1/statuses").
type Fault struct {
	Method string
	Path   string
	Status int
	Header http.Header
	Body   string
}

// Server is the fake. Set its exported fields before the first request, or under no
// concurrent requests; use its methods at any time.
type Server struct {
	*httptest.Server

	Token         string // the bearer token it accepts ("test-token" by default)
	AccountID     string
	Username      string
	MaxCharacters int
	MaxMedia      int
	MediaTypes    []string
	// ImageSizeLimit is the largest image upload, in bytes, stated in /api/v2/instance and
	// enforced with a 422 as Mastodon does (default 16 MiB, Mastodon's own).
	ImageSizeLimit int64
	// IgnoreIdempotencyKey makes it behave like GoToSocial: a repeated key posts again.
	IgnoreIdempotencyKey bool
	// RefusalStatus is the code of a validation refusal: 422 (Mastodon) or 400 (GoToSocial).
	RefusalStatus int
	// NoV2Instance answers 404 to /api/v2/instance (older servers, Pleroma).
	NoV2Instance bool
	// ProcessingPolls is how many GET /api/v1/media/:id answer 206 before the upload is ready;
	// a non-zero value also makes uploads answer 202.
	ProcessingPolls int
	// Now is the server's clock.
	Now func() time.Time
	// TrendingLinks are answered by GET /api/v1/trends/links (Mastodon 3.5+); nil answers
	// 404, as servers without trends (GoToSocial) do.
	TrendingLinks []TrendingLink
	// HoldCreates makes every status creation store the status and then never answer,
	// until the client goes away: the plugin process dies while waiting.
	HoldCreates bool
	// TokenLifetime > 0 makes the tokens the OAuth flow issues expire after it, with
	// refresh tokens, as Pleroma and Akkoma do (Mastodon's never expire; see oauth.go).
	TokenLifetime time.Duration

	faults      faketest.Queue[Fault]
	dropCreates faketest.Countdown

	mu       sync.Mutex
	statuses []*Status
	media    map[string]*media
	uploads  [][]byte
	idem     map[string]*Status
	next     int
	requests []string
	revoked  bool

	apps         map[string]*app   // by client_id
	grants       map[string]*grant // authorization codes
	tokens       map[string]issued // access tokens issued by the OAuth flow
	refresh      map[string]issued // refresh tokens that are valid
	issuedTokens []string
}

// TrendingLink is Mastodon's PreviewCard as GET /api/v1/trends/links answers it (the
// fields tact reads, plus type as the server sends it).
type TrendingLink struct {
	URL         string `json:"url"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Language    string `json:"language,omitempty"`
	Type        string `json:"type"`
}

type media struct {
	id, alt, mimeType string
	pollsLeft         int
}

// New starts a fake server with Mastodon's defaults; close it with Close.
func New() *Server {
	s := &Server{
		Token:         "test-token",
		AccountID:     "109",
		Username:      "tact",
		MaxCharacters: 500,
		MaxMedia:      4,
		MediaTypes:    []string{"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"},
		RefusalStatus: http.StatusUnprocessableEntity,
		Now:           time.Now,
		media:         map[string]*media{},
		idem:          map[string]*Status{},
		next:          1000,
		apps:          map[string]*app{},
		grants:        map[string]*grant{},
		tokens:        map[string]issued{},
		refresh:       map[string]issued{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail queues f: the next matching request gets its answer instead of being served.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n status creations store the status and then close the
// connection without answering: what the client sees when it crashes or times out after
// the server acted.
func (s *Server) DropAfterCreate(n int) { s.dropCreates.Set(n) }

// Revoke makes the token invalid from now on (every request answers 401).
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// Statuses returns the statuses the server holds (not deleted), oldest first.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.statuses {
		if !st.Deleted {
			out = append(out, *st)
		}
	}
	return out
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

func fail(w http.ResponseWriter, code int, msg string) {
	faketest.WriteJSON(w, code, map[string]string{"error": msg})
}

var (
	mediaPath  = regexp.MustCompile(`^/api/v1/media/([^/]+)$`)
	statusPath = regexp.MustCompile(`^/api/v1/statuses/([^/]+)$`)
	acctPath   = regexp.MustCompile(`^/api/v1/accounts/([^/]+)/statuses$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if f, ok := s.faults.Take(func(f Fault) bool { return f.Method == r.Method && strings.HasPrefix(r.URL.Path, f.Path) }); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}
	if s.serveOAuth(w, r) {
		return
	}

	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok, why := s.tokenOK(token); !ok {
		fail(w, http.StatusUnauthorized, why)
		return
	}
	switch p := r.URL.Path; {
	case r.Method == http.MethodGet && p == "/api/v1/accounts/verify_credentials":
		faketest.WriteJSON(w, 200, map[string]any{"id": s.AccountID, "username": s.Username, "acct": s.Username})
	case r.Method == http.MethodGet && p == "/api/v2/instance":
		if s.NoV2Instance {
			fail(w, 404, "Record not found")
			return
		}
		faketest.WriteJSON(w, 200, map[string]any{"domain": "fake.example", "configuration": map[string]any{
			"statuses": map[string]any{"max_characters": s.MaxCharacters, "max_media_attachments": s.MaxMedia},
			"media_attachments": map[string]any{"supported_mime_types": s.MediaTypes,
				"image_size_limit": s.imageLimit(), "video_size_limit": 99 << 20},
		}})
	case r.Method == http.MethodGet && p == "/api/v1/instance":
		faketest.WriteJSON(w, 200, map[string]any{"uri": "fake.example", "max_toot_chars": s.MaxCharacters})
	case r.Method == http.MethodPost && (p == "/api/v2/media" || p == "/api/v1/media"):
		s.upload(w, r, p == "/api/v2/media")
	case r.Method == http.MethodGet && mediaPath.MatchString(p):
		s.getMedia(w, mediaPath.FindStringSubmatch(p)[1])
	case r.Method == http.MethodPost && p == "/api/v1/statuses":
		s.createStatus(w, r)
	case r.Method == http.MethodGet && statusPath.MatchString(p):
		s.mu.Lock()
		st := s.find(statusPath.FindStringSubmatch(p)[1])
		s.mu.Unlock()
		if st == nil {
			fail(w, 404, "Record not found")
			return
		}
		faketest.WriteJSON(w, 200, s.entity(st, false))
	case r.Method == http.MethodDelete && statusPath.MatchString(p):
		s.mu.Lock()
		st := s.find(statusPath.FindStringSubmatch(p)[1])
		if st != nil {
			st.Deleted = true
		}
		s.mu.Unlock()
		if st == nil {
			fail(w, 404, "Record not found")
			return
		}
		faketest.WriteJSON(w, 200, s.entity(st, true))
	case r.Method == http.MethodGet && acctPath.MatchString(p):
		s.accountStatuses(w, r, acctPath.FindStringSubmatch(p)[1])
	case r.Method == http.MethodGet && p == "/api/v1/trends/links":
		if s.TrendingLinks == nil {
			fail(w, 404, "Record not found")
			return
		}
		faketest.WriteJSON(w, 200, s.TrendingLinks)
	default:
		fail(w, 404, "Record not found")
	}
}

func (s *Server) find(id string) *Status {
	for _, st := range s.statuses {
		if st.ID == id && !st.Deleted {
			return st
		}
	}
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, v2 bool) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		fail(w, 422, "Validation failed: File can't be blank")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(w, 422, "Validation failed: File can't be blank")
		return
	}
	data, _ := io.ReadAll(f)
	f.Close()
	t, _, _ := mime.ParseMediaType(hdr.Header.Get("Content-Type"))
	if len(data) == 0 || !slices.Contains(s.MediaTypes, t) {
		fail(w, 422, fmt.Sprintf("Validation failed: File content type %q is invalid", t))
		return
	}
	if strings.HasPrefix(t, "image/") && int64(len(data)) > s.imageLimit() {
		fail(w, 422, fmt.Sprintf("Validation failed: File file size must be less than %d Bytes", s.imageLimit()))
		return
	}
	s.mu.Lock()
	s.uploads = append(s.uploads, data)
	s.mu.Unlock()
	processing := v2 && s.ProcessingPolls > 0
	s.mu.Lock()
	s.next++
	m := &media{id: strconv.Itoa(s.next), alt: r.FormValue("description"), mimeType: t}
	if processing {
		m.pollsLeft = s.ProcessingPolls
	}
	s.media[m.id] = m
	s.mu.Unlock()
	if processing {
		faketest.WriteJSON(w, http.StatusAccepted, map[string]any{"id": m.id, "type": "image", "url": nil, "description": m.alt})
		return
	}
	faketest.WriteJSON(w, 200, s.mediaEntity(m))
}

func (s *Server) imageLimit() int64 {
	if s.ImageSizeLimit > 0 {
		return s.ImageSizeLimit
	}
	return 16 << 20
}

// Uploads are the bytes of every media upload the server accepted, in order.
func (s *Server) Uploads() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uploads)
}

func (s *Server) mediaEntity(m *media) map[string]any {
	return map[string]any{"id": m.id, "type": "image", "url": s.URL + "/media/" + m.id, "description": m.alt}
}

func (s *Server) getMedia(w http.ResponseWriter, id string) {
	s.mu.Lock()
	m := s.media[id]
	processing := m != nil && m.pollsLeft > 0
	if processing {
		m.pollsLeft--
	}
	s.mu.Unlock()
	switch {
	case m == nil:
		fail(w, 404, "Record not found")
	case processing:
		faketest.WriteJSON(w, http.StatusPartialContent, map[string]any{"id": m.id, "type": "image", "url": nil})
	default:
		faketest.WriteJSON(w, 200, s.mediaEntity(m))
	}
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status     string   `json:"status"`
		MediaIDs   []string `json:"media_ids"`
		Visibility string   `json:"visibility"`
		Language   string   `json:"language"`
		Content    string   `json:"content_type"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(w, 400, "Invalid JSON")
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			fail(w, 400, "Invalid form")
			return
		}
		in.Status, in.Visibility, in.Language = r.PostForm.Get("status"), r.PostForm.Get("visibility"), r.PostForm.Get("language")
		in.MediaIDs = r.PostForm["media_ids[]"]
		in.Content = r.PostForm.Get("content_type")
	}
	if in.Visibility == "" {
		in.Visibility = "public"
	}
	switch {
	case strings.TrimSpace(in.Status) == "" && len(in.MediaIDs) == 0:
		fail(w, s.RefusalStatus, "Validation failed: Text can't be blank")
		return
	case mastodon.Length(in.Status) > s.MaxCharacters:
		fail(w, s.RefusalStatus, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", s.MaxCharacters))
		return
	case len(in.MediaIDs) > s.MaxMedia:
		fail(w, s.RefusalStatus, "Validation failed: Media attachments limit exceeded")
		return
	case !slices.Contains([]string{"public", "unlisted", "private", "direct"}, in.Visibility):
		fail(w, s.RefusalStatus, "Validation failed: Visibility is not included in the list")
		return
	}

	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	if prev := s.idem[key]; key != "" && prev != nil && !s.IgnoreIdempotencyKey {
		s.mu.Unlock()
		faketest.WriteJSON(w, 200, s.entity(prev, false))
		return
	}
	st := &Status{ID: "", Text: in.Status, Visibility: in.Visibility, Language: in.Language,
		CreatedAt: s.Now().UTC(), IdemKey: key, ContentType: in.Content, Account: s.AccountID}
	for _, id := range in.MediaIDs {
		m := s.media[id]
		if m == nil {
			s.mu.Unlock()
			fail(w, s.RefusalStatus, "Validation failed: Media attachments is invalid")
			return
		}
		if m.pollsLeft > 0 {
			s.mu.Unlock()
			fail(w, s.RefusalStatus, "Cannot attach files that have not finished processing. Try again in a moment!")
			return
		}
		st.MediaIDs = append(st.MediaIDs, id)
		st.MediaAlts = append(st.MediaAlts, m.alt)
		st.MediaTypes = append(st.MediaTypes, m.mimeType)
	}
	s.next++
	st.ID = strconv.Itoa(s.next)
	st.contentHTML = render(in.Status, s.URL)
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.idem[key] = st
	}
	// Read under the lock: a test that saw this status (through the lock) may then change
	// HoldCreates while this handler still runs.
	hold := s.HoldCreates
	s.mu.Unlock()
	drop := s.dropCreates.Take()
	if hold {
		<-r.Context().Done()
		return
	}
	if drop {
		faketest.HangUp(w)
		return
	}
	faketest.WriteJSON(w, 200, s.entity(st, false))
}

func (s *Server) accountStatuses(w http.ResponseWriter, r *http.Request, account string) {
	if account != s.AccountID {
		fail(w, 404, "Record not found")
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 40 {
		limit = 20
	}
	maxID, _ := strconv.Atoi(r.URL.Query().Get("max_id"))
	s.mu.Lock()
	var page []*Status
	for i := len(s.statuses) - 1; i >= 0 && len(page) < limit; i-- {
		st := s.statuses[i]
		id, _ := strconv.Atoi(st.ID)
		if st.Deleted || (maxID > 0 && id >= maxID) {
			continue
		}
		page = append(page, st)
	}
	s.mu.Unlock()
	out := make([]map[string]any, len(page))
	for i, st := range page {
		out[i] = s.entity(st, false)
	}
	faketest.WriteJSON(w, 200, out)
}

// entity renders st as Mastodon's Status entity. Like Mastodon, the source text is only
// included in the answer to a delete; otherwise clients get the HTML content.
func (s *Server) entity(st *Status, withText bool) map[string]any {
	atts := []map[string]any{}
	s.mu.Lock()
	for _, id := range st.MediaIDs {
		atts = append(atts, s.mediaEntity(s.media[id]))
	}
	s.mu.Unlock()
	e := map[string]any{
		"id":                st.ID,
		"uri":               s.URL + "/users/" + s.Username + "/statuses/" + st.ID,
		"url":               s.URL + "/@" + s.Username + "/" + st.ID,
		"created_at":        st.CreatedAt.Format("2006-01-02T15:04:05.000Z"),
		"content":           st.contentHTML,
		"visibility":        st.Visibility,
		"language":          st.Language,
		"reblog":            nil,
		"media_attachments": atts,
		"account":           map[string]any{"id": s.AccountID, "username": s.Username},
	}
	if withText {
		e["text"] = st.Text
	}
	return e
}

var (
	linkRe    = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]`)
	mentionRe = regexp.MustCompile(`(^|[^/\w])@([A-Za-z0-9_]+)(@[\w.-]+\w)?`)
)

// render turns a plain-text status into HTML the way Mastodon does: paragraphs, <br />,
// links split into invisible and ellipsis spans, remote mentions shown as @user.
func render(text, base string) string {
	var paras []string
	for _, para := range strings.Split(text, "\n\n") {
		var lines []string
		for _, line := range strings.Split(para, "\n") {
			lines = append(lines, renderLine(line, base))
		}
		paras = append(paras, "<p>"+strings.Join(lines, "<br />")+"</p>")
	}
	return strings.Join(paras, "")
}

func renderLine(line, base string) string {
	var b strings.Builder
	prev := 0
	for _, loc := range linkRe.FindAllStringIndex(line, -1) {
		b.WriteString(renderMentions(line[prev:loc[0]], base))
		u := line[loc[0]:loc[1]]
		scheme, rest, _ := strings.Cut(u, "://")
		shown, hidden := rest, ""
		if len(rest) > 30 {
			shown, hidden = rest[:30], rest[30:]
		}
		fmt.Fprintf(&b, `<a href="%s" target="_blank" rel="nofollow noopener noreferrer"><span class="invisible">%s://</span><span class="ellipsis">%s</span><span class="invisible">%s</span></a>`,
			html.EscapeString(u), scheme, html.EscapeString(shown), html.EscapeString(hidden))
		prev = loc[1]
	}
	b.WriteString(renderMentions(line[prev:], base))
	return b.String()
}

func renderMentions(s, base string) string {
	var b strings.Builder
	prev := 0
	for _, m := range mentionRe.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(html.EscapeString(s[prev:m[3]]))
		user := s[m[4]:m[5]]
		fmt.Fprintf(&b, `<span class="h-card" translate="no"><a href="%s/@%s" class="u-url mention">@<span>%s</span></a></span>`, base, user, user)
		prev = m[1]
	}
	b.WriteString(html.EscapeString(s[prev:]))
	return b.String()
}

// AddStatus stores a status as if the account had posted text from another client.
func (s *Server) AddStatus(text string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	st := &Status{ID: strconv.Itoa(s.next), Text: text, Visibility: "public", CreatedAt: s.Now().UTC(),
		Account: s.AccountID, contentHTML: render(text, s.URL)}
	s.statuses = append(s.statuses, st)
	return *st
}
