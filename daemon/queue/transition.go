package queue

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DeliveryStates lists every delivery state, in lifecycle order.
var DeliveryStates = []DeliveryState{DeliveryWaiting, DeliveryPublishing, DeliveryPublished, DeliveryFailed, DeliveryUnknown}

// Valid reports whether s is a known delivery state.
func (s DeliveryState) Valid() bool {
	for _, k := range DeliveryStates {
		if s == k {
			return true
		}
	}
	return false
}

// deliveryTransitions is the state machine of one delivery (docs/api.md, "Delivery
// states"), with the post events that move it: the publisher claims a waiting delivery and
// records how its publish ended; a person resends a failed or unknown one (retry) or says
// what became of an unknown one (succeed, fail).
var deliveryTransitions = map[Event]struct {
	from []DeliveryState
	to   DeliveryState
}{
	EventClaim:   {[]DeliveryState{DeliveryWaiting}, DeliveryPublishing},
	EventRetry:   {[]DeliveryState{DeliveryPublishing, DeliveryFailed, DeliveryUnknown}, DeliveryWaiting},
	EventSucceed: {[]DeliveryState{DeliveryPublishing, DeliveryUnknown}, DeliveryPublished},
	EventFail:    {[]DeliveryState{DeliveryPublishing, DeliveryUnknown}, DeliveryFailed},
	EventLose:    {[]DeliveryState{DeliveryPublishing}, DeliveryUnknown},
}

// DeliveryEvents lists the events that move a delivery, in the order of the table.
var DeliveryEvents = []Event{EventClaim, EventRetry, EventSucceed, EventFail, EventLose}

// NextDelivery returns the state a delivery in state from reaches on event ev, or an error
// of kind Conflict when the move is not legal (Invalid for an event deliveries do not have).
func NextDelivery(from DeliveryState, ev Event) (DeliveryState, error) {
	t, ok := deliveryTransitions[ev]
	if !ok {
		return "", Errorf(Invalid, "event", "a delivery has no event %q", ev)
	}
	for _, s := range t.from {
		if s == from {
			return t.to, nil
		}
	}
	var allowed []string
	for _, s := range t.from {
		allowed = append(allowed, string(s))
	}
	return "", Errorf(Conflict, "state", "cannot %s a delivery that is %s (allowed from: %s)", ev, from, strings.Join(allowed, ", "))
}

// DeliveryChange is one move of a delivery: the event, the state it was read in (a store
// writes the change only if the delivery is still in it: compare-and-set), and the delivery
// as it is after the move, every column of it.
type DeliveryChange struct {
	Event    Event
	From     DeliveryState
	Delivery Delivery
	// AuthError marks a delivery that waits because its account needs a person (an
	// Outcome's AuthError): its post is held once nothing of it is in flight. Every move
	// sets or clears the mark.
	AuthError bool
}

// move applies ev to a copy of d, or refuses it.
func (d *Delivery) move(ev Event) (DeliveryChange, error) {
	to, err := NextDelivery(d.State, ev)
	if err != nil {
		return DeliveryChange{}, err
	}
	ch := DeliveryChange{Event: ev, From: d.State, Delivery: *d}
	ch.Delivery.State = to
	return ch, nil
}

// Claim is the publisher taking a waiting delivery at now: it is publishing, one attempt
// more, started now.
func (d *Delivery) Claim(now time.Time) (DeliveryChange, error) {
	ch, err := d.move(EventClaim)
	if err != nil {
		return ch, err
	}
	ch.Delivery.Attempts++
	ch.Delivery.StartedAt, ch.Delivery.FinishedAt = now, time.Time{}
	return ch, nil
}

