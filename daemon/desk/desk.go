// Package desk is tact's command layer: the state-changing actions a person takes on the
// queue (approve, hold, release, reject, retry, succeed, fail, submit), written once and
// called by every front end. The HTTP API (daemon/api) and the web UI (daemon/web) decode
// a request, call a Desk method and encode or render its answer; the checks a person's
// action needs and the publisher's wake-up after it live here, so the front ends cannot
// drift. The Store still enforces the state machine and writes the audit entry in the same
// transaction (docs/api.md lists the actions).
package desk

import (
	"context"

	"github.com/tact-hq/tact/daemon/queue"
)

// Waker wakes the scheduler and publisher when a change may make a post due now.
type Waker interface{ Kick() }

// Desk runs commands against a Store. Waker may be nil (nothing to wake).
type Desk struct {
	Store queue.Store
	Waker Waker
}

// New returns a Desk over st that wakes w after changes that can make a post due.
func New(st queue.Store, w Waker) *Desk { return &Desk{Store: st, Waker: w} }

// Apply moves post id by ev for by, at version (0: whatever version is stored now). A
// reject needs a reason, so the author knows what to change. After a move that can make
// the post due (approve, release, retry, submit) the publisher is woken.
func (d *Desk) Apply(ctx context.Context, by queue.Actor, id, version int64, ev queue.Event, reason string) (*queue.Post, error) {
	if ev == queue.EventReject && reason == "" {
		return nil, queue.Errorf(queue.Invalid, "reason", "a reason is required to reject: say what is wrong so the author can fix it")
	}
	p, err := d.Store.Apply(ctx, by, id, version, ev, reason)
	if err != nil {
		return nil, err
	}
	if wakes(ev) {
		d.wake()
	}
	return p, nil
}

// wakes says whether a post moved by ev may be due now, so the publisher must look again.
func wakes(ev queue.Event) bool {
	switch ev {
	case queue.EventApprove, queue.EventRelease, queue.EventRetry, queue.EventSubmit:
		return true
	}
	return false
}

func (d *Desk) wake() {
	if d.Waker != nil {
		d.Waker.Kick()
	}
}
