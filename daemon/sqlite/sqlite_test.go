package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/queue/storetest"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// MustOpen opens a fresh database file in a temporary directory, closed at the end of the test.
func MustOpen(tb testing.TB, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "tact.db"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) queue.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"), sqlite.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

var ann = queue.Actor{Kind: queue.ActorUser, Name: "ann"}

func TestMigrationsOnFreshFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw := rawOpen(t, path)
	var v int
	if err := raw.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != sqlite.SchemaVersion() || v < 1 {
		t.Fatalf("schema version %d, want %d", v, sqlite.SchemaVersion())
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	raw.Close()
	// Opening again applies nothing twice.
	db, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db.Close()
}

func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw := rawOpen(t, path)
	newer := sqlite.SchemaVersion() + 7
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)`, newer); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil {
		t.Fatal("a database from a newer tact was opened")
	}
	for _, want := range []string{fmt.Sprint(newer), fmt.Sprint(sqlite.SchemaVersion()), "upgrade tact", path} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %q", err, want)
		}
	}
}

// TestReopenKeepsEverything: what was acknowledged is there after the database is closed and
// opened again.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c := &queue.Campaign{Name: "spring", Accounts: []string{"m"}, Topics: []string{"travel"}}
	must(t, db.CreateCampaign(ctx, ann, c))
	p := &queue.Post{CampaignID: c.ID, Text: "Lisbon from €49 ✈️", DueAt: time.Now().Add(-time.Minute)}
	must(t, db.CreatePost(ctx, ann, p))
	_, err = db.Apply(ctx, ann, p.ID, 0, queue.EventApprove, "")
	must(t, err)
	cs, err := db.ClaimDue(ctx, queue.ClaimRequest{Now: time.Now(), Limit: 1})
	must(t, err)
	if len(cs) != 1 {
		t.Fatalf("claimed %d", len(cs))
	}
	must(t, db.Close())

	db, err = sqlite.Open(ctx, path)
	must(t, err)
	defer db.Close()
	got, err := db.Post(ctx, p.ID)
	must(t, err)
	if got.Text != p.Text || got.State != queue.PostPublishing || got.Deliveries[0].IdempotencyKey != cs[0].Delivery.IdempotencyKey {
		t.Fatalf("after reopen: %+v", got)
	}
	in, err := db.InFlight(ctx)
	must(t, err)
	if len(in) != 1 || in[0].Delivery.ID != cs[0].Delivery.ID {
		t.Fatalf("in flight after reopen: %+v", in)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditIsAppendOnly: not even hand-typed SQL rewrites history.
func TestAuditIsAppendOnly(t *testing.T) {
	db := MustOpen(t)
	must(t, db.Audit(context.Background(), queue.AuditEntry{Actor: ann, Action: "rules.reload"}))
	raw := rawOpen(t, db.Path())
	if _, err := raw.Exec(`UPDATE audit SET detail = 'rewritten'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("UPDATE on the audit log: %v", err)
	}
	if _, err := raw.Exec(`DELETE FROM audit`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("DELETE on the audit log: %v", err)
	}
}

// TestLockedIsUnavailable: another process holding the write lock makes a write fail as
// Unavailable with advice, and nothing is half-written.
func TestLockedIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, sqlite.WithBusyTimeout(50*time.Millisecond))
	raw := rawOpen(t, db.Path())
	conn, err := raw.Conn(ctx)
	must(t, err)
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	err = db.CreateCampaign(ctx, ann, &queue.Campaign{Name: "x", Accounts: []string{"m"}})
	if queue.ErrorKind(err) != queue.Unavailable || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("write while locked: %v (kind %q)", err, queue.ErrorKind(err))
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	cs, err := db.Campaigns(ctx, queue.CampaignFilter{})
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("a refused write left %d campaigns", len(cs))
	}
	must(t, db.CreateCampaign(ctx, ann, &queue.Campaign{Name: "x", Accounts: []string{"m"}}))
}

