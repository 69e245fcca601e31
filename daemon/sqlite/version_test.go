package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// TestVersionMovesWithEveryCommit: reads leave the version alone; a commit through the store,
// or by another process on the same file, moves it. Caches of answers rely on both.
func TestVersionMovesWithEveryCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(ctx, path)
	must(t, err)
	defer db.Close()
	version := func() uint64 {
		t.Helper()
		v, err := db.Version(ctx)
		must(t, err)
		return v
	}

	v0 := version()
	c := &queue.Campaign{Name: "spring", Accounts: []string{"m"}}
	must(t, db.CreateCampaign(ctx, ann, c))
	v1 := version()
	if v1 == v0 {
		t.Fatal("creating a campaign did not move the version")
	}
	for range 3 {
		if _, _, err := db.Posts(ctx, queue.PostFilter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Campaign(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v1 {
			t.Fatalf("reads moved the version: %d, then %d", v1, v)
		}
	}

	p := &queue.Post{CampaignID: c.ID, Text: "Lisbon from €49", DueAt: time.Now().Add(time.Hour)}
	must(t, db.CreatePost(ctx, ann, p))
	v2 := version()
	if v2 == v1 {
		t.Fatal("creating a post did not move the version")
	}

	// Another process (here another connection, as sqlite3 run by an admin would be).
	raw := rawOpen(t, path)
	if _, err := raw.Exec(`UPDATE posts SET text = 'edited by hand' WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v2 {
		t.Fatal("a commit by another connection did not move the version")
	}

	// A refused write changes nothing and may leave the version alone; an accepted one moves it.
	v3 := version()
	if err := db.CreateCampaign(ctx, ann, &queue.Campaign{Name: "spring", Accounts: []string{"m"}}); queue.ErrorKind(err) == "" {
		t.Fatalf("duplicate campaign accepted: %v", err)
	}
	if _, err := db.Apply(ctx, ann, p.ID, 0, queue.EventApprove, ""); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v3 {
		t.Fatal("an approval did not move the version")
	}
}

// BenchmarkVersion is what a cached answer costs the store: one PRAGMA on a pinned connection.
func BenchmarkVersion(b *testing.B) {
	db := MustOpen(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := db.Version(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// The version is a property of this store: other adapters may not have one.
var _ interface {
	Version(context.Context) (uint64, error)
} = (*sqlite.DB)(nil)
