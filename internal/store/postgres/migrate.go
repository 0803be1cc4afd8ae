package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
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
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at bigint NOT NULL
)`

// lockKey is the advisory lock migrations are applied under: one per schema, so that
// hookpoint installations in two schemas of a database do not wait for each other.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("hookpoint migrate\x00" + s.schema))
	return int64(h.Sum64()) //nolint:gosec // any 64 bits will do
}

// Migrate applies hookpoint's migrations, each in one transaction with its row in
// hookpoint_migration, then River's (rivermigrate, each in one transaction too), and
// returns what it applied ("hookpoint 0001_init", "river 001 create river migration",
// ...). It holds a PostgreSQL advisory lock while it looks and applies, so that servers
// starting at once against a new database wait for the first and then find nothing to
// do. With dryRun it changes nothing and returns what it would apply. A database whose
// hookpoint schema is newer than this build is refused with store.ErrSchemaTooNew before
// anything is applied.
func (s *Store) Migrate(ctx context.Context, dryRun bool) (done []string, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	// The lock is a session's: one connection of its own holds it (and applies
	// hookpoint's migrations), whatever the pool's size. Closing it releases the lock,
	// also when the unlock cannot be sent.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate %s: %w", s.where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if !dryRun {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, s.lockKey()); err != nil {
			return nil, fmt.Errorf("postgres: migrate %s: take the migration lock: %w", s.where, err)
		}
	}

	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: read the schema version: %w", s.where, err)
	}
	current := 0
	for v := range applied {
		current = max(current, v)
	}
	if current > len(ms) {
		return nil, fmt.Errorf("%w: %s is at schema version %d and this hookpoint knows versions up to %d; run a newer hookpoint, or restore a backup made before the upgrade",
			store.ErrSchemaTooNew, s.where, current, len(ms))
	}

	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		done = append(done, "hookpoint "+m.name)
		if dryRun {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, createMigrationTable); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO hookpoint_migration (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return done[:len(done)-1], fmt.Errorf("postgres: %s: migration %s: %w", s.where, m.name, err)
		}
	}

	// River's migrations run on the pool (rivermigrate takes a pool); this connection
	// keeps the lock meanwhile.
	migrator, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: s.logger, Schema: RiverSchema(s.schema)})
	if err != nil {
		return done, fmt.Errorf("postgres: river migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: dryRun})
	if err != nil {
		return done, fmt.Errorf("postgres: %s: river migrations: %w", s.where, err)
	}
	for _, v := range res.Versions {
		done = append(done, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	if !dryRun {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, s.lockKey()); err != nil {
			return done, fmt.Errorf("postgres: migrate %s: release the migration lock: %w", s.where, err)
		}
	}
	return done, nil
}

// appliedMigrations reads hookpoint_migration, which a new database lacks.
func appliedMigrations(ctx context.Context, conn *pgx.Conn) (map[int]bool, error) {
	applied := map[int]bool{}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('hookpoint_migration') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return applied, nil
	}
	rows, err := conn.Query(ctx, `SELECT version FROM hookpoint_migration`)
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		applied[v] = true
	}
	return applied, nil
}

// Version returns the highest hookpoint migration applied to the database: 0 for one
// hookpoint never migrated.
func (s *Store) Version(ctx context.Context) (int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", s.where, err)
	}
	defer conn.Release()
	applied, err := appliedMigrations(ctx, conn.Conn())
	if err != nil {
		return 0, fmt.Errorf("postgres: %s: read the schema version: %w", s.where, err)
	}
	v := 0
	for a := range applied {
		v = max(v, a)
	}
	return v, nil
}

// RiverSchema is the schema River is told its tables are in: the store's, when River
// accepts its name (letters, digits and _, short enough to prefix its LISTEN topics);
// otherwise none, and River finds them through the search_path, its notifications then
// shared with other schemas of the database (harmless: a wake-up finds nothing).
func RiverSchema(schema string) string {
	if len(schema) == 0 || len(schema) > 40 {
		return ""
	}
	for i, r := range schema {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return ""
		}
	}
	return schema
}

var errNoSchema = errors.New("no schema")

// RiverSchema is the schema River's client is to be given (see the function).
func (s *Store) RiverSchema() string { return RiverSchema(s.schema) }
