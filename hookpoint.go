// Package hookpoint fires lifecycle hooks — HTTP webhooks and commands — for the events
// of backup, snapshot and infrastructure jobs, with ordering, gate semantics, templating
// that cannot produce a broken request, Standard Webhooks signing and a journal.
//
// Load a config, build an engine, fire events:
//
//	cfg, err := hookpoint.LoadConfig("hookpoint.yaml")
//	eng := hookpoint.New(cfg, hookpoint.Options{})
//	defer eng.Close()
//	ev := hookpoint.NewEvent("backup.pre")
//	ev.Gate = true
//	out, err := eng.Fire(ctx, ev)
//	if out.Verdict == hookpoint.Abort { /* do not start the backup */ }
package hookpoint

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/render"
)

type (
	// Config is a loaded configuration: the hooks and the server settings.
	Config = config.Config
	// Hook is one hook of a config.
	Hook = config.Hook
	// ConfigError lists every problem found in a config, with file, line and field.
	ConfigError = config.Error
	// Event is something that happened or is about to happen to a job.
	Event = event.Event
	// Run correlates the events of one job run.
	Run = event.Run
	// Record is one journal record: one hook execution.
	Record = journal.Record
	// Recorder receives journal records.
	Recorder = journal.Recorder
)

// LoadConfig reads and validates a YAML or JSON config file.
func LoadConfig(path string) (*Config, error) { return config.Load(path) }

// ParseConfig reads and validates a YAML or JSON config; name is used in messages.
func ParseConfig(name string, data []byte) (*Config, error) { return config.Parse(name, data) }

// NewEvent returns an event of the given type with a fresh id, the current time and an
// empty data map.
func NewEvent(typ string) *Event { return event.New(typ) }

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Recorder receives one record per hook execution (the journal).
	Recorder Recorder
	// LookupEnv and ReadFile replace where the env and file template functions read
	// secrets; the process environment and file system when nil.
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
	// Environ is the environment exec hooks inherit; os.Environ() when nil.
	Environ []string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Sleep waits between async attempts; a timer when nil. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Queue takes the deliveries of async hooks; the in-process retrier (which Drain
	// waits for) when nil.
	Queue Queue
	// StoredSecrets returns, for a hook managed through the server's API, how to read
	// its stored secrets (the template function secret), and ok; such a hook cannot read
	// the server's environment or files. ok is false for other hooks; nil outside the
	// server.
	StoredSecrets func(hookID string) (lookup func(name string) (string, bool), ok bool)
	// DialContext dials the connections of HTTP hooks (the server checks destinations
	// there); a plain dialer when nil. When set, proxies from the environment are not
	// used, so that the dialer sees every destination.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// KeepRequests keeps the masked view of what each sync hook sent in its Result
	// (Result.Request), for the server's delivery log.
	KeepRequests bool
	// WrapTransport wraps the transport of HTTP hooks (the server's destination guard
	// reads each request's origin there); nothing when nil.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Engine fires the hooks of a config for events. It is safe for concurrent use.
type Engine struct {
	cfg   *Config
	opts  Options
	http  *deliver.HTTP
	async *asyncDelivery
	queue Queue
	hooks atomic.Pointer[[]*Hook]
}

// New returns an engine for cfg, which must have been validated (LoadConfig,
// ParseConfig and Config.Validate do that).
func New(cfg *Config, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	h := deliver.NewHTTP()
	h.Now = opts.Now
	h.DialContext, h.WrapTransport = opts.DialContext, opts.WrapTransport
	e := &Engine{cfg: cfg, opts: opts, http: h}
	e.async = newAsyncDelivery(e)
	e.queue = opts.Queue
	if e.queue == nil {
		e.queue = e.async
	}
	hooks := cfg.Hooks
	e.hooks.Store(&hooks)
	return e
}

// Hooks returns the hooks the engine fires: the config's, unless SetHooks replaced them.
func (e *Engine) Hooks() []*Hook { return *e.hooks.Load() }

// SetHooks replaces the hooks the engine fires, atomically: events fired before see the
// old set, events fired after the new one. The hooks must have been validated.
func (e *Engine) SetHooks(hooks []*Hook) { e.hooks.Store(&hooks) }

// Config returns the engine's config.
func (e *Engine) Config() *Config { return e.cfg }

// Close stops async deliveries that are still pending (call Drain first to give them
// time), waits for them to end, and releases idle connections. Fire must not be called
// after Close.
func (e *Engine) Close() {
	e.async.close()
	e.http.Close()
}

func (e *Engine) renderOptions(h *Hook) render.Options {
	o := render.Options{LookupEnv: e.opts.LookupEnv, ReadFile: e.opts.ReadFile, Environ: e.opts.Environ}
	if e.opts.StoredSecrets != nil {
		if lookup, ok := e.opts.StoredSecrets(h.ID); ok {
			o.LookupSecret = lookup
		}
	}
	return o
}

// record hands r, bounded, to the recorder.
func (e *Engine) record(r Record) {
	if e.opts.Recorder != nil {
		r.Bound()
		e.opts.Recorder.Record(r)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
