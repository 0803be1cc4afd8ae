package receiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests run commands as `/bin/sh -c SCRIPT sh ARGS...` (the script text is a string
// argument), so no test writes an executable and execs it while another parallel test
// forks (which can fail with ETXTBSY).

// sh returns pass-arguments-to-command that run script with args as $1, $2, ...
func sh(script string, args ...Argument) []Argument {
	return append([]Argument{str("-c"), str(script), str("sh")}, args...)
}

func str(s string) Argument            { return Argument{Source: SourceString, Name: s} }
func arg(source, name string) Argument { return Argument{Source: source, Name: name} }

// shHook is a hook running script through /bin/sh.
func shHook(id, script string, args ...Argument) *Hook {
	return &Hook{ID: id, ExecuteCommand: "/bin/sh", PassArguments: sh(script, args...)}
}

// compile validates hooks built in Go as Parse does (it compiles their rules).
func compile(t testing.TB, hooks ...*Hook) []*Hook {
	t.Helper()
	for _, h := range hooks {
		if err := h.validate(); err != nil {
			t.Fatalf("hook %s: %v", h.ID, err)
		}
	}
	return hooks
}

// parse parses a hooks file given as text.
func parseHooks(t testing.TB, text string) []*Hook {
	t.Helper()
	hooks, _, err := Parse("hooks.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return hooks
}

// serve starts a real HTTP server for hooks, at /hooks/{id} unless o says otherwise.
func serve(t testing.TB, o Options, hooks ...*Hook) (*Server, *httptest.Server) {
	t.Helper()
	if o.URLPrefix == "" {
		o.URLPrefix = "hooks"
	}
	srv := New(hooks, o)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Wait(ctx)
	})
	return srv, ts
}

// response is what a client got.
type response struct {
	code   int
	header http.Header
	body   string
}

// call sends one request; header is "Name: value" lines.
func call(t testing.TB, method, url, body string, header ...string) response {
	t.Helper()
	r, err := send(method, url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// goCall sends one request from another goroutine; the answer comes on the channel (a
// zero response when the request failed, which fails the test).
func goCall(t testing.TB, method, url, body string, header ...string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		r, err := send(method, url, body, header...)
		if err != nil {
			t.Error(err) // not Fatal: this is not the test's goroutine
		}
		ch <- r
	}()
	return ch
}

func send(method, url, body string, header ...string) (response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for _, h := range header {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

func want(t testing.TB, got response, code int, body string) {
	t.Helper()
	if got.code != code || got.body != body {
		t.Fatalf("got %d %q, want %d %q", got.code, got.body, code, body)
	}
}

// testRequest builds a Request as the handler does.
func testRequest(t testing.TB, method, target, contentType, body string, header ...string) *Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for _, h := range header {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return newRequest(r, []byte(body), "")
}

// waitFor polls cond until it holds, failing after a generous bound. It waits on other
// processes; it asserts nothing about time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lines returns the non-empty lines of a file ("" when it does not exist).
func lines(path string) []string {
	b, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// readPID reads a pid a script wrote, waiting until the file is complete.
func readPID(t testing.TB, path string) int {
	t.Helper()
	var pid int
	waitFor(t, "pid file "+filepath.Base(path), func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

// alive reports whether pid is a live process. A zombie (dead, not yet reaped by
// whichever process adopted it) counts as dead.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitDead waits (bounded) until pid is gone.
func waitDead(t testing.TB, what string, pid int) {
	t.Helper()
	waitFor(t, what+" (pid "+strconv.Itoa(pid)+") to be gone", func() bool { return !alive(pid) })
}
