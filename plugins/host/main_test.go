package host

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// bin holds the binaries TestMain builds: a stand-in daemon serving the built-ins, and
// external plugins installed in pluginDir.
var bin struct {
	tactd     string
	pluginDir string
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tact-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin.tactd = filepath.Join(dir, "tactd")
	bin.pluginDir = filepath.Join(dir, "plugins")
	builds := map[string]string{
		bin.tactd: "./testdata/tactd",
		filepath.Join(bin.pluginDir, "tact-plugin-testnet"):      "./testdata/testnet",
		filepath.Join(bin.pluginDir, "tact-plugin-wrongversion"): "./testdata/wrongversion",
	}
	for out, pkg := range builds {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
			return 1
		}
	}
	return m.Run()
}

// newManager returns a manager for accounts using the test binaries; it is closed when
// the test ends.
func newManager(tb testing.TB, cfg Config, accounts ...Account) *Manager {
	tb.Helper()
	if cfg.Executable == "" {
		cfg.Executable = bin.tactd
	}
	if cfg.Builtins == nil {
		cfg.Builtins = []string{"example", "outbox"}
	}
	if cfg.PluginDir == "" {
		cfg.PluginDir = bin.pluginDir
	}
	m, err := New(cfg, accounts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// ctxT is a context that ends well before the test binary's own timeout.
func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// recorder is an slog.Handler that keeps records for assertions.
type recorder struct {
	attrs   []slog.Attr
	records *[]record
	rmu     *sync.Mutex
}

type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newRecorder() *recorder {
	return &recorder{records: &[]record{}, rmu: &sync.Mutex{}}
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]string{}
	for _, a := range r.attrs {
		attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	r.rmu.Lock()
	*r.records = append(*r.records, record{level: rec.Level, msg: rec.Message, attrs: attrs})
	r.rmu.Unlock()
	return nil
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recorder{attrs: append(slices.Clone(r.attrs), as...), records: r.records, rmu: r.rmu}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

// find returns the first record for which match holds.
func (r *recorder) find(match func(record) bool) (record, bool) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	for _, rec := range *r.records {
		if match(rec) {
			return rec, true
		}
	}
	return record{}, false
}
