package api

import (
	"context"
	"sync"
	"sync/atomic"
)

// The approval queue's page is what every open browser and every script polls, the same
// request again and again, while the queue changes a few times a second at most. Its answer
// depends only on what is in the database and on the rules in force, so the encoded answer is
// kept with the versions of both and given again until either moves: a request then costs a
// version check instead of the queries and the JSON encoding. The first request after a
// change builds the new answer and the ones arriving meanwhile wait for it, rather than all
// building it at once.

// versionedStore is a store that can say whether anything has changed since (sqlite.DB).
// Without one, no answer is kept.
type versionedStore interface {
	Version(ctx context.Context) (uint64, error)
}

// versionedWarnings is a Warnings whose answers change only with its version (the rules in
// force). A Warnings without it makes answers uncacheable, since warnings could change with
// nothing written.
type versionedWarnings interface {
	WarningsVersion() uint64
}

// stamp is what an answer was built from.
type stamp struct {
	data, rules uint64
}

// answers holds the last answer of each distinct list request (at most maxAnswers of them,
// at most maxAnswerBytes each: a larger one is shared with the requests that waited for it,
// then forgotten).
type answers struct {
	mu      sync.Mutex
	entries map[string]*answer
	counts  *AnswerCounts
}

// AnswerCounts counts the queue listing's requests by how they were answered: Kept (from an
// answer kept since nothing changed) or Built (read from the store and encoded). The daemon
// shares it with /metrics.
type AnswerCounts struct {
	Kept, Built atomic.Uint64
}

// At most 16 MiB kept: the listings people poll (the queue, a few filters) fit many times over.
const (
	maxAnswers     = 16
	maxAnswerBytes = 1 << 20
)

// answer is one request's encoded answer, or the promise of it while ready is open.
type answer struct {
	stamp stamp
	ready chan struct{}
	body  []byte // nil when building it failed: build again
}

// stamp returns the versions an answer built now would carry, and false when answers
// cannot be kept (the store or the warnings have no version, or it could not be read).
func (s *server) stamp(ctx context.Context) (stamp, bool) {
	vs, ok := s.opt.Store.(versionedStore)
	if !ok {
		return stamp{}, false
	}
	var st stamp
	if s.opt.Warnings != nil {
		vw, ok := s.opt.Warnings.(versionedWarnings)
		if !ok {
			return stamp{}, false
		}
		// Rules first: a reload between the two reads then shows as a newer data version
		// or a newer rules version at the next request, never as an old one.
		st.rules = vw.WarningsVersion()
	}
	v, err := vs.Version(ctx)
	if err != nil {
		return stamp{}, false // the build will meet the same error and report it
	}
	st.data = v
	return st, true
}

// get returns the answer to key, building it with build when none was kept for the current
// versions. Builds that fail are not kept: their error goes to their own request only, and a
// request that waited for one builds its own answer.
func (a *answers) get(ctx context.Context, key string, st stamp, build func() ([]byte, error)) ([]byte, error) {
	for {
		a.mu.Lock()
		e := a.entries[key]
		if e == nil || e.stamp != st {
			if e != nil && e.stamp.newer(st) {
				// Built from newer data than this request saw: it is still a right
				// answer, given after the change it reflects was acknowledged.
				a.mu.Unlock()
				if body := e.wait(ctx); body != nil {
					a.counts.Kept.Add(1)
					return body, nil
				}
				a.counts.Built.Add(1)
				return build()
			}
			e = &answer{stamp: st, ready: make(chan struct{})}
			a.put(key, e)
			a.mu.Unlock()
			a.counts.Built.Add(1)
			body, err := build()
			if err == nil {
				e.body = body // the requests waiting for it get it, kept or not
			}
			close(e.ready)
			if e.body == nil || len(body) > maxAnswerBytes {
				a.drop(key, e)
			}
			return body, err
		}
		a.mu.Unlock()
		if body := e.wait(ctx); body != nil {
			a.counts.Kept.Add(1)
			return body, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The build failed: try again (this request may build it).
		a.drop(key, e)
	}
}

// newer reports whether s was built from data at least as new as t's, on other versions.
func (s stamp) newer(t stamp) bool {
	return s.data >= t.data && s.rules >= t.rules && s != t
}

// wait returns the answer once it is built, nil if building failed or ctx ended first.
func (e *answer) wait(ctx context.Context) []byte {
	select {
	case <-e.ready:
		return e.body
	case <-ctx.Done():
		return nil
	}
}

func (a *answers) put(key string, e *answer) {
	if a.entries == nil {
		a.entries = map[string]*answer{}
	}
	if _, ok := a.entries[key]; !ok && len(a.entries) >= maxAnswers {
		// Many distinct requests (a script paging through the whole queue): forget them
		// all rather than track ages; the queue's first pages come back at once.
		clear(a.entries)
	}
	a.entries[key] = e
}

// drop forgets e if it is still the answer kept for key.
func (a *answers) drop(key string, e *answer) {
	a.mu.Lock()
	if a.entries[key] == e {
		delete(a.entries, key)
	}
	a.mu.Unlock()
}
