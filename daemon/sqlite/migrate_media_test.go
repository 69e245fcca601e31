package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeMarksPostsWithPathMedia: posts written before media became uploads, naming a
// path or a URL, get a problem at the upgrade (so they cannot be approved as they are);
// posts already out, or naming upload ids, are left as they were.
func TestUpgradeMarksPostsWithPathMedia(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tact.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	qs := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`}
	for _, m := range ms {
		if m.version >= 4 {
			break
		}
		qs = append(qs, m.sql, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '%s', 1)`, m.version, m.name))
	}
	id := strings.Repeat("ab", 32)
	qs = append(qs,
		`INSERT INTO campaigns (name, accounts, approval, state, created_at, updated_at) VALUES ('old', '["m"]', 'required', 'active', 1, 1)`,
		`INSERT INTO posts (id, campaign_id, text, media, due_at, state, created_at, updated_at) VALUES
			(1, 1, 'a path', '["/home/brand/secret.png"]', 1, 'pending', 1, 1),
			(2, 1, 'a url', '["https://cdn.example/a.png"]', 1, 'approved', 1, 1),
			(3, 1, 'an id', '["`+id+`"]', 1, 'pending', 1, 1),
			(4, 1, 'out already', '["/tmp/x.png"]', 1, 'published', 1, 1),
			(5, 1, 'no media', '[]', 1, 'pending', 1, 1),
			(6, 1, 'upper-case hex', '["`+strings.ToUpper(id)+`"]', 1, 'held', 1, 1)`,
	)
	for _, q := range qs {
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
	for _, c := range []struct {
		id      int64
		flagged bool
	}{{1, true}, {2, true}, {3, false}, {4, false}, {5, false}, {6, true}} {
		p, err := db.Post(context.Background(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		flagged := len(p.Problems) == 1 && strings.Contains(p.Problems[0], "upload the file")
		if flagged != c.flagged || (c.flagged && p.Version != 2) || (!c.flagged && (len(p.Problems) != 0 || p.Version != 1)) {
			t.Errorf("post %d (%q): problems %q, version %d; want flagged %v", c.id, p.Text, p.Problems, p.Version, c.flagged)
		}
	}
}
