// Package sqlite is the SQLite driver of the store: one database file, opened by one
// hookpoint serve at a time, holding hookpoint's tables and River's.
//
// It uses modernc.org/sqlite (pure Go, so hookpoint builds with CGO_ENABLED=0) through
// database/sql. Writes go through a single connection: SQLite allows one writer at a
// time, and River's own goroutines, which share that *sql.DB, return SQLITE_BUSY when
// given more than one. hookpoint's transactions on it are committed in groups (group.go),
// one fsync for all those waiting. Reads outside a transaction use a pool of read-only
// connections, which WAL lets run beside the writer, each seeing the last commit. Inside
// InTx use only the Tx.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options tune Open.
type Options struct {
	// SkipMigrate opens the database as it is, applying no migration, for a caller that
	// calls Migrate itself (hookpoint migrate --dry-run).
	SkipMigrate bool
	// Shared opens the database without taking its lock, for a short command that may
	// run beside hookpoint serve (hookpoint token): SQLite serialises the two processes'
	// writes, a writer waiting up to 10 s for the other. It still applies migrations,
	// so that it works on a new file; the server, which is the same binary, finds them
	// applied.
	Shared bool
	// Synchronous is SQLite's synchronous setting, "FULL" (the default) or "NORMAL".
	//
	// In WAL mode both keep the database consistent through any crash, and both keep
	// every committed transaction through a crash of the process. They differ on a power
	// loss or an operating-system crash: FULL syncs the WAL at every commit, so what was
	// committed stays; NORMAL syncs only at checkpoints, so the last transactions
	// committed before the power went may roll back. hookpoint answers an event's
	// submitter only after its transaction commits, and that answer promises the event
	// and its deliveries will not be lost, so FULL is the default; NORMAL trades that
	// promise, on power loss only, for commits that need no fsync (see the benchmark).
	Synchronous string
	// Logger receives River's migration messages; nil discards them.
	Logger *slog.Logger
}

// Store is a hookpoint database in one SQLite file. It implements store.Store.
type Store struct {
	queries
	db        *sql.DB // the writer: one connection, shared with River
	rdb       *sql.DB // the readers
	group     *committer
	path      string
	lock      *fileLock
	logger    *slog.Logger
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Tx    = (*tx)(nil)
)

// Open opens, creating it if needed, the database at path, locks it against a second
// hookpoint serve (unless opts.Shared), and applies the migrations hookpoint and River
// need (unless opts.SkipMigrate). It refuses a database migrated by a newer hookpoint with
// store.ErrSchemaTooNew, and one in use with ErrInUse.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q: give the path of a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q: must be FULL or NORMAL", opts.Synchronous)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var lock *fileLock
	if !opts.Shared {
		if lock, err = lockFile(abs); err != nil {
			return nil, err
		}
	}
	s := &Store{path: abs, lock: lock, logger: logger}
	if err := s.open(ctx, syncMode); err != nil {
		_ = s.Close()
		return nil, err
	}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx, false); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, synchronous string) error {
	// Create the file ourselves so that it is private from the start: it holds event
	// data, and SQLite would create it with the umask's mode. SQLite gives the -wal and
	// -shm files the mode of the database file.
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}

	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)") // other processes (a backup, sqlite3) may hold a lock briefly
	q.Add("_pragma", "journal_mode(WAL)")   // readers do not block the writer, nor it them
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")") // see Options.Synchronous
	// BEGIN IMMEDIATE takes the write lock when a transaction starts, not at its first
	// write, so that a transaction never fails with SQLITE_BUSY halfway through.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: s.path}).EscapedPath() + "?" + q.Encode()

	registerCachingDriver()
	db, err := sql.Open(cachingDriverName, dsn)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// One connection: see the package comment. It is kept open for the life of the
	// Store, so the pragmas above apply once.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	s.db = db

	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not wal (is the file on a network file system?)", s.path, mode)
	}

	// The readers: WAL is the file's mode already; query_only makes a write sent to
	// them by mistake an error rather than a second writer.
	r := url.Values{}
	r.Add("_pragma", "busy_timeout(10000)")
	r.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open(cachingDriverName, "file:"+(&url.URL{Path: s.path}).EscapedPath()+"?"+r.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	rdb.SetConnMaxIdleTime(5 * time.Minute)
	s.rdb = rdb

	s.group = newCommitter(db)
	s.queries = queries{db: groupDB{groupExec{s.group}, rdb}, atomic: s.atomic, snapshot: s.snapshot, unit: s.atomic}
	return nil
}

