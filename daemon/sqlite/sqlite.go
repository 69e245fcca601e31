// Package sqlite implements queue.Store on a SQLite file (mattn/go-sqlite3): tact's embedded
// default storage.
//
// Durability: WAL journal with synchronous=FULL, so a method that returned has been fsynced
// and survives kill -9. Concurrency: all writes go through one connection whose transactions
// begin IMMEDIATE, so writers queue in Go instead of failing with SQLITE_BUSY halfway through;
// reads use a separate pool of read-only connections that WAL lets run beside the writer.
//
// Each exported method owns its transaction; the unexported helpers take the *tx, which
// carries the single "now" that every timestamp written in that transaction uses.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tact-hq/tact/daemon/queue"
)

// DB is a tact database in one SQLite file. It implements queue.Store and is safe for
// concurrent use.
type DB struct {
	path  string
	write *sql.DB // one connection, BEGIN IMMEDIATE
	read  *sql.DB // read-only pool
	probe versionProbe
	now   func() time.Time
	// limits bound each campaign's lead and open posts (queue.Limits); checked in the
	// transaction that would go beyond them.
	limits queue.Limits
}

var _ queue.Store = (*DB)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	now         func() time.Time
	busyTimeout time.Duration
	readers     int
	limits      queue.Limits
}

// WithClock makes the store take "now" from now instead of the wall clock (tests, the demo).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithBusyTimeout sets how long a connection waits for a lock held by another process
// before reporting the database busy (default 5s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithReaders sets the size of the read-only connection pool (default 4).
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// WithLimits sets the limits on each campaign's lead and open posts (tact.toml's); zero
// fields keep queue.DefaultLimits.
func WithLimits(l queue.Limits) Option { return func(o *options) { o.limits = l } }

// Open opens (creating if needed) the database at path and brings its schema up to date.
// A database written by a newer tact is refused rather than misread.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{now: func() time.Time { return time.Now().UTC() }, busyTimeout: 5 * time.Second, readers: 4}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, queue.Errorf(queue.Invalid, "database.path", "no database path given: set [database] path in tact.toml")
	}
	if path == ":memory:" {
		// Each pooled connection would get its own empty database.
		return nil, queue.Errorf(queue.Invalid, "database.path", "an in-memory database cannot be shared by tact's connections: give a file path")
	}
	if err := private(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite3", dsn(path, o.busyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, write: w, now: o.now, limits: o.limits.OrDefault()}
	// Create the file and apply migrations before any reader opens it: a query-only
	// connection cannot create the WAL or the schema.
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite3", dsn(path, o.busyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, db.failure("open the database for reading", err)
	}
	db.read = r
	probe, err := sql.Open("sqlite3", dsn(path, o.busyTimeout, true))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	probe.SetMaxOpenConns(1)
	db.probe.db = probe
	return db, nil
}

func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	// Reuse prepared statements: preparing costs more than running most of these queries.
	q.Set("_stmt_cache_size", "64")
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database. Everything acknowledged is already on disk.
func (db *DB) Close() error {
	err := db.probe.close()
	if db.read != nil {
		if e := db.read.Close(); e != nil && err == nil {
			err = e
		}
	}
	if e := db.write.Close(); e != nil && err == nil {
		err = e
	}
	return err
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// tx is one transaction with the single time every write in it uses.
type tx struct {
	*sql.Tx
	ctx context.Context
	db  *DB
	now time.Time
	// open counts open posts by campaign id once checkOpen has read them in this transaction.
	open map[int64]int
}

func (tx *tx) exec(q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(tx.ctx, q, args...)
}
func (tx *tx) query(q string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(tx.ctx, q, args...)
}
func (tx *tx) queryRow(q string, args ...any) *sql.Row { return tx.QueryRowContext(tx.ctx, q, args...) }

// update runs fn in a write transaction and commits it. The rollback runs whatever happened,
// including a cancelled ctx: database/sql rolls back on cancellation, and the deferred
// Rollback covers every other way out.
func (db *DB) update(ctx context.Context, fn func(*tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.failure("start a write", err)
	}
	defer t.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := fn(&tx{Tx: t, ctx: ctx, db: db, now: db.now().UTC()}); err != nil {
		return db.mapErr(err)
	}
	if err := t.Commit(); err != nil {
		return db.failure("commit", err)
	}
	return nil
}

// view runs fn in a read transaction, which sees one consistent snapshot.
func (db *DB) view(ctx context.Context, fn func(*tx) error) error {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return db.failure("start a read", err)
	}
	defer t.Rollback() //nolint:errcheck // read-only: nothing to keep
	if err := fn(&tx{Tx: t, ctx: ctx, db: db, now: db.now().UTC()}); err != nil {
		return db.mapErr(err)
	}
	return nil
}

// mapErr turns SQLite's storage failures into queue.Unavailable and leaves domain errors,
// context errors and everything else as they are.
func (db *DB) mapErr(err error) error {
	if err == nil || queue.ErrorKind(err) != "" {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return db.failure("", err)
	}
	return err
}

// failure explains a SQLite error to the person who will read it: what happened, what to do.
func (db *DB) failure(doing string, err error) error {
	if queue.ErrorKind(err) != "" || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	where := "database " + db.path
	if doing != "" {
		where = doing + " in " + where
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", where, err)
	}
	var msg string
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		msg = "the database is locked by another process or a long transaction; nothing was changed: try again, and check that no other program holds " + db.path
	case sqlite3.ErrFull:
		msg = "the disk holding the database is full; nothing was changed: free space on that disk and try again"
	case sqlite3.ErrIoErr:
		msg = "the disk failed to read or write the database; nothing was changed: check the disk and its free space, then try again"
	case sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrCantOpen:
		msg = "the database file cannot be opened or written; nothing was changed: check that the directory of " + db.path + " exists and that tact may write there"
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		msg = "the database file is damaged or is not a tact database: restore it from a backup"
	default:
		return fmt.Errorf("%s: %w", where, err)
	}
	return &queue.Error{Kind: queue.Unavailable, Message: where + ": " + msg, Err: err}
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}
