package queue

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ann = Actor{Kind: ActorUser, Name: "ann"}
)

// TestPostTransitionTable moves a post in every state by every event and checks the state
// it reaches, or that the move is refused as a Conflict naming the post.
func TestPostTransitionTable(t *testing.T) {
	// want[event][from] is the state reached; a missing entry is a refusal.
	want := map[Event]map[PostState]PostState{
		EventSubmit:  {PostDraft: PostPending},
		EventApprove: {PostPending: PostApproved},
		EventReject:  {PostPending: PostRejected, PostApproved: PostRejected, PostHeld: PostRejected, PostMissed: PostRejected},
		EventEdit: {PostDraft: PostDraft, PostPending: PostPending, PostApproved: PostPending, PostRejected: PostPending,
			PostMissed: PostPending, PostHeld: PostHeld},
		EventHold:    {PostPending: PostHeld, PostApproved: PostHeld},
		EventRelease: {PostHeld: PostPending},
		EventClaim:   {PostApproved: PostPublishing, PostPublishing: PostPublishing},
		EventRetry:   {PostPublishing: PostApproved, PostFailed: PostApproved, PostUnknown: PostApproved},
		EventSucceed: {PostPublishing: PostPublished, PostUnknown: PostPublished},
		EventFail:    {PostPublishing: PostFailed, PostUnknown: PostFailed},
		EventLose:    {PostPublishing: PostUnknown},
		EventMiss:    {PostPending: PostMissed, PostApproved: PostMissed, PostHeld: PostMissed},
	}
	for ev, tos := range want {
		for _, from := range PostStates {
			p := &Post{ID: 7, State: from, Reason: "earlier", ApprovedBy: "user:bob", ApprovedAt: t0.Add(-time.Hour)}
			ch, err := p.Transition(ann, ev, "why", t0)
			to, legal := tos[from]
			if !legal {
				if ErrorKind(err) != Conflict || !strings.HasPrefix(err.Error(), "post 7: cannot "+string(ev)) {
					t.Errorf("%s from %s: %v, want a Conflict saying post 7 cannot %s", ev, from, err, ev)
				}
				continue
			}
			if err != nil || ch.To != to || ch.From != from || ch.Event != ev {
				t.Errorf("%s from %s: %+v, %v; want %s", ev, from, ch, err, to)
				continue
			}
			if ch.Detail != string(from)+" -> "+string(to)+": why" {
				t.Errorf("%s from %s: audit detail %q", ev, from, ch.Detail)
			}
			// The approval: given by approve, voided by what changes the post or its context.
			switch ev {
			case EventApprove:
				if ch.ApprovedBy != "user:ann" || !ch.ApprovedAt.Equal(t0) {
					t.Errorf("approve: approved by %q at %s", ch.ApprovedBy, ch.ApprovedAt)
				}
			case EventEdit, EventHold, EventRelease, EventReject, EventMiss, EventSubmit:
				if ch.ApprovedBy != "" || !ch.ApprovedAt.IsZero() {
					t.Errorf("%s from %s keeps the approval (%s)", ev, from, ch.ApprovedBy)
				}
			default:
				if ch.ApprovedBy != "user:bob" {
					t.Errorf("%s from %s drops the approval", ev, from)
				}
			}
			// The reason people see.
			wantReason := ""
			switch ev {
			case EventReject, EventHold, EventMiss, EventFail, EventLose:
				wantReason = "why"
			case EventClaim:
				wantReason = "earlier"
			}
			if ch.Reason != wantReason {
				t.Errorf("%s from %s: reason %q, want %q", ev, from, ch.Reason, wantReason)
			}
		}
	}
	if _, err := (&Post{State: PostPending}).Transition(ann, "explode", "", t0); ErrorKind(err) != Invalid {
		t.Errorf("unknown event: %v, want Invalid", err)
	}
}

