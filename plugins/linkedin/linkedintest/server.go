// Package linkedintest runs a fake LinkedIn for tests: the versioned REST API the linkedin
// plugin uses and LinkedIn's OAuth 2.0 endpoints, on one loopback httptest server, from
// LinkedIn's public documentation (Posts API, Images API, little text format, Rest.li
// protocol 2.0, authorization code flow, programmatic refresh tokens, token
// introspection, Sign In with LinkedIn using OpenID Connect).
//
// What it reproduces, as documented:
//   - the headers every /rest call needs: LinkedIn-Version (400 VERSION_MISSING without
//     it; 426 NONEXISTENT_VERSION for one older than OldestVersion) and
//     X-Restli-Protocol-Version: 2.0.0; URNs URL-encoded in paths and queries;
//   - bearer tokens that expire (60 days), are revoked, or lack a scope: 401 with
//     serviceErrorCode 65600 INVALID_ACCESS_TOKEN, 65601 REVOKED_ACCESS_TOKEN, 65602
//     EXPIRED_ACCESS_TOKEN; 403 ACCESS_DENIED (serviceErrorCode 100, "Not enough
//     permissions to access: …") for a missing scope or an organization the member does
//     not administer. Posting as a member takes w_member_social, as an organization
//     w_organization_social; reading posts takes r_member_social (a member; granted to
//     approved apps only, so not in the default token) or r_organization_social;
//   - POST /rest/posts: 201 with the post URN in x-restli-id and no body; 422 with
//     errorDetails.inputErrors for a refused field, a commentary over 3,000 characters
//     (counted in code points), or DUPLICATE_POST ("Content is a duplicate of
//     urn:li:share:…") for a post identical to one of the author's from the last
//     DuplicateWindow; content.media, content.multiImage (2 to 20) and content.article
//     (source and title required);
//   - the little text format: a reserved character that starts no element ends the
//     commentary there, silently, as LinkedIn does (the post keeps what came before);
//   - GET /rest/posts?q=author (newest first, count up to 100, start), GET and DELETE
//     /rest/posts/{urn} (204, also for a post already deleted; 404 for one never made);
//   - the Images API: initializeUpload, PUT of the bytes to the uploadUrl (bearer
//     token), GET /rest/images/{urn} with status WAITING_UPLOAD, PROCESSING, AVAILABLE or
//     PROCESSING_FAILED (bytes that are not JPEG, PNG or GIF);
//   - 429 as a canned Fault (LinkedIn's daily quotas; it documents no Retry-After);
//   - OAuth: the consent page (a real HTML form a browser can submit, or Approve/Deny),
//     codes valid 30 minutes and once, PKCE S256 checked when a challenge was sent, the
//     token endpoint's authorization_code and refresh_token grants, refresh tokens whose
//     365 days are not extended by use, token introspection, /v2/userinfo.
//
// What it does not: LinkedIn's real quotas and their reset, videos, documents, polls,
// mentions resolved to names, reshares, edits (PARTIAL_UPDATE), id_token in the token
// answer, LinkedIn's login page, and a duplicate check as fuzzy as LinkedIn's may be (this
// one compares the stored commentary and content exactly, and forgets deleted posts). The
// body of a refused refresh token follows RFC 6749 (invalid_grant): LinkedIn documents no
// example of it. Several error messages are the fake's own wording where LinkedIn's
// exact text is not documented.
package linkedintest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/internal/faketest"
	"github.com/tact-hq/tact/plugins/internal/oauthtest"
)

// Member is a LinkedIn member.
type Member struct {
	ID   string // the OpenID sub, as in urn:li:person:ID
	Name string
}

// URN is the member's person URN.
func (m Member) URN() string { return "urn:li:person:" + m.ID }

// Post is a post the fake holds.
type Post struct {
	URN        string
	Author     string
	Commentary string // as LinkedIn keeps it: little text, cut at a reserved character that starts no element
	Text       string // what a reader sees
	Visibility string
	Kind       string // "text", "image", "multiImage" or "article"
	Images     []string
	AltTexts   []string
	Article    Article
	Version    string // the LinkedIn-Version it was created with
	CreatedAt  time.Time
	Deleted    bool
	content    json.RawMessage
}

