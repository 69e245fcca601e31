package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestUpgradeFromVersion1: a database written by a tact that knew only 0001, with posts in
// it, is brought to the current schema at Open, with its data counted and the upgrade
// recorded in the audit log.
func TestUpgradeFromVersion1(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tact.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 1)`,
		`INSERT INTO campaigns (name, accounts, approval, state, created_at, updated_at) VALUES ('old', '["m"]', 'required', 'active', 1, 1)`,
		`INSERT INTO posts (campaign_id, text, due_at, state, created_at, updated_at) VALUES (1, 'a', 1, 'pending', 1, 1), (1, 'b', 1, 'pending', 1, 1), (1, 'c', 1, 'published', 1, 1)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	raw.Close()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := db.CountPosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[queue.PostPending] != 2 || counts[queue.PostPublished] != 1 {
		t.Fatalf("counts after upgrade: %v", counts)
	}
	var v int
	if err := db.read.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("version %d (%v), want %d", v, err, SchemaVersion())
	}
	es, err := db.AuditLog(context.Background(), time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Action != "schema.migrate" || !strings.Contains(es[0].Detail, "1 -> ") {
		t.Fatalf("audit after upgrade: %+v", es)
	}
}