// TestDeliveryTransitionTable does the same for a delivery.
func TestDeliveryTransitionTable(t *testing.T) {
	want := map[Event]map[DeliveryState]DeliveryState{
		EventClaim:   {DeliveryWaiting: DeliveryPublishing},
		EventRetry:   {DeliveryPublishing: DeliveryWaiting, DeliveryFailed: DeliveryWaiting, DeliveryUnknown: DeliveryWaiting},
		EventSucceed: {DeliveryPublishing: DeliveryPublished, DeliveryUnknown: DeliveryPublished},
		EventFail:    {DeliveryPublishing: DeliveryFailed, DeliveryUnknown: DeliveryFailed},
		EventLose:    {DeliveryPublishing: DeliveryUnknown},
	}
	for _, ev := range append(slices.Clone(DeliveryEvents), EventApprove, EventHold) {
		for _, from := range DeliveryStates {
			to, err := NextDelivery(from, ev)
			wantTo, legal := want[ev][from]
			switch {
			case want[ev] == nil:
				if ErrorKind(err) != Invalid {
					t.Errorf("%s from %s: %v, want Invalid (not a delivery event)", ev, from, err)
				}
			case !legal:
				if ErrorKind(err) != Conflict || !strings.Contains(err.Error(), "cannot "+string(ev)+" a delivery that is "+string(from)) {
					t.Errorf("%s from %s: %v, want a Conflict", ev, from, err)
				}
			case err != nil || to != wantTo:
				t.Errorf("%s from %s = %s, %v; want %s", ev, from, to, err, wantTo)
			}
		}
	}
}

func TestDeliveryClaimAndFinish(t *testing.T) {
	waiting := Delivery{ID: 3, PostID: 7, Account: "m", State: DeliveryWaiting, Attempts: 1, NextAttemptAt: t0.Add(-time.Minute),
		LastError: "503", FinishedAt: t0.Add(-time.Hour), IdempotencyKey: "k"}
	ch, err := waiting.Claim(t0)
	if err != nil || ch.From != DeliveryWaiting || ch.Delivery.State != DeliveryPublishing || ch.Delivery.Attempts != 2 ||
		!ch.Delivery.StartedAt.Equal(t0) || !ch.Delivery.FinishedAt.IsZero() || ch.Delivery.IdempotencyKey != "k" {
		t.Fatalf("Claim = %+v, %v", ch, err)
	}
	if _, err := ch.Delivery.Claim(t0); ErrorKind(err) != Conflict {
		t.Errorf("claiming a publishing delivery: %v, want Conflict", err)
	}
	publishing := ch.Delivery
	now := t0.Add(time.Second)
	for _, tc := range []struct {
		name string
		o    Outcome
		want Delivery
		auth bool
	}{
		{"published", Outcome{State: DeliveryPublished, RemoteID: "r1", URL: "https://x/r1"},
			Delivery{State: DeliveryPublished, RemoteID: "r1", URL: "https://x/r1", FinishedAt: now}, false},
		{"retry later", Outcome{State: DeliveryWaiting, Error: "429", RetryAt: now.Add(time.Minute)},
			Delivery{State: DeliveryWaiting, LastError: "429", NextAttemptAt: now.Add(time.Minute)}, false},
		{"auth error waits whatever it says", Outcome{State: DeliveryFailed, Error: "token revoked", AuthError: true},
			Delivery{State: DeliveryWaiting, LastError: "token revoked"}, true},
		{"failed", Outcome{State: DeliveryFailed, Error: "422"}, Delivery{State: DeliveryFailed, LastError: "422", FinishedAt: now}, false},
		{"unknown", Outcome{State: DeliveryUnknown, Error: "timeout"}, Delivery{State: DeliveryUnknown, LastError: "timeout", FinishedAt: now}, false},
	} {
		ch, err := publishing.Finish(tc.o, now)
		w := publishing
		w.State, w.RemoteID, w.URL, w.LastError, w.FinishedAt = tc.want.State, tc.want.RemoteID, tc.want.URL, tc.want.LastError, tc.want.FinishedAt
		if w.State == DeliveryWaiting { // a retry's time; other outcomes leave it as it was
			w.NextAttemptAt = tc.want.NextAttemptAt
		}
		if err != nil || ch.Delivery != w || ch.AuthError != tc.auth || ch.From != DeliveryPublishing {
			t.Errorf("%s: Finish = %+v, %v; want %+v (auth %v)", tc.name, ch, err, w, tc.auth)
		}
	}
	if _, err := publishing.Finish(Outcome{State: DeliveryPublishing}, now); ErrorKind(err) != Invalid {
		t.Errorf("an outcome of publishing: %v, want Invalid", err)
	}
	if _, err := waiting.Finish(Outcome{State: DeliveryPublished}, now); ErrorKind(err) != Conflict || !strings.Contains(err.Error(), "already recorded") {
		t.Errorf("finishing a waiting delivery: %v, want a Conflict saying its outcome was already recorded", err)
	}
}

