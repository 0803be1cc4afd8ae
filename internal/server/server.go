// Package server is `hookpoint serve`: an HTTP API that accepts events from every node
// of a fleet and from systems that send webhooks themselves, runs the hooks with the
// same engine as the command line, and delivers async hooks durably with retries, a
// delivery log and replay.
//
// The flow of an event: the handler decodes it, the engine fires its hooks (sync hooks
// run now, async ones are collected), and one transaction stores the event, every
// delivery, the sync attempts and the River jobs of the async deliveries. Only then is
// the event answered: what the API accepted is never lost.
package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/netguard"
	"github.com/hookpoint/hookpoint/internal/queue"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

// Options configure a Server.
type Options struct {
	// Config holds the config file's hooks (read-only here) and server settings; it may
	// have no hooks. ConfigFile is where it came from, for the API and reloads.
	Config     *config.Config
	ConfigFile string
	Store      store.Store
	// Box encrypts the secrets set through the API.
	Box *secretbox.Box
	// AdminToken is the token from HOOKPOINT_TOKEN, --token-file or the one generated on
	// first start; tokens made through the API are in the store.
	AdminToken string
	// Guard checks the destinations of HTTP hooks at dial time; nil turns the checks off
	// (tests of hooks on loopback).
	Guard *netguard.Guard
	// Ingest is the configured sources with their secrets rendered.
	Ingest map[string]IngestSource
	// Environ is the environment exec hooks inherit (the command sets it without the
	// server's own secrets); os.Environ() when nil.
	Environ []string
	// Node names this server (attempts record it).
	Node   string
	Logger *slog.Logger
	Now    func() time.Time
	// Queue tunes the durable queue; Store, Engine, Hooks and the callbacks are set by
	// the server.
	Queue queue.Options
}

// maxEventsInFlight bounds the events whose sync hooks run at once (each may run a
// command); one more is answered 503 with Retry-After.
const maxEventsInFlight = 128

// QueueOptions tune the durable queue.
type QueueOptions = queue.Options

// IngestSource is an ingest source with its configuration.
type IngestSource struct {
	Source ingest.Source
	Config ingest.Config
}

// Server is the hookpoint server.
type Server struct {
	opts   Options
	store  store.Store
	box    *secretbox.Box
	engine *hookpoint.Engine
	queue  *queue.Queue
	hooks  *hookSet
	log    *slog.Logger
	now    func() time.Time
	admin  []byte // SHA-256 of the admin token
	mux    *http.ServeMux

	cfgMu sync.RWMutex
	cfg   *config.Config

	inflight   idempotency
	eventSlots chan struct{}
	metric     *metrics
	bg         sync.WaitGroup
}

