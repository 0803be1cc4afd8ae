// Package config loads and validates hookpoint configuration files (YAML or JSON), and
// compiles every template field so that a loaded config can be rendered without errors of
// syntax. Every problem is reported with the file, line and field it concerns.
package config

import (
	"time"

	"github.com/hookpoint/hookpoint/internal/template"
)

// Config is a whole configuration file.
type Config struct {
	Hooks  []*Hook `yaml:"hooks" json:"hooks"`
	Server *Server `yaml:"server,omitempty" json:"server,omitempty"`
	File   string  `yaml:"-" json:"-"` // where it was loaded from, for messages
	// Warnings are what Parse and Load found that does not stop the config from loading
	// but is probably not meant (hookpoint check shows them).
	Warnings []Issue  `yaml:"-" json:"-"`
	pos      posIndex `yaml:"-"`
}

// Server holds the settings read by `hookpoint serve`; its flags win over them.
type Server struct {
	Listen         string   `yaml:"listen,omitempty" json:"listen,omitempty"`
	DB             string   `yaml:"db,omitempty" json:"db,omitempty"`
	AllowedOrigins []string `yaml:"allowed_origins,omitempty" json:"allowed_origins,omitempty"`
	TokenFile      string   `yaml:"token_file,omitempty" json:"token_file,omitempty"`
	SecretKeyFile  string   `yaml:"secret_key_file,omitempty" json:"secret_key_file,omitempty"`
	// Retention is how long events and attempts are kept (default 30 days).
	Retention Duration `yaml:"retention,omitempty" json:"retention,omitempty"`
	// AutoDisableAfter disables a hook that has failed without a success for this long
	// (default 5 days).
	AutoDisableAfter Duration `yaml:"auto_disable_after,omitempty" json:"auto_disable_after,omitempty"`
	// APIExec lets hooks managed through the API run commands on the server; off by
	// default, since it turns an admin token into a shell.
	APIExec bool    `yaml:"api_exec,omitempty" json:"api_exec,omitempty"`
	Ingest  *Ingest `yaml:"ingest,omitempty" json:"ingest,omitempty"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format,omitempty" json:"log_format,omitempty"`

	// Compiled holds the parsed templates of the ingest secrets; set by validation.
	Compiled *ServerTemplates `yaml:"-" json:"-"`
}

// Server defaults.
const (
	DefaultListen           = "127.0.0.1:8080"
	DefaultDB               = "sqlite://hookpoint.db"
	DefaultRetention        = 30 * 24 * time.Hour
	DefaultAutoDisableAfter = 5 * 24 * time.Hour
)

// Ingest configures the systems that send their own webhooks to the server. Each
// secret is a template that reads it with env or file.
type Ingest struct {
	XO         *IngestXO         `yaml:"xo,omitempty" json:"xo,omitempty"`
	VirtFusion *IngestVirtFusion `yaml:"virtfusion,omitempty" json:"virtfusion,omitempty"`
	Zerobyte   *IngestZerobyte   `yaml:"zerobyte,omitempty" json:"zerobyte,omitempty"`
}

// IngestXO: Xen Orchestra can only be given a URL, so its secret is a path segment.
type IngestXO struct {
	Secret string `yaml:"secret" json:"secret"`
}

// IngestVirtFusion: VirtFusion sends Authorization: Bearer base64(token).
type IngestVirtFusion struct {
	Token string `yaml:"token" json:"token"`
}

// IngestZerobyte: Zerobyte sends a secret header.
type IngestZerobyte struct {
	Header string `yaml:"header,omitempty" json:"header,omitempty"`
	Secret string `yaml:"secret" json:"secret"`
}

// ServerTemplates are the compiled secret templates of the ingest sources, by source
// name ("xo", "virtfusion", "zerobyte"); nil when a source is not configured.
type ServerTemplates struct {
	Ingest map[string]*template.Template
}

// Failure policies.
const (
	OnFailureAbort  = "abort"
	OnFailureWarn   = "warn"
	OnFailureIgnore = "ignore"
)

// Modes.
const (
	ModeSync  = "sync"
	ModeAsync = "async"
)

// Hook is what to do when an event matches.
type Hook struct {
	ID          string     `yaml:"id" json:"id"`
	Description string     `yaml:"description,omitempty" json:"description,omitempty"`
	Enabled     *bool      `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Order       int        `yaml:"order,omitempty" json:"order,omitempty"`
	On          StringList `yaml:"on" json:"on"`
	Status      StringList `yaml:"status,omitempty" json:"status,omitempty"`
	OnFailure   string     `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
	Mode        string     `yaml:"mode,omitempty" json:"mode,omitempty"`
	Retry       *Retry     `yaml:"retry,omitempty" json:"retry,omitempty"`
	// MaxInFlight bounds the attempts of this async hook made at once by the server
	// (default DefaultMaxInFlight), so that a slow receiver holds few workers.
	MaxInFlight int `yaml:"max_in_flight,omitempty" json:"max_in_flight,omitempty"`
	// Rate bounds how often the server starts attempts of this async hook.
	Rate *Rate `yaml:"rate,omitempty" json:"rate,omitempty"`
	HTTP *HTTP `yaml:"http,omitempty" json:"http,omitempty"`
	Exec *Exec `yaml:"exec,omitempty" json:"exec,omitempty"`
}

