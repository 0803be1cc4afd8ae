package deliver_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
)

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func command(argv ...string) *render.Command {
	return &render.Command{Argv: argv, Env: []string{"PATH=/usr/bin:/bin"}, Timeout: time.Minute}
}

// gone reports whether pid has exited (a zombie counts: the container's init may not
// reap orphans).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
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

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code    int
		outcome string
	}{{0, deliver.OK}, {1, deliver.Failed}, {3, deliver.Failed}, {125, deliver.Failed}} {
		res := deliver.Run(context.Background(), command("/bin/sh", "-c", "echo out; echo err >&2; exit "+strconv.Itoa(tt.code)))
		if res.Outcome != tt.outcome || res.ExitCode == nil || *res.ExitCode != tt.code {
			t.Errorf("exit %d: outcome %s exit code %v error %q", tt.code, res.Outcome, res.ExitCode, res.Error)
		}
		if res.Excerpt != "out\nerr\n" {
			t.Errorf("exit %d: output %q, want stdout and stderr", tt.code, res.Excerpt)
		}
		if tt.code != 0 && res.Error != "exit status "+strconv.Itoa(tt.code) {
			t.Errorf("exit %d: error %q", tt.code, res.Error)
		}
	}
}

func TestRunMissingProgram(t *testing.T) {
	t.Parallel()
	res := deliver.Run(context.Background(), command("/nonexistent/program"))
	if res.Outcome != deliver.Failed || res.ExitCode != nil || res.Error == "" {
		t.Errorf("outcome %s exit %v error %q", res.Outcome, res.ExitCode, res.Error)
	}
}

func TestRunArgvVerbatim(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "PWNED")
	out := filepath.Join(dir, "argv")
	dump := script(t, dir, "dump.sh", `for a in "$@"; do printf '%s\0' "$a"; done > "`+out+`"`)
	values := []string{
		"; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"&& touch " + marker,
		"| touch " + marker,
		"x\ntouch " + marker + "\n",
		"' \" \\ $HOME * ? ~ # ${IFS}",
		"",
		"-n",
	}
	r := rendered(t, `  - {id: x, on: ["*"], exec: {command: "`+dump+`", args: ["{{ .data.v0 }}", "{{ .data.v1 }}", "{{ .data.v2 }}", "{{ .data.v3 }}", "{{ .data.v4 }}", "{{ .data.v5 }}", "{{ .data.v6 }}", "{{ .data.v7 }}", "{{ .data.v8 }}", "fixed {{ .data.v0 }}"]}}`,
		func(ev *event.Event) {
			for i, v := range values {
				ev.Data["v"+strconv.Itoa(i)] = v
			}
		})
	res := deliver.Run(context.Background(), r.Exec)
	if !res.OK() {
		t.Fatalf("%s %s %s", res.Outcome, res.Error, res.Excerpt)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00")
	want := append(values, "fixed "+values[0])
	if len(args) != len(want) {
		t.Fatalf("got %d args %q, want %d", len(args), args, len(want))
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("arg %d = %q, want %q", i, args[i], want[i])
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("an argument was interpreted by a shell: the marker file exists")
	}
}

func TestRunEnvStdinWorkdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	work := t.TempDir()
	s := script(t, dir, "probe.sh", `pwd; echo "A=$A"; echo "B=$B"; cat`)
	c := &render.Command{Argv: []string{s}, Env: []string{"PATH=/usr/bin:/bin", "A=one", "B=two words"}, Dir: work, Stdin: []byte("stdin-data"), Timeout: time.Minute}
	res := deliver.Run(context.Background(), c)
	if !res.OK() {
		t.Fatalf("%s %s", res.Outcome, res.Error)
	}
	real, _ := filepath.EvalSymlinks(work)
	want := real + "\nA=one\nB=two words\nstdin-data"
	if res.Excerpt != want {
		t.Errorf("output %q, want %q", res.Excerpt, want)
	}
}

func TestRunOutputBounded(t *testing.T) {
	t.Parallel()
	// 10 MiB of output: the command must not block on a full pipe and memory stays bounded.
	res := deliver.Run(context.Background(), command("/bin/sh", "-c", "head -c 10485760 /dev/zero | tr '\\0' a; echo done >&2"))
	if !res.OK() {
		t.Fatalf("%s %s", res.Outcome, res.Error)
	}
	want := strings.Repeat("a", deliver.MaxExcerpt) + "...(truncated)"
	if res.Excerpt != want {
		t.Errorf("excerpt of %d bytes, want %d", len(res.Excerpt), len(want))
	}
}

