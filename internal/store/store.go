// Package store keeps what the server must not lose: events, the deliveries of their
// hooks and every attempt, the hooks and tokens managed through the API, and the
// encrypted secrets those hooks hold. It is the one seam between the server and its
// database: drivers (SQLite in store/sqlite, PostgreSQL in store/postgres) implement
// Store, and one conformance suite (store/storetest) runs unchanged against each.
//
// Methods take a context, return domain types and hide SQL. Transactions are explicit:
// InTx runs a function with a Tx that has the same methods; the durable queue inserts
// its jobs through Tx.Raw in that same transaction.
//
// Contracts every driver keeps (storetest checks them):
//   - Times come back in UTC and equal, to the nanosecond, the instant stored; a zero
//     time.Time comes back zero and a nil *time.Time nil.
//   - Byte fields (Def, Answer, Request, Ciphertext, Hash) come back byte for byte;
//     nil and empty are not told apart.
//   - Event.Data comes back as decoded JSON with numbers as json.Number, so that
//     12345678901234567890 and 1.0 keep the digits they were given; nil stays nil.
//   - A limit of zero or less means no limit. A listing that finds nothing returns an
//     empty slice, not nil (it encodes as [] in JSON).
//   - Errors wrap ErrNotFound and ErrConflict; test them with errors.Is.
//   - Every method is all or nothing, in a Tx too: a method that fails leaves the
//     transaction as it was and usable, so a caller may handle ErrConflict (a repeated
//     idempotency key) and go on to commit. (PostgreSQL aborts a transaction at its
//     first failed statement: its driver checks first or uses savepoints.)
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when an insert would repeat a unique key (an event's id or
// idempotency key, a delivery id, a token's id or hash, an attempt number).
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
	Data    map[string]any `json:"data,omitempty"` // numbers read back as json.Number
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
	// version they used, and HookVersion returns the definition a version had.
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

// HookVersion is one definition a hook has had. Versions outlive the hook: a delivery's
// (HookID, HookVersion) always names the definition it was made with.
type HookVersion struct {
	HookID    string
	Version   int
	Def       []byte
	ManagedBy string
	CreatedAt time.Time // the UpdatedAt of the PutHook that wrote it
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
	HookID  string
	EventID string
	Status  []string // any of these
	// EventType is a pattern as a hook's `on`: * matches any run of characters, every
	// other character (%, _, ?, [ included) only itself, case-sensitively.
	EventType string
	Since     time.Time // created_at >= Since
	Until     time.Time // created_at < Until
	// Cursor is the last delivery id of the previous page; listings are newest first
	// (created_at, then id, descending), so pages never repeat or skip a delivery even
	// when many share a created_at. An unknown cursor gives ErrNotFound.
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
	ByStatus      map[string]int // deliveries per status; the five statuses are always present
	Pending       int            // queued + retrying
	OldestPending *time.Time     // created_at of the oldest pending delivery, nil when none
	HooksDisabled int            // hooks not Enabled or with a DisabledReason
}

// ActivityBucket is the deliveries created in [Start, Start+step), by status; the five
// statuses are always present.
type ActivityBucket struct {
	Start    time.Time
	ByStatus map[string]int
}

// Queries is what a Store and a Tx can both do.
type Queries interface {
	// Events. Methods given an id return ErrNotFound when it does not exist.
	//
	// InsertEvent returns ErrConflict on a repeated id or a repeated non-empty
	// idempotency key (an empty key is never unique and never found).
	InsertEvent(ctx context.Context, e *Event) error
	GetEvent(ctx context.Context, id string) (*Event, error)
	EventByIdempotencyKey(ctx context.Context, key string) (*Event, error)
	FinishEvent(ctx context.Context, id, state, verdict string, answer []byte) error
	// UnfinishedEvents lists the events still EventReceived, oldest received first.
	UnfinishedEvents(ctx context.Context, limit int) ([]*Event, error)

	// Hooks and their secrets, listed by id and by name.
	ListHooks(ctx context.Context) ([]*Hook, error)
	GetHook(ctx context.Context, id string) (*Hook, error)
	// PutHook inserts a hook or replaces every field of the stored one but CreatedAt,
	// and sets h.Version and h.CreatedAt to what is stored. Version is 1 for an id never
	// seen, stays when Def and ManagedBy are unchanged, and otherwise becomes one more
	// than the highest version the id ever had (a deleted and re-created hook goes on
	// counting, so a delivery's version names one definition forever).
	PutHook(ctx context.Context, h *Hook) error
	// HookVersion returns a definition the hook had, also after the hook was deleted.
	HookVersion(ctx context.Context, id string, version int) (*HookVersion, error)
	// DeleteHook deletes the hook and its secrets; its deliveries and versions stay.
	DeleteHook(ctx context.Context, id string) error
	SetHookState(ctx context.Context, id string, st HookState) error
	// RecordHookOutcome applies one attempt's outcome to the hook's state atomically
	// and returns the state before and after: on success LastSuccessAt = at and
	// FailingSince = nil; on failure FailingSince = FailingSince or at, and when the
	// hook is enabled and FailingSince is at or before at - disableAfter (disableAfter >
	// 0), Enabled = false with DisabledReason "failing since <RFC 3339 time> without a
	// success". LastOutcome = outcome. ErrNotFound when there is no such hook.
	RecordHookOutcome(ctx context.Context, id string, ok bool, outcome string, at time.Time, disableAfter time.Duration) (before, after HookState, err error)
	// PutSecrets replaces the hook's whole set (an empty set deletes them all).
	PutSecrets(ctx context.Context, hookID string, secrets []Secret) error
	GetSecrets(ctx context.Context, hookID string) ([]Secret, error)

	// Deliveries and attempts.
	//
	// InsertDeliveries inserts all or none: ErrConflict on a repeated id, ErrNotFound
	// when a delivery's event does not exist.
	InsertDeliveries(ctx context.Context, ds []*Delivery) error
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// RecordAttempt adds an attempt, sets a.ID, and applies its update to the delivery
	// in one step; it returns ErrConflict, writing nothing, when an attempt with the same
	// or a higher number is already recorded (a stale worker after a rescue), so that a
	// newer attempt is never overwritten.
	RecordAttempt(ctx context.Context, a *Attempt, u DeliveryUpdate) error
	UpdateDelivery(ctx context.Context, id string, u DeliveryUpdate) error
	// Attempts lists a delivery's attempts by number (none for an unknown delivery).
	Attempts(ctx context.Context, deliveryID string) ([]*Attempt, error)
	// FailedDeliveries lists the failed deliveries of a hook created at or after since,
	// newest first.
	FailedDeliveries(ctx context.Context, hookID string, since time.Time, limit int) ([]*Delivery, error)

	// Tokens, listed oldest first. InsertToken returns ErrConflict on a repeated id or
	// hash; TokenByHash returns revoked tokens too (the caller checks RevokedAt).
	InsertToken(ctx context.Context, t *Token) error
	ListTokens(ctx context.Context) ([]*Token, error)
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error // keeps the first revocation time
	TouchToken(ctx context.Context, id string, at time.Time) error  // LastUsedAt never moves back

	// Operations.
	Counts(ctx context.Context) (*Counts, error)
	// DeliveryActivity counts the deliveries created in [since, since+n*step) by status,
	// in n buckets of step: the overview's chart. Buckets with no delivery are there,
	// with every status at zero; a step of zero or less, or n outside 1 to 1000, is an
	// error.
	DeliveryActivity(ctx context.Context, since time.Time, step time.Duration, n int) ([]ActivityBucket, error)
	// LatestEvents returns the perSource most recent events (by ReceivedAt, then id) of
	// each source, at most maxSources sources (those whose names sort first), grouped
	// by source in name order, newest first within one.
	LatestEvents(ctx context.Context, perSource, maxSources int) ([]*Event, error)
	// Prune deletes at most batch events received before before, no longer
	// EventReceived, whose deliveries are all finished (succeeded, failed or cancelled),
	// with their deliveries and attempts; and at most batch attempts started before
	// before of any other delivery. It returns how many rows went: call it again until
	// it returns 0. A batch of zero or less is an error.
	Prune(ctx context.Context, before time.Time, batch int) (int, error)
}

// Store is a database.
type Store interface {
	Queries
	// InTx runs fn in a transaction, committed when fn returns nil and rolled back when
	// it returns an error (returned as it is) or panics. fn must use only tx, never the
	// Store: a driver may have a single connection (SQLite does), which the transaction
	// holds until fn returns, so a Store call or a nested InTx inside fn waits for it
	// forever (until ctx ends).
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

// LastSuccessGrain is how closely a hook's LastSuccessAt is kept: a success within it of
// the one recorded, with nothing else changed, writes nothing (a busy hook would
// otherwise rewrite its row at every attempt).
const LastSuccessGrain = time.Second

// SameHookState tells whether after need not be written over before: equal, LastSuccessAt
// within LastSuccessGrain.
func SameHookState(before, after HookState) bool {
	if before.Enabled != after.Enabled || before.DisabledReason != after.DisabledReason ||
		before.LastOutcome != after.LastOutcome || !sameTime(before.FailingSince, after.FailingSince, 0) {
		return false
	}
	return sameTime(before.LastSuccessAt, after.LastSuccessAt, LastSuccessGrain)
}

func sameTime(a, b *time.Time, grain time.Duration) bool {
	if a == nil || b == nil {
		return a == b
	}
	d := a.Sub(*b)
	return d == 0 || (d < grain && d > -grain)
}

// NextHookState is the state after one attempt's outcome, as RecordHookOutcome defines
// it; drivers share it so that they agree.
func NextHookState(st HookState, ok bool, outcome string, at time.Time, disableAfter time.Duration) HookState {
	next := st
	next.LastOutcome = outcome
	if ok {
		t := at.UTC()
		next.LastSuccessAt, next.FailingSince = &t, nil
		return next
	}
	if next.FailingSince == nil {
		t := at.UTC()
		next.FailingSince = &t
	}
	if next.Enabled && disableAfter > 0 && !next.FailingSince.After(at.Add(-disableAfter)) {
		next.Enabled = false
		next.DisabledReason = "failing since " + next.FailingSince.Format(time.RFC3339) + " without a success"
	}
	return next
}
