package main

// End-to-end tests of `hookpoint listen`: hot reload (polling and signals) and graceful
// shutdown, against the built binary.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listenProc is a running `hookpoint listen`.
type listenProc struct {
	*started
	base string // http://127.0.0.1:PORT
}

var listenAddrRE = regexp.MustCompile(`msg="serving hooks" addr=(127\.0\.0\.1:[0-9]+)`)

// startListen starts `hookpoint listen` on a free port (-port 0, the address read back
// from the log) with -verbose and args.
func startListen(t *testing.T, args ...string) *listenProc {
	t.Helper()
	hp := startHookpoint(t, childEnv(t), append([]string{"listen", "-ip", "127.0.0.1", "-port", "0", "-verbose"}, args...)...)
	var addr string
	eventually(t, "listen to log its address", func() bool {
		select {
		case <-hp.done:
			t.Fatalf("listen exited: %v\n%s", hp.err, hp.stderr)
		default:
		}
		if m := listenAddrRE.FindStringSubmatch(hp.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	})
	return &listenProc{started: hp, base: "http://" + addr}
}

// post sends a request to a hook and returns the status and body.
func (l *listenProc) post(t *testing.T, id, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/hooks/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /hooks/%s: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (l *listenProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := l.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// listenHook is one entry of a hooks file; script, when set, runs with /bin/sh -c and
// gets args as $1, $2, ...
type listenHook struct {
	id, message, script string
	args                []string
	sync                bool
	extra               map[string]any
}

func hooksJSON(t *testing.T, hooks ...listenHook) string {
	t.Helper()
	var out []map[string]any
	for _, h := range hooks {
		m := map[string]any{"id": h.id, "response-message": h.message, "execute-command": "/bin/true"}
		if h.script != "" {
			args := []map[string]string{{"source": "string", "name": "-c"}, {"source": "string", "name": h.script},
				{"source": "string", "name": "sh"}}
			for _, a := range h.args {
				args = append(args, map[string]string{"source": "string", "name": a})
			}
			m["execute-command"], m["pass-arguments-to-command"] = "/bin/sh", args
		}
		if h.sync {
			m["include-command-output-in-response"] = true
		}
		for k, v := range h.extra {
			m[k] = v
		}
		out = append(out, m)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replaceFile writes text to path through a temporary file and a rename, so that a
// reader never sees it half written.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func wantHook(t *testing.T, l *listenProc, id string, code int, body string) {
	t.Helper()
	if c, b := l.post(t, id, "{}"); c != code || b != body {
		t.Fatalf("POST /hooks/%s: %d %q, want %d %q\nlog:\n%s", id, c, b, code, body, l.stderr)
	}
}

const badRegexHook = `[{"id": "three", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "regex", "regex": "([", "parameter": {"source": "url", "name": "q"}}}}]`

func TestListenHotReload(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "hooks.json")
	replaceFile(t, f, hooksJSON(t, listenHook{id: "one", message: "first set"}))
	l := startListen(t, "-hooks", f, "-hotreload")
	wantHook(t, l, "one", 200, "first set")

	replaceFile(t, f, hooksJSON(t, listenHook{id: "two", message: "second set"}))
	eventually(t, "the new hook to be served", func() bool {
		c, _ := l.post(t, "two", "{}")
		return c == 200
	})
	wantHook(t, l, "two", 200, "second set")
	wantHook(t, l, "one", 404, "Hook not found.")
	if !strings.Contains(l.stderr.String(), `msg="hooks reloaded" reason="a hooks file changed" hooks=1`) {
		t.Errorf("the reload is not logged:\n%s", l.stderr)
	}

	// A broken file is refused whole: the hooks loaded before stay.
	replaceFile(t, f, badRegexHook)
	eventually(t, "the failed reload to be logged", func() bool {
		return strings.Contains(l.stderr.String(), "reload failed; keeping the hooks already loaded")
	})
	logText := l.stderr.String()
	for _, w := range []string{f, `hook \"three\"`, "match regex", `reason="a hooks file changed"`} {
		if !strings.Contains(logText, w) {
			t.Errorf("the failed reload's log does not say %q:\n%s", w, logText)
		}
	}
	wantHook(t, l, "two", 200, "second set")
	wantHook(t, l, "three", 404, "Hook not found.")

	// Fixed again: served.
	replaceFile(t, f, hooksJSON(t, listenHook{id: "three", message: "third set"}))
	eventually(t, "the fixed file to be served", func() bool {
		c, _ := l.post(t, "three", "{}")
		return c == 200
	})
	wantHook(t, l, "two", 404, "Hook not found.")

	l.signal(t, syscall.SIGTERM)
	wantExit(t, l.wait(t), 0)
}

func TestListenSignalReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, g := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.yaml")
	replaceFile(t, f, hooksJSON(t, listenHook{id: "one", message: "first"}))
	replaceFile(t, g, "- id: other\n  execute-command: /bin/true\n  response-message: from b\n")
	l := startListen(t, "--hooks", f, "--hooks", g) // two dashes work too; no -hotreload
	wantHook(t, l, "one", 200, "first")
	wantHook(t, l, "other", 200, "from b")

	for i, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1} {
		id := "after-" + strconv.Itoa(i)
		replaceFile(t, f, hooksJSON(t, listenHook{id: id, message: sig.String()}))
		// Without -hotreload, nothing changes until the signal.
		wantHook(t, l, id, 404, "Hook not found.")
		l.signal(t, sig)
		eventually(t, "the hooks to be reloaded on "+sig.String(), func() bool {
			c, _ := l.post(t, id, "{}")
			return c == 200
		})
		wantHook(t, l, id, 200, sig.String())
		wantHook(t, l, "other", 200, "from b")
		if !strings.Contains(l.stderr.String(), `reason="signal `+sig.String()+`"`) {
			t.Errorf("the reload on %s is not logged:\n%s", sig, l.stderr)
		}
	}

	// A duplicate id across the two files: refused, the old set stays.
	replaceFile(t, g, "- id: after-1\n  execute-command: /bin/true\n")
	l.signal(t, syscall.SIGHUP)
	eventually(t, "the failed reload to be logged", func() bool {
		return strings.Contains(l.stderr.String(), "reload failed")
	})
	if !strings.Contains(l.stderr.String(), `hook id \"after-1\" is also defined in `+f) {
		t.Errorf("the failed reload does not say why:\n%s", l.stderr)
	}
	wantHook(t, l, "after-1", 200, "user defined signal 1")
	wantHook(t, l, "other", 200, "from b")

	l.signal(t, syscall.SIGTERM)
	wantExit(t, l.wait(t), 0)
}

func TestListenStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	replaceFile(t, bad, badRegexHook)
	p := runHP(t, childEnv(t), "listen", "-hooks", bad, "-port", "0", "-ip", "127.0.0.1")
	if p.code == 0 || !strings.Contains(p.stderr, bad) || !strings.Contains(p.stderr, "match regex") {
		t.Fatalf("a broken hooks file: exit %d, stderr %q", p.code, p.stderr)
	}

	// -nopanic starts anyway, serves nothing, and picks the file up once fixed.
	l := startListen(t, "-hooks", bad, "-nopanic")
	wantHook(t, l, "three", 404, "Hook not found.")
	replaceFile(t, bad, hooksJSON(t, listenHook{id: "three", message: "fixed"}))
	l.signal(t, syscall.SIGHUP)
	eventually(t, "the fixed file to be served", func() bool {
		c, _ := l.post(t, "three", "{}")
		return c == 200
	})
	l.signal(t, syscall.SIGTERM)
	wantExit(t, l.wait(t), 0)
}

