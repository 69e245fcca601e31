// Package blueskytest runs a fake AT Protocol PDS for tests. It speaks the XRPC methods
// the bluesky plugin uses as the lexicons and the reference PDS define them: sessions with
// access and refresh tokens that expire ({"error":"ExpiredToken"} with 400), handle
// resolution, createRecord (rejecting duplicate record keys with a 500, as the reference
// PDS does today), getRecord (400 RecordNotFound), deleteRecord, uploadBlob, 429 with
// ratelimit-* headers. It keeps the records it holds so tests can check what got posted.
package blueskytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rivo/uniseg"

	"github.com/tact-hq/tact/plugins/internal/faketest"
)

// Record is a stored app.bsky.feed.post record.
type Record struct {
	RKey      string
	Text      string
	CreatedAt string
	Langs     []string
	Facets    []Facet
	Embed     json.RawMessage
	Raw       json.RawMessage
}

// Facet is a stored facet.
type Facet struct {
	Index struct {
		ByteStart int `json:"byteStart"`
		ByteEnd   int `json:"byteEnd"`
	} `json:"index"`
	Features []struct {
		Type string `json:"$type"`
		URI  string `json:"uri"`
		DID  string `json:"did"`
	} `json:"features"`
}

// Fault is a canned answer for the next request to the XRPC method NSID.
type Fault struct {
	NSID   string
	Status int
	Header http.Header
	Body   string
}

// Server is the fake PDS. Set exported fields before use; methods are safe at any time.
type Server struct {
	*httptest.Server

	Handle      string
	DID         string
	AppPassword string
	// Handles maps other handles to DIDs for resolveHandle.
	Handles map[string]string
	// DuplicateStatus is the answer to a createRecord on an existing key (500 today;
	// newer PDSes answer 400 with a typed error).
	DuplicateStatus int

	faults      faketest.Queue[Fault]
	dropCreates faketest.Countdown

	mu      sync.Mutex
	records map[string]*Record
	order   []string
	access  map[string]bool // token -> still valid
	refresh map[string]bool
	next    int
	blobs   map[string]string // cid -> mime type
	calls   map[string]int
}

// New starts a fake PDS for the account alice.test (did:plc:alice) with app password
// "app-pass"; close it with Close.
func New() *Server {
	s := &Server{
		Handle:          "alice.test",
		DID:             "did:plc:alice",
		AppPassword:     "app-pass",
		Handles:         map[string]string{},
		DuplicateStatus: http.StatusInternalServerError,
		records:         map[string]*Record{},
		access:          map[string]bool{},
		refresh:         map[string]bool{},
		blobs:           map[string]string{},
		calls:           map[string]int{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail queues f for the next call of f.NSID.
func (s *Server) Fail(f Fault) { s.faults.Push(f) }

// ExpireAccessTokens makes every access token issued so far expired.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.access {
		s.access[t] = false
	}
}

// ExpireRefreshTokens makes every refresh token issued so far expired.
func (s *Server) ExpireRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.refresh {
		s.refresh[t] = false
	}
}

// DropAfterCreate makes the next n createRecord calls store the record and then close the
// connection without answering.
func (s *Server) DropAfterCreate(n int) { s.dropCreates.Set(n) }

// Records returns the stored posts in creation order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, k := range s.order {
		if r := s.records[k]; r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// Calls returns how many times the XRPC method nsid was called.
func (s *Server) Calls(nsid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[nsid]
}

func xrpcError(w http.ResponseWriter, code int, name, msg string) {
	faketest.WriteJSON(w, code, map[string]string{"error": name, "message": msg})
}

var tidRe = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	nsid, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.calls[nsid]++
	s.mu.Unlock()
	if f, ok := s.faults.Take(func(f Fault) bool { return f.NSID == nsid }); ok {
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}

	switch nsid {
	case "com.atproto.server.createSession":
		s.createSession(w, r)
		return
	case "com.atproto.server.refreshSession":
		s.refreshSession(w, r)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	switch nsid {
	case "com.atproto.identity.resolveHandle":
		h := strings.ToLower(r.URL.Query().Get("handle"))
		did := s.Handles[h]
		if h == s.Handle {
			did = s.DID
		}
		if did == "" {
			xrpcError(w, 400, "InvalidRequest", "Unable to resolve handle")
			return
		}
		faketest.WriteJSON(w, 200, map[string]string{"did": did})
	case "com.atproto.repo.createRecord":
		s.createRecord(w, r)
	case "com.atproto.repo.getRecord":
		q := r.URL.Query()
		s.mu.Lock()
		rec := s.records[q.Get("rkey")]
		s.mu.Unlock()
		if q.Get("repo") != s.DID && q.Get("repo") != s.Handle || q.Get("collection") != "app.bsky.feed.post" || rec == nil {
			xrpcError(w, 400, "RecordNotFound", "Could not locate record: at://"+q.Get("repo")+"/"+q.Get("collection")+"/"+q.Get("rkey"))
			return
		}
		faketest.WriteJSON(w, 200, map[string]any{"uri": s.uri(rec.RKey), "cid": "bafy" + rec.RKey, "value": rec.Raw})
	case "com.atproto.repo.deleteRecord":
		var in struct{ Repo, Collection, Rkey string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Repo != s.DID {
			xrpcError(w, 400, "InvalidRequest", "Input/repo must be the session's DID")
			return
		}
		s.mu.Lock()
		delete(s.records, in.Rkey) // deleting a missing record is a no-op, as on the PDS
		s.mu.Unlock()
		faketest.WriteJSON(w, 200, map[string]any{})
	case "com.atproto.repo.uploadBlob":
		data, _ := io.ReadAll(r.Body)
		mt := r.Header.Get("Content-Type")
		if len(data) == 0 || !strings.HasPrefix(mt, "image/") {
			xrpcError(w, 400, "InvalidRequest", "blob must be an image")
			return
		}
		s.mu.Lock()
		s.next++
		cid := fmt.Sprintf("bafkblob%d", s.next)
		s.blobs[cid] = mt
		s.mu.Unlock()
		faketest.WriteJSON(w, 200, map[string]any{"blob": map[string]any{"$type": "blob", "ref": map[string]string{"$link": cid}, "mimeType": mt, "size": len(data)}})
	default:
		xrpcError(w, 501, "MethodNotImplemented", "Method Not Implemented")
	}
}

func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	valid, known := s.access[bearer(r)]
	s.mu.Unlock()
	return tokenAccepted(w, valid, known)
}

