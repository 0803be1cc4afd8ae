package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
	"github.com/hookpoint/hookpoint/internal/token"
)

// The tests run the real server (internal/server on a fresh SQLite file) with its web
// UI, behind httptest, and real receivers.

const adminToken = "web-test-admin-token-0123456789"

type env struct {
	t     *testing.T
	srv   *server.Server
	store store.Store
	http  *httptest.Server
	url   string
}

type envOptions struct {
	config string // YAML of the config file
	queue  server.QueueOptions
	now    func() time.Time
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	db := filepath.Join(dir, "hookpoint.db")
	if err := copyFile(migratedDB(t), db); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, db, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	if o.config != "" {
		if cfg, err = config.Parse("hookpoint.yaml", []byte(o.config)); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	box, _, err := secretbox.LoadOrCreateKey(filepath.Join(dir, "hookpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	q := o.queue
	if q.FetchPollInterval == 0 {
		// Every test's server polls while the package runs: often enough to be quick,
		// seldom enough that a dozen of them under -race leave the CPU to the tests.
		q.FetchPollInterval = 100 * time.Millisecond
	}
	srv, err := server.New(server.Options{Config: cfg, ConfigFile: "hookpoint.yaml", Store: st, Box: box, AdminToken: adminToken,
		Node: "test", Queue: q, Now: o.now})
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

// migrated is a database with every migration applied, made once and copied for each
// test: migrating costs a second under -race.
var migrated struct {
	once sync.Once
	path string
	err  error
}

func migratedDB(t *testing.T) string {
	t.Helper()
	migrated.once.Do(func() {
		dir, err := os.MkdirTemp("", "hookpoint-web-test-")
		if err != nil {
			migrated.err = err
			return
		}
		migrated.path = filepath.Join(dir, "migrated.db")
		st, err := sqlite.Open(context.Background(), migrated.path, sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			migrated.err = err
			return
		}
		migrated.err = st.Close() // checkpoints the WAL into the file
	})
	if migrated.err != nil {
		t.Fatal(migrated.err)
	}
	return migrated.path
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// newToken makes a token of scope in the store.
func (e *env) newToken(scope token.Scope) (string, *store.Token) {
	e.t.Helper()
	plain, tk, err := server.NewToken(context.Background(), e.store, scope, "web test", time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return plain, tk
}

// api calls the JSON API with the admin token.
func (e *env) api(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// client is a browser without a browser: a cookie jar and the CSRF token of the last
// page.
type client struct {
	t    *testing.T
	e    *env
	http *http.Client
	csrf string
}

// page is an answer read whole.
type page struct {
	status int
	header http.Header
	body   string
	url    string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// noRedirects makes the client return redirects instead of following them.
func (c *client) noRedirects() *client {
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// clock is the real time plus an offset that tests move forward.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(b), url: resp.Request.URL.String()}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return p
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.url+path, nil)
	return c.do(req)
}

// fragment asks for a live part as the page's script does.
func (c *client) fragment(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.url+path, nil)
	req.Header.Set("X-Hookpoint-Fragment", "1")
	return c.do(req)
}

// post sends a form with the page's CSRF token (unless the form has its own csrf).
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	return c.postRaw(path, form, nil)
}

func (c *client) postRaw(path string, form url.Values, header http.Header) page {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return c.do(req)
}

// signIn signs in with tok and fails the test unless it worked.
func (e *env) signIn(tok string) *client {
	e.t.Helper()
	c := e.client()
	if p := c.signIn(tok); p.status != 200 || !strings.Contains(p.body, "Overview") {
		e.t.Fatalf("sign-in with a good token: %d %s\n%s", p.status, p.url, clipBody(p.body))
	}
	return c
}

func (c *client) signIn(tok string) page {
	c.t.Helper()
	p := c.get("/ui/signin")
	if p.status != 200 {
		c.t.Fatalf("sign-in page: %d", p.status)
	}
	return c.post("/ui/signin", url.Values{"token": {tok}, "next": {"/"}})
}

func want(t *testing.T, p page, status int) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d (%s):\n%s", p.status, status, p.url, clipBody(p.body))
	}
	return p
}

func clipBody(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver records requests and answers as told.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []*http.Request
	bodys []string
	reply func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{reply: reply}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, r)
		rc.bodys = append(rc.bodys, string(b))
		n := len(rc.reqs)
		reply := rc.reply
		rc.mu.Unlock()
		if reply != nil {
			reply(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setReply(reply func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.reply = reply
	rc.mu.Unlock()
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *receiver) last() (*http.Request, string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[len(rc.reqs)-1], rc.bodys[len(rc.bodys)-1]
}
