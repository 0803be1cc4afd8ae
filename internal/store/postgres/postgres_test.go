package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/store/postgres"
	"github.com/hookpoint/hookpoint/internal/store/postgres/pgtest"
	"github.com/hookpoint/hookpoint/internal/store/storetest"
)

func open(t testing.TB, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	pgtest.Need(t)
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return open(t, pgtest.URL(t), postgres.Options{})
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := open(t, url, postgres.Options{SkipMigrate: true})
	ctx := t.Context()

	planned, err := s.Migrate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) < 2 || planned[0] != "hookpoint 0001_init" || !strings.HasPrefix(planned[1], "river 001 ") {
		t.Fatalf("dry run plans %q", planned)
	}
	if got := tables(t, s); got != "" {
		t.Fatalf("a dry run created tables: %s", got)
	}
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Fatalf("Version of a new database: %d, %v", v, err)
	}

	applied, err := s.Migrate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(applied, "\n") != strings.Join(planned, "\n") {
		t.Fatalf("applied %q, planned %q", applied, planned)
	}
	for _, want := range []string{"attempts", "deliveries", "events", "hook_secrets", "hook_versions", "hooks", "hookpoint_migration", "river_job", "river_migration", "tokens"} {
		if !strings.Contains(","+tables(t, s)+",", ","+want+",") {
			t.Errorf("table %s missing from %s", want, tables(t, s))
		}
	}
	for _, dry := range []bool{true, false} {
		again, err := s.Migrate(ctx, dry)
		if err != nil || len(again) != 0 {
			t.Fatalf("Migrate(dry run %v) again: %q, %v", dry, again, err)
		}
	}
	var versions string
	err = s.Pool().QueryRow(ctx, `SELECT string_agg(version || ' ' || name, ',' ORDER BY version) FROM hookpoint_migration`).Scan(&versions)
	if err != nil {
		t.Fatal(err)
	}
	if versions != "1 0001_init" || postgres.SchemaVersion() != 1 {
		t.Fatalf("hookpoint_migration holds %q; SchemaVersion %d", versions, postgres.SchemaVersion())
	}
	if v, err := s.Version(ctx); err != nil || v != postgres.SchemaVersion() {
		t.Fatalf("Version: %d, %v", v, err)
	}
	open(t, url, postgres.Options{}) // reopening migrates nothing and works
}

