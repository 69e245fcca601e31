package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// SetAccountStatus records an account's health, writing the audit log when it changes.
func (db *DB) SetAccountStatus(ctx context.Context, s queue.AccountStatus) error {
	if strings.TrimSpace(s.Account) == "" {
		return queue.Errorf(queue.Invalid, "account", "an account status needs the account's name")
	}
	return db.update(ctx, func(tx *tx) error { return tx.setAccountStatus(s) })
}

func (tx *tx) setAccountStatus(s queue.AccountStatus) error {
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = tx.now
	}
	var wasHealthy sql.NullBool
	err := tx.queryRow(`SELECT healthy FROM account_status WHERE account = ?`, s.Account).Scan(&wasHealthy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.exec(`INSERT INTO account_status (account, healthy, detail, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET healthy = excluded.healthy, detail = excluded.detail, updated_at = excluded.updated_at`,
		s.Account, s.Healthy, s.Detail, unixNano(s.UpdatedAt)); err != nil {
		return err
	}
	if wasHealthy.Valid && wasHealthy.Bool == s.Healthy || !wasHealthy.Valid && s.Healthy {
		return nil
	}
	action := "account.unhealthy"
	if s.Healthy {
		action = "account.healthy"
	}
	return tx.audit(queue.System("publisher"), action, "account:"+s.Account, s.Detail)
}

func (db *DB) AccountStatuses(ctx context.Context) (ss []queue.AccountStatus, err error) {
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT account, healthy, detail, updated_at FROM account_status ORDER BY account`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				s  queue.AccountStatus
				at int64
			)
			if err := rows.Scan(&s.Account, &s.Healthy, &s.Detail, &at); err != nil {
				return err
			}
			s.UpdatedAt = fromNano(at)
			ss = append(ss, s)
		}
		return rows.Err()
	})
	return ss, err
}
