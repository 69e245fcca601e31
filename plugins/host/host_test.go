package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tact-hq/tact/plugins/sdk"
)

func outboxAccount(t *testing.T, name, plugin string) (Account, string) {
	path := filepath.Join(t.TempDir(), name+".jsonl")
	return Account{Name: name, Plugin: plugin, Settings: map[string]string{"path": path}}, path
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The built-in outbox, started as `tactd plugin outbox`, publishes a post once; the same
// key again returns the first receipt and leaves the file untouched.
func TestBuiltinOutboxPublishesOnce(t *testing.T) {
	acct, path := outboxAccount(t, "demo", "outbox")
	m := newManager(t, Config{}, acct)
	net, err := m.Network("demo")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	first, err := net.Publish(ctx, sdk.Post{Text: "Spring fares are out", Link: "https://example.com/fares"}, "post-1")
	if err != nil {
		t.Fatal(err)
	}
	if first.RemoteID == "" || first.PublishedAt.IsZero() {
		t.Fatalf("receipt = %+v, want a remote id and a time", first)
	}
	before, _ := os.ReadFile(path)
	if got := lines(t, path); len(got) != 1 || !strings.Contains(got[0], `"idempotency_key":"post-1"`) || !strings.Contains(got[0], "Spring fares are out") {
		t.Fatalf("outbox file = %q, want one line for post-1", got)
	}

	again, err := net.Publish(ctx, sdk.Post{Text: "a different text under the same key"}, "post-1")
	if err != nil {
		t.Fatal(err)
	}
	if again.RemoteID != first.RemoteID || again.URL != first.URL || !again.PublishedAt.Equal(first.PublishedAt) {
		t.Fatalf("repeated key gave %+v, want the first receipt %+v", again, first)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatalf("repeated key wrote to the file:\n%s", after)
	}

	got, found, err := net.Lookup(ctx, "post-1")
	if err != nil || !found || got.RemoteID != first.RemoteID {
		t.Fatalf("Lookup(post-1) = %+v, %v, %v; want the receipt", got, found, err)
	}
	if _, found, err := net.Lookup(ctx, "never-published"); err != nil || found {
		t.Fatalf("Lookup(never-published) = found %v, err %v; want not found", found, err)
	}
}

// A plugin killed while a Publish is out gives an outcome-unknown error; the next call
// restarts the process and Lookup settles what happened.
func TestKilledDuringPublishIsOutcomeUnknown(t *testing.T) {
	acct, path := outboxAccount(t, "acct", "testnet")
	m := newManager(t, Config{}, acct)
	net, _ := m.Network("acct")
	ctx := ctxT(t)
	if err := m.Start(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	pid := m.accounts["acct"].pid()

	done := make(chan error, 1)
	go func() {
		_, err := net.Publish(ctx, sdk.Post{Text: "going out [hang-after-write]"}, "key-killed")
		done <- err
	}()
	waitFor(t, "the post to reach the outbox file", func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte("key-killed"))
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if !OutcomeUnknown(err) {
		t.Fatalf("Publish error = %v, want outcome unknown", err)
	}
	if sdk.KindOf(err) != sdk.Retryable {
		t.Errorf("KindOf(outcome unknown) = %s, want retryable", sdk.KindOf(err))
	}

	r, found, err := net.Lookup(ctx, "key-killed")
	if err != nil || !found || r.RemoteID == "" {
		t.Fatalf("Lookup after restart = %+v, %v, %v; want the post found", r, found, err)
	}
	if newPid := m.accounts["acct"].pid(); newPid == pid || newPid == 0 {
		t.Fatalf("pid after restart = %d, want a new process (old %d)", newPid, pid)
	}
	if n := len(lines(t, path)); n != 1 {
		t.Fatalf("outbox has %d lines, want 1", n)
	}
}

// An error the plugin reports is never outcome-unknown, and a refused post is typed.
func TestReportedErrorsAreTypedAndKnown(t *testing.T) {
	acct, _ := outboxAccount(t, "acct", "outbox")
	acct.Settings["max_length"] = "10"
	m := newManager(t, Config{}, acct)
	net, _ := m.Network("acct")
	_, err := net.Publish(ctxT(t), sdk.Post{Text: "far longer than ten"}, "k")
	var typed *sdk.Error
	if !errors.As(err, &typed) || typed.Kind != sdk.Permanent || OutcomeUnknown(err) {
		t.Fatalf("Publish of an over-long post = %v, want a permanent, known error", err)
	}
	if !strings.Contains(err.Error(), "limit is 10") {
		t.Errorf("error %q does not say the limit", err)
	}
}

// External plugins are found in plugin_dir and used like built-ins.
func TestExternalPluginDiscoveredAndUsed(t *testing.T) {
	if err := os.WriteFile(filepath.Join(bin.pluginDir, "tact-plugin-notexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	found, err := Discover(bin.pluginDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "testnet,wrongversion" {
		t.Fatalf("Discover = %v, want testnet and wrongversion (not the non-executable file)", names)
	}

	acct, path := outboxAccount(t, "ext", "testnet")
	m := newManager(t, Config{}, acct)
	net, _ := m.Network("ext")
	d, err := net.Describe(ctxT(t))
	if err != nil || d.Name != "testnet" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	if _, err := net.Publish(ctxT(t), sdk.Post{Text: "hello"}, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, path)); n != 1 {
		t.Fatalf("outbox has %d lines, want 1", n)
	}

	infos, err := m.Plugins(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]PluginInfo{}
	for _, i := range infos {
		byName[i.Name] = i
	}
	if i := byName["testnet"]; i.Builtin || i.Version != "0.0.1-test" || i.Error != "" {
		t.Errorf("Plugins()[testnet] = %+v", i)
	}
	if i := byName["outbox"]; !i.Builtin || i.Version == "" || i.APIVersion != sdk.APIVersion {
		t.Errorf("Plugins()[outbox] = %+v", i)
	}
	if i := byName["wrongversion"]; !strings.Contains(i.Error, "protocol version 2") {
		t.Errorf("Plugins()[wrongversion] = %+v, want the protocol error", i)
	}

	if _, err := New(Config{PluginDir: bin.pluginDir}, []Account{{Name: "x", Plugin: "nosuch"}}); err == nil ||
		!strings.Contains(err.Error(), `unknown plugin "nosuch"`) || !strings.Contains(err.Error(), "testnet") {
		t.Errorf("unknown plugin error = %v, want it named with the known ones", err)
	}
}

// A plugin built for another protocol version is refused with its name, its version and
// the expected one; the account needs a person (Auth), it is not retried blindly.
func TestWrongProtocolVersionRefused(t *testing.T) {
	acct, _ := outboxAccount(t, "old", "wrongversion")
	m := newManager(t, Config{}, acct)
	err := m.Start(ctxT(t), "old")
	if err == nil {
		t.Fatal("a protocol 2 plugin was accepted")
	}
	for _, want := range []string{filepath.Join(bin.pluginDir, "tact-plugin-wrongversion"), "protocol version 2", "expects version 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if sdk.KindOf(err) != sdk.Auth {
		t.Errorf("KindOf = %s, want auth", sdk.KindOf(err))
	}
}

// A binary that is not a tact plugin at all is refused with a message that names it.
func TestNotAPluginRefused(t *testing.T) {
	m := newManager(t, Config{StartTimeout: 20 * time.Second}, Account{Name: "sh", Binary: "/bin/true"})
	err := m.Start(ctxT(t), "sh")
	if err == nil || !strings.Contains(err.Error(), "/bin/true") || !strings.Contains(err.Error(), "handshake") {
		t.Fatalf("error = %v, want a handshake refusal naming /bin/true", err)
	}
}

// A call that hangs in the plugin returns at its deadline; a hung Publish is outcome
// unknown; the process stays usable.
func TestHangingCallReturnsAtDeadline(t *testing.T) {
	acct, _ := outboxAccount(t, "slow", "testnet")
	m := newManager(t, Config{CallTimeout: 300 * time.Millisecond}, acct)
	net, _ := m.Network("slow")
	if err := m.Start(ctxT(t), "slow"); err != nil {
		t.Fatal(err)
	}
	pid := m.accounts["slow"].pid()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := net.Lookup(ctx, "hang")
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Lookup with a 200ms deadline = %v, want deadline exceeded", err)
	}
	// No deadline in ctx: the manager's CallTimeout applies.
	_, err = net.Publish(context.Background(), sdk.Post{Text: "stuck [hang]"}, "k-hang")
	if !OutcomeUnknown(err) || status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("hung Publish = %v, want outcome unknown after the default deadline", err)
	}
	if _, err := net.Publish(ctxT(t), sdk.Post{Text: "fine"}, "k-ok"); err != nil {
		t.Fatal(err)
	}
	if got := m.accounts["slow"].pid(); got != pid {
		t.Errorf("pid changed from %d to %d: a slow call must not restart a live plugin", pid, got)
	}
}