// tables lists the tables of the store's schema.
func tables(t *testing.T, s *postgres.Store) string {
	t.Helper()
	var names *string
	err := s.Pool().QueryRow(t.Context(), `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&names)
	if err != nil {
		t.Fatal(err)
	}
	if names == nil {
		return ""
	}
	return *names
}

// migrated checks that every migration was applied once.
func migrated(t *testing.T, url string) {
	t.Helper()
	s := open(t, url, postgres.Options{SkipMigrate: true})
	var hp, river int
	err := s.Pool().QueryRow(t.Context(), `SELECT (SELECT count(*) FROM hookpoint_migration), (SELECT count(*) FROM river_migration)`).Scan(&hp, &river)
	if err != nil {
		t.Fatal(err)
	}
	if hp != postgres.SchemaVersion() || river < 6 {
		t.Fatalf("hookpoint_migration has %d rows, river_migration %d", hp, river)
	}
	if pending, err := s.Migrate(t.Context(), true); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the concurrent opens: %q, %v", pending, err)
	}
}

func TestConcurrentOpens(t *testing.T) {
	// Servers starting at once against an empty database: one migrates it, under the
	// advisory lock, and the others wait for it and find nothing to do.
	t.Parallel()
	url := pgtest.URL(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 2})
			if err == nil {
				err = s.InsertToken(t.Context(), &store.Token{ID: fmt.Sprint("tok_", i), Scope: store.ScopeEmit, Hash: []byte{byte(i)}})
				_ = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	migrated(t, url)
}

// TestConcurrentOpensAcrossProcesses runs this test binary as several children that
// open the same new database at once (TestHelperOpen).
func TestConcurrentOpensAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const n = 4
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	start := time.Now().Add(500 * time.Millisecond).UnixNano() // all open at once
	for i := range cmds {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperOpen$", "-test.v")
		cmd.Env = append(os.Environ(), "HOOKPOINT_TEST_OPEN_URL="+url, "HOOKPOINT_TEST_OPEN_AT="+strconv.FormatInt(start, 10))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
		} else if !strings.Contains(outs[i].String(), "opened") {
			t.Errorf("child %d did not open:\n%s", i, outs[i].String())
		}
	}
	migrated(t, url)
}

func TestHelperOpen(t *testing.T) {
	url := os.Getenv("HOOKPOINT_TEST_OPEN_URL")
	if url == "" {
		t.Skip("the child of TestConcurrentOpensAcrossProcesses")
	}
	at, _ := strconv.ParseInt(os.Getenv("HOOKPOINT_TEST_OPEN_AT"), 10, 64)
	time.Sleep(time.Until(time.Unix(0, at)))
	s := open(t, url, postgres.Options{MaxConns: 2})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("opened")
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := open(t, url, postgres.Options{})
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO hookpoint_migration (version, name, applied_at) VALUES (999, '0999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(t.Context(), url, postgres.Options{})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"database test", "schema " + s.Schema(), "version 999", fmt.Sprintf("up to %d", postgres.SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The lock was released: another open is refused the same way, not kept waiting.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s2 := open(t, url, postgres.Options{SkipMigrate: true})
	if _, err := s2.Migrate(ctx, false); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate: %v, want ErrSchemaTooNew", err)
	}
	if _, err := s2.Migrate(ctx, true); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate dry run: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	pgtest.Need(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, url := range []string{
		"",
		"sqlite://hookpoint.db",
		"host=127.0.0.1 user=postgres", // a DSN, not a URL
		pgtest.WithSchema(pgtest.ServerURL(), "hp_no_such_schema"), // no schema to create tables in
	} {
		if s, err := postgres.Open(ctx, url, postgres.Options{}); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): no error", url)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): %v", url, err)
		}
	}
	_, err := postgres.Open(ctx, pgtest.WithSchema(pgtest.ServerURL(), "hp_no_such_schema"), postgres.Options{})
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("a missing schema: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://hp:s3cret@db:5432/hookpoint?sslmode=require":  "postgres://hp:xxxxx@db:5432/hookpoint?sslmode=require",
		"postgres://db/hookpoint?password=s3cret&sslmode=require": "postgres://db/hookpoint?password=xxxxx&sslmode=require",
		"postgresql://hp@db/hookpoint":                            "postgresql://hp@db/hookpoint",
		"postgres://hp:s3cret@db:bad port/x":                      "postgres://...",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextPostgreSQLCannotHold(t *testing.T) {
	// NUL and invalid UTF-8, which a receiver's answer or an API subject may hold, are
	// stored as U+FFFD rather than refused; lookups find what was stored.
	t.Parallel()
	s := open(t, pgtest.URL(t), postgres.Options{})
	ctx := t.Context()
	e := &store.Event{ID: "evt_1", Subject: "a\x00b\xffc", IdempotencyKey: "k\x00", Data: map[string]any{"nul": "x\x00y"}}
	if err := s.InsertEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := s.EventByIdempotencyKey(ctx, "k\x00")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "a\uFFFDb\uFFFDc" || got.IdempotencyKey != "k\uFFFD" || got.Data["nul"] != "x\x00y" {
		t.Fatalf("stored %q, key %q, data %q", got.Subject, got.IdempotencyKey, got.Data["nul"])
	}
	if err := s.InsertDeliveries(ctx, []*store.Delivery{{ID: "dlv_1", EventID: "evt_1", LastError: "\x00"}}); err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.RecordAttempt(ctx, &store.Attempt{DeliveryID: "dlv_1", N: 1, Response: "body\x00\xfe", Error: "\x00"},
			store.DeliveryUpdate{Status: store.DeliveryFailed, LastError: "\x00"})
	})
	if err != nil {
		t.Fatal(err)
	}
	as, err := s.Attempts(ctx, "dlv_1")
	if err != nil || len(as) != 1 || as[0].Response != "body\uFFFD\uFFFD" {
		t.Fatalf("attempts %+v, %v", as, err)
	}
}

func TestConcurrentRecordAttempt(t *testing.T) {
	// Workers recording attempts of one delivery at once (a rescued job and the stale
	// one): each number is recorded once, and never one lower than the highest.
	t.Parallel()
	s := open(t, pgtest.URL(t), postgres.Options{MaxConns: 8})
	ctx := t.Context()
	if err := s.InsertEvent(ctx, &store.Event{ID: "evt_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertDeliveries(ctx, []*store.Delivery{{ID: "dlv_1", EventID: "evt_1", Status: store.DeliveryQueued}}); err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	var recorded []int
	for i := range n {
		wg.Go(func() {
			for _, num := range []int{i/2 + 1, i/2 + 1} { // every number twice, concurrently
				err := s.RecordAttempt(ctx, &store.Attempt{DeliveryID: "dlv_1", N: num},
					store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: num})
				switch {
				case err == nil:
					mu.Lock()
					recorded = append(recorded, num)
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	as, err := s.Attempts(ctx, "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(as); i++ {
		if as[i].ID < as[i-1].ID {
			t.Fatalf("attempt %d recorded after attempt %d", as[i-1].N, as[i].N)
		}
	}
	d, err := s.GetDelivery(ctx, "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != len(recorded) || d.Attempts != as[len(as)-1].N {
		t.Fatalf("%d attempts stored, %d recorded; the delivery says %d, the last is %d", len(as), len(recorded), d.Attempts, as[len(as)-1].N)
	}
}

func TestConcurrentHookWriters(t *testing.T) {
	// Servers changing one hook at once: versions are numbered without a gap or a
	// conflict, and outcomes each apply to the state before.
	t.Parallel()
	s := open(t, pgtest.URL(t), postgres.Options{MaxConns: 8})
	ctx := t.Context()
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h := &store.Hook{ID: "h", Def: []byte(fmt.Sprint(i)), ManagedBy: "api", Enabled: true}
			if err := s.PutHook(ctx, h); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h, err := s.GetHook(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != n {
		t.Fatalf("version %d after %d different definitions", h.Version, n)
	}
	for i := range n {
		wg.Go(func() {
			if _, _, err := s.RecordHookOutcome(ctx, "h", false, fmt.Sprint("failed ", i), time.Unix(int64(i), 0), 0); err != nil {
				t.Error(err)
			}
			if err := s.PutSecrets(ctx, "h", []store.Secret{{Name: "a", Ciphertext: []byte{byte(i)}}, {Name: "b"}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if h, err = s.GetHook(ctx, "h"); err != nil || h.FailingSince == nil {
		t.Fatalf("hook after concurrent failures: %+v, %v", h, err)
	}
	if secrets, err := s.GetSecrets(ctx, "h"); err != nil || len(secrets) != 2 {
		t.Fatalf("secrets after concurrent puts: %+v, %v", secrets, err)
	}
}

// deliverArgs stands for the server's job: deliver one delivery.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return "hookpoint.deliver" }

func riverClient(t testing.TB, s *postgres.Store) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(s.Raw().(*pgxpool.Pool)), &river.Config{Schema: postgres.RiverSchema(s.Schema())}) // insert-only
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// insertEventAndJob is the server's submit: the event, its delivery and the job that
// will deliver it (unless client is nil), in one transaction, which fails with fail.
func insertEventAndJob(ctx context.Context, s store.Store, client *river.Client[pgx.Tx], id string, fail error) error {
	return s.InTx(ctx, func(tx store.Tx) error {
		now := time.Now()
		e := &store.Event{ID: "evt_" + id, Type: "backup.job.end", Source: "vzdump", Time: now, ReceivedAt: now,
			Origin: "api", State: store.EventDone, Data: map[string]any{"vmid": 101}}
		if err := tx.InsertEvent(ctx, e); err != nil {
			return err
		}
		d := &store.Delivery{ID: "dlv_" + id, EventID: e.ID, EventType: e.Type, HookID: "h", HookVersion: 1,
			Mode: "async", Status: store.DeliveryQueued, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertDeliveries(ctx, []*store.Delivery{d}); err != nil {
			return err
		}
		if client != nil {
			_, err := client.InsertManyTx(ctx, tx.Raw().(pgx.Tx), []river.InsertManyParams{{Args: deliverArgs{DeliveryID: d.ID}}})
			if err != nil {
				return err
			}
		}
		return fail
	})
}

func TestRiverJobInStoreTx(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.URL(t), postgres.Options{})
	client := riverClient(t, s)
	ctx := t.Context()

	if err := insertEventAndJob(ctx, s, client, "1", nil); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	if err := insertEventAndJob(ctx, s, client, "2", errBoom); !errors.Is(err, errBoom) {
		t.Fatalf("InTx: %v", err)
	}
	// A conflict inside the transaction leaves it usable, River's insert included.
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertEvent(ctx, &store.Event{ID: "evt_1"}); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("repeated event: %w", err)
		}
		_, err := client.InsertTx(ctx, tx.Raw().(pgx.Tx), deliverArgs{DeliveryID: "dlv_3"}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	res, err := client.JobList(ctx, river.NewJobListParams())
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, j := range res.Jobs {
		var a deliverArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		args = append(args, a.DeliveryID)
	}
	if strings.Join(args, ",") != "dlv_1,dlv_3" {
		t.Fatalf("jobs after two commits and one rollback: %s", args)
	}
	if _, err := s.GetDelivery(ctx, "dlv_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivery of the rolled back transaction: %v", err)
	}
}
