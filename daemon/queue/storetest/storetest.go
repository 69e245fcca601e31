// Package storetest is the behaviour every queue.Store must have, as one test suite that each
// backend runs against itself (daemon/sqlite today, PostgreSQL later):
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) queue.Store {
//			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"), sqlite.WithClock(now))
//			...
//			return db
//		})
//	}
//
// The suite drives time through the now function it passes in, never through the wall clock,
// and closes every store it opens.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Opener returns a fresh, empty store that takes "now" from now. The suite closes it.
type Opener func(t *testing.T, now func() time.Time) queue.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"CampaignValidation", testCampaignValidation},
		{"CampaignCreateRead", testCampaignCreateRead},
		{"CampaignUpdate", testCampaignUpdate},
		{"AddTick", testAddTick},
		{"PauseResume", testPauseResume},
		{"PauseAllResumeAll", testPauseAllResumeAll},
		{"PostValidation", testPostValidation},
		{"CreatePostsAtomic", testCreatePostsAtomic},
		{"Transitions", testTransitions},
		{"NonPersonEvents", testNonPersonEvents},
		{"VersionConflicts", testVersionConflicts},
		{"ApproveRefusesProblems", testApproveRefusesProblems},
		{"EditPost", testEditPost},
		{"DeletePost", testDeletePost},
		{"PostsPagination", testPostsPagination},
		{"PostsFilters", testPostsFilters},
		{"CountPosts", testCountPosts},
		{"ScanOpenPosts", testScanOpenPosts},
		{"ClaimDue", testClaimDue},
		{"PausedCampaignNeverPublishes", testPausedCampaignNeverPublishes},
		{"AccountLimits", testAccountLimits},
		{"Gate", testGate},
		{"RetryKeepsIdempotencyKey", testRetryKeepsIdempotencyKey},
		{"FinishOutcomes", testFinishOutcomes},
		{"AuthErrorHolds", testAuthErrorHolds},
		{"PersonSettlesUnknown", testPersonSettlesUnknown},
		{"InFlight", testInFlight},
		{"AutoApprove", testAutoApprove},
		{"MarkMissed", testMarkMissed},
		{"NextWake", testNextWake},
		{"ConcurrentClaims", testConcurrentClaims},
		{"AccountStatus", testAccountStatus},
		{"Context", testContext},
		{"RecordIncident", testRecordIncident},
		{"ApplyIncident", testApplyIncident},
		{"CloseExpiredAutoResume", testCloseExpiredAutoResume},
		{"ResolveIncident", testResolveIncident},
		{"Incidents", testIncidents},
		{"Audit", testAudit},
		{"Users", testUsers},
		{"SessionLifecycle", testSessionLifecycle},
		{"SessionValidation", testSessionValidation},
		{"SessionsEndWithTheUser", testSessionsEndWithTheUser},
		{"SessionPruning", testSessionPruning},
		{"CredentialLifecycle", testCredentialLifecycle},
		{"AccountActivity", testAccountActivity},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Clock is a settable clock shared by a test and the store under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC()
}

// Start is when every test's clock starts: a Monday morning, UTC.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var (
	ann = queue.Actor{Kind: queue.ActorUser, Name: "ann"}
	bob = queue.Actor{Kind: queue.ActorUser, Name: "bob"}
)

// env is one test's store, clock and helpers.
type env struct {
	t     *testing.T
	s     queue.Store
	clock *Clock
	ctx   context.Context
	n     int // for unique names
}

func setup(t *testing.T, open Opener) *env {
	t.Helper()
	clock := NewClock(Start)
	s := open(t, clock.Now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &env{t: t, s: s, clock: clock, ctx: context.Background()}
}

func (e *env) now() time.Time { return e.clock.Now() }

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// campaign creates an active campaign with its own account (so that account limits of one
// test case never touch another's), changed by mods first.
func (e *env) campaign(mods ...func(*queue.Campaign)) *queue.Campaign {
	e.t.Helper()
	e.n++
	c := &queue.Campaign{Name: fmt.Sprintf("campaign-%d", e.n), Accounts: []string{fmt.Sprintf("acct-%d", e.n)}, Topics: []string{"travel"}}
	for _, m := range mods {
		m(c)
	}
	e.must(e.s.CreateCampaign(e.ctx, ann, c))
	return c
}

// post creates a pending post of c due in after (negative: overdue), changed by mods first.
func (e *env) post(c *queue.Campaign, after time.Duration, mods ...func(*queue.Post)) *queue.Post {
	e.t.Helper()
	p := &queue.Post{CampaignID: c.ID, Text: "Fly to Lisbon this summer from €49", DueAt: e.now().Add(after)}
	for _, m := range mods {
		m(p)
	}
	e.must(e.s.CreatePost(e.ctx, ann, p))
	return p
}

func (e *env) apply(p *queue.Post, ev queue.Event, reason string) *queue.Post {
	e.t.Helper()
	got, err := e.s.Apply(e.ctx, ann, p.ID, 0, ev, reason)
	e.must(err)
	return got
}

func (e *env) reload(p *queue.Post) *queue.Post {
	e.t.Helper()
	got, err := e.s.Post(e.ctx, p.ID)
	e.must(err)
	return got
}

func (e *env) reloadCampaign(c *queue.Campaign) *queue.Campaign {
	e.t.Helper()
	got, err := e.s.Campaign(e.ctx, c.ID)
	e.must(err)
	return got
}

// claim claims at the clock's time with no gate and the default limits.
func (e *env) claim(limit int) []*queue.Claim {
	e.t.Helper()
	cs, err := e.s.ClaimDue(e.ctx, queue.ClaimRequest{Now: e.now(), Limit: limit})
	e.must(err)
	return cs
}

func (e *env) wantState(p *queue.Post, want queue.PostState) *queue.Post {
	e.t.Helper()
	got := e.reload(p)
	if got.State != want {
		e.t.Fatalf("post %d is %s (reason %q), want %s", p.ID, got.State, got.Reason, want)
	}
	return got
}

// wantKind fails unless err is a queue error of kind k whose message contains every part.
func wantKind(t *testing.T, err error, k queue.Kind, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a %s error", k)
	}
	if got := queue.ErrorKind(err); got != k {
		t.Fatalf("error %q is of kind %q, want %q", err, got, k)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// wantField fails unless err is an Invalid error about field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantKind(t, err, queue.Invalid)
	if got := queue.ErrorField(err); got != field {
		t.Fatalf("error %q is about field %q, want %q", err, got, field)
	}
}

// auditHas fails unless the audit log has an entry by actor with action about object whose
// detail contains detail.
func (e *env) auditHas(by queue.Actor, action, object, detail string) queue.AuditEntry {
	e.t.Helper()
	es, err := e.s.AuditLog(e.ctx, time.Time{}, 10000)
	e.must(err)
	for _, a := range es {
		if a.Actor == by && a.Action == action && a.Object == object && strings.Contains(a.Detail, detail) {
			return a
		}
	}
	var lines []string
	for _, a := range es {
		lines = append(lines, fmt.Sprintf("%s %s %s %q", a.Actor, a.Action, a.Object, a.Detail))
	}
	e.t.Fatalf("no audit entry %s %s %s containing %q; log:\n%s", by, action, object, detail, strings.Join(lines, "\n"))
	return queue.AuditEntry{}
}
