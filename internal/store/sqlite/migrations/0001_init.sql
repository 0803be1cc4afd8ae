-- hookpoint's own tables. River's (river_job, ...) come from River's migrations.
--
-- Times are INTEGER nanoseconds since the Unix epoch, UTC (-9223372036854775808 stands
-- for the zero time.Time); NULL is a nil *time.Time. JSON is TEXT, opaque bytes BLOB.
-- STRICT tables make SQLite refuse a value of the wrong type instead of storing it.

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    source          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    status          TEXT NOT NULL,
    gate            INTEGER NOT NULL,
    run_id          TEXT NOT NULL,
    run_job         TEXT NOT NULL,
    run_kind        TEXT NOT NULL,
    time            INTEGER NOT NULL,
    data            TEXT,             -- JSON object, NULL for nil Data
    source_env      TEXT,             -- JSON object of strings, NULL for nil SourceEnv
    received_at     INTEGER NOT NULL,
    idempotency_key TEXT,             -- NULL when empty, so that empty keys never collide
    origin          TEXT NOT NULL,
    state           TEXT NOT NULL,
    verdict         TEXT NOT NULL,
    answer          BLOB
) STRICT;

CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key);
CREATE INDEX events_received_at ON events (received_at, id);
CREATE INDEX events_unfinished ON events (received_at, id) WHERE state = 'received';

CREATE TABLE hooks (
    id              TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    def             BLOB NOT NULL,
    managed_by      TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT NOT NULL,
    failing_since   INTEGER,
    last_success_at INTEGER,
    last_outcome    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- Every definition a hook id has had. No foreign key: versions outlive their hook.
CREATE TABLE hook_versions (
    hook_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    def        BLOB NOT NULL,
    managed_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (hook_id, version)
) STRICT, WITHOUT ROWID;

-- Only ciphertext (nonce || AES-GCM sealed value) is stored.
CREATE TABLE hook_secrets (
    hook_id    TEXT NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (hook_id, name)
) STRICT, WITHOUT ROWID;

-- No foreign key to hooks: a delivery stays when its hook is deleted.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    hook_id         TEXT NOT NULL,
    hook_version    INTEGER NOT NULL,
    mode            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    snoozes         INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_error      TEXT NOT NULL,
    last_status     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- Listings are newest first by (created_at, id); one index per selective filter.
CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);
CREATE INDEX deliveries_hook_created ON deliveries (hook_id, created_at DESC, id DESC);
CREATE INDEX deliveries_status_created ON deliveries (status, created_at DESC, id DESC);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, it is shown in the API
    delivery_id  TEXT NOT NULL REFERENCES deliveries (id),
    n            INTEGER NOT NULL,
    hook_version INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    duration_ms  REAL NOT NULL,
    outcome      TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    exit_code    INTEGER,
    error        TEXT NOT NULL,
    response     TEXT NOT NULL,
    request      BLOB,             -- JSON of the masked preview
    node         TEXT NOT NULL,
    UNIQUE (delivery_id, n)
) STRICT;

CREATE INDEX attempts_started_at ON attempts (started_at);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    scope        TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
