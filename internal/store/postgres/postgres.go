// Package postgres is the PostgreSQL driver of the store: hookpoint's tables and River's
// in one database (in the schema the connection's search_path names), shared by every
// hookpoint serve that points at it.
//
// It uses pgx through a pgxpool.Pool, which River (riverpgxv5) shares. Every method keeps
// the store's contracts as the SQLite driver does; where PostgreSQL differs, the driver
// makes up for it:
//
//   - A statement that fails aborts a PostgreSQL transaction, so inside InTx every method
//     that writes runs under a savepoint: one that fails (ErrConflict, ErrNotFound) rolls
//     back to it and leaves the transaction usable.
//   - Several servers write at once, so the methods that read and then write lock what
//     they read (the delivery of RecordAttempt, the hook of PutHook, RecordHookOutcome
//     and PutSecrets) instead of relying on SQLite's single writer.
//   - text cannot hold the NUL character nor invalid UTF-8: strings are stored with
//     U+FFFD in their place (JSON, event data included, escapes NUL and so keeps it).
//   - Text is compared byte by byte (COLLATE "C"), as on SQLite, whatever the locale.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookpoint/hookpoint/internal/store"
)

// Options tune Open.
type Options struct {
	// SkipMigrate opens the database as it is, applying no migration, for a caller that
	// calls Migrate itself (hookpoint migrate, serve --no-migrate).
	SkipMigrate bool
	// MaxConns bounds the pool's connections (0: pool_max_conns from the URL, else
	// DefaultMaxConns).
	MaxConns int32
	// Logger receives River's migration messages; nil discards them.
	Logger *slog.Logger
}

// DefaultMaxConns is the pool's size when neither Options nor the URL set one: enough
// for the API and the workers of one server (attempts hold a connection only while they
// read or record), few enough for several servers within PostgreSQL's default
// max_connections of 100.
const DefaultMaxConns = 10

// Store is a hookpoint database on PostgreSQL. It implements store.Store.
type Store struct {
	queries
	pool      *pgxpool.Pool
	schema    string // current_schema(): where the tables are
	where     string // the database as errors name it, without a password
	logger    *slog.Logger
	closeOnce sync.Once
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Tx    = (*tx)(nil)
)

// IsURL says whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL with its password replaced by xxxxx, for messages.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://..." // never echo what could not be parsed: it may hold a password
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database at url (postgres://user@host:port/db?...), checks that
// it can hold hookpoint's data, and applies the migrations hookpoint and River need
// (unless opts.SkipMigrate), under an advisory lock so that several servers starting at
// once migrate it once. It refuses a database migrated by a newer hookpoint with
// store.ErrSchemaTooNew.
//
// The tables go in the schema the search_path names first (public by default); give
// another with ?search_path=NAME in the URL. Parameters of pgxpool (pool_max_conns, ...)
// and of libpq (sslmode, ...) are read from the URL too.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if !IsURL(url) {
		return nil, fmt.Errorf("postgres: %q: give a URL, postgres://user@host:5432/database", Redact(url))
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns="):
		cfg.MaxConns = DefaultMaxConns
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	where := fmt.Sprintf("database %s on %s:%d", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	s := &Store{pool: pool, where: where, logger: logger}
	s.queries = queries{db: pool, pool: pool, mode: modePool}
	if err := s.check(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx, false); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// check connects and finds the schema, refusing a database that could not hold the data.
func (s *Store) check(ctx context.Context) error {
	var encoding string
	var schema *string
	err := s.pool.QueryRow(ctx, `SELECT current_setting('server_encoding'), current_schema()`).Scan(&encoding, &schema)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", s.where, err)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("postgres: %s has the encoding %s: hookpoint needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)", s.where, encoding)
	}
	if schema == nil {
		return fmt.Errorf("postgres: %s: the search_path names no schema that exists: create it (CREATE SCHEMA ...) or change search_path in the URL", s.where)
	}
	s.schema = *schema
	s.where += ", schema " + s.schema
	return nil
}

// Driver returns "postgres".
func (s *Store) Driver() string { return "postgres" }

