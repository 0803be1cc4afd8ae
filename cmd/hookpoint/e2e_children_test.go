package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestExecHookChildrenEndWithTheHook: what an exec hook's command leaves running in the
// background is killed when the hook ends; with keep_children: true it keeps running.
func TestExecHookChildrenEndWithTheHook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	leave := `sleep 300 >/dev/null 2>&1 & echo $! > "$1"`
	// The daemon marks when its trap is set: a SIGUSR1 before that would end it.
	daemon := `(trap "echo alive > $2" USR1; : > "$2.ready"; while :; do sleep 1; done) >/dev/null 2>&1 & echo $! > "$1"`
	cfg := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: leave
    on: x
    exec: {command: /bin/sh, args: ["-c", '`+leave+`', sh, "`+dir+`/leave.pid"]}
  - id: daemon
    on: x
    exec: {command: /bin/sh, args: ["-c", '`+daemon+`', sh, "`+dir+`/daemon.pid", "`+dir+`/daemon.alive"], keep_children: true}
`)
	p := runHP(t, childEnv(t), "emit", "-c", cfg, "x")
	wantExit(t, p, 0)
	pid := func(name string) int {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(n, syscall.SIGKILL) })
		return n
	}
	left, kept := pid("leave.pid"), pid("daemon.pid")
	eventually(t, "the background child of hook leave to be killed", func() bool { return !running(left) })
	eventually(t, "the kept child to set its trap", func() bool { return fileExists(filepath.Join(dir, "daemon.alive.ready")) })
	// Proof of life: the kept child answers a signal, which a killed one cannot.
	_ = syscall.Kill(kept, syscall.SIGUSR1)
	eventually(t, "the background child of hook daemon (keep_children) to answer", func() bool {
		return fileExists(filepath.Join(dir, "daemon.alive"))
	})
}

// running reports whether pid is a live process (a zombie, dead but not yet reaped,
// is not).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}