// What a plugin logs (slog) and prints to stderr reaches the daemon's logger, with the
// account's name.
func TestPluginOutputReachesLogger(t *testing.T) {
	rec := newRecorder()
	acct, _ := outboxAccount(t, "loud", "testnet")
	acct.Settings["marker"] = "m-42"
	m := newManager(t, Config{Logger: slog.New(rec)}, acct)
	if err := m.Start(ctxT(t), "loud"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		what  string
		match func(record) bool
	}{
		{"the slog line", func(r record) bool {
			return r.msg == "testnet configured" && r.attrs["marker"] == "m-42" && r.level == slog.LevelInfo
		}},
		{"the raw stderr line", func(r record) bool { return r.msg == "raw stderr m-42" && r.attrs["stream"] == "stderr" }},
	} {
		waitFor(t, want.what, func() bool { _, ok := rec.find(want.match); return ok })
		r, _ := rec.find(want.match)
		if r.attrs["account"] != "loud" || r.attrs["plugin"] != "testnet" {
			t.Errorf("%s has attributes %v, want account=loud plugin=testnet", want.what, r.attrs)
		}
	}
}

// Settings reach the account's own process only, and a reload with new settings
// restarts just that account.
func TestUpdateRestartsChangedAccounts(t *testing.T) {
	a, pathA := outboxAccount(t, "a", "outbox")
	b, pathB := outboxAccount(t, "b", "outbox")
	m := newManager(t, Config{}, a, b)
	ctx := ctxT(t)
	for _, name := range []string{"a", "b"} {
		if err := m.Start(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	pidB := m.accounts["b"].pid()
	netA, _ := m.Network("a")
	if _, err := netA.Publish(ctx, sdk.Post{Text: "one"}, "k1"); err != nil {
		t.Fatal(err)
	}

	a2, pathA2 := outboxAccount(t, "a", "outbox")
	if err := m.Update([]Account{a2, b}); err != nil {
		t.Fatal(err)
	}
	if _, err := netA.Publish(ctx, sdk.Post{Text: "two"}, "k2"); err == nil {
		t.Fatal("a network handle of a replaced account still publishes")
	}
	netA, _ = m.Network("a")
	if _, err := netA.Publish(ctx, sdk.Post{Text: "two"}, "k2"); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, pathA)); n != 1 {
		t.Errorf("old path has %d lines, want 1", n)
	}
	if got := lines(t, pathA2); len(got) != 1 || !strings.Contains(got[0], "k2") {
		t.Errorf("new path = %q, want the second post", got)
	}
	if _, err := os.Stat(pathB); err != nil {
		t.Errorf("account b's file: %v", err)
	}
	if m.accounts["b"].pid() != pidB {
		t.Error("an unchanged account was restarted")
	}
	if err := m.Update([]Account{a2, a2}); err == nil {
		t.Error("duplicate account names were accepted")
	}
}

