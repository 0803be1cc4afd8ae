// Package store keeps what the server must not lose: events, the deliveries of their
// hooks and every attempt, the hooks and tokens managed through the API, and the
// encrypted secrets those hooks hold. It is the one seam between the server and its
// database: drivers (SQLite in store/sqlite, PostgreSQL in store/postgres) implement
// Store, and one conformance suite (store/storetest) runs unchanged against each.
//
// Methods take a context, return domain types and hide SQL. Transactions are explicit:
// InTx runs a function with a Tx that has the same methods; the durable queue inserts
// its jobs through Tx.Raw in that same transaction.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when an insert would repeat a unique key (an event's
// idempotency key, a hook id, a token id).
var ErrConflict = errors.New("already exists")

// ErrSchemaTooNew is returned by Open when the database was migrated by a newer
// hookpoint than this one.
var ErrSchemaTooNew = errors.New("the database schema is newer than this hookpoint knows")

// Event is an accepted event and what its hooks decided.
type Event struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Source  string         `json:"source"`
	Subject string         `json:"subject,omitempty"`
	Status  string         `json:"status,omitempty"`
	Gate    bool           `json:"gate"`
	RunID   string         `json:"run_id,omitempty"`
	RunJob  string         `json:"run_job,omitempty"`
	RunKind string         `json:"run_kind,omitempty"`
	Time    time.Time      `json:"time"`
	Data    map[string]any `json:"data,omitempty"`
	// SourceEnv holds the variables an adapter read under the tool's own names, passed
	// to exec hooks as they are.
	SourceEnv      map[string]string `json:"source_env,omitempty"`
	ReceivedAt     time.Time         `json:"received_at"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	// Origin says how the event came: "api", "ingest/xo", "fleet", "server" (events the
	// server emits itself, such as hookpoint.hook.disabled).
	Origin string `json:"origin"`
	// State is EventReceived until the event's sync hooks have run and its deliveries
	// are queued, then EventDone. An event left EventReceived by a crash is found by
	// UnfinishedEvents and finished on the next start.
	State   string `json:"state"`
	Verdict string `json:"verdict,omitempty"`
	// Answer is the JSON answer given to the submitter, returned again for a repeated
	// idempotency key.
	Answer []byte `json:"-"`
}

// Event states.
const (
	EventReceived    = "received"
	EventDone        = "done"
	EventInterrupted = "interrupted" // the server stopped while its sync hooks ran
)

// Hook is a hook managed by the server: the API's hooks, and the config file's hooks
// mirrored read-only (ManagedBy "file") so that deliveries and the UI can refer to them.
type Hook struct {
	ID string `json:"id"`
	// Version grows by one with every change of Def; deliveries and attempts record the
	// version they used.
	Version int `json:"version"`
	// Def is the hook as JSON, in the config file's shape, with secrets replaced by
	// references to the hook's encrypted secrets.
	Def       []byte `json:"-"`
	ManagedBy string `json:"managed_by"` // "api" or "file"
	// Enabled as set by the API; AutoDisabled is set by the server (410 Gone, or no
	// success for the auto-disable span) with its reason, and cleared by re-enabling.
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt  *time.Time `json:"last_success_at,omitempty"`
	LastOutcome    string     `json:"last_outcome,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// HookState is the part of a hook that deliveries change.
type HookState struct {
	Enabled        bool
	DisabledReason string
	FailingSince   *time.Time
	LastSuccessAt  *time.Time
	LastOutcome    string
}

// Secret is one encrypted secret of an API-managed hook (auth.token, auth.password,
// sign.secret[0], ...). Only ciphertext is stored.
type Secret struct {
	HookID     string
	Name       string
	Ciphertext []byte // nonce || AES-GCM sealed value, see internal/secretbox
}

