package main

import (
	"regexp"
	"testing"
)

var tokenRE = regexp.MustCompile(`tact_[A-Za-z0-9_-]{43}`)

// TestUserRoleAndToken: an admin changes a user's role and replaces a leaked token; the
// refusal names the command that fixes it, and the old token stops working.
func TestUserRoleAndToken(t *testing.T) {
	d := newDaemonAPI(t)
	tok := tokenRE.FindString(d.ok("user", "add", "ana", "--role", "viewer"))
	code, _, errs := d.as(tok, "pause", "--all", "--reason", "crisis")
	if code != 1 {
		t.Fatalf("a viewer paused everything: exit %d", code)
	}
	contains(t, "viewer pause-all", errs, "needs the admin role", "tactctl user role ana --role admin")
	d.fails(2, "user", "role", "ana", "--role", "root")
	contains(t, "user role", d.ok("user", "role", "ana", "--role", "admin"), "ana is now admin", "web sessions have ended")
	if code, out, errs := d.as(tok, "pause", "--all", "--reason", "crisis"); code != 0 {
		t.Fatalf("ana, now admin, cannot pause: %d %s %s", code, out, errs)
	}

	out := d.ok("user", "token", "ana")
	contains(t, "user token", out, "shown this once", "old token")
	fresh := tokenRE.FindString(out)
	if fresh == "" || fresh == tok {
		t.Fatalf("no new token printed:\n%s", out)
	}
	if code, _, errs := d.as(tok, "status"); code != 1 {
		t.Fatalf("the replaced token still works")
	} else {
		contains(t, "replaced token", errs, "token is not valid")
	}
	if code, out, errs := d.as(fresh, "status"); code != 0 {
		t.Fatalf("the new token does not work: %d %s %s", code, out, errs)
	}
	contains(t, "unknown user", d.fails(1, "user", "token", "nobody"), "no user named \"nobody\"")
}