// TestPersonTransition checks what a person's events add to the state machine: problems
// block an approval; retry, succeed and fail are for failed and unknown posts and settle
// the deliveries they are about.
func TestPersonTransition(t *testing.T) {
	post := func(s PostState, ds ...DeliveryState) *Post {
		p := &Post{ID: 9, State: s}
		for i, d := range ds {
			p.Deliveries = append(p.Deliveries, &Delivery{ID: int64(i + 1), PostID: 9, Account: string(rune('a' + i)), State: d,
				Attempts: 1, NextAttemptAt: t0.Add(-time.Hour), FinishedAt: t0.Add(-time.Minute)})
		}
		return p
	}
	if _, err := (&Post{ID: 9, State: PostPending, Problems: []string{"too long"}}).PersonTransition(ann, EventApprove, "", t0); ErrorKind(err) != Conflict || ErrorField(err) != "problems" {
		t.Errorf("approving a post with problems: %v, want a Conflict on problems", err)
	}
	for _, s := range PostStates {
		for _, ev := range []Event{EventRetry, EventSucceed, EventFail} {
			_, err := post(s, DeliveryUnknown).PersonTransition(ann, ev, "", t0)
			legal := s == PostUnknown || (s == PostFailed && ev == EventRetry)
			if legal != (err == nil) {
				t.Errorf("%s of a %s post: %v", ev, s, err)
			}
		}
	}

	ch, err := post(PostFailed, DeliveryPublished, DeliveryFailed, DeliveryUnknown).PersonTransition(ann, EventRetry, "", t0)
	if err != nil || ch.To != PostApproved || len(ch.Deliveries) != 2 {
		t.Fatalf("retry: %+v, %v; want approved, with the failed and unknown deliveries waiting", ch, err)
	}
	for _, dc := range ch.Deliveries {
		if dc.Delivery.State != DeliveryWaiting || !dc.Delivery.NextAttemptAt.IsZero() || !dc.Delivery.FinishedAt.IsZero() || dc.Delivery.Attempts != 1 {
			t.Errorf("retry of delivery %d: %+v", dc.Delivery.ID, dc.Delivery)
		}
	}

	ch, err = post(PostUnknown, DeliveryPublished, DeliveryUnknown).PersonTransition(ann, EventSucceed, "seen on the network", t0)
	if err != nil || ch.To != PostPublished || len(ch.Deliveries) != 1 || ch.Deliveries[0].Delivery.State != DeliveryPublished || !ch.Deliveries[0].Delivery.FinishedAt.Equal(t0) {
		t.Errorf("succeed: %+v, %v", ch, err)
	}
	ch, err = post(PostUnknown, DeliveryFailed, DeliveryUnknown).PersonTransition(ann, EventSucceed, "", t0)
	if err != nil || ch.Event != EventFail || ch.To != PostFailed || ch.Reason != "another account's delivery failed" {
		t.Errorf("succeed while another delivery failed: %+v, %v; want fail, saying why", ch, err)
	}
	ch, err = post(PostUnknown, DeliveryUnknown, DeliveryUnknown).PersonTransition(ann, EventFail, "not there", t0)
	if err != nil || ch.To != PostFailed || len(ch.Deliveries) != 2 || ch.Deliveries[1].Delivery.State != DeliveryFailed {
		t.Errorf("fail: %+v, %v", ch, err)
	}
}

func TestPostSettle(t *testing.T) {
	for _, tc := range []struct {
		ds     []DeliveryState
		ev     Event
		reason string
		ok     bool
	}{
		{[]DeliveryState{DeliveryPublished, DeliveryPublishing}, "", "", false},
		{[]DeliveryState{DeliveryPublished, DeliveryWaiting}, EventRetry, "", true},
		{[]DeliveryState{DeliveryPublished, DeliveryPublished}, EventSucceed, "", true},
		{[]DeliveryState{DeliveryFailed, DeliveryPublished}, EventFail, "account a: 422", true},
		{[]DeliveryState{DeliveryFailed, DeliveryUnknown}, EventLose, "account b: timeout", true},
	} {
		p := &Post{}
		for i, s := range tc.ds {
			errText := map[DeliveryState]string{DeliveryFailed: "422", DeliveryUnknown: "timeout"}[s]
			p.Deliveries = append(p.Deliveries, &Delivery{Account: string(rune('a' + i)), State: s, LastError: errText})
		}
		ev, reason, ok := p.Settle()
		if ev != tc.ev || reason != tc.reason || ok != tc.ok {
			t.Errorf("%v: Settle = %s %q %v, want %s %q %v", tc.ds, ev, reason, ok, tc.ev, tc.reason, tc.ok)
		}
	}
}