// Restarts back off exponentially up to the cap, and the wait error keeps the kind of
// the failure that caused it.
func TestRestartBackoff(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	acct, _ := outboxAccount(t, "old", "wrongversion")
	m := newManager(t, Config{Now: clock, BackoffMin: time.Second, BackoffMax: 4 * time.Second}, acct)
	net, _ := m.Network("old")
	ctx := ctxT(t)

	attempt := func() (started bool, err error) {
		_, err = net.Describe(ctx)
		var wait *restartError
		return !errors.As(err, &wait), err
	}
	// First failure: the next attempt may start at once.
	if s, _ := attempt(); !s {
		t.Fatal("first use did not try to start the plugin")
	}
	if s, _ := attempt(); !s {
		t.Fatal("the first restart was not immediate")
	}
	// Now 1s, 2s, 4s, 4s.
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		s, err := attempt()
		if s {
			t.Fatalf("started again without waiting %s", wait)
		}
		if sdk.KindOf(err) != sdk.Auth || !strings.Contains(err.Error(), "protocol version 2") {
			t.Fatalf("waiting error = %v, want the cause (auth) inside", err)
		}
		now = now.Add(wait - time.Millisecond)
		if s, _ := attempt(); s {
			t.Fatalf("started before %s had passed", wait)
		}
		now = now.Add(time.Millisecond)
		if s, _ := attempt(); !s {
			t.Fatalf("did not start after %s", wait)
		}
	}
}

