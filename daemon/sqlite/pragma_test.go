package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings durability and concurrency rest on, on the connections
// the store really uses.
func TestPragmas(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		pool, pragma, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL: a commit is fsynced before it returns
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "5000"},
		{"read", "synchronous", "2"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
	} {
		conn := db.write
		if tc.pool == "read" {
			conn = db.read
		}
		var got string
		if err := conn.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s pool: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
}