// Article is a post's content.article.
type Article struct {
	Source, Title, Description, Thumbnail, ThumbnailAltText string
}

// Image is an image of the Images API.
type Image struct {
	URN, Owner, Status, ContentType string
	Data                            []byte
	pollsLeft                       int
	sig                             string
}

// Fault is a canned answer for the next request that matches Method and Path (a path
// prefix, e.g. "/rest/posts").
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

	// ClientID and ClientSecret are the app's credentials (the developer portal's Auth tab).
	ClientID, ClientSecret string
	// RedirectURIs are the app's authorized redirect URLs; empty accepts any (tests whose
	// daemon listens on a port of the moment).
	RedirectURIs []string
	// AppScopes are the scopes the app's products grant; asking for another fails the
	// consent page with unauthorized_scope_error.
	AppScopes []string
	// Member approves consent pages and owns Token.
	Member Member
	// Organizations are the organization URNs Member administers.
	Organizations []string
	// Token and RefreshToken were issued to Member at start, with DefaultScopes.
	Token, RefreshToken string
	// AccessTTL and RefreshTTL are the tokens' lifetimes (LinkedIn: 60 and 365 days).
	AccessTTL, RefreshTTL time.Duration
	// NoRefreshTokens makes the token endpoint answer without refresh tokens, as for an app
	// LinkedIn has not approved for them.
	NoRefreshTokens bool
	// OldestVersion is the oldest LinkedIn-Version served ("" serves any YYYYMM).
	OldestVersion string
	// ProcessingPolls is how many GET /rest/images/{urn} answer PROCESSING after an upload.
	ProcessingPolls int
	// DuplicateWindow is how long a post blocks an identical one (default a day).
	DuplicateWindow time.Duration
	// HoldCreates makes every post creation store the post and then never answer, until
	// the client goes away: the plugin process dies while waiting.
	HoldCreates bool
	// Now is the server's clock; Advance moves it on.
	Now func() time.Time

	faults      faketest.Queue[Fault]
	dropCreates faketest.Countdown

	mu       sync.Mutex
	offset   time.Duration
	posts    []*Post
	images   map[string]*Image
	tokens   map[string]*grant // access tokens
	refresh  map[string]*grant // refresh tokens
	codes    map[string]*authCode
	consents []Consent
	requests []string
	next     int64
}

// DefaultScopes are the scopes of the token issued at start: what an app with the Share on
// LinkedIn, Sign In with OpenID Connect and Community Management products gets, without the
// restricted r_member_social.
var DefaultScopes = []string{"openid", "profile", "w_member_social", "w_organization_social", "r_organization_social"}

// New starts a fake LinkedIn; close it with Close.
func New() *Server {
	s := &Server{
		ClientID:        "78abcdefgh1234",
		ClientSecret:    "WPL_AP1.fake-secret.0123456789",
		AppScopes:       append(slices.Clone(DefaultScopes), "email", "r_member_social"),
		Member:          Member{ID: "yR3x9Kq0Ab", Name: "Ana Pereira"},
		Organizations:   []string{"urn:li:organization:5515715"},
		AccessTTL:       60 * 24 * time.Hour,
		RefreshTTL:      365 * 24 * time.Hour,
		DuplicateWindow: 24 * time.Hour,
		Now:             time.Now,
		images:          map[string]*Image{},
		tokens:          map[string]*grant{},
		refresh:         map[string]*grant{},
		codes:           map[string]*authCode{},
		next:            7_140_000_000_000_000_000,
	}
	s.Token, s.RefreshToken = s.IssueToken(DefaultScopes...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail queues f: the next matching request gets its answer instead of being served.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// DropAfterCreate makes the next n post creations store the post and then close the
// connection without answering.
func (s *Server) DropAfterCreate(n int) { s.dropCreates.Set(n) }

// Advance moves the server's clock on by d (tokens and codes expire by it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

func (s *Server) now() time.Time { return s.Now().Add(s.offset) }

// Posts returns the posts the server holds (not deleted), oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, p := range s.posts {
		if !p.Deleted {
			out = append(out, *p)
		}
	}
	return out
}