func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	s := script(t, dir, "spawn.sh", `sleep 300 &
echo $! > "`+pidfile+`.tmp"; mv "`+pidfile+`.tmp" "`+pidfile+`"
wait`)
	c := command(s)
	c.Timeout = 2 * time.Second
	done := make(chan deliver.Result, 1)
	go func() { done <- deliver.Run(context.Background(), c) }()

	var pid int
	waitFor(t, "the grandchild's pid", func() bool {
		b, err := os.ReadFile(pidfile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	if gone(pid) {
		t.Fatalf("grandchild %d is not running before the timeout", pid)
	}
	var res deliver.Result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its timeout")
	}
	if res.Outcome != deliver.Timeout || !strings.Contains(res.Error, "2s") {
		t.Errorf("outcome %s error %q, want timeout", res.Outcome, res.Error)
	}
	if res.ExitCode == nil || *res.ExitCode != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %v, want %d (killed)", res.ExitCode, 128+int(syscall.SIGKILL))
	}
	waitFor(t, "the grandchild to be killed with its process group", func() bool { return gone(pid) })
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	s := script(t, dir, "spawn.sh", `sleep 300 &
echo $! > "`+pidfile+`.tmp"; mv "`+pidfile+`.tmp" "`+pidfile+`"
wait`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan deliver.Result, 1)
	go func() { done <- deliver.Run(ctx, command(s)) }()
	var pid int
	waitFor(t, "the grandchild's pid", func() bool {
		b, err := os.ReadFile(pidfile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	cancel()
	res := <-done
	if res.OK() {
		t.Errorf("a cancelled command reported ok")
	}
	if res.Outcome != deliver.Failed || !strings.Contains(res.Error, "cancelled") {
		t.Errorf("cancelled command: outcome %q, error %q; want failed and an error saying it was cancelled", res.Outcome, res.Error)
	}
	waitFor(t, "the grandchild to be killed", func() bool { return gone(pid) })
}

func TestRunStdinNone(t *testing.T) {
	t.Parallel()
	// Without stdin the command reads EOF at once instead of hanging on hookpoint's stdin.
	res := deliver.Run(context.Background(), command("/bin/sh", "-c", "cat; echo end"))
	if !res.OK() || !bytes.Equal([]byte(res.Excerpt), []byte("end\n")) {
		t.Errorf("%s %q", res.Outcome, res.Excerpt)
	}
}

func TestRunLingeringChildDoesNotHang(t *testing.T) {
	t.Parallel()
	// The command exits 0 at once but leaves a child holding its output open: the exit
	// status decides, and Run returns instead of waiting for the child.
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	s := script(t, dir, "daemon.sh", `sleep 300 &
echo $! > "`+pidfile+`"
echo started`)
	done := make(chan deliver.Result, 1)
	go func() { done <- deliver.Run(context.Background(), command(s)) }()
	var res deliver.Result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run waited for a background child of the command")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(func() string { b, _ := os.ReadFile(pidfile); return string(b) }()))
	if err == nil {
		defer syscall.Kill(pid, syscall.SIGKILL)
	}
	if !res.OK() || res.ExitCode == nil || *res.ExitCode != 0 || res.Excerpt != "started\n" {
		t.Errorf("outcome %s exit %v error %q output %q", res.Outcome, res.ExitCode, res.Error, res.Excerpt)
	}
}

func TestRunStdinNotRead(t *testing.T) {
	t.Parallel()
	// A command that ignores a large stdin still succeeds.
	c := command("/bin/true")
	c.Stdin = bytes.Repeat([]byte("x"), 4<<20)
	if res := deliver.Run(context.Background(), c); !res.OK() {
		t.Errorf("outcome %s error %q", res.Outcome, res.Error)
	}
}

// A command that exits 0 but leaves a child holding its output open is a success, and
// once the timeout has passed that child is killed with the group, not left running.
func TestRunLeftoverChildKilledAtTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	s := script(t, dir, "leave.sh", `sleep 1234 &
echo $! > "`+pidfile+`"
echo started`)
	c := command(s)
	c.Timeout = 300 * time.Millisecond
	res := deliver.Run(context.Background(), c)
	if !res.OK() {
		t.Fatalf("outcome %s (%s), want ok: the command itself exited 0", res.Outcome, res.Error)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitFor(t, "the leftover child to be killed", func() bool { return gone(pid) })
}
