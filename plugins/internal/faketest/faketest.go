// Package faketest holds what the fakes of the built-in plugins' networks (blueskytest,
// mastodontest, webhooktest) share: JSON answers, a queue of canned faults, and answers
// lost after the server acted. The example plugin's fake does not use it: plugin authors
// copy that one, and cannot import an internal package.
package faketest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
)

// WriteJSON answers code with v encoded as JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteCanned answers with a canned fault: header, then status and body as given. The
// body is sent as JSON unless header says another Content-Type.
func WriteCanned(w http.ResponseWriter, status int, header http.Header, body string) {
	for k, v := range header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Queue holds canned faults until a request they match takes them, the first queued
// first. The zero value is empty and ready; it is safe for concurrent use.
type Queue[F any] struct {
	mu     sync.Mutex
	faults []F
}

// Push queues f.
func (q *Queue[F]) Push(f F) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = append(q.faults, f)
}

// Take removes and returns the first queued fault that match accepts; ok is false when
// none does.
func (q *Queue[F]) Take(match func(F) bool) (f F, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.faults {
		if match(f) {
			q.faults = slices.Delete(q.faults, i, i+1)
			return f, true
		}
	}
	return f, false
}

// Countdown counts the next requests a fake treats specially (such as dropping the
// answer). The zero value counts none; it is safe for concurrent use.
type Countdown struct {
	mu sync.Mutex
	n  int
}

// Set makes the next n calls of Take report true.
func (c *Countdown) Set(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = n
}

// Take reports whether this request is one of those counted, and counts it.
func (c *Countdown) Take() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		return false
	}
	c.n--
	return true
}

// HangUp closes the connection without an answer: what a client sees when the server
// acted and then crashed, or the network lost its answer. It must be the handler's last
// act.
func HangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
