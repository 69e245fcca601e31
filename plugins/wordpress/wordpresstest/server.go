// Package wordpresstest is a fake WordPress site for the wordpress plugin's tests: an
// httptest server on loopback speaking the WordPress REST API (wp/v2) as WordPress 6.x
// answers it, from the REST API Handbook's reference pages (Posts, Media, Categories, Tags,
// Users), its Authentication page (Application Passwords over HTTP Basic) and the
// discovery page, and checked against a real WordPress 6.1 (Debian bookworm's package; see
// .ci/wordpress.sh).
//
// What it reproduces:
//   - discovery: every page carries Link: <…/wp-json/>; rel="https://api.w.org/", or
//     <…/?rest_route=/> with PlainPermalinks, and the API answers at both;
//   - Application Passwords: HTTP Basic with the user's login and the password with or
//     without its spaces; a wrong one is 401 incorrect_password, an unknown user 401
//     invalid_username, none at all leaves the request anonymous (401 rest_cannot_create,
//     rest_not_logged_in, rest_forbidden_context where WordPress says so);
//   - roles: administrator, editor, author and contributor with their capabilities
//     (publish_posts, upload_files, manage_categories …): a contributor publishing is 403
//     rest_cannot_publish, uploading 403 rest_cannot_create, an author creating a
//     category 403 rest_cannot_create;
//   - posts: POST /wp/v2/posts (201, the post in the edit context), the status enum and
//     400 rest_invalid_param with data.params, 400 empty_content, future posts with
//     date_gmt (a date already past publishes), slugs sanitised and made unique with -2,
//     -3 …; GET /wp/v2/posts with slug, status (any = every status but trash; anything but
//     publish needs a user who may edit), search, context=edit and _fields; GET, DELETE
//     (to the trash, the slug gaining __trashed; 410 rest_already_trashed; force=true
//     deletes; 404 rest_post_invalid_id);
//   - terms: GET /wp/v2/categories and /wp/v2/tags with search and per_page, names
//     answered HTML-escaped ("Food &amp; Drink"); POST creates, 400 term_exists with
//     data.term_id for a name already there; "Uncategorized" (id 1) exists;
//   - media: POST /wp/v2/media with the raw file as the body: 400
//     rest_upload_no_content_disposition without a filename, 400 rest_upload_no_data for an
//     empty body, 500 rest_upload_sideload_error for a type the site does not allow, the
//     alt_text parameter from the query string; 201 with id and source_url;
//   - faults: canned answers (Fail), answers lost after the post was created
//     (DropAfterCreate), creates held until the client goes away (HoldCreates).
//
// What it does not: cookies and nonces, OAuth plugins, revisions, blocks and kses
// filtering (content is stored as sent), pagination headers beyond X-WP-Total, sticky
// posts, custom post types, multisite, and WordPress's lack of any rate limit of its own
// (a 429 comes only from Fail, as a host's or a security plugin's would).
package wordpresstest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
)

// Post is a post as the fake stores it.
type Post struct {
	ID            int
	Author        int
	Title         string
	Content       string
	Status        string
	Slug          string
	DateGMT       time.Time
	Categories    []int
	Tags          []int
	FeaturedMedia int
}

// Media is an uploaded file.
type Media struct {
	ID       int
	FileName string
	MimeType string
	Alt      string
	Data     []byte
}

// Term is a category or a tag.
type Term struct {
	ID       int
	Taxonomy string // "category" or "post_tag"
	Name     string
	Slug     string
}

// Fault is a canned answer to the next request that matches Method and Route (the REST
// route, "/wp/v2/posts"; "" matches any).
type Fault struct {
	Method, Route string
	Status        int
	Header        http.Header
	Body          string
}

type user struct {
	id    int
	login string
	role  string
	pass  string // the Application Password, without spaces
}

var roleCaps = map[string][]string{
	"administrator": {"edit_posts", "publish_posts", "upload_files", "manage_categories", "delete_posts", "edit_others_posts", "manage_options"},
	"editor":        {"edit_posts", "publish_posts", "upload_files", "manage_categories", "delete_posts", "edit_others_posts"},
	"author":        {"edit_posts", "publish_posts", "upload_files", "delete_posts"},
	"contributor":   {"edit_posts", "delete_posts"},
}

