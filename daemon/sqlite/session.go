package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// CreateSession stores a web UI session, after pruning the expired ones and, for its user,
// the oldest beyond queue.MaxSessionsPerUser.
func (db *DB) CreateSession(ctx context.Context, s *queue.Session) error {
	switch {
	case !isHexSHA256(s.IDHash):
		return queue.Errorf(queue.Invalid, "id", "a session is stored by the hex SHA-256 of its id (queue.HashToken), never by the id itself")
	case s.UserID <= 0:
		return queue.Errorf(queue.Invalid, "user", "a session needs its user's id")
	case s.CSRFSecret == "":
		return queue.Errorf(queue.Invalid, "csrf_secret", "a session needs a CSRF secret")
	case s.CreatedAt.IsZero() || !s.ExpiresAt.After(s.CreatedAt):
		return queue.Errorf(queue.Invalid, "expires_at", "a session must expire after it is created (created %s, expires %s)", s.CreatedAt, s.ExpiresAt)
	}
	return db.update(ctx, func(tx *tx) error {
		created := unixNano(s.CreatedAt)
		if _, err := tx.exec(`DELETE FROM sessions WHERE expires_at <= ?`, created); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM users WHERE id = ?`, s.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return queue.Errorf(queue.NotFound, "user", "no user with id %d: it was deleted; sign in again", s.UserID)
		}
		_, err := tx.exec(`INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.IDHash, s.UserID, s.CSRFSecret, created, unixNano(s.ExpiresAt), created)
		if isUnique(err) {
			return queue.Errorf(queue.Conflict, "id", "a session with this id already exists: make a new random id")
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM sessions WHERE user_id = ? AND id_hash NOT IN (
			SELECT id_hash FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id_hash LIMIT ?)`,
			s.UserID, s.UserID, queue.MaxSessionsPerUser); err != nil {
			return err
		}
		s.LastSeenAt = s.CreatedAt
		return nil
	})
}

// Session returns the unexpired session idHash names, with its user.
func (db *DB) Session(ctx context.Context, idHash string, now time.Time) (s *queue.Session, u *queue.User, err error) {
	err = db.view(ctx, func(tx *tx) error {
		var (
			sess                      queue.Session
			usr                       queue.User
			role                      string
			created, expires, seen, c int64
		)
		err := tx.queryRow(`SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at, s.expires_at, s.last_seen_at, u.id, u.name, u.role, u.created_at
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, unixNano(now)).
			Scan(&sess.IDHash, &sess.UserID, &sess.CSRFSecret, &created, &expires, &seen, &usr.ID, &usr.Name, &role, &c)
		if errors.Is(err, sql.ErrNoRows) {
			return queue.Errorf(queue.NotFound, "session", "no such session: it ended (logout, user deleted, new token or role) or expired; sign in again")
		}
		if err != nil {
			return err
		}
		sess.CreatedAt, sess.ExpiresAt, sess.LastSeenAt = fromNano(created), fromNano(expires), fromNano(seen)
		usr.Role, usr.CreatedAt = queue.Role(role), fromNano(c)
		s, u = &sess, &usr
		return nil
	})
	return s, u, err
}

// TouchSession moves the session's LastSeenAt to now (never back).
func (db *DB) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	return db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?`, unixNano(now), idHash, unixNano(now))
		return err
	})
}

// EndSession deletes the session.
func (db *DB) EndSession(ctx context.Context, idHash string) error {
	return db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE id_hash = ?`, idHash)
		return err
	})
}

// endUserSessions deletes every session of the user with id userID.
func (tx *tx) endUserSessions(userID int64) (int64, error) {
	res, err := tx.exec(`DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
