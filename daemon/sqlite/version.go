package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// versionProbe answers "has anything been committed since?" cheaply, for caches of answers
// built from the database (the approval queue's page, asked for by every open browser).
//
// SQLite's PRAGMA data_version changes, on one connection, whenever any other connection
// commits: this process's writer, or another process (an admin's sqlite3 shell). The value
// is only comparable on the same connection, so the probe pins one connection; if it ever
// has to open a new one, the epoch moves on and every earlier version is left behind.
type versionProbe struct {
	mu    sync.Mutex
	db    *sql.DB
	conn  *sql.Conn
	epoch uint64
}

// Version returns a number that stays the same as long as nothing has been committed to the
// database, by this process or another one. Two equal answers mean that every read made
// between them saw the same data; a different answer only says that something may have
// changed (a checkpoint can move it too). Answers are only comparable within one process.
func (db *DB) Version(ctx context.Context) (uint64, error) {
	p := &db.probe
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		c, err := p.db.Conn(ctx)
		if err != nil {
			return 0, db.failure("read the database version", err)
		}
		p.conn = c
		p.epoch++
	}
	var v uint64
	if err := p.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		p.conn.Close()
		p.conn = nil
		return 0, db.failure("read the database version", err)
	}
	// data_version is a small counter per connection: 2^40 changes per epoch is plenty.
	return p.epoch<<40 | v&(1<<40-1), nil
}

func (p *versionProbe) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	if p.db == nil {
		return nil
	}
	return p.db.Close()
}

// IncidentsVersion returns a number that moves whenever an incident or its evidence changes,
// by this process or another one (triggers of migration 0007 count every change). Things
// built from the open incidents keep while it stands still, whatever else is committed: a
// queue page's warnings are read again after an incident changes, not after every approval.
func (db *DB) IncidentsVersion(ctx context.Context) (v uint64, err error) {
	err = db.view(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT n FROM incidents_version`).Scan(&v)
	})
	return v, err
}
