package publish

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

// countPublished signals done once n publishes succeeded.
type countPublished struct {
	left atomic.Int64
	done chan struct{}
}

func (c *countPublished) PublishDone(_ string, _, _ time.Duration, outcome string) {
	if outcome == OutcomePublished && c.left.Add(-1) == 0 {
		close(c.done)
	}
}

// BenchmarkPublishOutbox measures approved posts published per second through the whole
// pipeline (wake, claim with limits, outbox Publish with its fsync, Finish), with the real
// clock and SQLite file, 10 outbox accounts without spacing, in-process networks.
func BenchmarkPublishOutbox(b *testing.B) {
	benchPublish(b, func(b *testing.B, dir string, names []string) Networks {
		nw := &networks{m: map[string]sdk.Network{}}
		for _, name := range names {
			o := outbox.New(nil)
			if err := o.Configure(context.Background(), map[string]string{"path": filepath.Join(dir, name+".jsonl")}); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { o.Close() })
			nw.set(name, o)
		}
		return nw
	})
}

// BenchmarkPublishOutboxPlugin is BenchmarkPublishOutbox through real plugin processes:
// one tact-plugin-outbox child per account, over go-plugin's gRPC with AutoMTLS, as tactd
// runs them.
func BenchmarkPublishOutboxPlugin(b *testing.B) {
	pluginDir := b.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "tact-plugin-outbox"), "github.com/tact-hq/tact/cmd/tact-plugin-outbox")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the outbox plugin: %v\n%s", err, out)
	}
	benchPublish(b, func(b *testing.B, dir string, names []string) Networks {
		var accts []host.Account
		for _, name := range names {
			accts = append(accts, host.Account{Name: name, Plugin: "outbox", Settings: map[string]string{"path": filepath.Join(dir, name+".jsonl")}})
		}
		m, err := host.New(host.Config{PluginDir: pluginDir}, accts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		for _, name := range names { // start the processes before the clock runs
			if err := m.Start(context.Background(), name); err != nil {
				b.Fatal(err)
			}
		}
		return m
	})
}

func benchPublish(b *testing.B, makeNetworks func(b *testing.B, dir string, names []string) Networks) {
	const accounts = 10
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "tact.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	limits := map[string]queue.AccountLimit{}
	var camps []*queue.Campaign
	var names []string
	for i := range accounts {
		name := fmt.Sprintf("acct-%d", i)
		names = append(names, name)
		limits[name] = queue.AccountLimit{Concurrency: 2, Spacing: -1}
		c := &queue.Campaign{Name: "bench-" + name, Accounts: []string{name}, Approval: queue.ApprovalAutopilot}
		if err := db.CreateCampaign(ctx, person, c); err != nil {
			b.Fatal(err)
		}
		camps = append(camps, c)
	}
	nw := makeNetworks(b, dir, names)
	now := time.Now()
	posts := make([]*queue.Post, b.N)
	for i := range posts {
		posts[i] = &queue.Post{CampaignID: camps[i%accounts].ID, Text: fmt.Sprintf("benchmark post %d", i), DueAt: now.Add(-time.Second)}
	}
	if err := db.CreatePosts(ctx, person, posts); err != nil {
		b.Fatal(err)
	}
	if n, err := db.AutoApprove(ctx, now); err != nil || n != b.N {
		b.Fatalf("approved %d of %d: %v", n, b.N, err)
	}
	obs := &countPublished{done: make(chan struct{})}
	obs.left.Store(int64(b.N))
	p, err := New(Options{Store: db, Networks: nw, OutcomeUnknown: host.OutcomeUnknown, Clock: clock.Real{}, Limits: limits, Observer: obs, Parallel: 8})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	go func() { defer close(stopped); p.Run(runCtx) }()
	select {
	case <-obs.done:
	case <-time.After(10 * time.Minute):
		b.Fatal("not all posts were published")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-stopped
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
}

// BenchmarkDurableCommit is the floor the pipeline stands on, measured in the same run: one
// single-row INSERT and COMMIT per op, on a SQLite file with the store's pragmas (WAL,
// synchronous=FULL, immediate transactions).
func BenchmarkDurableCommit(b *testing.B) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", "5000")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "commit.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, "row"); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}