// tokenAccepted answers as the PDS does for a token it does not know (401) or that expired
// (400 ExpiredToken), and reports whether the token may be used.
func tokenAccepted(w http.ResponseWriter, valid, known bool) bool {
	switch {
	case !known:
		xrpcError(w, 401, "AuthenticationRequired", "Authentication Required")
	case !valid:
		xrpcError(w, 400, "ExpiredToken", "Token has expired")
	}
	return known && valid
}

func (s *Server) issue(w http.ResponseWriter) {
	s.mu.Lock()
	s.next++
	acc, ref := fmt.Sprintf("access-%d", s.next), fmt.Sprintf("refresh-%d", s.next)
	s.access[acc], s.refresh[ref] = true, true
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"accessJwt": acc, "refreshJwt": ref, "handle": s.Handle, "did": s.DID, "active": true})
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var in struct{ Identifier, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, 400, "InvalidRequest", "Input must be JSON")
		return
	}
	if (in.Identifier != s.Handle && in.Identifier != s.DID) || in.Password != s.AppPassword {
		xrpcError(w, 401, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	s.issue(w)
}

func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	valid, known := s.refresh[bearer(r)]
	if known && valid {
		s.refresh[bearer(r)] = false // refresh tokens rotate
	}
	s.mu.Unlock()
	if tokenAccepted(w, valid, known) {
		s.issue(w)
	}
}

func (s *Server) uri(rkey string) string { return "at://" + s.DID + "/app.bsky.feed.post/" + rkey }

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Repo       string          `json:"repo"`
		Collection string          `json:"collection"`
		Rkey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, 400, "InvalidRequest", "Input must be JSON")
		return
	}
	var rec struct {
		Type      string          `json:"$type"`
		Text      string          `json:"text"`
		CreatedAt string          `json:"createdAt"`
		Langs     []string        `json:"langs"`
		Facets    []Facet         `json:"facets"`
		Embed     json.RawMessage `json:"embed"`
	}
	_ = json.Unmarshal(in.Record, &rec)
	if msg := validate(in.Repo, in.Collection, in.Rkey, s.DID, rec.Type, rec.Text, rec.CreatedAt, rec.Facets); msg != "" {
		xrpcError(w, 400, "InvalidRequest", msg)
		return
	}
	s.mu.Lock()
	if in.Rkey == "" {
		s.next++
		in.Rkey = fmt.Sprintf("3l%011d", s.next)
	}
	if s.records[in.Rkey] != nil {
		s.mu.Unlock()
		if s.DuplicateStatus == http.StatusInternalServerError {
			xrpcError(w, 500, "InternalServerError", "Internal Server Error")
		} else {
			xrpcError(w, s.DuplicateStatus, "RecordAlreadyExists", "Record already exists: "+s.uri(in.Rkey))
		}
		return
	}
	s.records[in.Rkey] = &Record{RKey: in.Rkey, Text: rec.Text, CreatedAt: rec.CreatedAt, Langs: rec.Langs, Facets: rec.Facets, Embed: rec.Embed, Raw: in.Record}
	s.order = append(s.order, in.Rkey)
	s.mu.Unlock()
	if s.dropCreates.Take() {
		faketest.HangUp(w)
		return
	}
	faketest.WriteJSON(w, 200, map[string]any{"uri": s.uri(in.Rkey), "cid": "bafy" + in.Rkey})
}

// validate checks a createRecord the way the PDS's lexicon validation does; "" is valid.
func validate(repo, collection, rkey, did, typ, text, createdAt string, facets []Facet) string {
	switch {
	case repo != did:
		return "Input/repo must be the session's DID"
	case collection != "app.bsky.feed.post" || typ != "app.bsky.feed.post":
		return "Invalid collection or $type"
	case rkey != "" && !tidRe.MatchString(rkey):
		return "Invalid record key for app.bsky.feed.post: must be a TID"
	case uniseg.GraphemeClusterCount(text) > 300:
		return "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
	case len(text) > 3000:
		return "Invalid app.bsky.feed.post record: Record/text must not be longer than 3000 characters"
	}
	if _, err := time.Parse(time.RFC3339Nano, createdAt); err != nil {
		return "Invalid app.bsky.feed.post record: Record/createdAt must be an valid atproto datetime"
	}
	for i, f := range facets {
		if f.Index.ByteStart < 0 || f.Index.ByteEnd > len(text) || f.Index.ByteStart >= f.Index.ByteEnd {
			return fmt.Sprintf("Invalid app.bsky.feed.post record: Record/facets/%d/index is out of the text's bytes", i)
		}
	}
	return ""
}
