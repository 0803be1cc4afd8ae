package hookpoint_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/journal"
)

// recorder collects journal records.
type recorder struct {
	mu   sync.Mutex
	recs []hookpoint.Record
}

func (r *recorder) Record(rec hookpoint.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *recorder) all() []hookpoint.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookpoint.Record(nil), r.recs...)
}

// jsonJournal is a journal.Writer into a buffer, read back as decoded JSON lines.
type jsonJournal struct {
	buf syncBuffer
	w   *journal.Writer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newJSONJournal() *jsonJournal {
	j := &jsonJournal{}
	j.w = &journal.Writer{W: &j.buf}
	return j
}

func (j *jsonJournal) Record(r hookpoint.Record) { j.w.Record(r) }

func (j *jsonJournal) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(j.buf.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("journal line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// request is what a receiver got.
type request struct {
	Method   string
	Path     string // escaped path, as sent
	RawQuery string
	Host     string
	Header   http.Header
	Body     []byte
}

// receiver is an httptest server that records every request before answering.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, handle http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, r.Header.Clone(), body})
		rc.mu.Unlock()
		if handle != nil {
			handle(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// hooks returns the X-Hookpoint-Hook header of every request, in arrival order.
func (rc *receiver) hooks() []string {
	var out []string
	for _, r := range rc.requests() {
		out = append(out, r.Header.Get("X-Hookpoint-Hook"))
	}
	return out
}

// statusByPath answers /NNN with status NNN and everything else with 200.
func statusByPath(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(strings.Trim(r.URL.Path, "/"))
	if err != nil {
		code = 200
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte("status " + strconv.Itoa(code)))
}

// engine parses cfg and returns an engine that is closed when the test ends.
func engine(t *testing.T, cfg string, opts hookpoint.Options) *hookpoint.Engine {
	t.Helper()
	c, err := hookpoint.ParseConfig(t.Name()+".yaml", []byte(cfg))
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	e := hookpoint.New(c, opts)
	t.Cleanup(e.Close)
	return e
}

// script writes an executable shell script into a temporary directory.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitFor polls cond for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// processGone reports whether pid has exited; a zombie counts, as the container's init
// may not reap orphans.
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// readPID waits for a pid file to appear and returns its pid.
func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, "pid file "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

func ids(results []hookpoint.Result) string {
	var s []string
	for _, r := range results {
		s = append(s, r.HookID+":"+r.Outcome)
	}
	return strings.Join(s, ",")
}
