package conformance_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

func byName(results []conformance.Result) map[string]conformance.Result {
	m := map[string]conformance.Result{}
	for _, r := range results {
		m[r.Name] = r
	}
	return m
}

// The outbox passes every check that applies to it.
func TestOutboxConforms(t *testing.T) {
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-outbox"),
		Settings: map[string]string{"path": filepath.Join(t.TempDir(), "out.jsonl"), "max_length": "120"},
	})
}

// A plugin that gets things wrong fails exactly the checks it should, each saying why.
func TestBrokenPluginFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := conformance.Check(ctx, conformance.Config{
		Binary:   conformance.Build(t, "./testdata/broken"),
		Settings: map[string]string{"anything": "1"},
		Timeout:  2 * time.Second,
	})
	if !conformance.Failed(results) {
		t.Fatal("Failed() = false for a broken plugin")
	}
	got := byName(results)
	want := map[string]string{
		"handshake":        "ok",
		"configure":        "ok",
		"publish":          "ok",
		"describe":         "Version is empty",
		"configure-errors": "untyped error",
		"validate":         "MaxLength+1",
		"idempotency":      "different receipt",
		"lookup":           "cannot tell",
		"lookup-unknown":   "cannot tell",
		"typed-errors":     "was published",
		"deadline":         "the next call failed",
		"trends":           "skipped",
		"delete":           "skipped",
	}
	for name, w := range want {
		r, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no result for %s", name)
		case w == "ok":
			if !r.OK {
				t.Errorf("%s failed: %s", name, r.Detail)
			}
		case w == "skipped":
			if !r.Skipped {
				t.Errorf("%s = %+v, want skipped", name, r)
			}
		default:
			if r.OK || r.Skipped || !strings.Contains(r.Detail, w) {
				t.Errorf("%s = %+v, want a failure mentioning %q", name, r, w)
			}
		}
	}
	if !strings.Contains(got["describe"].Detail, `"teleport"`) {
		t.Errorf("describe did not name the unknown capability: %s", got["describe"].Detail)
	}
}

// A binary that is not a tact plugin fails the handshake and everything else is skipped.
func TestNotAPlugin(t *testing.T) {
	results := conformance.Check(context.Background(), conformance.Config{Binary: "/bin/true", Timeout: 10 * time.Second})
	got := byName(results)
	if got["handshake"].OK || !strings.Contains(got["handshake"].Detail, "/bin/true") {
		t.Fatalf("handshake = %+v", got["handshake"])
	}
	for _, r := range results {
		if r.Name != "handshake" && !r.Skipped {
			t.Errorf("%s ran after a failed handshake: %+v", r.Name, r)
		}
	}
}

// Build names the binary as the daemon expects, and a package that does not compile
// fails the test with the compiler's message.
func TestBuild(t *testing.T) {
	if bin := conformance.Build(t, "./testdata/broken"); filepath.Base(bin) != "tact-plugin-broken" {
		t.Errorf("Build(./testdata/broken) = %s, want a binary named tact-plugin-broken", bin)
	}
	msg := plugintest.FatalMessage(t, func(tb testing.TB) { conformance.Build(tb, "./testdata/nocompile") })
	if !strings.Contains(msg, "go build ./testdata/nocompile") || !strings.Contains(msg, "undefinedFunction") {
		t.Errorf("a failed build reported %q; want the package and the compiler's message", msg)
	}
}
