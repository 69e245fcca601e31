-- 0006: connected accounts' credentials (docs/operations.md, "Connecting accounts"). The
-- daemon seals them with AES-256-GCM under [daemon] secrets_key, the account's name as
-- associated data, before they reach this table: it holds ciphertext and nonce only, never
-- a token or password in clear. key_id is a fingerprint of the key (not the key), so that
-- a changed secrets_key is reported as such rather than as damaged data; seal_version is
-- the sealing format. The other columns are what may be shown about the credentials: who
-- they act as, when they expire, who connected them and when, how refreshing goes.
--
-- Depends on 0001 (deliveries) for the two indexes of the accounts page.
CREATE TABLE credentials (
    account            TEXT    PRIMARY KEY CHECK (account <> ''),
    kind               TEXT    NOT NULL CHECK (kind IN ('oauth', 'password')),
    ciphertext         BLOB    NOT NULL CHECK (length(ciphertext) > 0),
    nonce              BLOB    NOT NULL CHECK (length(nonce) > 0),
    key_id             TEXT    NOT NULL CHECK (key_id <> ''),
    seal_version       INTEGER NOT NULL CHECK (seal_version >= 1),
    subject            TEXT    NOT NULL DEFAULT '',
    refreshable        INTEGER NOT NULL DEFAULT 0 CHECK (refreshable IN (0, 1)),
    expires_at         INTEGER NOT NULL DEFAULT 0,  -- 0: the access token does not expire
    refresh_expires_at INTEGER NOT NULL DEFAULT 0,  -- 0: not known, or never
    issued_at          INTEGER NOT NULL,
    connected_at       INTEGER NOT NULL,
    connected_by       TEXT    NOT NULL,
    refreshed_at       INTEGER NOT NULL DEFAULT 0,
    refresh_error      TEXT    NOT NULL DEFAULT '',
    refresh_error_at   INTEGER NOT NULL DEFAULT 0,
    needs_person       INTEGER NOT NULL DEFAULT 0 CHECK (needs_person IN (0, 1)),
    revision           INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

-- An account's last publish, and its last delivery error (failed, unknown, or waiting to
-- be tried again), for the accounts page: one index probe per account.
CREATE INDEX deliveries_account_published ON deliveries (account, finished_at) WHERE state = 'published';
CREATE INDEX deliveries_account_errors ON deliveries (account, started_at) WHERE last_error <> '';
