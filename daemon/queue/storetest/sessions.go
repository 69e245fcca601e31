package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// newSession stores a session of u created at the clock's time, lasting ttl, and returns it
// with the id the cookie would carry.
func (e *env) newSession(u *queue.User, ttl time.Duration) (*queue.Session, string) {
	e.t.Helper()
	e.n++
	id := fmt.Sprintf("session-id-%d-%s", e.n, queue.NewToken())
	s := &queue.Session{IDHash: queue.HashToken(id), UserID: u.ID, CSRFSecret: "csrf-" + id, CreatedAt: e.now(), ExpiresAt: e.now().Add(ttl)}
	e.must(e.s.CreateSession(e.ctx, s))
	return s, id
}

func (e *env) user(name string, role queue.Role) (*queue.User, string) {
	e.t.Helper()
	tok := queue.NewToken()
	u := &queue.User{Name: name, Role: role}
	e.must(e.s.CreateUser(e.ctx, ann, u, queue.HashToken(tok)))
	return u, tok
}

// wantSession fails unless the session is in force at now, for user u with u's role.
func (e *env) wantSession(s *queue.Session, now time.Time, u *queue.User) {
	e.t.Helper()
	got, gu, err := e.s.Session(e.ctx, s.IDHash, now)
	if err != nil {
		e.t.Fatalf("session of %s at %s: %v", u.Name, now, err)
	}
	if got.IDHash != s.IDHash || got.UserID != u.ID || got.CSRFSecret != s.CSRFSecret || !got.ExpiresAt.Equal(s.ExpiresAt) || !got.CreatedAt.Equal(s.CreatedAt) {
		e.t.Fatalf("session read back as %+v, stored %+v", got, s)
	}
	if gu.ID != u.ID || gu.Name != u.Name || gu.Role != u.Role {
		e.t.Fatalf("session's user %+v, want %+v", gu, u)
	}
}

// wantNoSession fails unless the session is gone at now (NotFound).
func (e *env) wantNoSession(s *queue.Session, now time.Time, why string) {
	e.t.Helper()
	_, _, err := e.s.Session(e.ctx, s.IDHash, now)
	if err == nil {
		e.t.Fatalf("%s: the session still works", why)
	}
	wantKind(e.t, err, queue.NotFound)
}

func testSessionLifecycle(t *testing.T, open Opener) {
	e := setup(t, open)
	ana, _ := e.user("ana", queue.RoleMarketer)
	s, _ := e.newSession(ana, 12*time.Hour)
	if !s.LastSeenAt.Equal(s.CreatedAt) {
		t.Fatalf("a new session's LastSeenAt %s, want its CreatedAt %s", s.LastSeenAt, s.CreatedAt)
	}
	e.wantSession(s, e.now(), ana)
	_, _, err := e.s.Session(e.ctx, queue.HashToken("an id nobody was given"), e.now())
	wantKind(t, err, queue.NotFound)

	// Used an hour later: LastSeenAt moves, never back.
	later := e.now().Add(time.Hour)
	e.must(e.s.TouchSession(e.ctx, s.IDHash, later))
	e.must(e.s.TouchSession(e.ctx, s.IDHash, e.now()))
	got, _, err := e.s.Session(e.ctx, s.IDHash, later)
	e.must(err)
	if !got.LastSeenAt.Equal(later) {
		t.Fatalf("LastSeenAt %s after touches at %s and earlier, want %s", got.LastSeenAt, later, later)
	}

	// Expiry is decided against the caller's now: in force until ExpiresAt, not at it.
	e.wantSession(s, s.ExpiresAt.Add(-time.Nanosecond), ana)
	e.wantNoSession(s, s.ExpiresAt, "at its expiry")

	// Logout ends it; ending it again is no error.
	e.must(e.s.EndSession(e.ctx, s.IDHash))
	e.wantNoSession(s, e.now(), "after EndSession")
	e.must(e.s.EndSession(e.ctx, s.IDHash))
	e.must(e.s.TouchSession(e.ctx, s.IDHash, later))
	e.wantNoSession(s, e.now(), "touched after EndSession")
}

