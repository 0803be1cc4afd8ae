package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/hookpoint/hookpoint/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded file, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string // "0001_init"
	sql     string
}

// migrations returns the embedded migrations in order; their numbers must run 1, 2, 3...
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", e.Name(), len(ms)+1)
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion is the highest hookpoint migration this build knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return len(ms)
}

const createMigrationTable = `CREATE TABLE IF NOT EXISTS hookpoint_migration (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies hookpoint's migrations, each in one transaction with its row in
// hookpoint_migration, then River's, and returns what it applied ("hookpoint
// 0001_init", "river 001 create river migration", ...). With dryRun it changes nothing
// and returns what it would apply. A database whose hookpoint schema is newer than this
// build is refused with store.ErrSchemaTooNew before anything is applied.
func (s *Store) Migrate(ctx context.Context, dryRun bool) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	current := 0
	for v := range applied {
		current = max(current, v)
	}
	if current > len(ms) {
		return nil, fmt.Errorf("%w: %s is at schema version %d and this hookpoint knows versions up to %d; run a newer hookpoint, or restore a backup made before the upgrade",
			store.ErrSchemaTooNew, s.path, current, len(ms))
	}

	var done []string
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		done = append(done, "hookpoint "+m.name)
		if dryRun {
			continue
		}
		err := s.inTx(ctx, func(t *tx) error {
			if _, err := t.sqlTx.ExecContext(ctx, createMigrationTable); err != nil {
				return err
			}
			// Another process (a Shared open) may have applied it since we looked; the
			// transaction holds the write lock, so this answer holds.
			var n int
			err := t.sqlTx.QueryRowContext(ctx, `SELECT count(*) FROM hookpoint_migration WHERE version = ?`, m.version).Scan(&n)
			if err != nil || n > 0 {
				return err
			}
			if _, err := t.sqlTx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = t.sqlTx.ExecContext(ctx, `INSERT INTO hookpoint_migration (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return done[:len(done)-1], fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
	}

	migrator, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return done, fmt.Errorf("sqlite: river migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: dryRun})
	if err != nil {
		return done, fmt.Errorf("sqlite: river migrations: %w", err)
	}
	for _, v := range res.Versions {
		done = append(done, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	return done, nil
}

// appliedMigrations reads hookpoint_migration, which a new database lacks.
func (s *Store) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'hookpoint_migration'`).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	applied := map[int]bool{}
	if n == 0 {
		return applied, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM hookpoint_migration`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return applied, nil
}
