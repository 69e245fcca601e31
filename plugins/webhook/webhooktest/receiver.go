// Package webhooktest runs a receiver that implements the webhook plugin's contract
// (docs/webhook.md) for tests: it verifies every signature and timestamp, dedupes by
// idempotency key, answers lookups and deletes, and keeps what it received.
package webhooktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/webhook"
)

// Delivery is one post the receiver accepted.
type Delivery struct {
	ID      string
	Payload webhook.Payload
	Body    []byte // exactly as received
	Header  http.Header
}

// Fault is a canned answer for the next request with Method.
type Fault struct {
	Method string
	Status int
	Header http.Header
	Body   string
	// Stall makes the receiver answer nothing until the client gives up.
	Stall bool
}

// Receiver is the fake endpoint. Set exported fields before use.
type Receiver struct {
	*httptest.Server

	Secret []byte
	// Lookup makes it answer GET ?idempotency_key= (a receiver may not implement it).
	Lookup bool
	// Now is the receiver's clock, for the timestamp check.
	Now func() time.Time

	mu         sync.Mutex
	deliveries []*Delivery
	byKey      map[string]*Delivery
	faults     []Fault
	rejected   int
	dropPosts  int
}

// New starts a receiver sharing secret with the plugin; close it with Close.
func New(secret string) *Receiver {
	r := &Receiver{Secret: []byte(secret), Lookup: true, Now: time.Now, byKey: map[string]*Delivery{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// Fail queues f for the next request with f.Method.
func (r *Receiver) Fail(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// DropAfterAccept makes the next n accepted posts close the connection without answering.
func (r *Receiver) DropAfterAccept(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropPosts = n
}

// Deliveries returns the accepted posts (one per idempotency key), oldest first.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivery
	for _, d := range r.deliveries {
		out = append(out, *d)
	}
	return out
}

// Rejected counts requests refused for a bad signature or timestamp.
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// authentic checks the signature over signed and the timestamp's freshness.
func (r *Receiver) authentic(w http.ResponseWriter, req *http.Request, signed []byte) bool {
	ts, err := strconv.ParseInt(req.Header.Get(webhook.TimestampHeader), 10, 64)
	fresh := err == nil && r.Now().Sub(time.Unix(ts, 0)).Abs() <= 5*time.Minute
	if !webhook.Verify(r.Secret, signed, req.Header.Get(webhook.SignatureHeader)) || !fresh {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad signature or stale timestamp"})
		return false
	}
	return true
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	for i, f := range r.faults {
		if f.Method == req.Method {
			r.faults = slices.Delete(r.faults, i, i+1)
			r.mu.Unlock()
			if f.Stall {
				// The server notices a client hanging up only once the body is read.
				_, _ = io.Copy(io.Discard, req.Body)
				<-req.Context().Done()
				return
			}
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return
		}
	}
	r.mu.Unlock()

	switch req.Method {
	case http.MethodPost:
		r.post(w, req)
	case http.MethodGet:
		if !r.Lookup {
			http.NotFound(w, req) // a receiver without lookup: a plain 404 page
			return
		}
		if !r.authentic(w, req, []byte(req.URL.RawQuery)) {
			return
		}
		r.mu.Lock()
		d := r.byKey[req.URL.Query().Get("idempotency_key")]
		r.mu.Unlock()
		if d == nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"found": false})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"found": true, "id": d.ID, "url": r.URL + "/posts/" + d.ID})
	case http.MethodDelete:
		if !r.authentic(w, req, []byte(req.URL.RawQuery)) {
			return
		}
		id := req.URL.Query().Get("id")
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, d := range r.deliveries {
			if d.ID == id {
				r.deliveries = slices.Delete(r.deliveries, i, i+1)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such post"})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (r *Receiver) post(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if !r.authentic(w, req, body) {
		return
	}
	var p webhook.Payload
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &p) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON"})
		return
	}
	if p.IdempotencyKey == "" || p.IdempotencyKey != req.Header.Get("Idempotency-Key") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "idempotency_key missing or different from the Idempotency-Key header"})
		return
	}
	if sent, err := time.Parse(time.RFC3339, p.SentAt); err != nil || r.Now().Sub(sent).Abs() > 5*time.Minute {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sent_at missing or stale"})
		return
	}
	r.mu.Lock()
	d := r.byKey[p.IdempotencyKey]
	if d == nil {
		d = &Delivery{ID: fmt.Sprintf("post-%d", len(r.byKey)+1), Payload: p, Body: body, Header: req.Header.Clone()}
		r.byKey[p.IdempotencyKey] = d
		r.deliveries = append(r.deliveries, d)
	}
	drop := r.dropPosts > 0
	if drop {
		r.dropPosts--
	}
	r.mu.Unlock()
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": d.ID, "url": r.URL + "/posts/" + d.ID})
}
