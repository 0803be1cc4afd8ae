package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ttyRun runs `hookpoint run` on a pseudo-terminal (util-linux script), as an operator
// at a shell would, wrapping trap.sh; it returns the process and the write end of the
// terminal's input.
func ttyRun(t *testing.T, cfg, dir string) (*exec.Cmd, io.WriteCloser, chan error) {
	t.Helper()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		if os.Getenv("HOOKPOINT_TEST_STRICT") == "1" {
			t.Fatal("script (util-linux) is needed for the terminal tests")
		}
		t.Skip("script (util-linux) is not installed")
	}
	inner := strings.Join([]string{hookpointBin, "run", "--config", cfg, "--job", "j", "--", "sh", testdata(t, "trap.sh"), dir}, " ")
	cmd := exec.Command(scriptBin, "-qec", inner, "/dev/null")
	cmd.Env = childEnv(t)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // processes left on the terminal must not hold the test
	t.Cleanup(func() { t.Logf("terminal output:\n%s", out) })
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	eventually(t, "the job to start on the terminal", func() bool { return fileExists(filepath.Join(dir, "started")) })
	return cmd, in, done
}

func waitExit(t *testing.T, done chan error) int {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err == nil {
			return 0
		}
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(procTimeout):
		t.Fatal("hookpoint on the terminal did not exit")
	}
	return -1
}

// Ctrl-C on the terminal reaches the job once (it is the terminal's foreground group)
// and the run ends cancelled.
func TestRunTerminalCtrlC(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
	dir := t.TempDir()
	_, in, done := ttyRun(t, cfg, dir)
	if _, err := in.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	code := waitExit(t, done)
	if code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	got, err := os.ReadFile(filepath.Join(dir, "got-signal"))
	if err != nil || strings.TrimSpace(string(got)) != "INT" {
		t.Errorf("the job did not get SIGINT from the terminal: %q, %v", got, err)
	}
	reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
	wantStatus(t, reqs[2], "cancelled")
}

// A SIGINT sent to hookpoint itself (not through the terminal) is forwarded to the job
// even on a terminal.
func TestRunTerminalForwardsSignal(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
	dir := t.TempDir()
	_, _, done := ttyRun(t, cfg, dir)
	pid := hookpointPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the job to get the forwarded SIGINT", func() bool {
		got, err := os.ReadFile(filepath.Join(dir, "got-signal"))
		return err == nil && strings.TrimSpace(string(got)) == "INT"
	})
	if code := waitExit(t, done); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
	wantStatus(t, reqs[2], "cancelled")
}

// hookpointPID is the parent of the job's shell: the hookpoint process.
func hookpointPID(t *testing.T, dir string) int {
	t.Helper()
	var pid int
	eventually(t, "the job's parent pid", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "ppid"))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 1
	})
	return pid
}
