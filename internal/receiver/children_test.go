package receiver

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestCommandChildrenEndWithIt: what a hook's command leaves running in the background
// is killed when the command ends, so it cannot run on outside max-concurrency; a hook
// with keep-children: true leaves it running.
func TestCommandChildrenEndWithIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hooks := parseHooks(t, `
- id: leave
  execute-command: /bin/sh
  include-command-output-in-response: true
  max-concurrency: 1
  pass-arguments-to-command:
    - {source: string, name: -c}
    - {source: string, name: 'sleep 300 & echo $! > "$1"; echo started'}
    - {source: string, name: sh}
    - {source: url, name: pidfile}
- id: daemon
  execute-command: /bin/sh
  include-command-output-in-response: true
  keep-children: true
  pass-arguments-to-command:
    - {source: string, name: -c}
    - {source: string, name: '(trap "echo alive > $2" USR1; : > "$2.ready"; while :; do sleep 1; done) >/dev/null 2>&1 & echo $! > "$1"; echo started'}
    - {source: string, name: sh}
    - {source: url, name: pidfile}
    - {source: url, name: alivefile}
`)
	_, ts := serve(t, Options{}, hooks...)
	for _, id := range []string{"leave", "daemon"} {
		pidfile, alivefile := filepath.Join(dir, id+".pid"), filepath.Join(dir, id+".alive")
		want(t, call(t, "POST", ts.URL+"/hooks/"+id+"?pidfile="+pidfile+"&alivefile="+alivefile, ""), 200, "started\n")
		pid := readPID(t, pidfile)
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
		if id == "leave" {
			waitDead(t, "the background child of hook leave", pid)
			continue
		}
		waitFor(t, "the kept child to set its trap", func() bool { return exists(alivefile + ".ready") })
		// Proof of life after the hook: the child answers a signal (a killed one
		// cannot).
		_ = syscall.Kill(pid, syscall.SIGUSR1)
		waitFor(t, "the background child of hook daemon (keep-children: true) to answer", func() bool { return exists(alivefile) })
	}
}
