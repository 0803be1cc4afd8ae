package main

// End-to-end tests: TestMain builds the hookpoint binary once, and the tests drive it as
// a user would — real child processes, configs in temporary directories, and an httptest
// receiver in the test process that records every request it gets.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookpointBin is the binary built by TestMain.
var hookpointBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookpoint-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	hookpointBin = filepath.Join(dir, "hookpoint")
	build := exec.Command("go", "build", "-o", hookpointBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// procTimeout bounds every hookpoint process a test starts; no test should come near it.
const procTimeout = 60 * time.Second

// childEnv is the complete environment of a hookpoint child: nothing is inherited from
// the test process (so HOOKPOINT_CONFIG, HOOKPOINT_JOURNAL and HOOKPOINT_RUN_ID are unset
// unless a test sets them), only PATH, HOME and what the test passes.
func childEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C"}, extra...)
}

// proc is a finished hookpoint process.
type proc struct {
	stdout, stderr string
	code           int
}

// output is stdout and stderr together, for checks that something appears in neither.
func (p proc) output() string { return p.stdout + "\n" + p.stderr }

// runHP runs the binary to completion with env as its whole environment and a fresh
// working directory (so no stray hookpoint.yaml is picked up).
func runHP(t *testing.T, env []string, args ...string) proc {
	t.Helper()
	return runHPStdin(t, env, "", args...)
}

func runHPStdin(t *testing.T, env []string, stdin string, args ...string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hookpointBin, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	p := proc{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		p.code = ee.ExitCode()
	default:
		t.Fatalf("hookpoint %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, p.stdout, p.stderr)
	}
	t.Logf("hookpoint %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.code, p.stdout, p.stderr)
	return p
}

// started is a hookpoint process still running.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

// startHookpoint starts the binary and returns at once; wait collects it.
func startHookpoint(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(hookpointBin, args...)
	s.cmd.Env, s.cmd.Dir = env, t.TempDir()
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start hookpoint: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// wait waits (bounded) for the process to exit and returns how it went.
func (s *started) wait(t *testing.T) proc {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(procTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("hookpoint did not exit within %s\nstdout:\n%s\nstderr:\n%s", procTimeout, s.stdout, s.stderr)
	}
	p := proc{stdout: s.stdout.String(), stderr: s.stderr.String()}
	var ee *exec.ExitError
	switch {
	case s.err == nil:
	case errors.As(s.err, &ee) && ee.Exited():
		p.code = ee.ExitCode()
	default:
		t.Fatalf("hookpoint: %v (it should exit, not die of a signal)\nstdout:\n%s\nstderr:\n%s", s.err, p.stdout, p.stderr)
	}
	t.Logf("hookpoint %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(s.cmd.Args[1:], " "), p.code, p.stdout, p.stderr)
	return p
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventually polls cond until it holds, failing the test after a bound. It is for
// waiting on another process; it asserts nothing about time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeConfig writes a config to a temporary directory, with every RECV replaced by the
// receiver's base URL, and returns its path.
func writeConfig(t *testing.T, rcv *receiver, name, text string) string {
	t.Helper()
	if rcv != nil {
		text = strings.ReplaceAll(text, "RECV", rcv.URL())
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// testdata returns the absolute path of a file under testdata/ (children run elsewhere).
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// request is one request the receiver got.
type request struct {
	Event    string // X-Hookpoint-Event
	Status   string // X-Hookpoint-Status
	Hook     string // X-Hookpoint-Hook
	Delivery string // X-Hookpoint-Delivery
	Run      string // X-Hookpoint-Run
	Method   string
	Path     string
	RawQuery string // as sent, for checks of how values were escaped
	Query    url.Values
	Header   http.Header
	Body     []byte
	JSON     map[string]any // the body decoded, when it is a JSON object
}

// data returns the data object of a CloudEvents body (the default body).
func (r request) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := r.JSON["data"].(map[string]any)
	if !ok {
		t.Fatalf("%s from hook %s: body has no data object: %s", r.Event, r.Hook, r.Body)
	}
	return d
}

// str returns a top-level string field of the JSON body ("" when absent).
func (r request) str(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}

// receiver is an httptest server that records every request. The answer is chosen by
// the query: code=N answers N (default 200), hang=1 holds the request until the client
// gives up, echo=auth and echo=query write the Authorization header or the raw query
// into the response body.
type receiver struct {
	srv  *httptest.Server
	stop chan struct{}

	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{stop: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.stop)
		r.srv.Close()
	})
	return r
}

func (r *receiver) URL() string { return r.srv.URL }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	rec := request{
		Event: req.Header.Get("X-Hookpoint-Event"), Status: req.Header.Get("X-Hookpoint-Status"),
		Hook: req.Header.Get("X-Hookpoint-Hook"), Delivery: req.Header.Get("X-Hookpoint-Delivery"),
		Run: req.Header.Get("X-Hookpoint-Run"), Method: req.Method, Path: req.URL.Path,
		RawQuery: req.URL.RawQuery, Query: req.URL.Query(), Header: req.Header.Clone(), Body: body,
	}
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		rec.JSON = obj
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()

	q := req.URL.Query()
	if q.Get("hang") != "" {
		select {
		case <-req.Context().Done():
		case <-r.stop:
		}
		return
	}
	code := http.StatusOK
	if c, err := strconv.Atoi(q.Get("code")); err == nil {
		code = c
	}
	w.WriteHeader(code)
	switch q.Get("echo") {
	case "auth":
		fmt.Fprintf(w, "you sent Authorization: %s\n", req.Header.Get("Authorization"))
	case "query":
		fmt.Fprintf(w, "you sent ?%s\n", req.URL.RawQuery)
	default:
		fmt.Fprintln(w, "ok")
	}
}

// requests returns every request so far, in arrival order.
func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// byHook returns the requests made by one hook, in arrival order.
func (r *receiver) byHook(id string) []request {
	var out []request
	for _, q := range r.requests() {
		if q.Hook == id {
			out = append(out, q)
		}
	}
	return out
}

// events returns the event types one hook was called for, in order.
func (r *receiver) events(id string) []string {
	var out []string
	for _, q := range r.byHook(id) {
		out = append(out, q.Event)
	}
	return out
}

// saw reports whether the hook has been called for the event type.
func (r *receiver) saw(hook, eventType string) bool {
	return slices.Contains(r.events(hook), eventType)
}

// wantExit fails the test unless the process exited with code.
func wantExit(t *testing.T, p proc, code int) {
	t.Helper()
	if p.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", p.code, code, p.stdout, p.stderr)
	}
}

// wantEvents fails the test unless the hook was called for exactly these event types,
// in this order.
func wantEvents(t *testing.T, rcv *receiver, hook string, want ...string) []request {
	t.Helper()
	got := rcv.events(hook)
	if !slices.Equal(got, want) {
		t.Fatalf("hook %s was called for %q, want %q", hook, got, want)
	}
	return rcv.byHook(hook)
}

// wantStatus checks the event status in both the header and the CloudEvents body.
func wantStatus(t *testing.T, r request, status string) {
	t.Helper()
	if r.Status != status || r.str("status") != status {
		t.Errorf("%s: status header %q, body %q; want %q", r.Event, r.Status, r.str("status"), status)
	}
}

// wantNumber checks a numeric data field.
func wantNumber(t *testing.T, r request, key string, want float64) {
	t.Helper()
	got, ok := r.data(t)[key].(float64)
	if !ok || got != want {
		t.Errorf("%s: data.%s = %#v, want %v", r.Event, key, r.data(t)[key], want)
	}
}