// Server is the fake site. Its exported fields may be changed between requests.
type Server struct {
	*httptest.Server
	// User and AppPassword are the administrator's login and Application Password, shown
	// with spaces as WordPress shows it.
	User, AppPassword string
	// PlainPermalinks makes the site advertise its REST root as /?rest_route=/.
	PlainPermalinks bool
	// HoldCreates makes POST /wp/v2/posts create the post, then wait for the client to go
	// away without answering.
	HoldCreates atomic.Bool
	// Now is the site's clock (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	users  []*user
	posts  map[int]*Post
	media  map[int]*Media
	terms  []*Term
	nextID int
	calls  map[string]int

	faults faketest.Queue[Fault]
	drop   faketest.Countdown
}

// New starts a fake site, closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{posts: map[int]*Post{}, media: map[int]*Media{}, calls: map[string]int{}, nextID: 2, Now: time.Now}
	s.terms = []*Term{{ID: 1, Taxonomy: "category", Name: "Uncategorized", Slug: "uncategorized"}}
	s.User, s.AppPassword = s.AddUser("admin", "administrator")
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// AddUser adds a user with role and returns its login and a new Application Password
// (shown in groups of four, as WordPress shows it once).
func (s *Server) AddUser(login, role string) (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	pass := hex.EncodeToString(b)
	s.users = append(s.users, &user{id: len(s.users) + 1, login: login, role: role, pass: pass})
	var groups []string
	for i := 0; i < len(pass); i += 4 {
		groups = append(groups, pass[i:i+4])
	}
	return login, strings.Join(groups, " ")
}

// AddTerm creates a category ("category") or tag ("post_tag") and returns its id.
func (s *Server) AddTerm(taxonomy, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTerm(taxonomy, name).ID
}

// Terms lists the terms of a taxonomy.
func (s *Server) Terms(taxonomy string) []Term {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Term
	for _, t := range s.terms {
		if t.Taxonomy == taxonomy {
			out = append(out, *t)
		}
	}
	return out
}

// Posts lists the posts in any status, the trash included, by id.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, p := range s.posts {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Media lists the uploaded files, by id.
func (s *Server) Media() []Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Media
	for _, m := range s.media {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Count is how many requests reached method and route ("POST", "/wp/v2/posts").
func (s *Server) Count(method, route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method+" "+route]
}

// Fail queues a canned answer.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n creates store the post and close the connection
// without an answer.
func (s *Server) DropAfterCreate(n int) { s.drop.Set(n) }

