// Package micropubtest is a fake IndieWeb site with a Micropub endpoint, for the micropub
// plugin's tests: an httptest server on loopback speaking Micropub as the W3C
// Recommendation of 23 May 2017 describes it, with the "list of posts" extension of
// q=source the IndieWeb's micropub-extensions document (issue 4) and that servers such as
// Micro.blog, Known and the WordPress Micropub plugin implement.
//
// What it reproduces:
//   - discovery: the home page names the endpoint in a Link header (rel="micropub") and in
//     an HTML <link>, relative to the page; Discovery chooses which;
//   - authentication: the bearer token in the Authorization header or as access_token in
//     a form body; none or an unknown one is 401 unauthorized, a token without the scope
//     (create, media, delete) 403 insufficient_scope;
//   - create: h=entry as x-www-form-urlencoded (content, category[], photo[], mp-slug),
//     as JSON ({"type":["h-entry"],"properties":{…}}, photos as URLs or {"value","alt"}),
//     and as multipart/form-data with photo files; 201 Created with the post's address in
//     Location. The address ends in the mp-slug, unless IgnoreSlug (a server that makes
//     its own); an entry without content or photo is 400 invalid_request;
//   - q=config (media-endpoint, q), q=source with url (the post's properties) and without
//     (the newest posts first, limit honoured, the extension; NoListing answers it 400
//     invalid_request as servers without it do);
//   - the media endpoint: multipart with one part named "file", 201 with Location;
//     NoMediaEndpoint leaves it out of q=config and makes it 404;
//   - action=delete by url, as JSON or form;
//   - faults: canned answers (Fail), answers lost after the post was made
//     (DropAfterCreate), creates held until the client goes away (HoldCreates).
//
// What it does not: IndieAuth itself (tokens are issued by IssueToken), update and
// undelete, syndication targets, channels, and any rate limit of its own (a 429 comes from
// Fail).
package micropubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/faketest"
)

// Post is a post as the fake stores it: its address and its properties, as Micropub
// names them (content, category, photo …; photos given as files have their stored
// address). Server commands such as mp-slug are not stored: the slug is in the address.
type Post struct {
	URL        string
	Properties map[string][]any
	Deleted    bool
}

// Content is the post's first content value as text.
func (p Post) Content() string {
	if v := p.Properties["content"]; len(v) > 0 {
		if s, ok := v[0].(string); ok {
			return s
		}
	}
	return ""
}

// Upload is a file the media endpoint stored.
type Upload struct {
	URL, FileName, Type string
	Data                []byte
}

// Fault is a canned answer to the next request with Method and Path ("/micropub",
// "/media"; "" matches any).
type Fault struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         string
}

// Server is the fake site. Exported fields may be changed between requests.
type Server struct {
	*httptest.Server
	// Token is a token with the create, media and delete scopes.
	Token string
	// Discovery is where the home page names the endpoint: "header", "html" (default
	// both).
	Discovery       string
	NoMediaEndpoint bool
	NoListing       bool
	IgnoreSlug      bool
	HoldCreates     atomic.Bool

	mu      sync.Mutex
	tokens  map[string][]string
	posts   []*Post
	uploads []Upload
	calls   map[string]int
	faults  faketest.Queue[Fault]
	drop    faketest.Countdown
}

// New starts a fake site, closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{tokens: map[string][]string{}, calls: map[string]int{}}
	s.Token = s.IssueToken("create", "media", "delete")
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// IssueToken makes a token with scopes, as the site's token endpoint would.
func (s *Server) IssueToken(scopes ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := fmt.Sprintf("mp-token-%d-%s", len(s.tokens)+1, strings.Join(scopes, "-"))
	s.tokens[t] = scopes
	return t
}

// Posts lists the posts made, deleted ones included, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Post, len(s.posts))
	for i, p := range s.posts {
		out[i] = *p
	}
	return out
}

// Uploads lists the media endpoint's files.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uploads)
}

// Count is how many requests were of kind ("create", "media", "q=config", "q=source",
// "delete").
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