// New builds a server; Start starts its queue.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Box == nil {
		return nil, errors.New("server: a store and a secret box are required")
	}
	if o.Config == nil {
		o.Config = &config.Config{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, store: o.Store, box: o.Box, log: o.Logger, now: o.Now, cfg: o.Config,
		eventSlots: make(chan struct{}, maxEventsInFlight)}
	if o.AdminToken != "" {
		s.admin = token.Hash(o.AdminToken)
	}
	s.hooks = newHookSet(nil)
	eo := hookpoint.Options{
		Recorder:      logRecorder{s.log},
		Now:           o.Now,
		StoredSecrets: s.hooks.storedSecrets,
		Environ:       o.Environ,
		KeepRequests:  true,
	}
	if o.Guard != nil {
		eo.DialContext, eo.WrapTransport = o.Guard.DialContext, o.Guard.Wrap
	}
	s.engine = hookpoint.New(&config.Config{}, eo)
	s.hooks.onChange = s.engine.SetHooks

	qo := o.Queue
	qo.Store, qo.Engine, qo.Hooks, qo.Node, qo.Now, qo.Logger = o.Store, s.engine, s.hooks, o.Node, o.Now, o.Logger
	qo.OnStateChange = s.hookStateChanged
	s.metric = newMetrics(o.Store.Counts, o.Now)
	qo.OnAttempt = func(hookID string, a hookpoint.Attempt) {
		s.metric.attempt(hookID, "async", a.Result.Outcome, a.Result.Duration)
	}
	qo.Periodic = append(qo.Periodic, s.retentionJob())
	qo.Register = s.registerWorkers
	if o.Config.Server != nil && o.Config.Server.AutoDisableAfter > 0 && qo.AutoDisableAfter == 0 {
		qo.AutoDisableAfter = o.Config.Server.AutoDisableAfter.D()
	}
	var err error
	switch o.Store.Driver() {
	case "sqlite":
		db, ok := o.Store.Raw().(*sql.DB)
		if !ok {
			return nil, fmt.Errorf("server: the SQLite store gave %T, not a *sql.DB", o.Store.Raw())
		}
		s.queue, err = queue.NewSQLite(qo, db)
	case "postgres":
		pool, ok := o.Store.Raw().(*pgxpool.Pool)
		if !ok {
			return nil, fmt.Errorf("server: the PostgreSQL store gave %T, not a *pgxpool.Pool", o.Store.Raw())
		}
		s.queue, err = queue.NewPostgres(qo, pool)
	default:
		err = fmt.Errorf("server: no queue for the %s store", o.Store.Driver())
	}
	if err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

// Start loads the hooks, finishes events a crash left half-done and starts the queue.
func (s *Server) Start(ctx context.Context) error {
	if err := s.loadHooks(ctx); err != nil {
		return fmt.Errorf("loading hooks: %w", err)
	}
	// The queue outlives ctx: it stops only through Stop, which gives attempts in flight
	// their grace (cancelling River's start context would stop it at once).
	return s.queue.Start(context.WithoutCancel(ctx))
}

// Stop stops the queue: attempts in flight get until ctx is done to finish, then are
// cancelled and given back for another attempt with the same webhook-id.
func (s *Server) Stop(ctx context.Context) error {
	err := s.queue.Stop(ctx)
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.engine.Close()
	return err
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Engine returns the server's engine (for tests and the web UI).
func (s *Server) Engine() *hookpoint.Engine { return s.engine }

// Reload replaces the config file's hooks with cfg's (already validated) atomically.
func (s *Server) Reload(ctx context.Context, cfg *config.Config) error {
	s.cfgMu.Lock()
	old := s.cfg
	s.cfg = cfg
	s.cfgMu.Unlock()
	if err := s.loadHooks(ctx); err != nil {
		s.cfgMu.Lock()
		s.cfg = old
		s.cfgMu.Unlock()
		return err
	}
	return nil
}

func (s *Server) fileHooks() []*config.Hook {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.cfg.Hooks
}

func (s *Server) cfgFile() string { return s.opts.ConfigFile }

func (s *Server) serverConfig() *config.Server {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	if s.cfg.Server == nil {
		return &config.Server{}
	}
	return s.cfg.Server
}

// HTTPServer returns an http.Server for the handler with timeouts that bound what a slow
// or idle client can hold.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Long enough for the sync hooks of an event (a gate may freeze an application).
		WriteTimeout:   15 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve serves on ln until ctx is done, then shuts down gracefully within grace.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := s.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = hs.Close()
	}
	if qerr := s.Stop(sctx); qerr != nil && !errors.Is(qerr, context.DeadlineExceeded) && !errors.Is(qerr, context.Canceled) {
		// Attempts cut short are given back for another attempt: not a failure of the
		// shutdown; anything else is logged.
		s.log.Error("stopping the queue", "err", qerr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // the grace ran out: connections were closed
	}
	return err
}

// logRecorder logs hook executions at debug level (the store keeps the attempts).
type logRecorder struct{ log *slog.Logger }

func (l logRecorder) Record(r hookpoint.Record) {
	l.log.Debug("hook", "event_type", r.EventType, "hook_id", r.HookID, "delivery_id", r.DeliveryID,
		"outcome", r.Outcome, "status", r.Status, "duration_ms", r.DurationMS, "error", r.Error)
}

// equalToken compares in constant time.
func equalToken(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
