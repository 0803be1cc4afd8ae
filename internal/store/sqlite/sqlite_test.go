package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
	"github.com/hookpoint/hookpoint/internal/store/storetest"
)

func open(t testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts)
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

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "hookpoint.db")
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return open(t, tempPath(t), sqlite.Options{})
	})
}

func TestLockInProcess(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	first, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	want := fmt.Sprintf("the database %s is in use by another hookpoint serve (pid %d)", path, os.Getpid())
	if err.Error() != want {
		t.Fatalf("second Open:\n got %s\nwant %s", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path, sqlite.Options{}) // free again
}

// TestLockAcrossProcesses runs this test binary as a child that holds the database
// (TestHelperHoldDatabase), then opens the database while the child lives.
func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperHoldDatabase$")
	cmd.Env = append(os.Environ(), "HOOKPOINT_TEST_HOLD_DB="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "holding" {
		t.Fatalf("child: %q, %v", line, err)
	}

	_, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("Open while another process holds the database: %v, want ErrInUse", err)
	}
	if want := "(pid " + strconv.Itoa(cmd.Process.Pid) + ")"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the holder %s", err, want)
	}

	_ = stdin.Close() // the child closes the store and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	open(t, path, sqlite.Options{})
}

func TestHelperHoldDatabase(t *testing.T) {
	path := os.Getenv("HOOKPOINT_TEST_HOLD_DB")
	if path == "" {
		t.Skip("the child of TestLockAcrossProcesses")
	}
	s := open(t, path, sqlite.Options{})
	fmt.Println("holding")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLockAfterCrash(t *testing.T) {
	// A stale lock file (its owner died) does not stop a new server.
	t.Parallel()
	path := tempPath(t)
	if err := os.WriteFile(path+".lock", []byte("999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, path, sqlite.Options{})
	b, err := os.ReadFile(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want our pid", got)
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := s.Raw().(*sql.DB)
	if _, err := db.ExecContext(t.Context(), `INSERT INTO hookpoint_migration (version, name, applied_at) VALUES (999, '0999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, "version 999", fmt.Sprintf("up to %d", sqlite.SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The lock was released: a dry run says the same.
	s = open(t, path, sqlite.Options{SkipMigrate: true})
	if _, err := s.Migrate(t.Context(), true); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate dry run: %v, want ErrSchemaTooNew", err)
	}
}

func TestFileModes(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := open(t, path, sqlite.Options{})
	if err := s.InsertEvent(t.Context(), &store.Event{ID: "evt_1"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), mode)
		}
	}
}

func TestPathNeedsNoEscaping(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a dir?with #odd%20chars&_pragma=x")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hook point.db")
	s := open(t, path, sqlite.Options{})
	if err := s.InsertEvent(t.Context(), &store.Event{ID: "evt_1"}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "hook point.db,hook point.db-shm,hook point.db-wal,hook point.db.lock" {
		t.Fatalf("files: %q", names)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			t.Errorf("Open(%q): no error", path)
		}
	}
	if _, err := sqlite.Open(t.Context(), tempPath(t), sqlite.Options{Synchronous: "OFF"}); err == nil {
		t.Error("Synchronous OFF: no error")
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "x.db"), sqlite.Options{}); err == nil {
		t.Error("a missing directory: no error")
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opt  string
		want int
	}{{"", 2}, {"full", 2}, {"NORMAL", 1}} {
		s := open(t, tempPath(t), sqlite.Options{Synchronous: c.opt})
		db := s.Raw().(*sql.DB)
		var sync, fk, busy int
		var mode string
		for q, dst := range map[string]any{
			"PRAGMA synchronous": &sync, "PRAGMA foreign_keys": &fk, "PRAGMA busy_timeout": &busy, "PRAGMA journal_mode": &mode,
		} {
			if err := db.QueryRowContext(t.Context(), q).Scan(dst); err != nil {
				t.Fatal(err)
			}
		}
		if sync != c.want || fk != 1 || busy != 10000 || mode != "wal" {
			t.Errorf("Synchronous %q: synchronous=%d foreign_keys=%d busy_timeout=%d journal_mode=%s", c.opt, sync, fk, busy, mode)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := open(t, path, sqlite.Options{SkipMigrate: true})
	ctx := t.Context()

	planned, err := s.Migrate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) < 3 || planned[0] != "hookpoint 0001_init" || planned[1] != "hookpoint 0002_events_source" || !strings.HasPrefix(planned[2], "river 001 ") {
		t.Fatalf("dry run plans %q", planned)
	}
	if tables(t, s) != "" {
		t.Fatalf("a dry run created tables: %s", tables(t, s))
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
	err = s.Raw().(*sql.DB).QueryRowContext(ctx, `SELECT group_concat(version || ' ' || name, ',') FROM hookpoint_migration ORDER BY version`).Scan(&versions)
	if err != nil {
		t.Fatal(err)
	}
	if versions != "1 0001_init,2 0002_events_source" || sqlite.SchemaVersion() != 2 {
		t.Fatalf("hookpoint_migration holds %q; SchemaVersion %d", versions, sqlite.SchemaVersion())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path, sqlite.Options{}) // reopening migrates nothing and works
}

func tables(t *testing.T, s *sqlite.Store) string {
	t.Helper()
	var names sql.NullString
	err := s.Raw().(*sql.DB).QueryRowContext(t.Context(),
		`SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)`).Scan(&names)
	if err != nil {
		t.Fatal(err)
	}
	return names.String
}

// deliverArgs stands for the server's job: deliver one delivery.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return "hookpoint.deliver" }

func riverClient(t testing.TB, s *sqlite.Store) *river.Client[*sql.Tx] {
	t.Helper()
	client, err := river.NewClient(riversqlite.New(s.Raw().(*sql.DB)), &river.Config{}) // insert-only
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// insertEventAndJob is the server's submit: the event, its delivery and the job that
// will deliver it (unless client is nil), in one transaction, which fails with fail.
func insertEventAndJob(ctx context.Context, s store.Store, client *river.Client[*sql.Tx], id string, fail error) error {
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
			_, err := client.InsertManyTx(ctx, tx.Raw().(*sql.Tx), []river.InsertManyParams{{Args: deliverArgs{DeliveryID: d.ID}}})
			if err != nil {
				return err
			}
		}
		return fail
	})
}

func TestRiverJobInStoreTx(t *testing.T) {
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	client := riverClient(t, s)
	ctx := t.Context()

	if err := insertEventAndJob(ctx, s, client, "1", nil); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	if err := insertEventAndJob(ctx, s, client, "2", errBoom); !errors.Is(err, errBoom) {
		t.Fatalf("InTx: %v", err)
	}

	res, err := client.JobList(ctx, river.NewJobListParams())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].Kind != "hookpoint.deliver" || string(res.Jobs[0].EncodedArgs) != `{"delivery_id":"dlv_1"}` {
		t.Fatalf("jobs after one commit and one rollback: %+v", res.Jobs)
	}
	if _, err := s.GetDelivery(ctx, "dlv_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivery of the rolled back transaction: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	// Goroutines writing at once through the Store, its transactions and River: the
	// single connection queues them, and none meets SQLITE_BUSY.
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	client := riverClient(t, s)
	ctx := t.Context()
	const writers, each = 16, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("%d_%d", w, i)
				if err := insertEventAndJob(ctx, s, client, id, nil); err != nil {
					t.Error(err)
					return
				}
				err := s.UpdateDelivery(ctx, "dlv_"+id, store.DeliveryUpdate{Status: store.DeliverySucceeded, Attempts: 1, UpdatedAt: time.Now()})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := client.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.ByStatus[store.DeliverySucceeded] != writers*each {
		t.Fatalf("succeeded deliveries: %d, want %d", c.ByStatus[store.DeliverySucceeded], writers*each)
	}
	res, err := client.JobList(ctx, river.NewJobListParams().First(10000))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != writers*each {
		t.Fatalf("jobs: %d, want %d", len(res.Jobs), writers*each)
	}
}

func TestStoreCallInsideInTxWaitsForCtx(t *testing.T) {
	// The documented misuse: a Store write inside fn needs the group fn is in, so it
	// waits until its context ends, and the transaction goes on. A read inside fn goes
	// to the read pool and sees the last commit, not fn's writes.
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		if err := tx.InsertEvent(t.Context(), &store.Event{ID: "evt_1"}); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := s.InsertEvent(ctx, &store.Event{ID: "evt_2"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Store write inside InTx: %v, want the context's deadline", err)
		}
		if _, err := s.GetEvent(t.Context(), "evt_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Store read inside InTx of what fn wrote: %v, want not found until the commit", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEvent(t.Context(), "evt_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEvent(t.Context(), "evt_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the write that gave up waiting: %v, want not found", err)
	}
}

func TestGroupCommit(t *testing.T) {
	// Transactions that wait while one runs are committed together, each all or
	// nothing on its own: those that fail or panic leave nothing, those whose caller
	// gave up before they started never run, and the others land.
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	ctx := t.Context()
	commits0, _ := s.GroupStats()

	hold, running := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.InTx(ctx, func(tx store.Tx) error {
			close(running)
			<-hold
			return tx.InsertEvent(ctx, &store.Event{ID: "evt_first"})
		})
	}()
	<-running

	const n = 40
	errBoom := errors.New("boom")
	type result struct {
		err      error
		panicked any
	}
	results := make([]chan result, n)
	abandoned, abandon := context.WithCancel(ctx)
	for i := range n {
		results[i] = make(chan result, 1)
		go func() {
			var res result
			defer func() {
				res.panicked = recover()
				results[i] <- res
			}()
			c := ctx
			if i%10 == 3 {
				c = abandoned
			}
			res.err = s.InTx(c, func(tx store.Tx) error {
				if err := tx.InsertEvent(ctx, &store.Event{ID: fmt.Sprintf("evt_%d", i)}); err != nil {
					return err
				}
				switch i % 10 {
				case 1:
					return errBoom
				case 2:
					panic(fmt.Sprintf("panic %d", i))
				case 4: // a conflict the transaction recovers from, then commits
					err := tx.InsertEvent(ctx, &store.Event{ID: fmt.Sprintf("evt_%d", i)})
					if !errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("the same event again: %v, want a conflict", err)
					}
				}
				return nil
			})
		}()
	}
	// Let them all queue up behind the first, abandon some, then let the first go.
	deadline := time.Now().Add(5 * time.Second)
	for s.Waiting() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	abandon()
	time.Sleep(20 * time.Millisecond)
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		res := <-results[i]
		_, gerr := s.GetEvent(ctx, fmt.Sprintf("evt_%d", i))
		switch i % 10 {
		case 1:
			if !errors.Is(res.err, errBoom) || !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("tx %d returned %v, event %v: want boom and nothing stored", i, res.err, gerr)
			}
		case 2:
			if res.panicked != fmt.Sprintf("panic %d", i) || !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("tx %d panicked with %v, event %v: want its panic and nothing stored", i, res.panicked, gerr)
			}
		case 3:
			if !errors.Is(res.err, context.Canceled) || !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("abandoned tx %d returned %v, event %v: want canceled and nothing stored", i, res.err, gerr)
			}
		default:
			if res.err != nil || res.panicked != nil || gerr != nil {
				t.Errorf("tx %d returned %v (panic %v), event %v: want it stored", i, res.err, res.panicked, gerr)
			}
		}
	}
	commits, _ := s.GroupStats()
	// The first, then those that queued behind it (in groups of at most 128): two or
	// three groups, far fewer than the 37 transactions that committed.
	if got := commits - commits0; got > 3 {
		t.Errorf("%d groups committed, want the waiting transactions committed together (at most 3)", got)
	}
}

func TestGroupCancelledWhileRunning(t *testing.T) {
	// A caller whose context ends while its fn runs: its statements are not
	// interrupted (SQLite would roll back the whole group), it is told the commit's
	// outcome, and the group's other transactions land.
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	ctx := t.Context()
	cctx, cancel := context.WithCancel(ctx)
	other := make(chan error, 1)
	err := s.InTx(cctx, func(tx store.Tx) error {
		go func() {
			other <- s.InTx(ctx, func(tx store.Tx) error { return tx.InsertEvent(ctx, &store.Event{ID: "evt_other"}) })
		}()
		cancel()
		if err := tx.InsertEvent(cctx, &store.Event{ID: "evt_cancelled"}); err != nil {
			return err
		}
		return tx.InsertDeliveries(cctx, []*store.Delivery{{ID: "dlv_1", EventID: "evt_cancelled", HookID: "h",
			Status: store.DeliveryQueued, CreatedAt: time.Now(), UpdatedAt: time.Now()}})
	})
	if err != nil {
		t.Fatalf("InTx whose context ended while it ran: %v, want its commit", err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt_cancelled", "evt_other"} {
		if _, err := s.GetEvent(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestReadersSeeEachCommit(t *testing.T) {
	// Reads go to the read pool: each sees every transaction committed before it
	// started, while writes go on.
	t.Parallel()
	s := open(t, tempPath(t), sqlite.Options{})
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				id := fmt.Sprintf("evt_%d_%d", w, i)
				if err := s.InsertEvent(ctx, &store.Event{ID: id}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.GetEvent(ctx, id); err != nil {
					t.Errorf("read after the write of %s: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestShared(t *testing.T) {
	// hookpoint token beside a running hookpoint serve: a Shared open takes no lock,
	// migrates a new file, and both processes' writes land.
	t.Parallel()
	path := tempPath(t)
	shared := open(t, path, sqlite.Options{Shared: true}) // a new file: migrated
	if err := shared.InsertToken(t.Context(), &store.Token{ID: "tok_1", Scope: store.ScopeAdmin, Hash: []byte("h1")}); err != nil {
		t.Fatal(err)
	}
	server := open(t, path, sqlite.Options{})
	shared2 := open(t, path, sqlite.Options{Shared: true}) // beside the server
	if err := shared2.InsertToken(t.Context(), &store.Token{ID: "tok_2", Scope: store.ScopeEmit, Hash: []byte("h2")}); err != nil {
		t.Fatal(err)
	}
	if err := server.InsertToken(t.Context(), &store.Token{ID: "tok_3", Scope: store.ScopeRead, Hash: []byte("h3")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sqlite.Store{shared, server, shared2} {
		ts, err := s.ListTokens(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 3 {
			t.Fatalf("%d tokens, want 3", len(ts))
		}
	}
	if _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("a second server beside the first and Shared opens: %v, want ErrInUse", err)
	}
}