// IsEnabled reports whether the hook runs (hooks are enabled unless said otherwise).
func (h *Hook) IsEnabled() bool { return h.Enabled == nil || *h.Enabled }

// IsAsync reports whether the hook is delivered in the background.
func (h *Hook) IsAsync() bool { return h.Mode == ModeAsync }

// FailurePolicy returns on_failure, or its default for the kind of event.
func (h *Hook) FailurePolicy(gate bool) string {
	if h.OnFailure != "" {
		return h.OnFailure
	}
	if gate {
		return OnFailureAbort
	}
	return OnFailureWarn
}

// Action names the hook's action: "http" or "exec".
func (h *Hook) Action() string {
	if h.Exec != nil {
		return "exec"
	}
	return "http"
}

// DefaultMaxInFlight is an async hook's max_in_flight when none is set.
const DefaultMaxInFlight = 8

// Retry is the retry policy of an async hook.
type Retry struct {
	MaxAttempts int        `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
	Schedule    []Duration `yaml:"schedule,omitempty" json:"schedule,omitempty"`
}

// DefaultSchedule is the waits before the 2nd, 3rd, ... attempts of an async hook
// without a retry schedule: the Standard Webhooks example schedule, at once and then after
// 5s, 5m, 30m, 2h, 5h, 10h and 10h — eight attempts over about 28 hours. The command
// line's in-process retrier and the server use the same.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour,
}

// Body types.
const (
	BodyNone = "none"
	BodyJSON = "json"
	BodyXML  = "xml"
	BodyText = "text"
	BodyForm = "form"
)

// HTTP is an HTTP request action.
type HTTP struct {
	URL      string            `yaml:"url" json:"url"`
	Method   string            `yaml:"method,omitempty" json:"method,omitempty"`
	BodyType string            `yaml:"body_type,omitempty" json:"body_type,omitempty"`
	Body     *Body             `yaml:"body,omitempty" json:"body,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Auth     *Auth             `yaml:"auth,omitempty" json:"auth,omitempty"`
	Timeout  Duration          `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	TLS      *TLS              `yaml:"tls,omitempty" json:"tls,omitempty"`
	Sign     *Sign             `yaml:"sign,omitempty" json:"sign,omitempty"`
	Expect   IntList           `yaml:"expect,omitempty" json:"expect,omitempty"`

	// Compiled holds the parsed templates; set by validation.
	Compiled *HTTPTemplates `yaml:"-" json:"-"`
}

// DefaultHTTPTimeout is the request timeout when none is set.
const DefaultHTTPTimeout = 30 * time.Second

// HTTPTemplates are the compiled templates of an HTTP action.
type HTTPTemplates struct {
	URL         *template.Template
	HeaderNames []string // canonical names, sorted
	Headers     map[string]*template.Template
	Body        *template.Template // a template body; nil for none or structured
	Tree        any                // a structured body: maps, lists and *template.Template leaves
	Username    *template.Template
	Password    *template.Template
	Token       *template.Template
	Secrets     []*template.Template
}

// Auth types.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthAPIKey = "api_key"
)

// Auth is the authentication an HTTP action sends.
type Auth struct {
	Type     string `yaml:"type" json:"type"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	Token    string `yaml:"token,omitempty" json:"token,omitempty"`
	Base64   bool   `yaml:"base64,omitempty" json:"base64,omitempty"`
	Header   string `yaml:"header,omitempty" json:"header,omitempty"`
	Query    string `yaml:"query,omitempty" json:"query,omitempty"`
}

// TLS holds the TLS options of an HTTP action.
type TLS struct {
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
	CAFile             string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty" json:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty" json:"key_file,omitempty"`
}

// Sign asks for Standard Webhooks signatures; several secrets sign with each, for
// rotation.
type Sign struct {
	Secret StringList `yaml:"secret" json:"secret"`
}

// Exec is a command action.
type Exec struct {
	Command string            `yaml:"command" json:"command"`
	Args    []string          `yaml:"args,omitempty" json:"args,omitempty"`
	Env     map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Stdin   string            `yaml:"stdin,omitempty" json:"stdin,omitempty"`
	Workdir string            `yaml:"workdir,omitempty" json:"workdir,omitempty"`
	Timeout Duration          `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Shell   bool              `yaml:"shell,omitempty" json:"shell,omitempty"`
	// KeepChildren leaves what the command started in the background running after it
	// ends (a script that starts a daemon); by default the process group is killed then.
	KeepChildren bool `yaml:"keep_children,omitempty" json:"keep_children,omitempty"`

	// Compiled holds the parsed templates; set by validation.
	Compiled *ExecTemplates `yaml:"-" json:"-"`
}

// DefaultExecTimeout is the command timeout when none is set.
const DefaultExecTimeout = 5 * time.Minute

// ExecTemplates are the compiled templates of an exec action.
type ExecTemplates struct {
	Args     []*template.Template
	EnvNames []string // sorted
	Env      map[string]*template.Template
}