// GroupStats returns how many groups of transactions were committed, and how many
// transactions they held.
func (s *Store) GroupStats() (commits, txs int64) {
	if s.group == nil {
		return 0, 0
	}
	return s.group.commits.Load(), s.group.txs.Load()
}

// Waiting returns how many transactions wait for a group to take them.
func (s *Store) Waiting() int {
	if s.group == nil {
		return 0
	}
	return int(s.group.waiting.Load())
}

// readers is the size of the read pool.
const readers = 4

// groupDB is the Store's dbtx outside a transaction: a write is a transaction of its own
// in the next group, a read goes to the read pool. A write that returns rows (RETURNING)
// must run in atomic.
type groupDB struct {
	groupExec
	rdb *sql.DB
}

func (g groupDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return g.rdb.QueryContext(ctx, query, args...)
}

func (g groupDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return g.rdb.QueryRowContext(ctx, query, args...)
}

// snapshot runs fn's reads in one read transaction of the read pool.
func (s *Store) snapshot(ctx context.Context, fn func(q *queries) error) error {
	rtx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() { _ = rtx.Rollback() }()
	return fn(&queries{db: rtx, atomic: s.atomic, unit: s.atomic, snapshot: func(ctx context.Context, fn func(q *queries) error) error {
		return fn(&queries{db: rtx})
	}})
}

// Driver returns "sqlite".
func (s *Store) Driver() string { return "sqlite" }

// Raw returns the *sql.DB, for River (riversqlite.New).
func (s *Store) Raw() any { return s.db }

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database and releases its lock. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.group != nil {
			s.group.close()
		}
		if s.rdb != nil {
			errs = append(errs, s.rdb.Close())
		}
		if s.db != nil {
			errs = append(errs, s.db.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.release())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// InTx runs fn in a transaction, committed when fn returns nil and rolled back when it
// returns an error, which InTx returns as it is, or panics. Transactions waiting together
// are committed together (group.go); each is all or nothing on its own, and durable when
// InTx returns nil.
//
// fn must use tx and nothing else of the Store: a Store method that writes, or a nested
// InTx, called inside fn waits for the group fn is in until ctx ends. fn's statements
// run without ctx's cancellation (an interrupted statement would roll back the whole
// group); a caller whose ctx ends before fn starts gets ctx's error and fn does not run.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}

func (s *Store) inTx(ctx context.Context, fn func(t *tx) error) error {
	if s.group == nil {
		return errClosed
	}
	return s.group.run(ctx, fn)
}

// atomic runs a method of several statements in its own transaction.
func (s *Store) atomic(ctx context.Context, fn func(q *queries) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(&t.queries) })
}

// tx is a transaction; Raw returns its *sql.Tx, for River (InsertTx, InsertManyTx).
type tx struct {
	queries
	sqlTx *sql.Tx
}

func (t *tx) Raw() any { return t.sqlTx }

func newTx(sqlTx *sql.Tx) *tx {
	t := &tx{sqlTx: sqlTx}
	t.queries = queries{db: noCancel{sqlTx}, atomic: t.savepoint}
	t.snapshot = func(ctx context.Context, fn func(q *queries) error) error { return fn(&t.queries) }
	t.unit = t.snapshot
	return t
}

// savepoint runs a method of several statements inside a transaction all or nothing,
// so that a method that fails (ErrConflict, ErrNotFound) leaves the transaction as it
// was and usable: the caller may go on and commit.
func (t *tx) savepoint(ctx context.Context, fn func(q *queries) error) error {
	if _, err := t.db.ExecContext(ctx, `SAVEPOINT hookpoint_method`); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := fn(&t.queries); err != nil {
		if _, rerr := t.db.ExecContext(ctx, `ROLLBACK TO hookpoint_method; RELEASE hookpoint_method`); rerr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := t.db.ExecContext(ctx, `RELEASE hookpoint_method`); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// dbtx is what *sql.DB and *sql.Tx both do.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Queries over a *sql.DB or a *sql.Tx. A method of several
// statements runs them through atomic: in a new transaction on the Store, under a
// savepoint in a Tx.
type queries struct {
	db     dbtx
	atomic func(ctx context.Context, fn func(q *queries) error) error
	// snapshot runs reads that must see one state of the database: in a read
	// transaction of the read pool on the Store, as they are in a Tx.
	snapshot func(ctx context.Context, fn func(q *queries) error) error
	// unit runs a method that is all or nothing by itself (it writes once, or its
	// first write decides whether the others can fail): in a new transaction on the
	// Store, as it is in a Tx, without atomic's savepoint.
	unit func(ctx context.Context, fn func(q *queries) error) error
}
