// Package pgtest gives tests a PostgreSQL database of their own: a fresh, empty schema in
// the test database, named by the search_path of the URL it returns and dropped when the
// test ends, so that tests run in parallel without seeing each other.
//
// The test database is $HOOKPOINT_TEST_POSTGRES, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it cannot be reached the
// test is skipped, or fails when HOOKPOINT_TEST_STRICT=1 (as in CI), so that a missing
// PostgreSQL never passes for a green run.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the test database when HOOKPOINT_TEST_POSTGRES is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// schemaPrefix names the schemas made here; one left by a killed test run is dropped by
// a later one once it is an hour old (its name holds when it was made).
const schemaPrefix = "hp_test_"

var (
	adminOnce sync.Once
	admin     *pgxpool.Pool
	adminErr  error
)

// ServerURL returns the URL of the test database, without a schema.
func ServerURL() string {
	if u := os.Getenv("HOOKPOINT_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Strict says whether tests that need PostgreSQL must fail rather than skip without it.
func Strict() bool { return os.Getenv("HOOKPOINT_TEST_STRICT") == "1" }

// pool connects once per test process, and drops the schemas killed runs left.
func pool() (*pgxpool.Pool, error) {
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(ServerURL())
		if err != nil {
			adminErr = err
			return
		}
		cfg.MaxConns = 2
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			err = p.Ping(ctx)
		}
		if err != nil {
			if p != nil {
				p.Close()
			}
			adminErr = err
			return
		}
		admin = p
		dropStale(ctx, p)
	})
	return admin, adminErr
}

// Available says whether the test database answers.
func Available() bool {
	_, err := pool()
	return err == nil
}

// Need skips the test, or fails it in strict mode, when the test database does not
// answer.
func Need(t testing.TB) {
	t.Helper()
	if _, err := pool(); err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s does not answer (%v): set HOOKPOINT_TEST_POSTGRES to a database tests may create schemas in", redact(ServerURL()), err)
		if Strict() {
			t.Fatal(msg + " (HOOKPOINT_TEST_STRICT=1: failing instead of skipping)")
		}
		t.Skip(msg)
	}
}

// URL makes a new, empty schema and returns the test database's URL with search_path
// set to it; the schema is dropped with everything in it when t ends, after the cleanups
// registered later (the store's Close) have run. Without a test database it skips t, or
// fails it in strict mode.
func URL(t testing.TB) string {
	t.Helper()
	Need(t)
	p, _ := pool()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := schemaPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() { drop(p, schema) })
	return WithSchema(ServerURL(), schema)
}

// WithSchema returns u with search_path (and the application_name of its connections)
// set to schema.
func WithSchema(u, schema string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %s: %v", redact(u), err))
	}
	q := parsed.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// drop ends the connections a test left open in its schema (a store not closed) and
// drops the schema.
func drop(p *pgxpool.Pool, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = p.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, schema)
	_, _ = p.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
}

// dropStale drops the schemas of runs killed more than an hour ago.
func dropStale(ctx context.Context, p *pgxpool.Pool) {
	rows, err := p.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'hp\_test\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		stamp, _, _ := strings.Cut(strings.TrimPrefix(n, schemaPrefix), "_")
		made, err := strconv.ParseInt(stamp, 10, 64)
		if err == nil && time.Since(time.Unix(made, 0)) > time.Hour {
			drop(p, n)
		}
	}
}

func redact(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(an unparsable URL)"
	}
	return parsed.Redacted()
}
