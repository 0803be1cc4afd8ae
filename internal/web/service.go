package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

// Service is what the pages need from the server. internal/server implements it with
// the same code as its API handlers (the same validation, the same store), so that a
// page and the API can never disagree; the UI never calls the API over HTTP.
//
// Methods that change something are called only for admin sessions; the web package
// checks the scope before it calls them.
type Service interface {
	// Authenticate identifies a token: ErrBadToken when it is not valid.
	Authenticate(ctx context.Context, token string) (Principal, error)
	// TokenActive reports whether a token made through the API is still valid (not
	// revoked, not deleted); sessions are ended when it is not.
	TokenActive(ctx context.Context, tokenID string) (bool, error)

	// Hooks lists every hook, by id; Hook returns one (ErrNotFound).
	Hooks(ctx context.Context) ([]*Hook, error)
	Hook(ctx context.Context, id string) (*Hook, error)
	// SaveHook creates (id "") or replaces a hook made through the API, validated as
	// POST /v1/hooks does. A value shown masked ("****") and sent back unchanged keeps
	// the stored value; a stored secret not sent again is kept.
	SaveHook(ctx context.Context, id string, in HookInput) (*Hook, error)
	DeleteHook(ctx context.Context, id string) error
	SetHookEnabled(ctx context.Context, id string, on bool) (*Hook, error)
	// PreviewHook renders a hook for a sample event without sending anything: the saved
	// hook id, or the definition in (validated as SaveHook does, with the stored
	// secrets of id). Secrets are masked.
	PreviewHook(ctx context.Context, id string, in *HookInput, ev SampleEvent) (*render.Preview, error)
	// TestHook sends one attempt of the saved hook for a sample event (nothing stored).
	TestHook(ctx context.Context, id string, ev SampleEvent) (*TestResult, error)

	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error)
	Delivery(ctx context.Context, id string) (*store.Delivery, []*store.Attempt, error)
	Event(ctx context.Context, id string) (*store.Event, error)
	// RetryDelivery queues one more attempt of a delivery that has ended.
	RetryDelivery(ctx context.Context, id string) error
	// CountFailed counts what RecoverHook would queue again.
	CountFailed(ctx context.Context, hookID string, since time.Time) (int, error)
	RecoverHook(ctx context.Context, hookID string, since time.Time) (int, error)

	Counts(ctx context.Context) (*store.Counts, error)
	DeliveryActivity(ctx context.Context, since time.Time, step time.Duration, n int) ([]store.ActivityBucket, error)
	LatestEvents(ctx context.Context, perSource, maxSources int) ([]*store.Event, error)
}

// Principal is who signed in: the scope of their token and its id ("" for the admin
// token of the server's configuration).
type Principal struct {
	TokenID string
	Scope   token.Scope
}

// Hook is a hook as the pages show it. Def never holds a secret's value: values stored
// as secrets are references ({{ secret "NAME" }}), and literal credentials of a config
// file's hooks (auth password and token, signing secrets, a URL's password, the values
// of headers such as Authorization) are replaced by "****".
type Hook struct {
	ID             string
	Def            *config.Hook
	ManagedBy      string // "api" or "file"
	File           string // the config file of a file hook
	Version        int
	SecretsSet     []string // names only
	Enabled        bool
	DisabledReason string
	FailingSince   *time.Time
	LastSuccessAt  *time.Time
	LastOutcome    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DefinedOff reports whether the hook's definition says enabled: false: it runs for no
// event whatever its state, until the definition changes.
func (h *Hook) DefinedOff() bool { return h.Def != nil && !h.Def.IsEnabled() }

// ReadOnly reports whether the hook is managed by the config file.
func (h *Hook) ReadOnly() bool { return h.ManagedBy == "file" }

// HookInput is a hook as the API takes it: the config file's fields as a JSON object,
// and the secrets to store (write-only).
type HookInput struct {
	Def     json.RawMessage
	Secrets map[string]string
}

// SampleEvent is an event to preview or test a hook with.
type SampleEvent struct {
	Type    string
	Status  string
	Subject string
	Data    map[string]any
}

// TestResult is what a test attempt sent and got.
type TestResult struct {
	Event   *event.Event
	Request *render.Preview // nil when the hook could not be rendered
	Result  hookpoint.Result
}

// Errors of the service. Others are logged and shown as a failure of the server.
var (
	ErrBadToken = errors.New("the token is not valid")
	ErrNotFound = errors.New("not found")
)

// Error is a refusal to show as it is: a conflict, a change the hook's manager does
// not allow, or validation errors, each beside its field.
type Error struct {
	Status  int
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if e.Message == "" && len(e.Fields) > 0 {
		return e.Fields[0].Message
	}
	return e.Message
}

// FieldError is one validation error: Field is the path of the field as the API names
// it (http.url, on[1], retry.schedule[0]), "" for the hook as a whole.
type FieldError struct {
	Field   string
	Message string
}

// Invalid returns a validation error.
func Invalid(fields ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Fields: fields}
}

// Errorf returns an Error with a status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}