// Finish records how the publish of a claimed delivery ended at now: published (with the
// network's id and address), failed, unknown, or waiting for a retry at o.RetryAt; an
// AuthError always waits. Only a publishing delivery has an outcome to record.
func (d *Delivery) Finish(o Outcome, now time.Time) (DeliveryChange, error) {
	if err := o.Check(); err != nil {
		return DeliveryChange{}, err
	}
	ev := outcomeEvents[o.State]
	if d.State != DeliveryPublishing {
		return DeliveryChange{}, Errorf(Conflict, "state", "delivery %d (post %d, account %s) is %s, not publishing: its outcome was already recorded",
			d.ID, d.PostID, d.Account, d.State)
	}
	ch, err := d.move(ev)
	if err != nil {
		return ch, err
	}
	n := &ch.Delivery
	switch o.State {
	case DeliveryWaiting:
		n.NextAttemptAt, n.LastError, ch.AuthError = o.RetryAt, o.Error, o.AuthError
	case DeliveryPublished:
		n.RemoteID, n.URL, n.LastError, n.FinishedAt = o.RemoteID, o.URL, "", now
	default:
		n.LastError, n.FinishedAt = o.Error, now
	}
	return ch, nil
}

// outcomeEvents are the delivery events by which a publish ends, by the state it ends in.
var outcomeEvents = map[DeliveryState]Event{DeliveryWaiting: EventRetry, DeliveryPublished: EventSucceed,
	DeliveryFailed: EventFail, DeliveryUnknown: EventLose}

// Check refuses an outcome no publish has, and makes an AuthError's outcome waiting: the
// account needs attention, the post waits, held.
func (o *Outcome) Check() error {
	if o.AuthError {
		o.State = DeliveryWaiting
	}
	if _, ok := outcomeEvents[o.State]; !ok {
		return Errorf(Invalid, "state", "a publish ends published, failed, unknown or waiting (retry), not %q", o.State)
	}
	return nil
}

// byHand is a person's decision about a delivery of a failed or unknown post: retry sends
// the failed and unknown ones again (same idempotency key, at once); succeed and fail
// settle the unknown ones. ok is false for a delivery the decision is not about.
func (d *Delivery) byHand(ev Event, now time.Time) (ch DeliveryChange, ok bool) {
	switch {
	case ev == EventRetry && (d.State == DeliveryFailed || d.State == DeliveryUnknown):
		ch, _ = d.move(ev)
		ch.Delivery.NextAttemptAt, ch.Delivery.FinishedAt = time.Time{}, time.Time{}
	case (ev == EventSucceed || ev == EventFail) && d.State == DeliveryUnknown:
		ch, _ = d.move(ev)
		ch.Delivery.FinishedAt = now
	default:
		return ch, false
	}
	return ch, true
}

// PostChange is one move of a post: what a store writes (compare-and-set on From and the
// post's version) and records in the audit log.
type PostChange struct {
	// Event is the event applied, which is not always the one asked: a person's succeed
	// on a post whose other delivery failed for good is a fail.
	Event      Event
	From, To   PostState
	Reason     string // the post's reason after the move (see Post.Reason)
	ApprovedBy string
	ApprovedAt time.Time
	// Detail is the audit log's line: "from -> to", with the reason given.
	Detail string
	// Deliveries are the moves of the post's deliveries that go with a person's retry,
	// succeed or fail; the store writes them before the post.
	Deliveries []DeliveryChange
}

// Transition is the move of p by ev, by whom, at now (docs/api.md, "Post states"). It
// refuses a move the state machine does not allow (Conflict, naming the post). An approval
// is for the post as approved, in the context it was approved in: editing, holding,
// releasing, rejecting, missing or resubmitting the post voids it. reason is kept on the
// post for a rejection, a hold, a miss or a failure; a claim keeps the post's reason.
func (p *Post) Transition(by Actor, ev Event, reason string, now time.Time) (PostChange, error) {
	to, err := Next(p.State, ev)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return PostChange{}, &Error{Kind: e.Kind, Field: e.Field, Message: fmt.Sprintf("post %d: %s", p.ID, e.Message)}
		}
		return PostChange{}, err
	}
	ch := PostChange{Event: ev, From: p.State, To: to, ApprovedBy: p.ApprovedBy, ApprovedAt: p.ApprovedAt}
	switch ev {
	case EventApprove:
		ch.ApprovedBy, ch.ApprovedAt = by.String(), now
	case EventEdit, EventHold, EventRelease, EventReject, EventMiss, EventSubmit:
		ch.ApprovedBy, ch.ApprovedAt = "", time.Time{}
	}
	switch ev {
	case EventReject, EventHold, EventMiss, EventFail, EventLose:
		ch.Reason = reason
	case EventClaim:
		ch.Reason = p.Reason
	}
	ch.Detail = string(ch.From) + " -> " + string(to)
	if reason != "" {
		ch.Detail += ": " + reason
	}
	return ch, nil
}

