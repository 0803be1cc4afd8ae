package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store/postgres/pgtest"
)

// hookpoint migrate, serve --no-migrate and token on a new PostgreSQL database (a schema
// of its own): a database that is behind is refused with the way out, migrate applies
// hookpoint's and River's migrations once, and the server delivers from it; the token and
// the key are kept in the working directory.
func TestServeOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	env := childEnv(t)

	p := runHP(t, env, "migrate", "--db", url, "--dry-run")
	wantExit(t, p, 0)
	if !strings.HasPrefix(p.stdout, "hookpoint 0001_init\nriver 001 ") || !strings.Contains(p.stdout, "(dry run: nothing changed)") {
		t.Fatalf("migrate --dry-run:\n%s", p.stdout)
	}
	p = runHP(t, env, "token", "list", "--db", url)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, "hookpoint has no tables in database") {
		t.Errorf("token on a database never migrated: %s", p.stderr)
	}
	dir := t.TempDir()
	cmd := runHP(t, env, "serve", "--no-migrate", "--listen", "127.0.0.1:0", "--db", url)
	if cmd.code != 1 || !strings.Contains(cmd.stderr, "is behind this hookpoint") || !strings.Contains(cmd.stderr, "hookpoint migrate") {
		t.Fatalf("serve --no-migrate on a new database: %d\n%s", cmd.code, cmd.stderr)
	}

	p = runHP(t, env, "migrate", "--db", url)
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "hookpoint 0001_init\n") || !strings.Contains(p.stdout, "migration(s) applied to database postgres://") {
		t.Fatalf("migrate:\n%s", p.stdout)
	}
	p = runHP(t, env, "migrate", "--db", url)
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "is up to date") {
		t.Fatalf("migrate again:\n%s", p.stdout)
	}

	rcv := newReceiver(t)
	cfg := filepath.Join(dir, "hookpoint.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "hooks:\n  - {id: a, on: [x.y], mode: async, http: {url: %q}}\n", rcv.URL()+"/a"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, dir, env, "--no-migrate", "--db", url, "--config", cfg, "--allow-origin", "127.0.0.0/8")
	if s.token == "" || !strings.Contains(s.output(), "(database postgres://") {
		t.Fatalf("serve:\n%s", s.output())
	}
	for _, f := range []string{"hookpoint.token", "hookpoint.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not in the working directory: %v", f, err)
		}
	}
	if code, body := s.call(t, "POST", "/v1/events", s.token, `{"type":"x.y"}`); code != 200 {
		t.Fatalf("event: %d %s", code, body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(rcv.byHook("a")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(rcv.byHook("a")) != 1 {
		t.Fatalf("deliveries made: %d\n%s", len(rcv.byHook("a")), s.output())
	}

	// hookpoint token beside the running server.
	p = runHP(t, env, "token", "create", "--scope", "emit", "--db", url)
	wantExit(t, p, 0)
	p = runHP(t, env, "token", "list", "--db", url)
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, " emit ") {
		t.Errorf("token list:\n%s", p.stdout)
	}
}
