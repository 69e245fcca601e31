package queue

import "time"

// Session is one sign-in to the web UI, kept by the store so that it can be ended from the
// server: at logout, when its user is deleted, gets a new token or a new role, and when it
// expires (docs/operations.md, "Web sessions"). The browser's cookie carries only a random
// id; the store keeps the id's hash, so a copy of the database opens no session.
type Session struct {
	// IDHash is the hex SHA-256 of the random id in the cookie (HashToken).
	IDHash string
	UserID int64
	// CSRFSecret is random per session: the forms' anti-forgery token is derived from it.
	CSRFSecret string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// LastSeenAt is when the session was last used, to within SessionTouchEvery.
	LastSeenAt time.Time
}

// MaxSessionsPerUser is how many sessions one user keeps at most: a new sign-in beyond it
// ends that user's oldest ones, so a script that logs in in a loop cannot grow the table.
const MaxSessionsPerUser = 50

// SessionTouchEvery is how stale LastSeenAt may be: a session in use is written at most
// once per this interval, not on every request.
const SessionTouchEvery = time.Minute
