-- hookpoint's own tables on PostgreSQL. River's (river_job, ...) come from River's
-- migrations. The tables are those of the SQLite driver, with the same meaning:
--
-- Times are bigint nanoseconds since the Unix epoch, UTC (-9223372036854775808 stands
-- for the zero time.Time); NULL is a nil *time.Time. bigint keeps the nanoseconds that
-- timestamptz (microseconds) would drop, and orders as a number.
-- JSON is text, kept as written: jsonb would refuse \u0000 and reorder keys.
-- Text that is compared or sorted is COLLATE "C": byte order, as on SQLite, whatever
-- the database's locale, so that ids page the same way everywhere.

CREATE TABLE events (
    id              text COLLATE "C" PRIMARY KEY,
    type            text COLLATE "C" NOT NULL,
    source          text COLLATE "C" NOT NULL,
    subject         text NOT NULL,
    status          text NOT NULL,
    gate            boolean NOT NULL,
    run_id          text NOT NULL,
    run_job         text NOT NULL,
    run_kind        text NOT NULL,
    "time"          bigint NOT NULL,
    data            text,             -- JSON object, NULL for nil Data
    source_env      text,             -- JSON object of strings, NULL for nil SourceEnv
    received_at     bigint NOT NULL,
    idempotency_key text COLLATE "C", -- NULL when empty, so that empty keys never collide
    origin          text NOT NULL,
    state           text NOT NULL,
    verdict         text NOT NULL,
    answer          bytea
);

CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key);
CREATE INDEX events_received_at ON events (received_at, id);
CREATE INDEX events_unfinished ON events (received_at, id) WHERE state = 'received';
-- The latest events of each source (the web UI's overview) without reading every event.
CREATE INDEX events_source_received ON events (source, received_at DESC, id DESC);

CREATE TABLE hooks (
    id              text COLLATE "C" PRIMARY KEY,
    version         integer NOT NULL,
    def             bytea NOT NULL,
    managed_by      text NOT NULL,
    enabled         boolean NOT NULL,
    disabled_reason text NOT NULL,
    failing_since   bigint,
    last_success_at bigint,
    last_outcome    text NOT NULL,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);

-- Every definition a hook id has had. No foreign key: versions outlive their hook.
CREATE TABLE hook_versions (
    hook_id    text COLLATE "C" NOT NULL,
    version    integer NOT NULL,
    def        bytea NOT NULL,
    managed_by text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (hook_id, version)
);

-- Only ciphertext (nonce || AES-GCM sealed value) is stored.
CREATE TABLE hook_secrets (
    hook_id    text COLLATE "C" NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    name       text COLLATE "C" NOT NULL,
    ciphertext bytea NOT NULL,
    PRIMARY KEY (hook_id, name)
);

-- No foreign key to hooks: a delivery stays when its hook is deleted.
CREATE TABLE deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    event_id        text COLLATE "C" NOT NULL REFERENCES events (id),
    event_type      text COLLATE "C" NOT NULL,
    hook_id         text COLLATE "C" NOT NULL,
    hook_version    integer NOT NULL,
    mode            text NOT NULL,
    status          text COLLATE "C" NOT NULL,
    attempts        integer NOT NULL,
    snoozes         integer NOT NULL,
    next_attempt_at bigint,
    last_error      text NOT NULL,
    last_status     integer NOT NULL,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);

-- Listings are newest first by (created_at, id); one index per selective filter.
CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);
CREATE INDEX deliveries_hook_created ON deliveries (hook_id, created_at DESC, id DESC);
CREATE INDEX deliveries_status_created ON deliveries (status, created_at DESC, id DESC);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused, it is shown in the API
    delivery_id  text COLLATE "C" NOT NULL REFERENCES deliveries (id),
    n            integer NOT NULL,
    hook_version integer NOT NULL,
    started_at   bigint NOT NULL,
    duration_ms  double precision NOT NULL,
    outcome      text NOT NULL,
    status_code  integer NOT NULL,
    exit_code    integer,
    error        text NOT NULL,
    response     text NOT NULL,
    request      bytea,            -- JSON of the masked preview
    node         text NOT NULL,
    UNIQUE (delivery_id, n)
);

CREATE INDEX attempts_started_at ON attempts (started_at);

CREATE TABLE tokens (
    id           text COLLATE "C" PRIMARY KEY,
    description  text NOT NULL,
    scope        text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    last_used_at bigint,
    revoked_at   bigint
);