// TestCancelledWriteLeavesNothing: a write whose context is cancelled changes nothing and
// does not wedge the writer.
func TestCancelledWriteLeavesNothing(t *testing.T) {
	db := MustOpen(t)
	c := &queue.Campaign{Name: "x", Accounts: []string{"m"}}
	must(t, db.CreateCampaign(context.Background(), ann, c))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ps := []*queue.Post{{CampaignID: c.ID, Text: "a", DueAt: time.Now()}, {CampaignID: c.ID, Text: "b", DueAt: time.Now()}}
	if err := db.CreatePosts(ctx, ann, ps); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	counts, err := db.CountPosts(context.Background())
	must(t, err)
	if counts[queue.PostPending] != 0 {
		t.Fatalf("a cancelled write stored %d posts", counts[queue.PostPending])
	}
	must(t, db.CreatePosts(context.Background(), ann, ps))
}

func TestOpenRefusesMemory(t *testing.T) {
	_, err := sqlite.Open(context.Background(), ":memory:")
	if queue.ErrorKind(err) != queue.Invalid {
		t.Fatalf("open :memory:: %v", err)
	}
}

// TestConcurrentWritersNeverBusy: writers in many goroutines, through two handles on the same
// file (as two processes would), queue for the lock instead of failing with "database is
// locked", while readers keep reading.
func TestConcurrentWritersNeverBusy(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t)
	b, err := sqlite.Open(ctx, a.Path())
	must(t, err)
	defer b.Close()
	c := &queue.Campaign{Name: "busy", Accounts: []string{"m"}}
	must(t, a.CreateCampaign(ctx, ann, c))
	const workers, each = 8, 20
	errs := make(chan error, workers)
	for w := range workers {
		db := a
		if w%2 == 1 {
			db = b
		}
		go func() {
			for i := range each {
				p := &queue.Post{CampaignID: c.ID, Text: fmt.Sprintf("w%d p%d", w, i), DueAt: time.Now().Add(time.Hour)}
				if err := db.CreatePost(ctx, ann, p); err != nil {
					errs <- err
					return
				}
				if _, err := db.Apply(ctx, ann, p.ID, p.Version, queue.EventApprove, ""); err != nil {
					errs <- err
					return
				}
				if _, _, err := db.Posts(ctx, queue.PostFilter{States: []queue.PostState{queue.PostApproved}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	counts, err := b.CountPosts(ctx)
	must(t, err)
	if counts[queue.PostApproved] != workers*each {
		t.Fatalf("%d approved posts, want %d", counts[queue.PostApproved], workers*each)
	}
}

// TestCancelMidWriteIsAllOrNothing: a bulk import whose context is cancelled after its
// transaction began (the store's clock is read inside the transaction, and here it cancels)
// stores nothing, and the single writer connection is free again afterwards.
func TestCancelMidWriteIsAllOrNothing(t *testing.T) {
	var hook atomic.Pointer[context.CancelFunc]
	db := MustOpen(t, sqlite.WithClock(func() time.Time {
		if cancel := hook.Swap(nil); cancel != nil {
			(*cancel)()
		}
		return time.Now().UTC()
	}))
	c := &queue.Campaign{Name: "bulk", Accounts: []string{"m"}}
	must(t, db.CreateCampaign(context.Background(), ann, c))
	for round := range 3 {
		ps := make([]*queue.Post, 500)
		for i := range ps {
			ps[i] = &queue.Post{CampaignID: c.ID, Text: fmt.Sprint(round, "/", i), DueAt: time.Now().Add(time.Hour)}
		}
		ctx, cancel := context.WithCancel(context.Background())
		hook.Store(&cancel)
		if err := db.CreatePosts(ctx, ann, ps); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: import cancelled mid-transaction returned %v", round, err)
		}
		if hook.Load() != nil {
			t.Fatal("the transaction never read its clock: the test did not cancel mid-write")
		}
		counts, err := db.CountPosts(context.Background())
		must(t, err)
		if counts[queue.PostPending] != 0 {
			t.Fatalf("round %d: %d posts stored by a cancelled import", round, counts[queue.PostPending])
		}
	}
	must(t, db.CreatePost(context.Background(), ann, &queue.Post{CampaignID: c.ID, Text: "after", DueAt: time.Now()}))
}
