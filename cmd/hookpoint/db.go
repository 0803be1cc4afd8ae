package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/store/postgres"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

// database is a --db URL: sqlite://FILE or postgres://... (postgresql://...).
type database struct {
	url    string
	driver string // "sqlite" or "postgres"
	path   string // the file, for SQLite
}

// parseDB reads a --db URL; what names the flag or setting in errors.
func parseDB(url string) (database, error) {
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		if path == "" {
			return database{}, usageErr("--db sqlite:// needs a file: sqlite://hookpoint.db")
		}
		return database{url: url, driver: "sqlite", path: path}, nil
	}
	if postgres.IsURL(url) {
		return database{url: url, driver: "postgres"}, nil
	}
	return database{}, usageErr("--db %s: use sqlite://FILE or postgres://USER@HOST:5432/DATABASE", postgres.Redact(url))
}

// String names the database in messages, without a password.
func (d database) String() string {
	if d.driver == "sqlite" {
		return d.path
	}
	return postgres.Redact(d.url)
}

// migratingStore is a store that applies its own migrations (both drivers').
type migratingStore interface {
	store.Store
	// Migrate applies (or with dryRun lists) the migrations of hookpoint and River.
	Migrate(ctx context.Context, dryRun bool) ([]string, error)
}

// openOptions say how to open a database.
type openOptions struct {
	// noMigrate applies no migration; the caller checks or applies them.
	noMigrate bool
	// shared opens a SQLite file without its lock, beside a running server (PostgreSQL
	// is always shared).
	shared bool
	// mustExist refuses a database hookpoint never used (a SQLite file that is not
	// there, a PostgreSQL schema without hookpoint's tables): a typo in --db should not
	// make a new, empty one.
	mustExist   bool
	synchronous string // SQLite
	logger      *slog.Logger
}

// open opens the database; errors are exit errors with the database named.
func (d database) open(ctx context.Context, o openOptions) (migratingStore, error) {
	switch d.driver {
	case "sqlite":
		if o.mustExist {
			if _, err := os.Stat(d.path); err != nil {
				return nil, usageErr("--db %s: no database there (%v); start hookpoint serve first, or name its database", d.url, errors.Unwrap(err))
			}
		}
		st, err := sqlite.Open(ctx, d.path, sqlite.Options{SkipMigrate: o.noMigrate, Shared: o.shared,
			Synchronous: strings.ToUpper(o.synchronous), Logger: o.logger})
		if err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("database %s: %w", d.path, err)}
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, d.url, postgres.Options{SkipMigrate: o.noMigrate || o.mustExist, Logger: o.logger})
		if err != nil {
			return nil, &exitError{code: 1, err: err} // it names the database
		}
		if o.mustExist {
			v, err := st.Version(ctx)
			if err == nil && v == 0 {
				err = usageErr("--db %s: hookpoint has no tables in %s; start hookpoint serve first (or run hookpoint migrate), or name its database", d, st)
			}
			if err == nil && !o.noMigrate {
				_, err = st.Migrate(ctx, false)
			}
			if err != nil {
				_ = st.Close()
				return nil, asExitError(err)
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("no driver %q", d.driver)
}

// checkMigrated refuses a database whose migrations are not all applied (serve
// --no-migrate), saying how to apply them.
func checkMigrated(ctx context.Context, st migratingStore, d database) error {
	pending, err := st.Migrate(ctx, true)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if len(pending) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("database %s is behind this hookpoint: %d migration(s) to apply (%s); apply them with hookpoint migrate and the same --db, or start without --no-migrate",
			d, len(pending), strings.Join(pending, ", "))}
	}
	return nil
}

func asExitError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: 1, err: err}
}
