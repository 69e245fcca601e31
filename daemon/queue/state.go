package queue

import "fmt"

// PostState is the supervision state of a post. The legal moves between states live in
// transitions below and nowhere else; an illegal move is an error, never a silent no-op.
type PostState string

const (
	PostDraft      PostState = "draft"
	PostPending    PostState = "pending"    // waits for a person (or autopilot)
	PostApproved   PostState = "approved"   // will be published when due
	PostHeld       PostState = "held"       // stopped by a person or a rule; release sends it back to pending
	PostRejected   PostState = "rejected"   // a person said no
	PostPublishing PostState = "publishing" // at least one delivery is being published
	PostPublished  PostState = "published"  // every delivery published
	PostFailed     PostState = "failed"     // a delivery failed for good
	PostUnknown    PostState = "unknown"    // a delivery's outcome is not known: a person decides
	PostMissed     PostState = "missed"     // its time passed beyond `late`: a person reschedules it
)

// PostStates lists every post state, in lifecycle order (for CHECK constraints and filters).
var PostStates = []PostState{PostDraft, PostPending, PostApproved, PostHeld, PostRejected,
	PostPublishing, PostPublished, PostFailed, PostUnknown, PostMissed}

// Valid reports whether s is a known post state.
func (s PostState) Valid() bool {
	for _, k := range PostStates {
		if s == k {
			return true
		}
	}
	return false
}

// Event is something that happens to a post.
type Event string

const (
	EventSubmit  Event = "submit"  // draft -> pending
	EventApprove Event = "approve" // pending -> approved (a person, or autopilot)
	EventReject  Event = "reject"  // -> rejected
	EventEdit    Event = "edit"    // text/time changed: approval is cancelled
	EventHold    Event = "hold"    // -> held (a person or a rule)
	EventRelease Event = "release" // held -> pending
	EventClaim   Event = "claim"   // approved -> publishing (the publisher, through the gate)
	EventRetry   Event = "retry"   // publishing -> approved (backoff), or failed/unknown -> approved (a person resends)
	EventSucceed Event = "succeed" // publishing -> published; unknown -> published (a person says it went out)
	EventFail    Event = "fail"    // publishing -> failed; unknown -> failed (a person says it did not)
	EventLose    Event = "lose"    // publishing -> unknown (crash recovery could not tell)
	EventMiss    Event = "miss"    // due time passed beyond late -> missed
)

// transitions is the state machine of SPEC section 3: for each event, the states it may
// start from and the state it leads to. EventEdit keeps a draft a draft and a held post held.
var transitions = map[Event]struct {
	from []PostState
	to   PostState
}{
	EventSubmit:  {[]PostState{PostDraft}, PostPending},
	EventApprove: {[]PostState{PostPending}, PostApproved},
	EventReject:  {[]PostState{PostPending, PostApproved, PostHeld, PostMissed}, PostRejected},
	EventEdit:    {[]PostState{PostDraft, PostPending, PostApproved, PostRejected, PostMissed, PostHeld}, PostPending},
	EventHold:    {[]PostState{PostPending, PostApproved}, PostHeld},
	EventRelease: {[]PostState{PostHeld}, PostPending},
	EventClaim:   {[]PostState{PostApproved, PostPublishing}, PostPublishing},
	EventRetry:   {[]PostState{PostPublishing, PostFailed, PostUnknown}, PostApproved},
	EventSucceed: {[]PostState{PostPublishing, PostUnknown}, PostPublished},
	EventFail:    {[]PostState{PostPublishing, PostUnknown}, PostFailed},
	EventLose:    {[]PostState{PostPublishing}, PostUnknown},
	EventMiss:    {[]PostState{PostPending, PostApproved, PostHeld}, PostMissed},
}

// Events lists the events a person can send through the API/CLI.
var PersonEvents = []Event{EventSubmit, EventApprove, EventReject, EventHold, EventRelease, EventRetry, EventSucceed, EventFail}

// Next returns the state a post in state from reaches on event ev, or an error of kind
// Conflict when the move is not legal.
func Next(from PostState, ev Event) (PostState, error) {
	t, ok := transitions[ev]
	if !ok {
		return "", Errorf(Invalid, "event", "unknown event %q", ev)
	}
	for _, s := range t.from {
		if s == from {
			if ev == EventEdit && (from == PostDraft || from == PostHeld) {
				return from, nil
			}
			return t.to, nil
		}
	}
	return "", Errorf(Conflict, "state", "cannot %s a post that is %s (allowed from: %s)", ev, from, joinStates(t.from))
}

// Editable reports whether a post in state s may still be edited (its content is not out).
func Editable(s PostState) bool {
	_, err := Next(s, EventEdit)
	return err == nil
}

func joinStates(ss []PostState) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += string(s)
	}
	return out
}

// Aggregate computes a post's state from its deliveries once publishing has started:
// any in flight -> publishing; any waiting (retry backoff) -> approved; then unknown beats
// failed beats published, because a person must look at the worst outcome.
func Aggregate(ds []*Delivery) PostState {
	var waiting, publishing, unknown, failed bool
	for _, d := range ds {
		switch d.State {
		case DeliveryPublishing:
			publishing = true
		case DeliveryWaiting:
			waiting = true
		case DeliveryUnknown:
			unknown = true
		case DeliveryFailed:
			failed = true
		}
	}
	switch {
	case publishing:
		return PostPublishing
	case waiting:
		return PostApproved
	case unknown:
		return PostUnknown
	case failed:
		return PostFailed
	default:
		return PostPublished
	}
}

// String makes Event printable in messages.
func (e Event) String() string { return string(e) }

var _ fmt.Stringer = Event("")