// Raw returns the *pgxpool.Pool, for River (riverpgxv5.New).
func (s *Store) Raw() any { return s.pool }

// Pool returns the *pgxpool.Pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema that holds the tables (hookpoint's and River's).
func (s *Store) Schema() string { return s.schema }

// String names the database, without its password.
func (s *Store) String() string { return s.where }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for the connections in use to be given back. Closing
// twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// InTx runs fn in a transaction (READ COMMITTED), committed when fn returns nil and
// rolled back when it returns an error, which InTx returns as it is, or panics. Every
// method of tx that writes runs under a savepoint, so that one that fails leaves the
// transaction usable.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	ptx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = ptx.Rollback(context.WithoutCancel(ctx)) // fn panicked
		}
	}()
	t := &tx{queries: queries{db: ptx, ptx: ptx, mode: modeTx}, ptx: ptx}
	if err := fn(t); err != nil {
		done = true
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	done = true
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// tx is a transaction; Raw returns its pgx.Tx, for River (InsertTx, InsertManyTx).
type tx struct {
	queries
	ptx pgx.Tx
}

func (t *tx) Raw() any { return t.ptx }

// dbtx is what *pgxpool.Pool and pgx.Tx both do.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// How a queries runs a method of several statements, or one that may fail.
const (
	modePool  = iota // on the pool: a method of several statements begins a transaction
	modeTx           // in the caller's transaction: a method that writes takes a savepoint
	modeInner        // inside one of those: already all or nothing
)

// queries implements store.Queries over the pool or a transaction.
type queries struct {
	db   dbtx
	mode int
	pool *pgxpool.Pool // modePool
	ptx  pgx.Tx        // modeTx
}

// atomic runs a method of several statements all or nothing: in a transaction of its
// own on the pool (at iso), under a savepoint in a Tx (whose isolation holds).
func (q *queries) atomic(ctx context.Context, iso pgx.TxIsoLevel, fn func(q *queries) error) error {
	var (
		t   pgx.Tx
		err error
	)
	switch q.mode {
	case modePool:
		t, err = q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	case modeTx:
		t, err = q.ptx.Begin(ctx) // SAVEPOINT
	default:
		return fn(q)
	}
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = t.Rollback(context.WithoutCancel(ctx)) // fn panicked
		}
	}()
	if err := fn(&queries{db: t, mode: modeInner}); err != nil {
		done = true
		if rerr := t.Rollback(context.WithoutCancel(ctx)); rerr != nil && q.mode == modeTx {
			return errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", rerr))
		}
		return err
	}
	done = true
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// execWrite runs a statement that writes. In a Tx, where a failed statement would abort
// the transaction, it runs under a savepoint, sent with the statement and its release in
// one round trip (a pipeline); when it fails, the transaction is rolled back to the
// savepoint and goes on. On the pool a statement is atomic by itself.
func (q *queries) execWrite(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if q.mode != modeTx {
		return q.exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT hookpoint_write`)
	b.Queue(sql, textArgs(args)...)
	b.Queue(`RELEASE SAVEPOINT hookpoint_write`)
	br := q.ptx.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	_, err := br.Exec()
	if err == nil {
		if tag, err = br.Exec(); err == nil {
			_, err = br.Exec()
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		ctx := context.WithoutCancel(ctx)
		_, rerr := q.ptx.Exec(ctx, `ROLLBACK TO SAVEPOINT hookpoint_write`)
		if rerr == nil {
			_, rerr = q.ptx.Exec(ctx, `RELEASE SAVEPOINT hookpoint_write`)
		}
		var pe *pgconn.PgError
		if rerr != nil && !(errors.As(rerr, &pe) && pe.Code == "3B001") { // no such savepoint: nothing was sent
			return tag, errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", rerr))
		}
	}
	return tag, err
}

func (q *queries) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return q.db.Exec(ctx, sql, textArgs(args)...)
}

func (q *queries) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return q.db.Query(ctx, sql, textArgs(args)...)
}

func (q *queries) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return q.db.QueryRow(ctx, sql, textArgs(args)...)
}
