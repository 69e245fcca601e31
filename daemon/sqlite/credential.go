package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tact-hq/tact/daemon/queue"
)

// The credentials table holds sealed credentials only (migration 0006); sealing and
// opening them is the daemon's (daemon/connect), which holds the key.

const credentialColumns = `account, kind, ciphertext, nonce, key_id, seal_version, subject, refreshable, expires_at,
	refresh_expires_at, issued_at, connected_at, connected_by, refreshed_at, refresh_error, refresh_error_at, needs_person, revision`

// SaveCredential stores a person's connection of an account, replacing what was there.
func (db *DB) SaveCredential(ctx context.Context, by queue.Actor, c *queue.Credential) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *tx) error {
		var rev int64
		err := tx.queryRow(`SELECT revision FROM credentials WHERE account = ?`, c.Account).Scan(&rev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		saved := *c
		saved.IssuedAt, saved.ConnectedAt, saved.ConnectedBy = tx.now, tx.now, by.Name
		saved.RefreshedAt, saved.RefreshError, saved.RefreshErrorAt, saved.NeedsPerson = zeroTime, "", zeroTime, false
		saved.Revision = rev + 1
		if _, err := tx.exec(`INSERT INTO credentials (`+credentialColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET kind = excluded.kind, ciphertext = excluded.ciphertext, nonce = excluded.nonce,
				key_id = excluded.key_id, seal_version = excluded.seal_version, subject = excluded.subject,
				refreshable = excluded.refreshable, expires_at = excluded.expires_at, refresh_expires_at = excluded.refresh_expires_at,
				issued_at = excluded.issued_at, connected_at = excluded.connected_at, connected_by = excluded.connected_by,
				refreshed_at = 0, refresh_error = '', refresh_error_at = 0, needs_person = 0, revision = excluded.revision`,
			credentialArgs(&saved)...); err != nil {
			return err
		}
		detail := "connected"
		if saved.Subject != "" {
			detail += " as " + saved.Subject
		}
		if err := tx.audit(by, "account.connect", "account:"+c.Account, detail); err != nil {
			return err
		}
		*c = saved
		return nil
	})
}

var zeroTime = fromNano(0)

func credentialArgs(c *queue.Credential) []any {
	return []any{c.Account, string(c.Kind), c.Ciphertext, c.Nonce, c.KeyID, c.Version, c.Subject, c.Refreshable,
		unixNano(c.ExpiresAt), unixNano(c.RefreshExpiresAt), unixNano(c.IssuedAt), unixNano(c.ConnectedAt), c.ConnectedBy,
		unixNano(c.RefreshedAt), c.RefreshError, unixNano(c.RefreshErrorAt), c.NeedsPerson, c.Revision}
}

// RotateCredential stores refreshed credentials, compare-and-set on the revision read.
func (db *DB) RotateCredential(ctx context.Context, c *queue.Credential) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(`UPDATE credentials SET ciphertext = ?, nonce = ?, key_id = ?, seal_version = ?, subject = ?,
			refreshable = ?, expires_at = ?, refresh_expires_at = ?, issued_at = ?, refreshed_at = ?, refresh_error = '',
			refresh_error_at = 0, needs_person = 0, revision = revision + 1
			WHERE account = ? AND revision = ?`,
			c.Ciphertext, c.Nonce, c.KeyID, c.Version, c.Subject, c.Refreshable, unixNano(c.ExpiresAt), unixNano(c.RefreshExpiresAt),
			unixNano(tx.now), unixNano(tx.now), c.Account, c.Revision)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return staleCredential(tx, c.Account)
		}
		got, err := tx.credential(c.Account)
		if err != nil {
			return err
		}
		*c = *got
		return nil
	})
}

// staleCredential explains a compare-and-set that matched no row.
func staleCredential(tx *tx, account string) error {
	if _, err := tx.credential(account); err != nil {
		return err
	}
	return queue.Errorf(queue.Conflict, "revision", "the credentials of account %q changed while they were refreshed (connected again?): the refresh is dropped", account)
}

// RefreshFailed records a refresh that did not work, compare-and-set on revision.
func (db *DB) RefreshFailed(ctx context.Context, account string, revision int64, msg string, needsPerson bool) error {
	return db.update(ctx, func(tx *tx) error {
		var was bool
		if err := tx.queryRow(`SELECT needs_person FROM credentials WHERE account = ? AND revision = ?`, account, revision).Scan(&was); errors.Is(err, sql.ErrNoRows) {
			return staleCredential(tx, account)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE credentials SET refresh_error = ?, refresh_error_at = ?, needs_person = ?, revision = revision + 1
			WHERE account = ? AND revision = ?`, msg, unixNano(tx.now), needsPerson || was, account, revision); err != nil {
			return err
		}
		if needsPerson && !was {
			return tx.audit(queue.System("connect"), "account.needs_connect", "account:"+account, msg)
		}
		return nil
	})
}