// readPIDFile reads a pid a script wrote.
func readPIDFile(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, "pid file "+filepath.Base(path), func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

// processGone reports whether pid has exited; a zombie not yet reaped by whoever
// adopted it counts as gone.
func processGone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func TestListenGracefulShutdown(t *testing.T) {
	t.Parallel()
	t.Run("a running command finishes within the grace", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		startedF, doneF := filepath.Join(dir, "started"), filepath.Join(dir, "done")
		f := filepath.Join(dir, "hooks.json")
		replaceFile(t, f, hooksJSON(t, listenHook{id: "job", message: "accepted",
			script: `echo yes > "$1"; sleep 1; echo yes > "$2"`, args: []string{startedF, doneF}}))
		l := startListen(t, "-hooks", f, "-shutdown-timeout", "30s")
		wantHook(t, l, "job", 200, "accepted")
		eventually(t, "the command to start", func() bool { return fileExists(startedF) })
		l.signal(t, syscall.SIGTERM)
		p := l.wait(t)
		wantExit(t, p, 0)
		if !fileExists(doneF) {
			t.Fatalf("hookpoint exited before the command finished\n%s", p.stderr)
		}
		if !strings.Contains(p.stderr, `msg="shutting down" signal=terminated`) {
			t.Errorf("the shutdown is not logged:\n%s", p.stderr)
		}
	})
	for _, sync := range []bool{false, true} {
		name := map[bool]string{false: "async", true: "sync"}[sync]
		t.Run(name+" command past the grace is killed", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pids, doneF := filepath.Join(dir, "pid"), filepath.Join(dir, "done")
			f := filepath.Join(dir, "hooks.json")
			replaceFile(t, f, hooksJSON(t, listenHook{id: "stuck", message: "accepted", sync: sync,
				script: `echo $$ > "$1.sh"; sleep 300 & echo $! > "$1"; wait; echo yes > "$2"`, args: []string{pids, doneF}}))
			l := startListen(t, "-hooks", f, "-shutdown-timeout", "300ms")
			answered := make(chan int, 1)
			go func() {
				// A sync request is cut off when its command is killed; the answer
				// does not matter, only that the command is gone.
				req, _ := http.NewRequest("POST", l.base+"/hooks/stuck", strings.NewReader("{}"))
				ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
				defer cancel()
				resp, err := http.DefaultClient.Do(req.WithContext(ctx))
				if err != nil {
					answered <- 0
					return
				}
				resp.Body.Close()
				answered <- resp.StatusCode
			}()
			if !sync {
				if c := <-answered; c != 200 {
					t.Fatalf("async hook answered %d", c)
				}
			}
			shPID, sleepPID := readPIDFile(t, pids+".sh"), readPIDFile(t, pids)
			l.signal(t, syscall.SIGTERM)
			p := l.wait(t)
			wantExit(t, p, 0)
			eventually(t, "the command to be killed", func() bool { return processGone(shPID) })
			eventually(t, "the command's child sleep 300 to be killed", func() bool { return processGone(sleepPID) })
			if fileExists(doneF) {
				t.Fatal("the command finished instead of being killed")
			}
			if sync {
				<-answered
			}
		})
	}
}
