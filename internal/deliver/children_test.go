package deliver_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hookpoint/hookpoint/internal/deliver"
)

// leaveChild runs a script that starts a child in the background, prints its pid to a
// file and exits 0, and returns the result, the child's pid and a file the child writes
// when it gets SIGUSR1. With holdOutput the child keeps the command's output open;
// without, it is detached from it.
func leaveChild(t *testing.T, holdOutput, keep bool) (deliver.Result, int, string) {
	t.Helper()
	dir := t.TempDir()
	pidfile, alivefile := filepath.Join(dir, "pid"), filepath.Join(dir, "alive")
	redirect := " >/dev/null 2>&1"
	if holdOutput {
		redirect = ""
	}
	// The child marks when its trap is set: a SIGUSR1 before that would end it.
	s := script(t, dir, "leave.sh", `(trap 'echo alive > "`+alivefile+`"' USR1; : > "`+alivefile+`.ready"; while :; do sleep 1; done)`+redirect+` &
echo $! > "`+pidfile+`"
echo started`)
	c := command(s)
	c.KeepChildren = keep
	res := deliver.Run(context.Background(), c)
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if !res.OK() || res.Excerpt != "started\n" {
		t.Fatalf("outcome %s (%s), output %q: want ok, the command itself exited 0", res.Outcome, res.Error, res.Excerpt)
	}
	return res, pid, alivefile
}

// TestRunKillsChildrenLeftBehind: once a command has ended (and the grace for its
// output has passed), what it started in the background is killed with its process
// group, whether or not it held the output open.
func TestRunKillsChildrenLeftBehind(t *testing.T) {
	t.Parallel()
	for _, hold := range []bool{false, true} {
		t.Run("holding output "+strconv.FormatBool(hold), func(t *testing.T) {
			t.Parallel()
			_, pid, _ := leaveChild(t, hold, false)
			waitFor(t, "the background child to be killed", func() bool { return gone(pid) })
		})
	}
}

// TestRunKeepChildren: with KeepChildren (keep_children: true) a background child
// outlives the command, as a script that starts a daemon needs.
func TestRunKeepChildren(t *testing.T) {
	t.Parallel()
	for _, hold := range []bool{false, true} {
		t.Run("holding output "+strconv.FormatBool(hold), func(t *testing.T) {
			t.Parallel()
			_, pid, alivefile := leaveChild(t, hold, true)
			waitFor(t, "the background child to set its trap", func() bool {
				_, err := os.Stat(alivefile + ".ready")
				return err == nil
			})
			// Proof of life after the hook: the child answers a signal (a killed one
			// cannot).
			_ = syscall.Kill(pid, syscall.SIGUSR1)
			waitFor(t, "the background child to answer (the hook keeps its children)", func() bool {
				_, err := os.Stat(alivefile)
				return err == nil
			})
		})
	}
}