// Credential returns the account's sealed credentials.
func (db *DB) Credential(ctx context.Context, account string) (c *queue.Credential, err error) {
	err = db.view(ctx, func(tx *tx) error {
		c, err = tx.credential(account)
		return err
	})
	return c, err
}

func (tx *tx) credential(account string) (*queue.Credential, error) {
	c, err := scanCredential(tx.queryRow(`SELECT `+credentialColumns+` FROM credentials WHERE account = ?`, account))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queue.Errorf(queue.NotFound, "account", "account %q is not connected", account)
	}
	return c, err
}

// Credentials lists every account's sealed credentials.
func (db *DB) Credentials(ctx context.Context) (out []*queue.Credential, err error) {
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT ` + credentialColumns + ` FROM credentials ORDER BY account`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCredential(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

func scanCredential(row scanner) (*queue.Credential, error) {
	var (
		c                                                                     queue.Credential
		kind                                                                  string
		expires, refreshExpires, issued, connected, refreshed, refreshErrorAt int64
	)
	if err := row.Scan(&c.Account, &kind, &c.Ciphertext, &c.Nonce, &c.KeyID, &c.Version, &c.Subject, &c.Refreshable,
		&expires, &refreshExpires, &issued, &connected, &c.ConnectedBy, &refreshed, &c.RefreshError, &refreshErrorAt,
		&c.NeedsPerson, &c.Revision); err != nil {
		return nil, err
	}
	c.Kind = queue.CredentialKind(kind)
	c.ExpiresAt, c.RefreshExpiresAt, c.IssuedAt = fromNano(expires), fromNano(refreshExpires), fromNano(issued)
	c.ConnectedAt, c.RefreshedAt, c.RefreshErrorAt = fromNano(connected), fromNano(refreshed), fromNano(refreshErrorAt)
	return &c, nil
}

// The accounts page's queries, each one probe of an index of migration 0006.
const (
	qLastPublished = `SELECT MAX(finished_at) FROM deliveries WHERE account = ? AND state = 'published'`
	qLastError     = `SELECT last_error, started_at FROM deliveries WHERE account = ? AND last_error <> '' ORDER BY started_at DESC LIMIT 1`
)

// AccountActivity reads each account's last publish and last delivery error.
func (db *DB) AccountActivity(ctx context.Context, accounts []string) (out []queue.AccountActivity, err error) {
	err = db.view(ctx, func(tx *tx) error {
		for _, name := range accounts {
			a := queue.AccountActivity{Account: name}
			var last sql.NullInt64
			if err := tx.queryRow(qLastPublished, name).Scan(&last); err != nil {
				return err
			}
			a.LastPublishedAt = fromNano(last.Int64)
			var at int64
			err := tx.queryRow(qLastError, name).Scan(&a.LastError, &at)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			a.LastErrorAt = fromNano(at)
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
