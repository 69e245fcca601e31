-- 0005: web UI sessions kept in the database, so that the server can end them: at logout,
-- when the user is deleted, gets a new token or a new role, and at expiry (a signed cookie
-- alone stayed valid for its 12 hours whatever happened). The cookie carries only a random
-- id; id_hash is its SHA-256 in hex, so a copy of this file opens no session.
--
-- Depends on 0001 (users) only.
CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY CHECK (length(id_hash) = 64),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret  TEXT    NOT NULL CHECK (csrf_secret <> ''),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL CHECK (expires_at > created_at),
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A user's sessions, oldest first (ended together; the oldest beyond the cap pruned).
CREATE INDEX sessions_user ON sessions (user_id, created_at);
-- Expired sessions, pruned at each sign-in.
CREATE INDEX sessions_expires ON sessions (expires_at);
