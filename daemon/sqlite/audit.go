package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Audit appends an entry for something that is not a store change (a rule reload, a login).
func (db *DB) Audit(ctx context.Context, e queue.AuditEntry) error {
	if e.Actor.Kind == "" || e.Actor.Name == "" {
		return queue.Errorf(queue.Invalid, "actor", "an audit entry must say who acted")
	}
	if strings.TrimSpace(e.Action) == "" {
		return queue.Errorf(queue.Invalid, "action", "an audit entry must say what was done")
	}
	return db.update(ctx, func(tx *tx) error {
		if !e.At.IsZero() {
			tx.now = e.At.UTC()
		}
		return tx.audit(e.Actor, e.Action, e.Object, e.Detail)
	})
}

// AuditLog returns entries at or after since, newest first (limit default 100, at most 10,000).
func (db *DB) AuditLog(ctx context.Context, since time.Time, limit int) (es []queue.AuditEntry, err error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 10000:
		limit = 10000
	}
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT id, at, actor_kind, actor_name, action, object, detail FROM audit WHERE at >= ?
			ORDER BY at DESC, id DESC LIMIT ?`, unixNano(since), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e    queue.AuditEntry
				at   int64
				kind string
			)
			if err := rows.Scan(&e.ID, &at, &kind, &e.Actor.Name, &e.Action, &e.Object, &e.Detail); err != nil {
				return err
			}
			e.At, e.Actor.Kind = fromNano(at), queue.ActorKind(kind)
			es = append(es, e)
		}
		return rows.Err()
	})
	return es, err
}

// audit appends one audit row in tx. Details never carry secrets: callers pass reasons,
// field names and ids, never tokens.
func (tx *tx) audit(by queue.Actor, action, object, detail string) error {
	if by.Kind == "" {
		by = queue.System("store")
	}
	_, err := tx.exec(`INSERT INTO audit (at, actor_kind, actor_name, action, object, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		unixNano(tx.now), string(by.Kind), by.Name, action, object, detail)
	return err
}
