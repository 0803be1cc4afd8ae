package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// rawConn runs fn on the caching connection under a *sql.Conn of db.
func rawConn(t *testing.T, c *sql.Conn, fn func(cc *cachingConn)) {
	t.Helper()
	if err := c.Raw(func(dc any) error { fn(dc.(*cachingConn)); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestStatementCache(t *testing.T) {
	registerCachingDriver()
	db, err := sql.Open(cachingDriverName, "file:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}

	// The same text again while its rows are open gets a statement of its own.
	const q = `SELECT n FROM t -- a comment; with a semicolon
		WHERE n >= ? ORDER BY n`
	outer, err := c.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		var inner int
		if err := c.QueryRowContext(ctx, q, n).Scan(&inner); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, n*10+inner)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[11 22 33]" {
		t.Fatalf("nested runs of one text: %v, want [11 22 33]", seen)
	}
	rawConn(t, c, func(cc *cachingConn) {
		s, ok := cc.stmts[q]
		if !ok || s.busy {
			t.Fatalf("the text is cached (%v) and free (busy %v) once its rows are closed", ok, ok && s.busy)
		}
	})

	// A script runs every statement each time, cached or not.
	for range 3 {
		if _, err := c.ExecContext(ctx, `UPDATE t SET n = n + 1; UPDATE t SET n = n + 100`); err != nil {
			t.Fatal(err)
		}
	}
	var sum int
	if err := c.QueryRowContext(ctx, `SELECT sum(n) FROM t`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 6+3*3*101 {
		t.Fatalf("sum after three runs of the script: %d, want %d", sum, 6+3*3*101)
	}

	// The cache is bounded, and statements dropped from it are not missed.
	for i := range maxCachedStatements + 50 {
		var got int
		if err := c.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&got); err != nil || got != i {
			t.Fatalf("SELECT %d: %d, %v", i, got, err)
		}
	}
	rawConn(t, c, func(cc *cachingConn) {
		if len(cc.stmts) > maxCachedStatements {
			t.Fatalf("%d statements cached, want at most %d", len(cc.stmts), maxCachedStatements)
		}
	})
	if err := c.QueryRowContext(ctx, q, 3).Scan(&sum); err != nil {
		t.Fatal(err)
	}
}