// Settings are the plugin settings for the administrator.
func (s *Server) Settings() map[string]string {
	return map[string]string{"site": s.URL, "user": s.User, "app_password": s.AppPassword}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	route := ""
	switch {
	case strings.HasPrefix(r.URL.Path, "/wp-json/"):
		route = strings.TrimPrefix(r.URL.Path, "/wp-json")
	case r.URL.Path == "/" && r.URL.Query().Has("rest_route"):
		route = r.URL.Query().Get("rest_route")
	}
	root := s.URL + "/wp-json/"
	if s.PlainPermalinks {
		root = s.URL + "/?rest_route=/"
	}
	w.Header().Add("Link", "<"+root+`>; rel="https://api.w.org/"`)
	if route == "" {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Fake blog</title><link rel="https://api.w.org/" href="`+html.EscapeString(root)+`"></head><body>A blog</body></html>`)
		return
	}
	route = "/" + strings.Trim(route, "/")
	s.mu.Lock()
	key := r.Method + " " + route
	if m := postRoute.FindStringSubmatch(route); m != nil {
		key = r.Method + " /wp/v2/posts/{id}"
	}
	s.calls[key]++
	s.mu.Unlock()
	if f, ok := s.faults.Take(func(f Fault) bool {
		return (f.Method == "" || f.Method == r.Method) && (f.Route == "" || f.Route == route)
	}); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}
	u, err := s.authenticate(r)
	if err != nil {
		wpError(w, err.status, err.code, err.message)
		return
	}
	switch m := postRoute.FindStringSubmatch(route); {
	case route == "/":
		faketest.WriteJSON(w, 200, map[string]any{"name": "Fake blog", "url": s.URL, "namespaces": []string{"wp/v2"}, "authentication": map[string]any{"application-passwords": map[string]any{}}})
	case route == "/wp/v2/users/me" && r.Method == http.MethodGet:
		s.me(w, u)
	case route == "/wp/v2/posts" && r.Method == http.MethodPost:
		s.createPost(w, r, u)
	case route == "/wp/v2/posts" && r.Method == http.MethodGet:
		s.listPosts(w, r, u)
	case m != nil && r.Method == http.MethodGet:
		s.getPost(w, u, m[1])
	case m != nil && r.Method == http.MethodDelete:
		s.deletePost(w, r, u, m[1])
	case (route == "/wp/v2/categories" || route == "/wp/v2/tags") && r.Method == http.MethodGet:
		s.listTerms(w, r, taxonomyOf(route))
	case (route == "/wp/v2/categories" || route == "/wp/v2/tags") && r.Method == http.MethodPost:
		s.createTerm(w, r, u, taxonomyOf(route))
	case route == "/wp/v2/media" && r.Method == http.MethodPost:
		s.upload(w, r, u)
	default:
		wpError(w, 404, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

var postRoute = regexp.MustCompile(`^/wp/v2/posts/([0-9]+)$`)

func taxonomyOf(route string) string {
	if route == "/wp/v2/tags" {
		return "post_tag"
	}
	return "category"
}

// wpError answers as rest_convert_error_to_response does.
func wpError(w http.ResponseWriter, status int, code, message string, data ...map[string]any) {
	d := map[string]any{"status": status}
	for _, extra := range data {
		for k, v := range extra {
			d[k] = v
		}
	}
	faketest.WriteJSON(w, status, map[string]any{"code": code, "message": message, "data": d})
}

type authError struct {
	status        int
	code, message string
}

// authenticate reads HTTP Basic as wp_authenticate_application_password does. No header
// is an anonymous request (nil user).
func (s *Server) authenticate(r *http.Request) (*user, *authError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	login, pass, ok := strings.Cut(string(raw), ":")
	if !strings.HasPrefix(h, "Basic ") || err != nil || !ok {
		return nil, &authError{401, "rest_not_logged_in", "You are not currently logged in."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.login == login {
			if strings.ReplaceAll(pass, " ", "") != u.pass {
				return nil, &authError{401, "incorrect_password", "The provided password is an invalid application password."}
			}
			return u, nil
		}
	}
	return nil, &authError{401, "invalid_username", "Unknown username. Check again or try your email address."}
}

func (u *user) can(capability string) bool {
	return u != nil && slices.Contains(roleCaps[u.role], capability)
}

func (s *Server) me(w http.ResponseWriter, u *user) {
	if u == nil {
		wpError(w, 401, "rest_not_logged_in", "You are not currently logged in.")
		return
	}
	caps := map[string]bool{}
	for _, c := range roleCaps[u.role] {
		caps[c] = true
	}
	caps[u.role] = true
	faketest.WriteJSON(w, 200, map[string]any{"id": u.id, "username": u.login, "name": u.login, "slug": u.login, "roles": []string{u.role}, "capabilities": caps})
}

var statusEnum = []string{"publish", "future", "draft", "pending", "private"}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request, u *user) {
	if !u.can("edit_posts") {
		wpError(w, 401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
		return
	}
	var in struct {
		Title         *string `json:"title"`
		Content       *string `json:"content"`
		Status        string  `json:"status"`
		Slug          string  `json:"slug"`
		DateGMT       string  `json:"date_gmt"`
		Categories    []int   `json:"categories"`
		Tags          []int   `json:"tags"`
		FeaturedMedia int     `json:"featured_media"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		wpError(w, 400, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	if in.Status == "" {
		in.Status = "draft"
	}
	if !slices.Contains(statusEnum, in.Status) {
		wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): status", map[string]any{"params": map[string]string{"status": "status is not one of publish, future, draft, pending, private."}})
		return
	}
	if (in.Status == "publish" || in.Status == "future" || in.Status == "private") && !u.can("publish_posts") {
		wpError(w, 403, "rest_cannot_publish", "Sorry, you are not allowed to publish posts in this post type.")
		return
	}
	date := s.Now().UTC().Truncate(time.Second)
	if in.DateGMT != "" {
		d, err := time.Parse("2006-01-02T15:04:05", in.DateGMT)
		if err != nil {
			wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): date_gmt", map[string]any{"params": map[string]string{"date_gmt": "Invalid date."}})
			return
		}
		date = d
	}
	switch {
	case in.Status == "future" && !date.After(s.Now()):
		in.Status = "publish" // as wp_insert_post does with a date already past
	case in.Status == "publish" && date.After(s.Now()):
		in.Status = "future"
	}
	p := &Post{Author: u.id, Status: in.Status, DateGMT: date, Categories: in.Categories, Tags: in.Tags, FeaturedMedia: in.FeaturedMedia}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Content != nil {
		p.Content = *in.Content
	}
	if p.Title == "" && p.Content == "" {
		wpError(w, 400, "empty_content", "Content, title, and excerpt are empty.")
		return
	}
	s.mu.Lock()
	if p.FeaturedMedia != 0 && s.media[p.FeaturedMedia] == nil {
		s.mu.Unlock()
		wpError(w, 400, "rest_invalid_featured_media", "Invalid featured media ID.")
		return
	}
	if len(p.Categories) == 0 {
		p.Categories = []int{1}
	}
	p.ID = s.nextID
	s.nextID++
	p.Slug = sanitizeTitle(in.Slug)
	if p.Slug == "" && p.Status != "draft" && p.Status != "pending" {
		p.Slug = sanitizeTitle(p.Title)
	}
	if p.Slug != "" {
		p.Slug = s.uniqueSlug(p.Slug, p.ID)
	}
	s.posts[p.ID] = p
	view := s.view(p)
	s.mu.Unlock()

	if s.drop.Take() {
		faketest.HangUp(w)
		return
	}
	if s.HoldCreates.Load() {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Location", s.URL+"/wp-json/wp/v2/posts/"+strconv.Itoa(p.ID))
	faketest.WriteJSON(w, 201, view)
}

var notSlug = regexp.MustCompile(`[^a-z0-9_-]+`)

// sanitizeTitle is sanitize_title for ASCII: lower case, other characters as hyphens.
func sanitizeTitle(s string) string {
	s = notSlug.ReplaceAllString(strings.ToLower(s), "-")
	s = regexp.MustCompile(`-+`).ReplaceAllString(s, "-")
	return strings.Trim(s, "-")
}

// uniqueSlug is wp_unique_post_slug: slug, else slug-2, slug-3 … among other posts.
func (s *Server) uniqueSlug(slug string, id int) string {
	taken := func(c string) bool {
		for _, p := range s.posts {
			if p.ID != id && p.Slug == c {
				return true
			}
		}
		return false
	}
	if !taken(slug) {
		return slug
	}
	for i := 2; ; i++ {
		if c := slug + "-" + strconv.Itoa(i); !taken(c) {
			return c
		}
	}
}

func (s *Server) link(p *Post) string {
	if p.Status == "publish" && p.Slug != "" {
		return s.URL + "/" + p.Slug + "/"
	}
	return s.URL + "/?p=" + strconv.Itoa(p.ID)
}

// view is a post in the edit context, as the posts controller prepares it.
func (s *Server) view(p *Post) map[string]any {
	d := p.DateGMT.UTC().Format("2006-01-02T15:04:05")
	return map[string]any{
		"id": p.ID, "date": d, "date_gmt": d, "modified": d, "modified_gmt": d,
		"guid": map[string]string{"rendered": s.URL + "/?p=" + strconv.Itoa(p.ID), "raw": s.URL + "/?p=" + strconv.Itoa(p.ID)},
		"slug": p.Slug, "status": p.Status, "type": "post", "link": s.link(p),
		"title":   map[string]string{"raw": p.Title, "rendered": p.Title},
		"content": map[string]any{"raw": p.Content, "rendered": p.Content, "protected": false},
		"author":  p.Author, "featured_media": p.FeaturedMedia, "format": "standard",
		"categories": p.Categories, "tags": p.Tags, "meta": []any{},
	}
}

// fields is _fields: only the named top-level fields.
func fields(v map[string]any, list string) map[string]any {
	if list == "" {
		return v
	}
	out := map[string]any{}
	for _, f := range strings.Split(list, ",") {
		if x, ok := v[strings.TrimSpace(f)]; ok {
			out[strings.TrimSpace(f)] = x
		}
	}
	return out
}

func (s *Server) listPosts(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	if q.Get("context") == "edit" && !u.can("edit_posts") {
		wpError(w, 401, "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.")
		return
	}
	want := []string{"publish"}
	if st := q.Get("status"); st != "" {
		want = strings.Split(st, ",")
		if (len(want) != 1 || want[0] != "publish") && !u.can("edit_posts") {
			wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): status", map[string]any{"params": map[string]string{"status": "Status is forbidden."}})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	ids := make([]int, 0, len(s.posts))
	for id := range s.posts {
		ids = append(ids, id)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ids))) // newest first, as orderby=date
	for _, id := range ids {
		p := s.posts[id]
		if slices.Contains(want, "any") {
			if p.Status == "trash" {
				continue
			}
		} else if !slices.Contains(want, p.Status) {
			continue
		}
		if slug := q.Get("slug"); slug != "" && !slices.Contains(strings.Split(slug, ","), p.Slug) {
			continue
		}
		if term := q.Get("search"); term != "" && !strings.Contains(strings.ToLower(p.Title+" "+p.Content), strings.ToLower(term)) {
			continue
		}
		out = append(out, fields(s.view(p), q.Get("_fields")))
	}
	if out == nil {
		out = []map[string]any{}
	}
	w.Header().Set("X-WP-Total", strconv.Itoa(len(out)))
	w.Header().Set("X-WP-TotalPages", "1")
	faketest.WriteJSON(w, 200, out)
}