// PersonTransition is the move of p by an event a person sends (PersonEvents): approve
// refuses a post a network refuses (Problems); retry, succeed and fail are for a failed or
// unknown post only, and carry the moves of the deliveries they are about.
func (p *Post) PersonTransition(by Actor, ev Event, reason string, now time.Time) (PostChange, error) {
	var deliveries []DeliveryChange
	switch ev {
	case EventApprove:
		if len(p.Problems) > 0 {
			return PostChange{}, Errorf(Conflict, "problems", "post %d cannot be approved: a target network refuses it: %s; edit the post first",
				p.ID, strings.Join(p.Problems, "; "))
		}
	case EventRetry, EventSucceed, EventFail:
		if p.State != PostFailed && p.State != PostUnknown {
			return PostChange{}, Errorf(Conflict, "state", "post %d is %s: only a failed or unknown post can be retried or marked by hand", p.ID, p.State)
		}
		if ev != EventRetry && p.State != PostUnknown {
			return PostChange{}, Errorf(Conflict, "state", "post %d is %s: only a post whose outcome is unknown can be marked published or failed", p.ID, p.State)
		}
		after := make([]*Delivery, len(p.Deliveries))
		for i, d := range p.Deliveries {
			after[i] = d
			if ch, ok := d.byHand(ev, now); ok {
				deliveries = append(deliveries, ch)
				after[i] = &deliveries[len(deliveries)-1].Delivery
			}
		}
		if ev == EventSucceed && Aggregate(after) == PostFailed {
			// Another delivery failed for good: the post as a whole failed.
			ev = EventFail
			if reason == "" {
				reason = "another account's delivery failed"
			}
		}
	}
	ch, err := p.Transition(by, ev, reason, now)
	ch.Deliveries = deliveries
	return ch, err
}

// Settle is the move that brings p to the state its deliveries add up to (Aggregate) after
// one of them changed, with the reason people see; ok is false when p stays publishing
// (another delivery is in flight) and only its version changes.
func (p *Post) Settle() (ev Event, reason string, ok bool) {
	switch Aggregate(p.Deliveries) {
	case PostApproved:
		return EventRetry, "", true
	case PostPublished:
		return EventSucceed, "", true
	case PostFailed:
		return EventFail, deliveryErrors(p, DeliveryFailed), true
	case PostUnknown:
		return EventLose, deliveryErrors(p, DeliveryUnknown), true
	}
	return "", "", false
}

// AuthHoldReason is why a post is held when account needs a person (an AuthError).
func AuthHoldReason(account, lastError string) string {
	return fmt.Sprintf("account %s needs attention: %s", account, lastError)
}

// deliveryErrors summarises the errors of p's deliveries in state s, for the post's reason.
func deliveryErrors(p *Post, s DeliveryState) string {
	var parts []string
	for _, d := range p.Deliveries {
		if d.State == s {
			msg := "account " + d.Account
			if d.LastError != "" {
				msg += ": " + d.LastError
			}
			parts = append(parts, msg)
		}
	}
	return strings.Join(parts, "; ")
}

// Apply writes ch into p, once a store has stored it.
func (p *Post) Apply(ch PostChange, now time.Time) {
	p.State, p.Reason, p.ApprovedBy, p.ApprovedAt = ch.To, ch.Reason, ch.ApprovedBy, ch.ApprovedAt
	p.Version++
	p.UpdatedAt = now
	for _, dc := range ch.Deliveries {
		for _, d := range p.Deliveries {
			if d.ID == dc.Delivery.ID {
				*d = dc.Delivery
			}
		}
	}
}
