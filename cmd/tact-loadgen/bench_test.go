package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
	tactd "github.com/tact-hq/tact/daemon"
)

// startInProcess fills a data directory and runs the daemon on it inside the test
// process, so that `go test -bench -cpuprofile` profiles the daemon's own code under the
// load the run measures from outside. Plugins still run as child processes of the test
// binary's tactd (built by the caller), as in production.
func startInProcess(tb testing.TB, o fillOptions) (addr, tok string, cfg *config.Config) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// TACT_LOADGEN_DATA names a data directory already filled (tact-loadgen fill), to
	// profile at full size without filling again.
	if o.Data = os.Getenv("TACT_LOADGEN_DATA"); o.Data == "" {
		o.Data = tb.TempDir()
		if o.Seed == 0 {
			o.Seed = 1
		}
		if err := fill(ctx, o, io.Discard); err != nil {
			tb.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(o.Data, "tact.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Daemon.Listen = "127.0.0.1:0"
	d := &tactd.Daemon{Config: cfg, Executable: "/nonexistent/plugins-not-used"}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	select {
	case <-d.Ready():
	case err := <-done:
		tb.Fatalf("daemon stopped before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		tb.Fatal("daemon not ready within 60s")
	}
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	b, err := os.ReadFile(filepath.Join(o.Data, "admin.token"))
	if err != nil {
		tb.Fatal(err)
	}
	return d.Addr(), string(trimSpace(b)), cfg
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// BenchmarkPendingPage is one GET /api/v1/posts?state=pending (the first 100 of the queue)
// on a daemon with 20,000 queued posts over 1,000 campaigns and 1,000 rules.
func BenchmarkPendingPage(b *testing.B) {
	addr, tok, _ := startInProcess(b, fillOptions{Posts: 20000, Campaigns: 1000, Rules: 1000, Accounts: 10, Approve: 0.1})
	client := newClient()
	url := "http://" + addr + "/api/v1/posts?state=pending"
	if err := get(context.Background(), client, url, tok); err != nil {
		b.Fatal(err)
	}
	cpu0 := processCPU()
	n := 0
	for b.Loop() {
		if err := get(context.Background(), client, url, tok); err != nil {
			b.Fatal(err)
		}
		n++
	}
	// CPU of the whole test process (daemon and client) per request: what a request costs
	// the machine, which the wall time hides on an idle machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
}

// BenchmarkPendingPageAfterWrite is the same request when something was committed just
// before it, as in the load run where posts are published all the while: the daemon cannot
// give a kept answer and builds the page, and SQLite's read connections start with their
// page caches emptied by the commit. The commit (another connection touching a campaign
// row) is not timed; cpu-ns/op includes it.
func BenchmarkPendingPageAfterWrite(b *testing.B) {
	addr, tok, _ := startInProcess(b, fillOptions{Posts: 20000, Campaigns: 1000, Rules: 1000, Accounts: 10, Approve: 0.1})
	client := newClient()
	url := "http://" + addr + "/api/v1/posts?state=pending"
	data := os.Getenv("TACT_LOADGEN_DATA")
	if data == "" {
		b.Skip("needs TACT_LOADGEN_DATA (the daemon's data directory, to write beside it)")
	}
	cfg, err := config.Load(filepath.Join(data, "tact.toml"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(cfg.Daemon.DataDir, "tact.db")+"?_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	cpu0 := processCPU()
	n := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := raw.Exec(`UPDATE campaigns SET updated_at = updated_at + 1 WHERE id = 1`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := get(context.Background(), client, url, tok); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
	if _, built, err := listAnswers(context.Background(), client, "http://"+addr); err == nil {
		b.ReportMetric(built/float64(n), "built/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVariedListings is one listing request of the incident load (incidents.go) that
// builds its page: the varied listings, each with page sizes from 95 to 104 posts, taken in
// turn (more distinct requests than tactd keeps answers for, so built/op is about 1), on a
// daemon with 20,000 queued posts over 1,000 campaigns and 1,000 rules, first with no
// incident open, then with 10 declared through the API (their rules' actions applied).
func BenchmarkVariedListings(b *testing.B) {
	addr, tok, cfg := startInProcess(b, fillOptions{Posts: 20000, Campaigns: 1000, Rules: 1000, Accounts: 10, Approve: 0.1})
	ctx := context.Background()
	client := newClient()
	base := "http://" + addr
	bench := func(b *testing.B) {
		listings, err := variedListings(ctx, client, base, tok)
		if err != nil {
			b.Fatal(err)
		}
		var urls []string
		for size := 95; size < 105; size++ {
			for _, u := range listings {
				if !strings.Contains(u, "limit=") {
					urls = append(urls, fmt.Sprintf("%s&limit=%d", u, size))
				}
			}
		}
		_, built0, err := listAnswers(ctx, client, base)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := processCPU()
		n := 0
		for b.Loop() {
			if err := get(ctx, client, urls[n%len(urls)], tok); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
		if _, built, err := listAnswers(ctx, client, base); err == nil {
			b.ReportMetric((built-built0)/float64(n), "built/op")
		}
	}
	b.Run("incidents=0", bench)
	ids, err := incidentRules(cfg.Daemon.Rules, 10)
	if err != nil {
		b.Fatal(err)
	}
	if err := declareIncidents(ctx, client, base, tok, ids); err != nil {
		b.Fatal(err)
	}
	b.Run("incidents=10", bench)
}