// Image returns the image urn, if uploaded.
func (s *Server) Image(urn string) (Image, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[urn]
	if !ok {
		return Image{}, false
	}
	return *img, true
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

// restError answers a Rest.li error as LinkedIn writes them. field, when set, adds an
// input error about it.
func restError(w http.ResponseWriter, status int, code, message, field string) {
	body := map[string]any{"status": status, "message": message}
	if code != "" {
		body["code"] = code
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		body["serviceErrorCode"] = map[string]int{"INVALID_ACCESS_TOKEN": 65600, "REVOKED_ACCESS_TOKEN": 65601, "EXPIRED_ACCESS_TOKEN": 65602}[code]
		if status == http.StatusForbidden {
			body["serviceErrorCode"] = 100
		}
	}
	if field != "" || status == http.StatusUnprocessableEntity {
		body["errorDetailType"] = "com.linkedin.common.error.BadRequest"
		in := map[string]any{}
		if field != "" {
			in["inputPath"] = map[string]string{"fieldPath": field}
		}
		body["errorDetails"] = map[string]any{"inputErrors": []map[string]any{{"description": message, "input": in, "code": code}}}
	}
	faketest.WriteJSON(w, status, body)
}

func denied(w http.ResponseWriter, what string) {
	restError(w, http.StatusForbidden, "ACCESS_DENIED", "Not enough permissions to access: "+what, "")
}

var (
	postPath   = regexp.MustCompile(`^/rest/posts/([^/]+)$`)
	imagePath  = regexp.MustCompile(`^/rest/images/([^/]+)$`)
	uploadPath = regexp.MustCompile(`^/dms-uploads/([^/]+)/uploaded-image/0$`)
	versionRE  = regexp.MustCompile(`^20[0-9]{2}(0[1-9]|1[0-2])$`)
)

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
	case strings.HasPrefix(p, "/oauth/v2/"):
		s.serveOAuth(w, r)
		return
	case r.Method == http.MethodGet && p == "/v2/userinfo":
		if g := s.bearer(w, r); g != nil {
			s.userinfo(w, g)
		}
		return
	case r.Method == http.MethodPut && uploadPath.MatchString(p):
		if g := s.bearer(w, r); g != nil {
			s.putImage(w, r, uploadPath.FindStringSubmatch(p)[1])
		}
		return
	case !strings.HasPrefix(p, "/rest/"):
		restError(w, http.StatusNotFound, "NOT_FOUND", "No resource found for "+p, "")
		return
	}

	version := r.Header.Get("LinkedIn-Version")
	switch {
	case version == "":
		restError(w, http.StatusBadRequest, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.", "")
		return
	case !versionRE.MatchString(version) || (s.OldestVersion != "" && version < s.OldestVersion):
		restError(w, http.StatusUpgradeRequired, "NONEXISTENT_VERSION", "Requested version "+version+" is not active", "")
		return
	case r.Header.Get("X-Restli-Protocol-Version") != "2.0.0":
		restError(w, http.StatusBadRequest, "", "this resource takes Rest.li protocol 2.0.0: send X-Restli-Protocol-Version: 2.0.0", "")
		return
	}
	g := s.bearer(w, r)
	if g == nil {
		return
	}
	switch {
	case r.Method == http.MethodPost && p == "/rest/posts":
		s.createPost(w, r, g, version)
	case r.Method == http.MethodGet && p == "/rest/posts":
		s.findPosts(w, r, g)
	case postPath.MatchString(p):
		urn, ok := encodedURN(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodDelete {
			s.deletePost(w, g, urn)
		} else if r.Method == http.MethodGet {
			s.getPost(w, g, urn)
		} else {
			restError(w, http.StatusMethodNotAllowed, "", r.Method+" is not supported on posts", "")
		}
	case r.Method == http.MethodPost && p == "/rest/images":
		s.initializeUpload(w, r, g)
	case r.Method == http.MethodGet && imagePath.MatchString(p):
		if urn, ok := encodedURN(w, r); ok {
			s.getImage(w, urn)
		}
	default:
		restError(w, http.StatusNotFound, "NOT_FOUND", "No resource found for "+r.Method+" "+p, "")
	}
}

// encodedURN is the URN that ends the request's path, which Rest.li 2.0 wants
// URL-encoded (urn%3Ali%3Ashare%3A1).
func encodedURN(w http.ResponseWriter, r *http.Request) (string, bool) {
	raw := r.URL.EscapedPath()
	last := raw[strings.LastIndexByte(raw, '/')+1:]
	if !strings.HasPrefix(last, "urn%3A") {
		restError(w, http.StatusBadRequest, "", "Syntax exception in path variables: a URN in the path must be URL-encoded", "")
		return "", false
	}
	urn, err := url.PathUnescape(last)
	if err != nil {
		restError(w, http.StatusBadRequest, "", "Syntax exception in path variables", "")
		return "", false
	}
	return urn, true
}

// bearer is the grant of the request's token, or nil after answering 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) *grant {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.tokens[tok]
	now := s.now()
	s.mu.Unlock()
	switch {
	case !ok || g == nil:
		restError(w, http.StatusUnauthorized, "INVALID_ACCESS_TOKEN", "Invalid access token", "")
	case g.revoked:
		restError(w, http.StatusUnauthorized, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user", "")
	case !now.Before(g.expires):
		restError(w, http.StatusUnauthorized, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", "")
	default:
		return g
	}
	return nil
}

// mayWrite reports whether g may post as author; otherwise it answers 403.
func (s *Server) mayWrite(w http.ResponseWriter, g *grant, author, what string) bool {
	switch {
	case author == g.member.URN() && g.has("w_member_social"):
		return true
	case slices.Contains(s.Organizations, author) && g.has("w_organization_social"):
		return true
	}
	denied(w, what)
	return false
}

// mayRead reports whether g may read author's posts; otherwise it answers 403.
func (s *Server) mayRead(w http.ResponseWriter, g *grant, author, what string) bool {
	switch {
	case author == g.member.URN() && g.has("r_member_social"):
		return true
	case slices.Contains(s.Organizations, author) && g.has("r_organization_social"):
		return true
	}
	denied(w, what)
	return false
}

type postRequest struct {
	Author       string `json:"author"`
	Commentary   string `json:"commentary"`
	Visibility   string `json:"visibility"`
	Distribution *struct {
		FeedDistribution               string `json:"feedDistribution"`
		TargetEntities                 []any  `json:"targetEntities"`
		ThirdPartyDistributionChannels []any  `json:"thirdPartyDistributionChannels"`
	} `json:"distribution"`
	LifecycleState            string          `json:"lifecycleState"`
	IsReshareDisabledByAuthor bool            `json:"isReshareDisabledByAuthor"`
	Content                   json.RawMessage `json:"content"`
}

type mediaRef struct {
	ID      string `json:"id"`
	AltText string `json:"altText"`
	Title   string `json:"title"`
}

type postContent struct {
	Media      *mediaRef `json:"media"`
	MultiImage *struct {
		Images []mediaRef `json:"images"`
	} `json:"multiImage"`
	Article *struct {
		Source           string `json:"source"`
		Title            string `json:"title"`
		Description      string `json:"description"`
		Thumbnail        string `json:"thumbnail"`
		ThumbnailAltText string `json:"thumbnailAltText"`
	} `json:"article"`
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request, g *grant, version string) {
	var req postRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		restError(w, http.StatusUnprocessableEntity, "UNPERMITTED_FIELDS", "Unpermitted fields present in REQUEST_BODY: "+err.Error(), "")
		return
	}
	switch {
	case req.Author == "":
		restError(w, http.StatusUnprocessableEntity, "FIELD_REQUIRED", "Field /author is required", "/author")
		return
	case req.LifecycleState != "PUBLISHED" && req.LifecycleState != "DRAFT":
		restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", "lifecycleState must be PUBLISHED or DRAFT", "/lifecycleState")
		return
	case req.Visibility != "PUBLIC" && req.Visibility != "CONNECTIONS" && req.Visibility != "LOGGED_IN":
		restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", "visibility must be PUBLIC, CONNECTIONS or LOGGED_IN", "/visibility")
		return
	case req.Visibility == "CONNECTIONS" && !strings.HasPrefix(req.Author, "urn:li:person:"):
		restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", "CONNECTIONS visibility is for member posts only", "/visibility")
		return
	case req.Distribution == nil || (req.Distribution.FeedDistribution != "MAIN_FEED" && req.Distribution.FeedDistribution != "NONE"):
		restError(w, http.StatusUnprocessableEntity, "FIELD_REQUIRED", "distribution.feedDistribution must be MAIN_FEED or NONE", "/distribution/feedDistribution")
		return
	}
	if !s.mayWrite(w, g, req.Author, "partnerApiPostsExternal.CREATE."+version+"01") {
		return
	}
	kept, text := parseLittle(req.Commentary)
	if n := len([]rune(text)); n > 3000 {
		restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", fmt.Sprintf("commentary is %d characters long, more than the maximum of 3000", n), "/commentary")
		return
	}
	post := &Post{Author: req.Author, Commentary: kept, Text: text, Visibility: req.Visibility, Kind: "text", Version: version, content: req.Content}
	if !s.readContent(w, req, post) {
		return
	}

	s.mu.Lock()
	now := s.now()
	for _, other := range s.posts {
		if !other.Deleted && other.Author == post.Author && other.Commentary == post.Commentary && other.Kind == post.Kind &&
			other.Article.Source == post.Article.Source && len(other.Images) == len(post.Images) && now.Sub(other.CreatedAt) < s.DuplicateWindow {
			s.mu.Unlock()
			restError(w, http.StatusUnprocessableEntity, "DUPLICATE_POST",
				"com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of "+other.URN, "")
			return
		}
	}
	s.next++
	post.URN = "urn:li:share:" + strconv.FormatInt(s.next, 10)
	post.CreatedAt = now
	s.posts = append(s.posts, post)
	hold := s.HoldCreates // read under the lock a test's Posts() takes, for -race
	s.mu.Unlock()

	if hold {
		<-r.Context().Done()
		return
	}
	if s.dropCreates.Take() {
		faketest.HangUp(w)
		return
	}
	w.Header().Set("x-restli-id", post.URN)
	w.WriteHeader(http.StatusCreated)
}

// readContent checks the post's content and fills post from it, or answers 422.
func (s *Server) readContent(w http.ResponseWriter, req postRequest, post *Post) bool {
	if len(req.Content) == 0 || string(req.Content) == "null" {
		return true
	}
	var c postContent
	dec := json.NewDecoder(strings.NewReader(string(req.Content)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		restError(w, http.StatusUnprocessableEntity, "UNPERMITTED_FIELDS", "Unpermitted fields present in REQUEST_BODY: /content: "+err.Error(), "/content")
		return false
	}
	image := func(urn, field string) bool {
		s.mu.Lock()
		img := s.images[urn]
		s.mu.Unlock()
		switch {
		case img == nil:
			restError(w, http.StatusUnprocessableEntity, "INVALID_URN", "image "+urn+" does not exist", field)
		case img.Owner != req.Author:
			restError(w, http.StatusUnprocessableEntity, "INVALID_URN", "image "+urn+" is owned by "+img.Owner+", not the post's author", field)
		case img.Status != "AVAILABLE":
			restError(w, http.StatusUnprocessableEntity, "INVALID_URN", "image "+urn+" is "+img.Status+", not AVAILABLE", field)
		default:
			post.Images = append(post.Images, urn)
			return true
		}
		return false
	}
	switch {
	case c.Media != nil:
		post.Kind = "image"
		post.AltTexts = []string{c.Media.AltText}
		return image(c.Media.ID, "/content/media/id")
	case c.MultiImage != nil:
		post.Kind = "multiImage"
		if n := len(c.MultiImage.Images); n < 2 || n > 20 {
			restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", fmt.Sprintf("a multiImage post takes 2 to 20 images, not %d", n), "/content/multiImage/images")
			return false
		}
		for i, m := range c.MultiImage.Images {
			post.AltTexts = append(post.AltTexts, m.AltText)
			if !image(m.ID, fmt.Sprintf("/content/multiImage/images/%d/id", i)) {
				return false
			}
		}
		return true
	case c.Article != nil:
		post.Kind = "article"
		a := c.Article
		post.Article = Article{Source: a.Source, Title: a.Title, Description: a.Description, Thumbnail: a.Thumbnail, ThumbnailAltText: a.ThumbnailAltText}
		if u, err := url.Parse(a.Source); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", "article source must be an http(s) URL", "/content/article/source")
			return false
		}
		if strings.TrimSpace(a.Title) == "" {
			restError(w, http.StatusUnprocessableEntity, "FIELD_REQUIRED", "Field /content/article/title is required", "/content/article/title")
			return false
		}
		if a.Thumbnail != "" {
			return image(a.Thumbnail, "/content/article/thumbnail")
		}
		return true
	}
	restError(w, http.StatusUnprocessableEntity, "INVALID_VALUE", "content must hold media, multiImage or article", "/content")
	return false
}

// entity is a post as the Posts API returns it.
func (p *Post) entity() map[string]any {
	ms := p.CreatedAt.UnixMilli()
	e := map[string]any{
		"id": p.URN, "author": p.Author, "commentary": p.Commentary, "visibility": p.Visibility,
		"lifecycleState": "PUBLISHED", "createdAt": ms, "publishedAt": ms, "lastModifiedAt": ms,
		"isReshareDisabledByAuthor": false,
		"distribution":              map[string]any{"feedDistribution": "MAIN_FEED", "targetEntities": []any{}, "thirdPartyDistributionChannels": []any{}},
		"lifecycleStateInfo":        map[string]any{"isEditedByAuthor": false},
	}
	if len(p.content) > 0 && string(p.content) != "null" {
		e["content"] = p.content
	}
	return e
}

func (s *Server) findPosts(w http.ResponseWriter, r *http.Request, g *grant) {
	q := r.URL.Query()
	if q.Get("q") != "author" {
		restError(w, http.StatusBadRequest, "", "this fake serves the author finder only: q=author", "")
		return
	}
	author := q.Get("author")
	if !strings.Contains(r.URL.RawQuery, "author=urn%3Ali%3A") {
		restError(w, http.StatusBadRequest, "", "Invalid param: author must be a URL-encoded URN", "")
		return
	}
	if !s.mayRead(w, g, author, "partnerApiPostsExternal.FINDER-author") {
		return
	}
	start, _ := strconv.Atoi(q.Get("start"))
	count := 10
	if c, err := strconv.Atoi(q.Get("count")); err == nil && c > 0 {
		count = min(c, 100)
	}
	s.mu.Lock()
	var mine []*Post
	for _, p := range s.posts {
		if !p.Deleted && p.Author == author {
			mine = append(mine, p)
		}
	}
	slices.Reverse(mine) // newest first, by creation or (never edited) by modification
	elements := []map[string]any{}
	for i := start; i < len(mine) && len(elements) < count; i++ {
		elements = append(elements, mine[i].entity())
	}
	s.mu.Unlock()
	faketest.WriteJSON(w, http.StatusOK, map[string]any{
		"paging":   map[string]any{"start": start, "count": count, "links": []any{}},
		"elements": elements,
	})
}

func (s *Server) find(urn string) *Post {
	for _, p := range s.posts {
		if p.URN == urn {
			return p
		}
	}
	return nil
}

func (s *Server) getPost(w http.ResponseWriter, g *grant, urn string) {
	s.mu.Lock()
	p := s.find(urn)
	s.mu.Unlock()
	if p == nil || p.Deleted {
		restError(w, http.StatusNotFound, "NOT_FOUND", "Post "+urn+" does not exist", "")
		return
	}
	if s.mayRead(w, g, p.Author, "partnerApiPostsExternal.GET") {
		s.mu.Lock()
		e := p.entity()
		s.mu.Unlock()
		faketest.WriteJSON(w, http.StatusOK, e)
	}
}

func (s *Server) deletePost(w http.ResponseWriter, g *grant, urn string) {
	s.mu.Lock()
	p := s.find(urn)
	s.mu.Unlock()
	if p == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "Post "+urn+" does not exist", "")
		return
	}
	if !s.mayWrite(w, g, p.Author, "partnerApiPostsExternal.DELETE") {
		return
	}
	s.mu.Lock()
	p.Deleted = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) initializeUpload(w http.ResponseWriter, r *http.Request, g *grant) {
	if r.URL.Query().Get("action") != "initializeUpload" {
		restError(w, http.StatusBadRequest, "", "unknown action: use ?action=initializeUpload", "")
		return
	}
	var req struct {
		InitializeUploadRequest struct {
			Owner string `json:"owner"`
		} `json:"initializeUploadRequest"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.InitializeUploadRequest.Owner == "" {
		restError(w, http.StatusUnprocessableEntity, "FIELD_REQUIRED", "Field /initializeUploadRequest/owner is required", "/initializeUploadRequest/owner")
		return
	}
	owner := req.InitializeUploadRequest.Owner
	if !s.mayWrite(w, g, owner, "images.ACTION-initializeUpload") {
		return
	}
	s.mu.Lock()
	s.next++
	id := "D4E10AQ" + strconv.FormatInt(s.next, 36)
	img := &Image{URN: "urn:li:image:" + id, Owner: owner, Status: "WAITING_UPLOAD", sig: oauthtest.Token(12)}
	s.images[img.URN] = img
	expires := s.now().Add(24 * time.Hour).UnixMilli()
	s.mu.Unlock()
	upload := fmt.Sprintf("%s/dms-uploads/%s/uploaded-image/0?ca=vector_ads&cn=uploads&m=%s&app=1&sync=0&v=beta", s.URL, id, img.sig)
	faketest.WriteJSON(w, http.StatusOK, map[string]any{"value": map[string]any{
		"uploadUrlExpiresAt": expires, "uploadUrl": upload, "image": img.URN}})
}

func (s *Server) putImage(w http.ResponseWriter, r *http.Request, id string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	if err != nil {
		restError(w, http.StatusBadRequest, "", "reading the upload: "+err.Error(), "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img := s.images["urn:li:image:"+id]
	if img == nil || r.URL.Query().Get("m") != img.sig || img.Status != "WAITING_UPLOAD" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	img.Data, img.ContentType = data, http.DetectContentType(data)
	switch {
	case !slices.Contains([]string{"image/jpeg", "image/png", "image/gif"}, img.ContentType):
		img.Status = "PROCESSING_FAILED"
	case s.ProcessingPolls > 0:
		img.Status, img.pollsLeft = "PROCESSING", s.ProcessingPolls
	default:
		img.Status = "AVAILABLE"
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) getImage(w http.ResponseWriter, urn string) {
	s.mu.Lock()
	img := s.images[urn]
	var out map[string]any
	if img != nil {
		if img.Status == "PROCESSING" {
			if img.pollsLeft <= 0 {
				img.Status = "AVAILABLE"
			}
			img.pollsLeft--
		}
		out = map[string]any{"id": img.URN, "owner": img.Owner, "status": img.Status}
		if img.Status == "AVAILABLE" {
			out["downloadUrl"] = s.URL + "/dms/image/" + strings.TrimPrefix(img.URN, "urn:li:image:")
			out["downloadUrlExpiresAt"] = s.now().Add(time.Hour).UnixMilli()
		}
	}
	s.mu.Unlock()
	if img == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "Image "+urn+" does not exist", "")
		return
	}
	faketest.WriteJSON(w, http.StatusOK, out)
}