func TestClosedManagerRefuses(t *testing.T) {
	acct, _ := outboxAccount(t, "a", "outbox")
	m := newManager(t, Config{}, acct)
	net, _ := m.Network("a")
	if err := m.Start(ctxT(t), "a"); err != nil {
		t.Fatal(err)
	}
	pid := m.accounts["a"].pid()
	m.Close()
	if _, err := net.Describe(ctxT(t)); err == nil {
		t.Fatal("a closed manager still serves calls")
	}
	waitFor(t, "the plugin process to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := m.Network("a"); err == nil {
		t.Fatal("a closed manager hands out networks")
	}
}

// Accounts reports each process: the configured limits once running, the failure of one
// that cannot start.
func TestAccountsState(t *testing.T) {
	good, _ := outboxAccount(t, "good", "outbox")
	good.Settings["max_length"] = "120"
	bad, _ := outboxAccount(t, "bad", "wrongversion")
	m := newManager(t, Config{}, good, bad)
	if st := m.Accounts(); len(st) != 2 || st[0].Running || st[1].Running || !st[0].Healthy() {
		t.Fatalf("before any use: %+v", st)
	}
	if err := m.Start(ctxT(t), "good"); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctxT(t), "bad"); err == nil {
		t.Fatal("wrongversion started")
	}
	st := m.Accounts()
	if b := st[0]; b.Account != "bad" || b.Running || b.Healthy() || !strings.Contains(b.LastError, "protocol version 2") {
		t.Errorf("bad = %+v", b)
	}
	if g := st[1]; g.Account != "good" || !g.Running || !g.Healthy() || g.MaxLength != 120 || g.Version == "" || !g.Builtin {
		t.Errorf("good = %+v, want running with the configured max length 120", g)
	}
}

// A plugin that panics in Publish dies: the publish is outcome-unknown, the panic reaches
// the log as an error with the account, and the next call runs on a new process.
func TestPanicInPublish(t *testing.T) {
	rec := newRecorder()
	acct, _ := outboxAccount(t, "crashy", "testnet")
	m := newManager(t, Config{Logger: slog.New(rec)}, acct)
	net, _ := m.Network("crashy")
	ctx := ctxT(t)
	_, err := net.Publish(ctx, sdk.Post{Text: "boom [panic]"}, "k-panic")
	if !OutcomeUnknown(err) {
		t.Fatalf("Publish that crashed the plugin = %v, want outcome unknown", err)
	}
	waitFor(t, "the panic in the log", func() bool {
		_, ok := rec.find(func(r record) bool {
			return strings.Contains(r.msg, "testnet: asked to panic") && r.level == slog.LevelError && r.attrs["account"] == "crashy"
		})
		return ok
	})
	if _, found, err := net.Lookup(ctx, "k-panic"); err != nil || found {
		t.Fatalf("Lookup after the crash = %v, %v; want not found (nothing was written)", found, err)
	}
}