// Fail queues a canned answer.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n creates store the post and close the connection.
func (s *Server) DropAfterCreate(n int) { s.drop.Set(n) }

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.calls[kind]++
	s.mu.Unlock()
}

func mpError(w http.ResponseWriter, status int, code, desc string) {
	faketest.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.faults.Take(func(f Fault) bool {
		return (f.Method == "" || f.Method == r.Method) && (f.Path == "" || f.Path == r.URL.Path)
	}); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}
	switch r.URL.Path {
	case "/":
		s.home(w)
	case "/micropub":
		s.micropub(w, r)
	case "/media":
		s.mediaEndpoint(w, r)
	default:
		if strings.HasPrefix(r.URL.Path, "/media/") || strings.HasPrefix(r.URL.Path, "/notes/") {
			fmt.Fprint(w, "a page")
			return
		}
		http.NotFound(w, r)
	}
}

func (s *Server) home(w http.ResponseWriter) {
	if s.Discovery != "html" {
		w.Header().Add("Link", `</micropub>; rel="micropub"`)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	link := ""
	if s.Discovery != "header" {
		link = `<link rel="micropub" href="micropub">`
	}
	fmt.Fprint(w, `<!doctype html><html><head><title>A site</title><link rel="authorization_endpoint" href="/auth">`+link+`</head><body><a rel="me" href="https://elsewhere.example/me">me</a></body></html>`)
}

// scopes authenticates r (the header, else access_token in a form body); nil when the
// token is missing or unknown.
func (s *Server) scopes(r *http.Request, form url.Values) []string {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" || tok == r.Header.Get("Authorization") {
		tok = form.Get("access_token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

func (s *Server) micropub(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.query(w, r)
		return
	}
	if r.Method != http.MethodPost {
		mpError(w, 405, "invalid_request", "use GET or POST")
		return
	}
	props, action, target, form, err := readRequest(r, s)
	if err != nil {
		mpError(w, 400, "invalid_request", err.Error())
		return
	}
	scopes := s.scopes(r, form)
	if scopes == nil {
		mpError(w, 401, "unauthorized", "No access token was provided in the request, or it is not valid.")
		return
	}
	if action == "delete" {
		s.count("delete")
		if !slices.Contains(scopes, "delete") {
			mpError(w, 403, "insufficient_scope", "The token has no delete scope.")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.posts {
			if p.URL == target && !p.Deleted {
				p.Deleted = true
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		mpError(w, 400, "invalid_request", "There is no post at "+target)
		return
	}
	s.count("create")
	if !slices.Contains(scopes, "create") {
		mpError(w, 403, "insufficient_scope", "The token has no create scope.")
		return
	}
	if len(props["content"]) == 0 && len(props["photo"]) == 0 {
		mpError(w, 400, "invalid_request", "An entry needs content or a photo.")
		return
	}
	s.mu.Lock()
	slug := ""
	if v := props["mp-slug"]; len(v) > 0 && !s.IgnoreSlug {
		slug, _ = v[0].(string)
	}
	if slug == "" {
		slug = strconv.Itoa(len(s.posts) + 1)
	}
	// Server commands (mp-*) are acted on, not stored, as the Recommendation says.
	for k := range props {
		if strings.HasPrefix(k, "mp-") {
			delete(props, k)
		}
	}
	p := &Post{URL: s.URL + "/notes/" + slug, Properties: props}
	s.posts = append(s.posts, p)
	s.mu.Unlock()
	if s.drop.Take() {
		faketest.HangUp(w)
		return
	}
	if s.HoldCreates.Load() {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Location", p.URL)
	w.WriteHeader(http.StatusCreated)
}

// readRequest reads a create or an action in any of the three encodings.
func readRequest(r *http.Request, s *Server) (props map[string][]any, action, target string, form url.Values, err error) {
	props = map[string][]any{}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		var in struct {
			Type       []string         `json:"type"`
			Properties map[string][]any `json:"properties"`
			Action     string           `json:"action"`
			URL        string           `json:"url"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return nil, "", "", nil, fmt.Errorf("the JSON body cannot be read: %v", err)
		}
		if in.Action != "" {
			return nil, in.Action, in.URL, url.Values{}, nil
		}
		if !slices.Equal(in.Type, []string{"h-entry"}) {
			return nil, "", "", nil, fmt.Errorf("type must be [\"h-entry\"]")
		}
		return in.Properties, "", "", url.Values{}, nil
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, "", "", nil, err
		}
		form = r.PostForm
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, "", "", nil, err
		}
		form = url.Values(r.MultipartForm.Value)
		for field, files := range r.MultipartForm.File {
			name := strings.TrimSuffix(field, "[]")
			for _, fh := range files {
				u := s.store(fh)
				props[name] = append(props[name], u)
			}
		}
	default:
		return nil, "", "", nil, fmt.Errorf("unsupported Content-Type %q", ctype)
	}
	if a := form.Get("action"); a != "" {
		return nil, a, form.Get("url"), form, nil
	}
	if form.Get("h") != "entry" {
		return nil, "", "", nil, fmt.Errorf("h must be entry")
	}
	for k, vs := range form {
		if k == "h" || k == "access_token" {
			continue
		}
		name := strings.TrimSuffix(k, "[]")
		for _, v := range vs {
			props[name] = append(props[name], v)
		}
	}
	return props, "", "", form, nil
}

func (s *Server) store(fh *multipart.FileHeader) string {
	f, err := fh.Open()
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := fmt.Sprintf("%s/media/%d-%s", s.URL, len(s.uploads)+1, fh.Filename)
	s.uploads = append(s.uploads, Upload{URL: u, FileName: fh.Filename, Type: fh.Header.Get("Content-Type"), Data: data})
	return u
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.count("q=" + q.Get("q"))
	if s.scopes(r, q) == nil {
		mpError(w, 401, "unauthorized", "No access token was provided in the request, or it is not valid.")
		return
	}
	switch q.Get("q") {
	case "config":
		cfg := map[string]any{"q": []string{"config", "source"}, "syndicate-to": []any{}}
		if s.NoListing {
			cfg["q"] = []string{"config"}
		}
		if !s.NoMediaEndpoint {
			cfg["media-endpoint"] = s.URL + "/media"
		}
		faketest.WriteJSON(w, 200, cfg)
	case "source":
		s.mu.Lock()
		defer s.mu.Unlock()
		if target := q.Get("url"); target != "" {
			for _, p := range s.posts {
				if p.URL == target && !p.Deleted {
					faketest.WriteJSON(w, 200, map[string]any{"type": []string{"h-entry"}, "properties": p.Properties})
					return
				}
			}
			mpError(w, 400, "invalid_request", "There is no post at "+target)
			return
		}
		if s.NoListing {
			mpError(w, 400, "invalid_request", "q=source needs a url")
			return
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		items := []any{}
		for i := len(s.posts) - 1; i >= 0 && (limit == 0 || len(items) < limit); i-- {
			p := s.posts[i]
			if p.Deleted {
				continue
			}
			props := map[string][]any{"url": {p.URL}}
			for k, v := range p.Properties {
				props[k] = v
			}
			items = append(items, map[string]any{"type": []string{"h-entry"}, "properties": props})
		}
		faketest.WriteJSON(w, 200, map[string]any{"items": items})
	default:
		mpError(w, 400, "invalid_request", "unknown query "+q.Get("q"))
	}
}

func (s *Server) mediaEndpoint(w http.ResponseWriter, r *http.Request) {
	if s.NoMediaEndpoint {
		http.NotFound(w, r)
		return
	}
	s.count("media")
	scopes := s.scopes(r, nil)
	switch {
	case scopes == nil:
		mpError(w, 401, "unauthorized", "No access token was provided in the request, or it is not valid.")
		return
	case !slices.Contains(scopes, "media") && !slices.Contains(scopes, "create"):
		mpError(w, 403, "insufficient_scope", "The token has no media scope.")
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil || len(r.MultipartForm.File["file"]) != 1 {
		mpError(w, 400, "invalid_request", "Send one file in a part named file.")
		return
	}
	u := s.store(r.MultipartForm.File["file"][0])
	w.Header().Set("Location", u)
	w.WriteHeader(http.StatusCreated)
}
