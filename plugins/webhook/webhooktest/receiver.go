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

	"github.com/tact-hq/tact/plugins/internal/faketest"
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

	faults    faketest.Queue[Fault]
	dropPosts faketest.Countdown

	mu         sync.Mutex
	deliveries []*Delivery
	byKey      map[string]*Delivery
	rejected   int
}

// New starts a receiver sharing secret with the plugin; close it with Close.
func New(secret string) *Receiver {
	r := &Receiver{Secret: []byte(secret), Lookup: true, Now: time.Now, byKey: map[string]*Delivery{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// Fail queues f for the next request with f.Method.
func (r *Receiver) Fail(f Fault) { r.faults.Push(f) }

// DropAfterAccept makes the next n accepted posts close the connection without answering.
func (r *Receiver) DropAfterAccept(n int) { r.dropPosts.Set(n) }

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

// authentic checks the signature over signed and the timestamp's freshness.
func (r *Receiver) authentic(w http.ResponseWriter, req *http.Request, signed []byte) bool {
	ts, err := strconv.ParseInt(req.Header.Get(webhook.TimestampHeader), 10, 64)
	fresh := err == nil && r.Now().Sub(time.Unix(ts, 0)).Abs() <= 5*time.Minute
	if !webhook.Verify(r.Secret, signed, req.Header.Get(webhook.SignatureHeader)) || !fresh {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		faketest.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad signature or stale timestamp"})
		return false
	}
	return true
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if f, ok := r.faults.Take(func(f Fault) bool { return f.Method == req.Method }); ok {
		if f.Stall {
			// The server notices a client hanging up only once the body is read.
			_, _ = io.Copy(io.Discard, req.Body)
			<-req.Context().Done()
			return
		}
		faketest.WriteCanned(w, f.Status, f.Header, f.Body)
		return
	}

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
			faketest.WriteJSON(w, http.StatusNotFound, map[string]any{"found": false})
			return
		}
		faketest.WriteJSON(w, http.StatusOK, map[string]any{"found": true, "id": d.ID, "url": r.URL + "/posts/" + d.ID})
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
		faketest.WriteJSON(w, http.StatusNotFound, map[string]any{"error": "no such post"})
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
		faketest.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON"})
		return
	}
	if p.IdempotencyKey == "" || p.IdempotencyKey != req.Header.Get("Idempotency-Key") {
		faketest.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "idempotency_key missing or different from the Idempotency-Key header"})
		return
	}
	if sent, err := time.Parse(time.RFC3339, p.SentAt); err != nil || r.Now().Sub(sent).Abs() > 5*time.Minute {
		faketest.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "sent_at missing or stale"})
		return
	}
	r.mu.Lock()
	d := r.byKey[p.IdempotencyKey]
	if d == nil {
		d = &Delivery{ID: fmt.Sprintf("post-%d", len(r.byKey)+1), Payload: p, Body: body, Header: req.Header.Clone()}
		r.byKey[p.IdempotencyKey] = d
		r.deliveries = append(r.deliveries, d)
	}
	r.mu.Unlock()
	if r.dropPosts.Take() {
		faketest.HangUp(w)
		return
	}
	faketest.WriteJSON(w, http.StatusOK, map[string]string{"id": d.ID, "url": r.URL + "/posts/" + d.ID})
}
