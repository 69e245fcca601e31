-- 0001: tact's first schema.
-- Times are INTEGER unix nanoseconds in UTC; 0 means "not set".
-- Lists (accounts, topics, media, pool, problems, flags, terms) are JSON arrays in TEXT columns.
-- The CHECK lists mirror the constants in daemon/queue; a new state needs a migration.

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    accounts    TEXT    NOT NULL DEFAULT '[]',
    topics      TEXT    NOT NULL DEFAULT '[]',
    timezone    TEXT    NOT NULL DEFAULT '',
    approval    TEXT    NOT NULL CHECK (approval IN ('required', 'autopilot')),
    veto        INTEGER NOT NULL DEFAULT 0 CHECK (veto >= 0),
    late        INTEGER NOT NULL DEFAULT 0 CHECK (late >= 0),
    schedule    TEXT    NOT NULL DEFAULT '',
    pool        TEXT    NOT NULL DEFAULT '[]',
    pool_cursor INTEGER NOT NULL DEFAULT 0,
    lead        INTEGER NOT NULL DEFAULT 0 CHECK (lead >= 0),
    next_tick   INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL CHECK (state IN ('active', 'paused', 'archived')),
    pause       TEXT,                                -- JSON queue.Pause while paused
    paused_all  INTEGER NOT NULL DEFAULT 0,          -- 1: paused by PauseAll, resumed by ResumeAll
    pause_incident INTEGER,                          -- incident whose rule paused it (auto-resume)
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((state = 'paused') = (pause IS NOT NULL))
);
CREATE INDEX campaigns_state ON campaigns (state);
CREATE INDEX campaigns_pause_incident ON campaigns (pause_incident) WHERE pause_incident IS NOT NULL;

CREATE TABLE posts (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    text        TEXT    NOT NULL CHECK (text <> ''),
    link        TEXT    NOT NULL DEFAULT '',
    media       TEXT    NOT NULL DEFAULT '[]',
    accounts    TEXT    NOT NULL DEFAULT '[]',
    due_at      INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('draft', 'pending', 'approved', 'held', 'rejected',
                                                  'publishing', 'published', 'failed', 'unknown', 'missed')),
    reason      TEXT    NOT NULL DEFAULT '',
    problems    TEXT    NOT NULL DEFAULT '[]',
    flags       TEXT    NOT NULL DEFAULT '[]',
    tick        INTEGER NOT NULL DEFAULT 0,
    approved_by TEXT    NOT NULL DEFAULT '',
    approved_at INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- Posts by state and due time: ClaimDue, NextWake, the approval queue, ScanOpenPosts.
CREATE INDEX posts_state_due ON posts (state, due_at, id);
-- Listing everything soonest first (keyset on due_at, id).
CREATE INDEX posts_due ON posts (due_at, id);
-- Per campaign: AutoApprove, MarkMissed, the campaign's queue.
CREATE INDEX posts_campaign_state_due ON posts (campaign_id, state, due_at);
-- A recurring tick yields at most one post.
CREATE UNIQUE INDEX posts_campaign_tick ON posts (campaign_id, tick) WHERE tick <> 0;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('waiting', 'publishing', 'published', 'failed', 'unknown')),
    idempotency_key TEXT    NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    remote_id       TEXT    NOT NULL DEFAULT '',
    url             TEXT    NOT NULL DEFAULT '',
    last_error      TEXT    NOT NULL DEFAULT '',
    auth_error      INTEGER NOT NULL DEFAULT 0,      -- 1: last attempt failed on the account's credentials
    started_at      INTEGER NOT NULL DEFAULT 0,
    finished_at     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (post_id, account)
);
-- In-flight deliveries (per-account concurrency, crash recovery).
CREATE INDEX deliveries_publishing ON deliveries (account) WHERE state = 'publishing';
-- The last publish start per account (spacing).
CREATE INDEX deliveries_account_started ON deliveries (account, started_at) WHERE started_at <> 0;

CREATE TABLE context_items (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL CHECK (source <> ''),
    guid         TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL,
    summary      TEXT    NOT NULL DEFAULT '',
    url          TEXT    NOT NULL DEFAULT '',
    language     TEXT    NOT NULL DEFAULT '',
    published_at INTEGER NOT NULL DEFAULT 0,
    seen_at      INTEGER NOT NULL,
    dedup_key    TEXT    NOT NULL UNIQUE             -- source+GUID, else source+URL, else source+title
);
CREATE INDEX context_items_seen ON context_items (seen_at, id);

CREATE TABLE incidents (
    id           INTEGER PRIMARY KEY,
    rule_id      TEXT    NOT NULL CHECK (rule_id <> ''),
    action       TEXT    NOT NULL CHECK (action IN ('pause', 'hold', 'flag')),
    resume       TEXT    NOT NULL CHECK (resume IN ('manual', 'auto')),
    state        TEXT    NOT NULL CHECK (state IN ('open', 'closed', 'resolved')),
    declared     INTEGER NOT NULL DEFAULT 0,
    note         TEXT    NOT NULL DEFAULT '',
    opened_by    TEXT    NOT NULL,                   -- JSON queue.Actor
    opened_at    INTEGER NOT NULL,
    last_item_at INTEGER NOT NULL,
    closes_at    INTEGER NOT NULL,
    closed_at    INTEGER NOT NULL DEFAULT 0
);
-- At most one open incident per rule: RecordIncident extends it.
CREATE UNIQUE INDEX incidents_open_rule ON incidents (rule_id) WHERE state = 'open';
CREATE INDEX incidents_state_closes ON incidents (state, closes_at);
CREATE INDEX incidents_opened ON incidents (opened_at, id);

CREATE TABLE incident_evidence (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    item_id      INTEGER NOT NULL DEFAULT 0,
    source       TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL DEFAULT '',
    url          TEXT    NOT NULL DEFAULT '',
    published_at INTEGER NOT NULL DEFAULT 0,
    terms        TEXT    NOT NULL DEFAULT '[]',
    dedup_key    TEXT    NOT NULL,                   -- item id, else source+title
    UNIQUE (incident_id, dedup_key)
);

-- Every campaign an incident asked to pause, including those already paused at the time, so
-- that closing one incident does not resume a campaign another open incident still covers.
CREATE TABLE incident_campaigns (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    PRIMARY KEY (incident_id, campaign_id)
) WITHOUT ROWID;
CREATE INDEX incident_campaigns_campaign ON incident_campaigns (campaign_id);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'marketer', 'admin')),
    token_hash TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL CHECK (actor_kind IN ('user', 'rule', 'system')),
    actor_name TEXT    NOT NULL,
    action     TEXT    NOT NULL CHECK (action <> ''),
    object     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at, id);
-- The audit log is append-only, whatever code or hand-typed SQL tries.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted');
END;

CREATE TABLE account_status (
    account    TEXT    PRIMARY KEY,
    healthy    INTEGER NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
