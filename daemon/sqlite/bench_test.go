package sqlite

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// SPEC 9: a large brand has 100,000 queued posts, 100 accounts; the benchmarks run on a
// database of that size (1,000 campaigns of 100 posts), built once per run.
var benchPosts = flag.Int("bench.posts", 100_000, "queued posts in the benchmark database (1,000 campaigns)")

const (
	benchCampaigns = 1000
	benchAccounts  = 100
)

var bench struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchDB returns a private copy of the benchmark database, opened.
func benchDB(b *testing.B) *DB {
	b.Helper()
	bench.once.Do(func() { bench.dir, bench.path, bench.err = buildBenchDB() })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	path := filepath.Join(b.TempDir(), "tact.db")
	if err := copyFile(bench.path, path); err != nil {
		b.Fatal(err)
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func buildBenchDB() (dir, path string, err error) {
	ctx := context.Background()
	if dir, err = os.MkdirTemp("", "tact-bench-*"); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, "tact.db")
	db, err := Open(ctx, path)
	if err != nil {
		return dir, "", err
	}
	defer db.Close()
	by := queue.System("bench")
	var cs []*queue.Campaign
	for i := range benchCampaigns {
		c := &queue.Campaign{Name: fmt.Sprintf("campaign-%04d", i), Accounts: []string{fmt.Sprintf("acct-%02d", i%benchAccounts)},
			Topics: []string{"travel", "promotion"}, TimeZone: "Europe/Paris"}
		if err := db.CreateCampaign(ctx, by, c); err != nil {
			return dir, "", err
		}
		cs = append(cs, c)
	}
	start := time.Now().Add(time.Hour)
	var batch []*queue.Post
	for i := range *benchPosts {
		batch = append(batch, &queue.Post{CampaignID: cs[i%len(cs)].ID, Text: fmt.Sprintf("Fly to Lisbon this summer from €49, offer %d", i),
			DueAt: start.Add(time.Duration(i) * 25 * time.Second)}) // spread over about a month
		if len(batch) == 5000 || i == *benchPosts-1 {
			if err := db.CreatePosts(ctx, by, batch); err != nil {
				return dir, "", err
			}
			batch = batch[:0]
		}
	}
	// One post in ten approved, as in a queue people keep up with.
	if _, err := db.write.Exec(`UPDATE posts SET state = 'approved', approved_by = 'user:bench', version = version + 1 WHERE id % 10 = 0`); err != nil {
		return dir, "", err
	}
	return dir, path, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkDurableCommit is the ceiling: one single-row insert and fsynced commit with the
// store's own settings. Every acknowledged store write costs at least this.
func BenchmarkDurableCommit(b *testing.B) {
	raw, err := sql.Open("sqlite3", dsn(filepath.Join(b.TempDir(), "raw.db"), 5*time.Second, false))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	if _, err := raw.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tx, err := raw.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, i); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func benchLimits() map[string]queue.AccountLimit {
	l := map[string]queue.AccountLimit{}
	for i := range benchAccounts {
		l[fmt.Sprintf("acct-%02d", i)] = queue.AccountLimit{Concurrency: 1000, Spacing: -1}
	}
	return l
}

// BenchmarkClaimFinish is one publish cycle as the publisher runs it: claim one due
// delivery (campaign check, limits, gate, in one transaction), then record its receipt.
func BenchmarkClaimFinish(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	// Make due, approved posts to publish: more than any reasonable b.N.
	if _, err := db.write.Exec(`UPDATE posts SET state = 'approved', due_at = ? WHERE id % 10 IN (0, 1, 2, 3, 4)`,
		time.Now().Add(-time.Minute).UnixNano()); err != nil {
		b.Fatal(err)
	}
	in, _, err := db.RecordIncident(ctx, &queue.Incident{RuleID: "quiet", Action: "pause", ClosesAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	gate := func(c *queue.Campaign, p *queue.Post, open []*queue.Incident) (string, bool) {
		for _, o := range open {
			if o.ID == in.ID && len(c.Topics) > 5 {
				return "never", false
			}
		}
		return "", false
	}
	limits := benchLimits()
	b.ResetTimer()
	for b.Loop() {
		cs, err := db.ClaimDue(ctx, queue.ClaimRequest{Now: time.Now(), Limit: 1, Limits: limits, Gate: gate})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != 1 {
			b.Fatalf("claimed %d", len(cs))
		}
		if err := db.Finish(ctx, cs[0].Delivery.ID, queue.Outcome{State: queue.DeliveryPublished, RemoteID: "r"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
}

// BenchmarkClaimDueIdle is the publisher's loop when nothing is due: the cost of asking.
func BenchmarkClaimDueIdle(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	limits := benchLimits()
	b.ResetTimer()
	for b.Loop() {
		cs, err := db.ClaimDue(ctx, queue.ClaimRequest{Now: time.Now(), Limit: 10, Limits: limits})
		if err != nil || len(cs) != 0 {
			b.Fatal(err, len(cs))
		}
	}
}

// BenchmarkApplyIncident1000 is a rule pausing all 1,000 campaigns of the 100,000-post queue
// in one transaction, from the incident to the last audit row.
func BenchmarkApplyIncident1000(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	in, _, err := db.RecordIncident(ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Resume: "manual",
		ClosesAt: time.Now().Add(72 * time.Hour), Evidence: []queue.Evidence{{Source: "bbc", Title: "Jetliner with 242 aboard crashes after take-off"}}})
	if err != nil {
		b.Fatal(err)
	}
	cs, err := db.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	b.ResetTimer()
	for b.Loop() {
		eff, err := db.ApplyIncident(ctx, in.ID, queue.IncidentAction{PauseCampaigns: ids})
		if err != nil {
			b.Fatal(err)
		}
		if len(eff.Paused) != len(ids) {
			b.Fatalf("paused %d of %d", len(eff.Paused), len(ids))
		}
		b.StopTimer()
		if _, err := db.write.Exec(`UPDATE campaigns SET state = 'active', pause = NULL, pause_incident = NULL`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkPostsPending is the approval queue's first page, and a page deep in the queue,
// with 90,000 pending posts.
func BenchmarkPostsPending(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	pending := []queue.PostState{queue.PostPending}
	var due, id int64
	if err := db.read.QueryRow(`SELECT due_at, id FROM posts WHERE state = 'pending' ORDER BY due_at, id LIMIT 1 OFFSET ?`, *benchPosts/2).Scan(&due, &id); err != nil {
		b.Fatal(err)
	}
	deep := encodeCursor(&queue.Post{ID: id, DueAt: fromNano(due)})
	open := []queue.PostState{queue.PostPending, queue.PostApproved, queue.PostHeld}
	for _, tc := range []struct {
		name   string
		states []queue.PostState
		cursor string
	}{{"first", pending, ""}, {"middle", pending, deep}, {"open-states-first", open, ""}, {"open-states-middle", open, deep}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				ps, next, err := db.Posts(ctx, queue.PostFilter{States: tc.states, Cursor: tc.cursor, Limit: 100})
				if err != nil || len(ps) != 100 || next == "" {
					b.Fatal(err, len(ps))
				}
			}
		})
	}
}

// BenchmarkNextWake is the scheduler's question before each sleep.
func BenchmarkNextWake(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	for b.Loop() {
		if w, err := db.NextWake(ctx); err != nil || w.IsZero() {
			b.Fatal(err, w)
		}
	}
}

// BenchmarkScanOpenPosts is one pass of rule matching over the whole queue.
func BenchmarkScanOpenPosts(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	for b.Loop() {
		n := 0
		if err := db.ScanOpenPosts(ctx, func(*queue.Campaign, *queue.Post) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != *benchPosts {
			b.Fatalf("scanned %d", n)
		}
	}
}

// BenchmarkCountPosts is what a metrics scrape or the status page costs.
func BenchmarkCountPosts(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	for b.Loop() {
		if _, err := db.CountPosts(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeriodicIdle is one scheduler pass that finds nothing to do: AutoApprove,
// MarkMissed and CloseExpired over the 100,000-post queue.
func BenchmarkPeriodicIdle(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	for b.Loop() {
		now := time.Now()
		if n, err := db.AutoApprove(ctx, now); err != nil || n != 0 {
			b.Fatal(err, n)
		}
		if n, err := db.MarkMissed(ctx, now); err != nil || n != 0 {
			b.Fatal(err, n)
		}
		if cs, err := db.CloseExpired(ctx, now); err != nil || len(cs) != 0 {
			b.Fatal(err, len(cs))
		}
	}
}