// Delivery is one hook's delivery for one event: sync deliveries have one attempt,
// async ones as many as their retry policy allows.
type Delivery struct {
	ID          string `json:"id"` // also the webhook-id and X-Hookpoint-Delivery
	EventID     string `json:"event_id"`
	EventType   string `json:"event_type"`
	HookID      string `json:"hook_id"`
	HookVersion int    `json:"hook_version"`
	Mode        string `json:"mode"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	// Snoozes counts the waits a receiver asked for with Retry-After, which do not use
	// up attempts but are capped.
	Snoozes       int        `json:"snoozes"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Delivery statuses.
const (
	DeliveryQueued    = "queued"    // waiting for its first attempt
	DeliveryRetrying  = "retrying"  // failed at least once, another attempt is planned
	DeliverySucceeded = "succeeded" //
	DeliveryFailed    = "failed"    // attempts used up, 410 Gone, or not renderable
	DeliveryCancelled = "cancelled" // its hook was deleted or the event aborted before it
)

// Attempt is one try at a delivery, as shown to people: the request with secrets
// masked, never the request as sent.
type Attempt struct {
	ID          int64     `json:"id"`
	DeliveryID  string    `json:"delivery_id"`
	N           int       `json:"n"`
	HookVersion int       `json:"hook_version"`
	StartedAt   time.Time `json:"started_at"`
	DurationMS  float64   `json:"duration_ms"`
	Outcome     string    `json:"outcome"` // ok, failed, timeout, skipped
	StatusCode  int       `json:"status,omitempty"`
	ExitCode    *int      `json:"exit_code,omitempty"`
	Error       string    `json:"error,omitempty"`
	Response    string    `json:"response,omitempty"`
	// Request is the masked preview of what was sent (JSON of render.Preview).
	Request []byte `json:"-"`
	Node    string `json:"node,omitempty"`
}

// DeliveryUpdate is what an attempt changes in its delivery.
type DeliveryUpdate struct {
	Status        string
	Attempts      int
	Snoozes       int
	NextAttemptAt *time.Time
	LastError     string
	LastStatus    int
	UpdatedAt     time.Time
}

// DeliveryFilter selects deliveries for a listing; zero fields match everything.
type DeliveryFilter struct {
	HookID    string
	EventID   string
	Status    []string
	EventType string // a pattern as a hook's `on` (* matches any run of characters)
	Since     time.Time
	Until     time.Time
	// Cursor is the last delivery id of the previous page; listings are newest first.
	Cursor string
	Limit  int
}

// Token is an API token; only a hash of its secret part is stored.
type Token struct {
	ID          string     `json:"id"`
	Description string     `json:"description,omitempty"`
	Scope       string     `json:"scope"`
	Hash        []byte     `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Token scopes.
const (
	ScopeAdmin = "admin"
	ScopeEmit  = "emit"
	ScopeRead  = "read"
)

// Counts are the numbers the metrics and the overview show.
type Counts struct {
	ByStatus      map[string]int // deliveries per status
	Pending       int            // queued + retrying
	OldestPending *time.Time     // created_at of the oldest pending delivery
	HooksDisabled int
}

// Queries is what a Store and a Tx can both do.
type Queries interface {
	// Events.
	InsertEvent(ctx context.Context, e *Event) error // ErrConflict on a repeated idempotency key
	GetEvent(ctx context.Context, id string) (*Event, error)
	EventByIdempotencyKey(ctx context.Context, key string) (*Event, error)
	FinishEvent(ctx context.Context, id, state, verdict string, answer []byte) error
	UnfinishedEvents(ctx context.Context, limit int) ([]*Event, error)

	// Hooks and their secrets.
	ListHooks(ctx context.Context) ([]*Hook, error)
	GetHook(ctx context.Context, id string) (*Hook, error)
	// PutHook inserts or replaces a hook's definition; Version becomes one more than the
	// stored one (1 for a new hook) and is set on h.
	PutHook(ctx context.Context, h *Hook) error
	DeleteHook(ctx context.Context, id string) error
	SetHookState(ctx context.Context, id string, st HookState) error
	// RecordHookOutcome applies one attempt's outcome to the hook's state atomically
	// and returns the state before and after: on success LastSuccessAt = at and
	// FailingSince = nil; on failure FailingSince = FailingSince or at, and when the
	// hook is enabled and FailingSince is at or before at - disableAfter (disableAfter >
	// 0), Enabled = false with DisabledReason "failing since <RFC 3339 time> without a
	// success". LastOutcome = outcome. ErrNotFound when there is no such hook.
	RecordHookOutcome(ctx context.Context, id string, ok bool, outcome string, at time.Time, disableAfter time.Duration) (before, after HookState, err error)
	PutSecrets(ctx context.Context, hookID string, secrets []Secret) error // replaces the hook's set
	GetSecrets(ctx context.Context, hookID string) ([]Secret, error)

	// Deliveries and attempts.
	InsertDeliveries(ctx context.Context, ds []*Delivery) error
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// RecordAttempt adds an attempt and applies its update to the delivery in one step;
	// it returns ErrConflict when an attempt with the same number is already recorded
	// (a stale worker after a rescue), so that a newer attempt is never overwritten.
	RecordAttempt(ctx context.Context, a *Attempt, u DeliveryUpdate) error
	UpdateDelivery(ctx context.Context, id string, u DeliveryUpdate) error
	Attempts(ctx context.Context, deliveryID string) ([]*Attempt, error)
	// FailedDeliveries lists the failed deliveries of a hook created at or after since.
	FailedDeliveries(ctx context.Context, hookID string, since time.Time, limit int) ([]*Delivery, error)

	// Tokens.
	InsertToken(ctx context.Context, t *Token) error
	ListTokens(ctx context.Context) ([]*Token, error)
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	// Operations.
	Counts(ctx context.Context) (*Counts, error)
	// Prune deletes at most batch events older than before whose deliveries are all
	// finished, with their deliveries and attempts, and attempts older than before of
	// any delivery; it returns how many rows went.
	Prune(ctx context.Context, before time.Time, batch int) (int, error)
}

// Store is a database.
type Store interface {
	Queries
	// InTx runs fn in a transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Driver names the database: "sqlite" or "postgres".
	Driver() string
	// Raw returns the driver's database handle (*sql.DB for SQLite, *pgxpool.Pool for
	// PostgreSQL), for River.
	Raw() any
	Close() error
}

// Tx is a transaction. Raw returns the driver's transaction (*sql.Tx for SQLite,
// pgx.Tx for PostgreSQL) so that River can insert jobs in it.
type Tx interface {
	Queries
	Raw() any
}
