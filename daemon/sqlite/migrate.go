package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Files are named NNNN_what.sql and
// numbered 1, 2, 3… without gaps, so a missing file is a build mistake caught by the tests.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number, as 0002_what.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d: migrations are numbered without gaps", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the migrations the database lacks, all in one transaction, so a crash
// mid-way leaves the previous schema intact. A database newer than this build is refused.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	return db.update(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL)`); err != nil {
			return db.failure("prepare the schema", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return db.failure("read the schema version", err)
		}
		if current > latest {
			return fmt.Errorf("database %s has schema version %d, but this tact only knows versions up to %d: "+
				"it was written by a newer tact; upgrade tact (or restore a backup taken before the upgrade)", db.path, current, latest)
		}
		var applied []string
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			applied = append(applied, m.name)
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("database %s: apply migration %s: %w", db.path, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, unixNano(tx.now)); err != nil {
				return db.failure("record migration "+m.name, err)
			}
		}
		if len(applied) == 0 {
			return nil
		}
		return tx.audit(queue.System("store"), "schema.migrate", "database", fmt.Sprintf("schema %d -> %d (%s)", current, latest, strings.Join(applied, ", ")))
	})
}