func testSessionValidation(t *testing.T, open Opener) {
	e := setup(t, open)
	ana, _ := e.user("ana", queue.RoleViewer)
	good := func() *queue.Session {
		return &queue.Session{IDHash: queue.HashToken(queue.NewToken()), UserID: ana.ID, CSRFSecret: "x", CreatedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
	}
	bad := good()
	bad.IDHash = "the-raw-id"
	wantField(t, e.s.CreateSession(e.ctx, bad), "id")
	bad = good()
	bad.ExpiresAt = bad.CreatedAt
	wantField(t, e.s.CreateSession(e.ctx, bad), "expires_at")
	bad = good()
	bad.CSRFSecret = ""
	wantField(t, e.s.CreateSession(e.ctx, bad), "csrf_secret")
	bad = good()
	bad.UserID = ana.ID + 1000
	wantKind(t, e.s.CreateSession(e.ctx, bad), queue.NotFound)
	s := good()
	e.must(e.s.CreateSession(e.ctx, s))
	again := *s
	wantKind(t, e.s.CreateSession(e.ctx, &again), queue.Conflict)
}

// testSessionsEndWithTheUser: deleting a user, giving them a new token or a new role ends
// every session of theirs, and only theirs, in the same transaction.
func testSessionsEndWithTheUser(t *testing.T, open Opener) {
	e := setup(t, open)
	root, _ := e.user("root", queue.RoleAdmin)
	ana, anaTok := e.user("ana", queue.RoleMarketer)
	bob, _ := e.user("bob", queue.RoleViewer)
	bobs, _ := e.newSession(bob, time.Hour)

	// A new role ends the sessions opened with the old one.
	s1, _ := e.newSession(ana, time.Hour)
	s2, _ := e.newSession(ana, time.Hour)
	u, err := e.s.SetUserRole(e.ctx, ann, "ana", queue.RoleViewer)
	e.must(err)
	if u.Role != queue.RoleViewer || u.ID != ana.ID {
		t.Fatalf("SetUserRole answered %+v", u)
	}
	e.wantNoSession(s1, e.now(), "after a role change")
	e.wantNoSession(s2, e.now(), "after a role change")
	e.wantSession(bobs, e.now(), bob)
	e.auditHas(ann, "user.role", "user:ana", "marketer -> viewer; 2 web sessions ended")
	got, err := e.s.UserByTokenHash(e.ctx, queue.HashToken(anaTok))
	e.must(err)
	if got.Role != queue.RoleViewer {
		t.Fatalf("role after SetUserRole: %s", got.Role)
	}
	// The same role again changes nothing, and ends nothing.
	s3, _ := e.newSession(&queue.User{ID: ana.ID, Name: "ana", Role: queue.RoleViewer}, time.Hour)
	_, err = e.s.SetUserRole(e.ctx, ann, "ana", queue.RoleViewer)
	e.must(err)
	e.wantSession(s3, e.now(), &queue.User{ID: ana.ID, Name: "ana", Role: queue.RoleViewer})
	_, err = e.s.SetUserRole(e.ctx, ann, "ana", "owner")
	wantField(t, err, "role")
	_, err = e.s.SetUserRole(e.ctx, ann, "nobody", queue.RoleViewer)
	wantKind(t, err, queue.NotFound, "nobody")

	// A new token: the old one stops working, and so do the sessions.
	newTok := queue.NewToken()
	_, err = e.s.ReplaceToken(e.ctx, ann, "ana", newTok)
	wantField(t, err, "token") // the token itself, not its hash
	_, err = e.s.ReplaceToken(e.ctx, ann, "ana", queue.HashToken(newTok))
	e.must(err)
	e.wantNoSession(s3, e.now(), "after a new token")
	_, err = e.s.UserByTokenHash(e.ctx, queue.HashToken(anaTok))
	wantKind(t, err, queue.NotFound)
	got, err = e.s.UserByTokenHash(e.ctx, queue.HashToken(newTok))
	e.must(err)
	if got.Name != "ana" {
		t.Fatalf("new token belongs to %+v", got)
	}
	e.auditHas(ann, "user.token", "user:ana", "1 web session ended")
	_, err = e.s.ReplaceToken(e.ctx, ann, "nobody", queue.HashToken(queue.NewToken()))
	wantKind(t, err, queue.NotFound)
	_, err = e.s.ReplaceToken(e.ctx, ann, "bob", queue.HashToken(newTok))
	wantKind(t, err, queue.Conflict)
	e.wantSession(bobs, e.now(), bob) // a refused change ends nothing

	// Deleting the user ends the rest.
	s4, _ := e.newSession(&queue.User{ID: ana.ID}, time.Hour)
	e.must(e.s.DeleteUser(e.ctx, ann, "ana"))
	e.wantNoSession(s4, e.now(), "after the user was deleted")
	e.wantSession(bobs, e.now(), bob)

	// The last admin keeps the role: nobody could manage users otherwise.
	rs, _ := e.newSession(root, time.Hour)
	_, err = e.s.SetUserRole(e.ctx, ann, "root", queue.RoleMarketer)
	wantKind(t, err, queue.Conflict, "last admin")
	wantKind(t, e.s.DeleteUser(e.ctx, ann, "root"), queue.Conflict, "last admin")
	e.wantSession(rs, e.now(), root)
	_, err = e.s.SetUserRole(e.ctx, ann, "bob", queue.RoleAdmin)
	e.must(err)
	_, err = e.s.SetUserRole(e.ctx, ann, "root", queue.RoleMarketer)
	e.must(err)
	e.wantNoSession(rs, e.now(), "after the admin was demoted")
}

// testSessionPruning: a sign-in deletes the sessions that have expired, and the user's
// oldest beyond MaxSessionsPerUser.
func testSessionPruning(t *testing.T, open Opener) {
	e := setup(t, open)
	ana, _ := e.user("ana", queue.RoleViewer)
	bob, _ := e.user("bob", queue.RoleViewer)
	short, _ := e.newSession(bob, time.Minute)
	long, _ := e.newSession(bob, 24*time.Hour)
	e.clock.Advance(time.Hour)
	var first *queue.Session
	for i := range queue.MaxSessionsPerUser + 1 {
		s, _ := e.newSession(ana, 12*time.Hour)
		if i == 0 {
			first = s
		}
		e.clock.Advance(time.Second)
	}
	// Looked up at a time it was still in force: gone all the same, so it was deleted.
	e.wantNoSession(short, short.CreatedAt, "an expired session after the next sign-in")
	e.wantSession(long, e.now(), bob)
	e.wantNoSession(first, first.CreatedAt, fmt.Sprintf("the oldest of %d sessions", queue.MaxSessionsPerUser+1))
}
