package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// tactctlRun runs tactctl in-process without a daemon.
func tactctlRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func buildOutboxPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tact-plugin-outbox")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tact-hq/tact/cmd/tact-plugin-outbox")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func TestPluginCheck(t *testing.T) {
	bin := buildOutboxPlugin(t)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	t.Setenv("TACT_TEST_MAXLEN", "42")

	code, stdout, stderr := tactctlRun("plugin", "check", bin, "--setting", "path="+out, "--setting", "max_length=env:TACT_TEST_MAXLEN")
	if code != 0 {
		t.Fatalf("check of the outbox: exit %d\n%s\n%s", code, stdout, stderr)
	}
	contains(t, "check output", stdout, "handshake", "idempotency", "0 failed", "max length 42")
	if r := row(t, stdout, "validate"); r[1] != "ok" {
		t.Errorf("validate row = %v", r)
	}

	code, stdout, _ = tactctlRun("--json", "plugin", "check", bin, "--setting", "path="+out)
	var results []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &results) != nil || len(results) < 10 {
		t.Fatalf("--json: exit %d, output %s", code, stdout)
	}

	// Without settings the outbox cannot be configured: the check fails, exit 1.
	code, stdout, _ = tactctlRun("plugin", "check", bin)
	if code != 1 {
		t.Fatalf("check without settings: exit %d, want 1\n%s", code, stdout)
	}
	if r := row(t, stdout, "configure"); r[1] != "FAILED" {
		t.Errorf("configure row = %v", r)
	}
}

func TestPluginCheckBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plugin"}, 2, "missing subcommand"},
		{[]string{"plugin", "frob"}, 2, `unknown subcommand "frob"`},
		{[]string{"plugin", "check"}, 2, "exactly one plugin BINARY"},
		{[]string{"plugin", "check", "./nosuch-plugin"}, 1, "nosuch-plugin"},
		{[]string{"plugin", "check", "/bin/true", "--setting", "novalue"}, 2, "not KEY=VALUE"},
		{[]string{"plugin", "check", "/bin/true", "--setting", "t=env:TACT_SURELY_UNSET"}, 1, "TACT_SURELY_UNSET is not set"},
	} {
		code, _, stderr := tactctlRun(tc.args...)
		if code != tc.code {
			t.Errorf("tactctl %v: exit %d, want %d (%s)", tc.args, code, tc.code, stderr)
		}
		contains(t, "stderr", stderr, tc.want)
	}
}

// plugin list shows the daemon's plugins and the accounts they serve, from the real API.
func TestPluginList(t *testing.T) {
	d := newDaemonAPI(t)
	out := d.ok("plugin", "list")
	if r := row(t, out, "mastodon"); r[2] != "yes" || r[3] != "brand-mastodon" {
		t.Errorf("mastodon row = %v", r)
	}
	row(t, out, "bluesky")
	errs := d.fails(1, "--token", "wrong", "plugin", "list")
	contains(t, "bad token", errs, "token")
}
