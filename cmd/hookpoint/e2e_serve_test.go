package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveProc is a running `hookpoint serve`.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	token  string // printed on first start, when it was generated
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{}
}

var serveURLRE = regexp.MustCompile(`^hookpoint serve: (https?://\S+) `)

// startServe starts hookpoint serve in dir with args and waits for its URL.
func startServe(t *testing.T, dir string, env []string, args ...string) *serveProc {
	t.Helper()
	return startServeURL(t, dir, env, "http://", args...)
}

// startServeURL is startServe for a server whose URL starts with scheme.
func startServeURL(t *testing.T, dir string, env []string, scheme string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(hookpointBin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			// The token is set before its line shows in the output, which startServe
			// waits for under the lock: reading it afterwards is no race.
			if tok, ok := strings.CutPrefix(line, "admin token (shown once"); ok {
				p.token = tok[strings.LastIndex(tok, " ")+1:]
			}
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := serveURLRE.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.url = <-urlc:
		if !strings.HasPrefix(p.url, scheme) {
			t.Fatalf("serving %s, want %s...", p.url, scheme)
		}
	case <-p.done:
		t.Fatalf("hookpoint serve exited before serving:\n%s", p.output())
	case <-time.After(procTimeout):
		t.Fatalf("hookpoint serve did not start:\n%s", p.output())
	}
	// The token line follows the URL line.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.output(), "admin token") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

func (p *serveProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *serveProc) call(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `hookpoint serve` with no flags on a fresh directory: a SQLite database, an admin token
// and a key generated beside it with mode 0600, the token printed once; a second start
// keeps them and does not print the token again.
func TestServeFirstStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServe(t, dir, childEnv(t))
	if p.token == "" {
		t.Fatalf("no token printed on first start:\n%s", p.output())
	}
	for _, f := range []string{"hookpoint.db", "hookpoint.token", "hookpoint.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if code, body := p.call(t, "GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, _ := p.call(t, "GET", "/v1/hooks", "", ""); code != 401 {
		t.Errorf("hooks without a token: %d", code)
	}
	if code, body := p.call(t, "GET", "/v1/hooks", p.token, ""); code != 200 || !strings.Contains(body, `"hooks":[]`) {
		t.Errorf("hooks: %d %s", code, body)
	}
	if code, body := p.call(t, "GET", "/metrics", p.token, ""); code != 200 || !strings.Contains(body, "hookpoint_queue_depth") {
		t.Errorf("metrics: %d %.200s", code, body)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(procTimeout):
		t.Fatal("serve did not stop on SIGTERM")
	}

	q := startServe(t, dir, childEnv(t))
	if q.token != "" || strings.Contains(q.output(), p.token) {
		t.Errorf("the token was printed again:\n%s", q.output())
	}
	if code, _ := q.call(t, "GET", "/v1/hooks", p.token, ""); code != 200 {
		t.Errorf("the first token no longer works: %d", code)
	}
	// A second server on the same database is refused with a clear message.
	cmd := exec.Command(hookpointBin, "serve", "--listen", "127.0.0.1:0")
	cmd.Dir, cmd.Env = dir, childEnv(t)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Errorf("a second server started or said %q (%v)", out, err)
	}
}

// The config file's hooks are served read-only; SIGHUP reloads them, and a broken file
// keeps the hooks in use; HOOKPOINT_TOKEN gives the token; the destination guard refuses
// loopback unless --allow-origin lists it.
func TestServeConfigReloadAndGuard(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hookpoint.yaml")
	write := func(hooks string) {
		t.Helper()
		if err := os.WriteFile(cfgPath+".tmp", []byte(hooks), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfgPath+".tmp", cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("hooks:\n  - {id: one, on: [a.b], http: {url: %q}}\n", rcv.URL()+"/one"))
	const tok = "env-admin-token-0123456789"
	env := childEnv(t, "HOOKPOINT_TOKEN="+tok)
	p := startServe(t, dir, env, "--config", cfgPath)
	if !strings.Contains(p.output(), "admin token: from HOOKPOINT_TOKEN") || strings.Contains(p.output(), tok) {
		t.Errorf("start output:\n%s", p.output())
	}
	// Loopback is refused at dial time: the hook fails with the guard's reason.
	code, body := p.call(t, "POST", "/v1/events", tok, `{"type":"a.b"}`)
	if code != 200 || !strings.Contains(body, `"outcome":"failed"`) || !strings.Contains(body, "allowed_origins") || len(rcv.requests()) != 0 {
		t.Fatalf("a loopback hook was not refused by the guard: %d %s", code, body)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	p = startServe(t, dir, env, "--config", cfgPath, "--allow-origin", "127.0.0.0/8")
	if code, body := p.call(t, "POST", "/v1/events", tok, `{"type":"a.b"}`); code != 200 || !strings.Contains(body, `"outcome":"ok"`) {
		t.Fatalf("with --allow-origin: %d %s", code, body)
	}
	code, body = p.call(t, "PUT", "/v1/hooks/one", tok, `{"on":["x"],"http":{"url":"https://x.example"}}`)
	if code != 409 || !strings.Contains(body, "managed by the config file") {
		t.Errorf("PUT on a file hook: %d %s", code, body)
	}

	write(fmt.Sprintf("hooks:\n  - {id: two, on: [a.b], http: {url: %q}}\n", rcv.URL()+"/two"))
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the reload", func() bool {
		_, body := p.call(t, "GET", "/v1/hooks", tok, "")
		return strings.Contains(body, `"id":"two"`) && !strings.Contains(body, `"id":"one"`)
	})
	write("hooks:\n  - {id: broken, on: []\n")
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the refusal of the broken file", func() bool { return strings.Contains(p.output(), "config not reloaded") })
	if _, body := p.call(t, "GET", "/v1/hooks", tok, ""); !strings.Contains(body, `"id":"two"`) {
		t.Errorf("a broken file replaced the hooks: %s", body)
	}
	var ans struct {
		Results []struct {
			HookID  string `json:"hook_id"`
			Outcome string `json:"outcome"`
		}
	}
	_, body = p.call(t, "POST", "/v1/events", tok, `{"type":"a.b"}`)
	if err := json.Unmarshal([]byte(body), &ans); err != nil || len(ans.Results) != 1 || ans.Results[0].HookID != "two" || ans.Results[0].Outcome != "ok" {
		t.Errorf("after the reloads: %s", body)
	}

}

// waitUntil polls cond with a generous deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(procTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server's own secrets stay out of what it runs and shows: exec hooks do not inherit
// the admin token or the variables the ingest secrets are read from; a short admin token
// or a token file others can read is refused; hookpoint token needs the database.
func TestServeSecretsStayOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hookpoint.yaml")
	if err := os.WriteFile(cfgPath, []byte(`hooks:
  - {id: show-env, on: [e.x], exec: {command: /usr/bin/env}}
server:
  ingest:
    xo: {secret: '{{ env "XO_SECRET" }}'}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const tok = "a-long-enough-admin-token-42"
	env := childEnv(t, "HOOKPOINT_TOKEN="+tok, "XO_SECRET=xo-secret-value-9876", "OTHER_VAR=kept")
	p := startServe(t, dir, env, "--config", cfgPath)
	code, body := p.call(t, "POST", "/v1/events", tok, `{"type":"e.x"}`)
	if code != 200 || !strings.Contains(body, "OTHER_VAR=kept") {
		t.Fatalf("%d %s", code, body)
	}
	if strings.Contains(body, tok) || strings.Contains(body, "xo-secret-value-9876") || strings.Contains(body, "HOOKPOINT_TOKEN") || strings.Contains(body, "XO_SECRET") {
		t.Errorf("an exec hook saw the server's secrets: %s", body)
	}

	run := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(hookpointBin, args...)
		cmd.Dir, cmd.Env = t.TempDir(), env
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run(childEnv(t, "HOOKPOINT_TOKEN=short"), "serve", "--dry-run"); code == 0 || !strings.Contains(out, "at least 16") {
		t.Errorf("a short HOOKPOINT_TOKEN: %d %s", code, out)
	}
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte("a-long-enough-admin-token-42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := run(childEnv(t), "serve", "--dry-run", "--token-file", tf); code == 0 || !strings.Contains(out, "chmod 600") {
		t.Errorf("a token file others can read: %d %s", code, out)
	}
	if code, out := run(childEnv(t), "token", "list", "--db", "sqlite://"+filepath.Join(t.TempDir(), "none.db")); code != 2 || !strings.Contains(out, "no database there") {
		t.Errorf("token list without a database: %d %s", code, out)
	}
}

// --tls-cert and --tls-key serve HTTPS: tokens do not cross the network in clear text.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, der := testCert(t, t.TempDir())
	const tok = "a-long-enough-admin-token-42"
	p := startServeURL(t, dir, childEnv(t, "HOOKPOINT_TOKEN="+tok), "https://", "--tls-cert", certFile, "--tls-key", keyFile)
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", p.url+"/v1/hooks", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTPS: %d", resp.StatusCode)
	}
	// Go's TLS server answers plain HTTP with a 400, never with the API.
	if resp, err := http.Get(strings.Replace(p.url, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP reached the API on a TLS listener")
		}
	}
}
