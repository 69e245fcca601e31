package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// CreateUser stores u with the hex SHA-256 of its token; the token itself never reaches
// the store.
func (db *DB) CreateUser(ctx context.Context, by queue.Actor, u *queue.User, tokenHash string) error {
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return queue.Errorf(queue.Invalid, "name", "a user needs a name")
	}
	if !u.Role.Valid() {
		return queue.Errorf(queue.Invalid, "role", "unknown role %q: use viewer, marketer or admin", u.Role)
	}
	if !isHexSHA256(tokenHash) {
		return queue.Errorf(queue.Invalid, "token", "the token must be stored as its hex SHA-256 (queue.HashToken), never as itself")
	}
	return db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(`INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)`,
			u.Name, string(u.Role), tokenHash, unixNano(tx.now))
		if isUnique(err) {
			var n int
			if e := tx.queryRow(`SELECT COUNT(*) FROM users WHERE name = ?`, u.Name).Scan(&n); e == nil && n > 0 {
				return queue.Errorf(queue.Conflict, "name", "a user named %q already exists", u.Name)
			}
			return queue.Errorf(queue.Conflict, "token", "this token is already in use: generate a new one")
		}
		if err != nil {
			return err
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		u.CreatedAt = tx.now
		return tx.audit(by, "user.create", "user:"+u.Name, "role "+string(u.Role))
	})
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func scanUser(s scanner) (*queue.User, error) {
	var (
		u       queue.User
		role    string
		created int64
	)
	if err := s.Scan(&u.ID, &u.Name, &role, &created); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt = queue.Role(role), fromNano(created)
	return &u, nil
}

// UserByTokenHash finds the user a token belongs to; NotFound when none does.
func (db *DB) UserByTokenHash(ctx context.Context, tokenHash string) (u *queue.User, err error) {
	err = db.view(ctx, func(tx *tx) error {
		u, err = scanUser(tx.queryRow(`SELECT id, name, role, created_at FROM users WHERE token_hash = ?`, tokenHash))
		if errors.Is(err, sql.ErrNoRows) {
			return queue.Errorf(queue.NotFound, "token", "no user has this token")
		}
		return err
	})
	return u, err
}

// Users lists users by name.
func (db *DB) Users(ctx context.Context) (us []*queue.User, err error) {
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT id, name, role, created_at FROM users ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		return rows.Err()
	})
	return us, err
}

// DeleteUser removes a user and ends their sessions; their token stops working at once.
func (db *DB) DeleteUser(ctx context.Context, by queue.Actor, name string) error {
	return db.update(ctx, func(tx *tx) error {
		u, err := tx.userByName(name)
		if err != nil {
			return err
		}
		if err := tx.keepAnAdmin(u, "deleting it"); err != nil {
			return err
		}
		ended, err := tx.endUserSessions(u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM users WHERE id = ?`, u.ID); err != nil {
			return err
		}
		return tx.audit(by, "user.delete", "user:"+name, fmt.Sprintf("role %s%s", u.Role, sessionsEnded(ended)))
	})
}

// SetUserRole changes a user's role and ends their sessions.
func (db *DB) SetUserRole(ctx context.Context, by queue.Actor, name string, role queue.Role) (u *queue.User, err error) {
	if !role.Valid() {
		return nil, queue.Errorf(queue.Invalid, "role", "unknown role %q: use viewer, marketer or admin", role)
	}
	err = db.update(ctx, func(tx *tx) error {
		if u, err = tx.userByName(name); err != nil {
			return err
		}
		if u.Role == role {
			return nil // nothing changes, so the sessions need not end
		}
		if role != queue.RoleAdmin {
			if err := tx.keepAnAdmin(u, "making it "+string(role)); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`UPDATE users SET role = ? WHERE id = ?`, string(role), u.ID); err != nil {
			return err
		}
		ended, err := tx.endUserSessions(u.ID)
		if err != nil {
			return err
		}
		old := u.Role
		u.Role = role
		return tx.audit(by, "user.role", "user:"+name, fmt.Sprintf("role %s -> %s%s", old, role, sessionsEnded(ended)))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ReplaceToken gives a user a new token hash and ends their sessions.
func (db *DB) ReplaceToken(ctx context.Context, by queue.Actor, name, tokenHash string) (u *queue.User, err error) {
	if !isHexSHA256(tokenHash) {
		return nil, queue.Errorf(queue.Invalid, "token", "the token must be stored as its hex SHA-256 (queue.HashToken), never as itself")
	}
	err = db.update(ctx, func(tx *tx) error {
		if u, err = tx.userByName(name); err != nil {
			return err
		}
		_, err := tx.exec(`UPDATE users SET token_hash = ? WHERE id = ?`, tokenHash, u.ID)
		if isUnique(err) {
			return queue.Errorf(queue.Conflict, "token", "this token is already in use: generate a new one")
		}
		if err != nil {
			return err
		}
		ended, err := tx.endUserSessions(u.ID)
		if err != nil {
			return err
		}
		return tx.audit(by, "user.token", "user:"+name, "new token"+sessionsEnded(ended))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (tx *tx) userByName(name string) (*queue.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT id, name, role, created_at FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queue.Errorf(queue.NotFound, "name", "no user named %q ('tactctl user list' shows them)", name)
	}
	return u, err
}

// keepAnAdmin refuses to take the admin role from u when u is the last admin: nobody could
// add or change users again.
func (tx *tx) keepAnAdmin(u *queue.User, doing string) error {
	if u.Role != queue.RoleAdmin {
		return nil
	}
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM users WHERE role = 'admin'`).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return queue.Errorf(queue.Conflict, "name", "%q is the last admin; add another admin before %s", u.Name, doing)
	}
	return nil
}

func sessionsEnded(n int64) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "; 1 web session ended"
	default:
		return fmt.Sprintf("; %d web sessions ended", n)
	}
}