func (s *Server) getPost(w http.ResponseWriter, u *user, id string) {
	n, _ := strconv.Atoi(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[n]
	if p == nil || (p.Status != "publish" && !u.can("edit_posts")) {
		wpError(w, 404, "rest_post_invalid_id", "Invalid post ID.")
		return
	}
	faketest.WriteJSON(w, 200, s.view(p))
}

func (s *Server) deletePost(w http.ResponseWriter, r *http.Request, u *user, id string) {
	n, _ := strconv.Atoi(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[n]
	switch {
	case p == nil:
		wpError(w, 404, "rest_post_invalid_id", "Invalid post ID.")
	case !u.can("delete_posts") || (p.Author != u.id && !u.can("edit_others_posts")):
		wpError(w, 401, "rest_cannot_delete", "Sorry, you are not allowed to delete this post.")
	case r.URL.Query().Get("force") == "true":
		prev := s.view(p)
		delete(s.posts, n)
		faketest.WriteJSON(w, 200, map[string]any{"deleted": true, "previous": prev})
	case p.Status == "trash":
		wpError(w, 410, "rest_already_trashed", "The post has already been deleted.")
	default:
		p.Status = "trash"
		if p.Slug != "" {
			p.Slug += "__trashed"
		}
		faketest.WriteJSON(w, 200, s.view(p))
	}
}

func (s *Server) addTerm(taxonomy, name string) *Term {
	t := &Term{ID: s.nextID, Taxonomy: taxonomy, Name: name, Slug: sanitizeTitle(name)}
	s.nextID++
	s.terms = append(s.terms, t)
	return t
}

func (s *Server) listTerms(w http.ResponseWriter, r *http.Request, taxonomy string) {
	q := r.URL.Query()
	search := strings.ToLower(q.Get("search"))
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per == 0 {
		per = 10
	}
	if per > 100 {
		wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): per_page", map[string]any{"params": map[string]string{"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, t := range s.terms {
		if t.Taxonomy != taxonomy || (search != "" && !strings.Contains(strings.ToLower(t.Name), search) && !strings.Contains(t.Slug, search)) {
			continue
		}
		if len(out) == per {
			break
		}
		out = append(out, map[string]any{"id": t.ID, "name": html.EscapeString(t.Name), "slug": t.Slug, "taxonomy": t.Taxonomy, "link": s.URL + "/" + t.Slug + "/"})
	}
	faketest.WriteJSON(w, 200, out)
}

func (s *Server) createTerm(w http.ResponseWriter, r *http.Request, u *user, taxonomy string) {
	allowed := u.can("manage_categories") || (taxonomy == "post_tag" && u.can("edit_posts") && u.can("publish_posts"))
	if !allowed {
		wpError(w, map[bool]int{true: 403, false: 401}[u != nil], "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.")
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Name) == "" {
		wpError(w, 400, "rest_missing_callback_param", "Missing parameter(s): name", map[string]any{"params": []string{"name"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.terms {
		if t.Taxonomy == taxonomy && strings.EqualFold(t.Name, in.Name) {
			wpError(w, 400, "term_exists", "A term with the name provided already exists with this parent.", map[string]any{"term_id": t.ID})
			return
		}
	}
	t := s.addTerm(taxonomy, in.Name)
	faketest.WriteJSON(w, 201, map[string]any{"id": t.ID, "name": html.EscapeString(t.Name), "slug": t.Slug, "taxonomy": t.Taxonomy})
}

// uploadTypes are the types the fake site allows (get_allowed_mime_types, images only).
var uploadTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, u *user) {
	if !u.can("upload_files") {
		wpError(w, map[bool]int{true: 403, false: 401}[u != nil], "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] == "" {
		wpError(w, 400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
		return
	}
	data, _ := io.ReadAll(r.Body)
	if len(data) == 0 {
		wpError(w, 400, "rest_upload_no_data", "No data supplied.")
		return
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !slices.Contains(uploadTypes, ctype) {
		wpError(w, 500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.")
		return
	}
	s.mu.Lock()
	m := &Media{ID: s.nextID, FileName: params["filename"], MimeType: ctype, Alt: r.URL.Query().Get("alt_text"), Data: data}
	s.nextID++
	s.media[m.ID] = m
	s.mu.Unlock()
	src := s.URL + "/wp-content/uploads/" + m.FileName
	faketest.WriteJSON(w, 201, map[string]any{"id": m.ID, "source_url": src, "alt_text": m.Alt, "media_type": "image", "mime_type": ctype, "status": "inherit", "type": "attachment", "link": src})
}
