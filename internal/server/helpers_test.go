package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/store/postgres"
	"github.com/hookpoint/hookpoint/internal/store/postgres/pgtest"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

const adminToken = "test-admin-token-0123456789"

// env is a running server on a fresh store (a SQLite file or a PostgreSQL schema), with
// its HTTP front.
type env struct {
	t     *testing.T
	srv   *server.Server
	store store.Store
	http  *httptest.Server
	url   string
}

type envOptions struct {
	// db is the store's driver: "sqlite" or "postgres" (a schema of its own in the test
	// database, see pgtest); by default $HOOKPOINT_TEST_DB, else sqlite.
	db     string
	now    func() time.Time
	config string // YAML of the config file (hooks and server settings)
	ingest map[string]server.IngestSource
	queue  server.QueueOptions
	// prepare writes to the store before the server starts.
	prepare func(st store.Store)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	var st store.Store
	var err error
	switch db := cmp.Or(o.db, os.Getenv("HOOKPOINT_TEST_DB"), "sqlite"); db {
	case "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(dir, "hookpoint.db"), sqlite.Options{Synchronous: "NORMAL"})
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	default:
		t.Fatalf("no store %q: sqlite or postgres", db)
	}
	if err != nil {
		t.Fatal(err)
	}
	if o.prepare != nil {
		o.prepare(st)
	}
	cfg := &config.Config{}
	if o.config != "" {
		cfg, err = config.Parse("hookpoint.yaml", []byte(o.config))
		if err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	box, _, err := secretbox.LoadOrCreateKey(filepath.Join(dir, "hookpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	q := o.queue
	if q.FetchPollInterval == 0 {
		q.FetchPollInterval = 20 * time.Millisecond
	}
	ing := o.ingest
	if ing == nil {
		ing = map[string]server.IngestSource{}
	}
	if _, ok := ing["generic"]; !ok {
		g, _ := ingest.Lookup("generic")
		ing["generic"] = server.IngestSource{Source: g}
	}
	srv, err := server.New(server.Options{Config: cfg, ConfigFile: "hookpoint.yaml", Store: st, Box: box, AdminToken: adminToken,
		Ingest: ing, Node: "test", Queue: q, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	e := &env{t: t, srv: srv, store: st, http: hs, url: hs.URL}
	t.Cleanup(func() {
		hs.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(sctx)
		_ = st.Close()
	})
	return e
}

// onEachDriver runs test on a SQLite store and on a PostgreSQL one (which is skipped
// without a PostgreSQL to test on, unless HOOKPOINT_TEST_STRICT=1).
func onEachDriver(t *testing.T, test func(t *testing.T, db string)) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { test(t, db) })
	}
}

// answer is an HTTP answer read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return m
}

// apiError returns the error object of an error answer, failing unless it has the
// shape {"error": {"code", "message", "field"?}}.
func (a answer) apiError(t *testing.T) map[string]any {
	t.Helper()
	m := a.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || len(m) != 1 || e["code"] == "" || e["message"] == "" {
		t.Fatalf("not an error body: %s", a.body)
	}
	return e
}

// do sends a request with the given token ("" for none) and body (a string, []byte or a
// value to encode as JSON).
func (e *env) do(method, path, tok string, body any) answer {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, raw}
}

func (e *env) admin(method, path string, body any) answer {
	e.t.Helper()
	return e.do(method, path, adminToken, body)
}

// want fails the test unless the answer has the status.
func want(t *testing.T, a answer, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// waitFor polls cond until it holds (the queue works in the background).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// receiver records requests and answers as told.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []*http.Request
	bodys [][]byte
	reply func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{reply: reply}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, r)
		rc.bodys = append(rc.bodys, b)
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.reply != nil {
			rc.reply(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *receiver) request(i int) (*http.Request, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[i], rc.bodys[i]
}

// delivery reads one delivery through the API.
func (e *env) delivery(id string) (map[string]any, []any) {
	e.t.Helper()
	m := want(e.t, e.admin("GET", "/v1/deliveries/"+id, nil), 200).json(e.t)
	d, _ := m["delivery"].(map[string]any)
	as, _ := m["attempts"].([]any)
	return d, as
}
