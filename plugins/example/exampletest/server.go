// Package exampletest serves the example network's API on a local port, for the example
// plugin's tests and the conformance kit. It keeps the promise the plugin relies on: a
// repeated Idempotency-Key returns the first post instead of making a second.
package exampletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Post is a post held by the fake network.
type Post struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Text           string    `json:"text"`
	Link           string    `json:"link,omitempty"`
	Language       string    `json:"language,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	IdempotencyKey string    `json:"-"`
	Deleted        bool      `json:"-"`
}

// Server is a running fake of the example network.
type Server struct {
	*httptest.Server
	// Token is the only bearer token the server accepts.
	Token string

	mu    sync.Mutex
	posts []*Post
	byKey map[string]*Post
	now   func() time.Time
}

// NewServer starts a fake that accepts token. now stamps posts; nil means time.Now.
func NewServer(token string, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{Token: token, byKey: map[string]*Post{}, now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/me", s.me)
	mux.HandleFunc("POST /api/posts", s.create)
	mux.HandleFunc("GET /api/posts", s.lookup)
	mux.HandleFunc("DELETE /api/posts/{id}", s.delete)
	mux.HandleFunc("GET /api/trends", s.trends)
	s.Server = httptest.NewServer(s.auth(mux))
	return s
}

// Posts returns what was posted, in order (deleted posts included, marked).
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Post, 0, len(s.posts))
	for _, p := range s.posts {
		out = append(out, *p)
	}
	return out
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": "example-user"})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Idempotency-Key header is required"})
		return
	}
	var in struct{ Text, Link, Language string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if strings.TrimSpace(in.Text) == "" || len([]rune(in.Text)) > 280 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "text must have 1 to 280 characters"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.byKey[key]; ok {
		writeJSON(w, http.StatusOK, p)
		return
	}
	id := fmt.Sprintf("%d", len(s.posts)+1)
	p := &Post{ID: id, URL: s.URL + "/@example-user/" + id, Text: in.Text, Link: in.Link, Language: in.Language,
		CreatedAt: s.now().UTC().Truncate(time.Second), IdempotencyKey: key}
	s.posts = append(s.posts, p)
	s.byKey[key] = p
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.byKey[r.URL.Query().Get("idempotency_key")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no post with that idempotency key"})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.posts {
		if p.ID == r.PathValue("id") && !p.Deleted {
			p.Deleted = true
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such post"})
}

func (s *Server) trends(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []map[string]string{{"title": "Example trend", "url": s.URL + "/tags/example", "language": "en"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
