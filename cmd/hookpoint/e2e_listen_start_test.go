package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// startListenIn starts `hookpoint listen` in dir without -verbose and waits for the
// address it logs at start (always, as the number of hooks and where they came from).
func startListenIn(t *testing.T, dir string, args ...string) *listenProc {
	t.Helper()
	hp := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	hp.cmd = exec.Command(hookpointBin, append([]string{"listen", "-ip", "127.0.0.1", "-port", "0"}, args...)...)
	hp.cmd.Env, hp.cmd.Dir = childEnv(t), dir
	hp.cmd.Stdout, hp.cmd.Stderr = hp.stdout, hp.stderr
	if err := hp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { hp.err = hp.cmd.Wait(); close(hp.done) }()
	t.Cleanup(func() {
		select {
		case <-hp.done:
		default:
			_ = hp.cmd.Process.Kill()
			<-hp.done
		}
	})
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

// runListenIn runs `hookpoint listen` in dir to completion (it is expected to refuse to
// start).
func runListenIn(t *testing.T, dir string, args ...string) proc {
	t.Helper()
	hp := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	hp.cmd = exec.Command(hookpointBin, append([]string{"listen", "-ip", "127.0.0.1", "-port", "0"}, args...)...)
	hp.cmd.Env, hp.cmd.Dir = childEnv(t), dir
	hp.cmd.Stdout, hp.cmd.Stderr = hp.stdout, hp.stderr
	if err := hp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { hp.err = hp.cmd.Wait(); close(hp.done) }()
	t.Cleanup(func() {
		select {
		case <-hp.done:
		default:
			_ = hp.cmd.Process.Kill()
			<-hp.done
		}
	})
	return hp.wait(t)
}

// Like webhook, listen without -hooks serves hooks.json from the working directory,
// refuses to start with no hook loaded (unless -verbose or -nopanic), and says at start
// how many hooks it loaded from where.
func TestListenDefaultHooksFile(t *testing.T) {
	t.Parallel()
	t.Run("hooks.json in the working directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		replaceFile(t, filepath.Join(dir, "hooks.json"), hooksJSON(t, listenHook{id: "a", message: "from a"}, listenHook{id: "b", message: "from b"}))
		l := startListenIn(t, dir)
		log := l.stderr.String()
		if !strings.Contains(log, "hooks=2") || !strings.Contains(log, "hooks.json") {
			t.Errorf("the start log does not say 2 hooks from hooks.json:\n%s", log)
		}
		wantHook(t, l, "b", 200, "from b")
		l.signal(t, syscall.SIGTERM)
		wantExit(t, l.wait(t), 0)
	})
	t.Run("no hooks.json", func(t *testing.T) {
		t.Parallel()
		p := runListenIn(t, t.TempDir())
		if p.code == 0 || !strings.Contains(p.stderr, "hooks.json") || !strings.Contains(p.stderr, "-hooks") {
			t.Errorf("exit %d, stderr %q; want a refusal naming hooks.json and -hooks", p.code, p.stderr)
		}
	})
	t.Run("no hook in the file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		empty := filepath.Join(dir, "empty.json")
		if err := os.WriteFile(empty, []byte("[]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := runListenIn(t, dir, "-hooks", empty)
		if p.code == 0 || !strings.Contains(p.stderr, "no hooks") || !strings.Contains(p.stderr, "-nopanic") {
			t.Errorf("exit %d, stderr %q; want a refusal that says no hooks were loaded and how to start anyway", p.code, p.stderr)
		}
		for _, flag := range []string{"-nopanic", "-verbose"} {
			l := startListenIn(t, dir, "-hooks", empty, flag)
			if log := l.stderr.String(); !strings.Contains(log, "hooks=0") {
				t.Errorf("%s: the start log does not say 0 hooks:\n%s", flag, log)
			}
			l.signal(t, syscall.SIGTERM)
			wantExit(t, l.wait(t), 0)
		}
	})
}
