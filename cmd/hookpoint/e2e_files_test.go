package main

// Files named by the config or the command line: a FIFO (with no writer, or behind a
// symbolic link), a device or an oversized file is refused at once with a message that
// says what it is, and a signal ends every wait.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// badFiles are files no reader may wait on or read whole, with what the message says.
type badFile struct{ name, path, says string }

func badFiles(t *testing.T, limit int) []badFile {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", limit+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return []badFile{
		{"fifo", fifo, fifo + ": not a regular file (a FIFO)"},
		{"symlink to a fifo", link, link + ": not a regular file (a FIFO)"},
		{"dev zero", "/dev/zero", "/dev/zero: not a regular file (a character device)"},
		{"too large", big, fmt.Sprintf("%s: larger than the limit of %d bytes", big, limit)},
	}
}

// TestSecretFilesThatAreNotRegularFiles: check, emit and render end with an error that
// names the file when a template's file secret is a FIFO, a device or too large.
func TestSecretFilesThatAreNotRegularFiles(t *testing.T) {
	t.Parallel()
	for _, bf := range badFiles(t, 64<<10) {
		t.Run(bf.name, func(t *testing.T) {
			t.Parallel()
			cfg := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: secret
    on: x
    exec:
      command: /bin/echo
      args: ['{{ file "`+bf.path+`" }}']
`)
			p := runHP(t, childEnv(t), "check", "-c", cfg)
			wantExit(t, p, exitUsage)
			if want := fmt.Sprintf(`secret file %q cannot be read: `, bf.path); !strings.Contains(p.stderr, want) || !strings.Contains(p.stderr, strings.TrimPrefix(bf.says, bf.path+": ")) {
				t.Errorf("check does not say why the secret cannot be read (%s)", bf.says)
			}
			p = runHP(t, childEnv(t), "emit", "-c", cfg, "x")
			if !strings.Contains(p.stdout, "x secret: failed") || !strings.Contains(p.stdout, strings.TrimPrefix(bf.says, bf.path+": ")) {
				t.Errorf("emit does not report the hook failing because of the file (%s)", bf.says)
			}
			p = runHP(t, childEnv(t), "render", "-c", cfg, "x")
			wantExit(t, p, 1)
			if !strings.Contains(p.stdout, strings.TrimPrefix(bf.says, bf.path+": ")) {
				t.Errorf("render does not say why the secret cannot be read (%s)", bf.says)
			}
		})
	}
}

// TestFilesOfTheCommandLineThatAreNotRegularFiles: --config, --data @FILE and
// --journal refuse a FIFO (which would block the open), a device and an oversized file.
func TestFilesOfTheCommandLineThatAreNotRegularFiles(t *testing.T) {
	t.Parallel()
	good := writeConfig(t, nil, "hookpoint.yaml", "hooks:\n  - {id: a, on: x, exec: {command: /bin/true}}\n")
	for _, bf := range badFiles(t, 8<<20) {
		t.Run("config "+bf.name, func(t *testing.T) {
			t.Parallel()
			for _, cmd := range []string{"check", "emit", "render"} {
				args := []string{cmd, "-c", bf.path}
				if cmd != "check" {
					args = append(args, "x")
				}
				p := runHP(t, childEnv(t), args...)
				wantExit(t, p, exitUsage)
				if want := "cannot read the config file: " + strings.TrimPrefix(bf.says, bf.path+": "); !strings.Contains(p.stderr, want) {
					t.Errorf("%s: stderr does not say %q", cmd, want)
				}
			}
		})
	}
	for _, bf := range badFiles(t, 4<<20) {
		t.Run("data "+bf.name, func(t *testing.T) {
			t.Parallel()
			for _, cmd := range [][]string{{"emit", "x"}, {"render", "x"}, {"run", "--job", "j", "--", "/bin/true"}} {
				p := runHP(t, childEnv(t), append([]string{cmd[0], "-c", good, "--data", "@" + bf.path}, cmd[1:]...)...)
				wantExit(t, p, exitUsage)
				if want := "--data: " + bf.says; !strings.Contains(p.stderr, want) {
					t.Errorf("%s: stderr does not say %q", cmd[0], want)
				}
			}
		})
	}
	for _, bf := range badFiles(t, 0)[:2] { // a journal may be /dev/null; size is no matter
		t.Run("journal "+bf.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t), "emit", "-c", good, "--journal", bf.path, "x")
			wantExit(t, p, exitUsage)
			if want := "journal: " + bf.says; !strings.Contains(p.stderr, want) {
				t.Errorf("stderr does not say %q", want)
			}
		})
	}
}

// TestListenFilesThatAreNotRegularFiles: listen refuses a hooks file, -cert, -key,
// -logfile or -pidfile that is a FIFO instead of waiting on it.
func TestListenFilesThatAreNotRegularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hooks := filepath.Join(dir, "hooks.json")
	if err := os.WriteFile(hooks, []byte(`[{"id": "a", "execute-command": "/bin/true"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	pem := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(pem, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bf := range badFiles(t, 8<<20)[:2] {
		for _, tc := range []struct {
			args []string
			code int
			says string
		}{
			{[]string{"-hooks", bf.path}, exitUsage, "hooks file: " + bf.says},
			{[]string{"-hooks", hooks, "-secure", "-cert", bf.path, "-key", pem}, 1, "-cert: " + bf.says},
			{[]string{"-hooks", hooks, "-secure", "-cert", pem, "-key", bf.path}, 1, "-key: " + bf.says},
			{[]string{"-hooks", hooks, "-logfile", bf.path}, exitUsage, "-logfile: " + bf.says},
			{[]string{"-hooks", hooks, "-pidfile", bf.path}, exitUsage, "-pidfile: " + bf.says},
		} {
			p := runHP(t, childEnv(t), append([]string{"listen", "-ip", "127.0.0.1", "-port", "0"}, tc.args...)...)
			if p.code != tc.code || !strings.Contains(p.stderr, tc.says) {
				t.Errorf("listen %s: exit %d, want %d and a message saying %q", strings.Join(tc.args, " "), p.code, tc.code, tc.says)
			}
		}
	}
}

// readSyscall is the number of read(2), by architecture.
var readSyscall = map[string]string{"amd64": "0", "arm64": "63", "386": "3", "arm": "3", "riscv64": "63"}

// readingStdin reports whether a thread of process pid is blocked reading its fd 0.
func readingStdin(t *testing.T, pid int) bool {
	t.Helper()
	nr, ok := readSyscall[runtime.GOARCH]
	if !ok {
		t.Skipf("no read syscall number known for %s", runtime.GOARCH)
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == nr && f[1] == "0x0" {
			return true
		}
	}
	return false
}

// TestSignalEndsTheWaitForStdin: emit, render and run reading --data @- from a stdin
// that never ends exit with 128+N and say so when SIGTERM or SIGINT comes, instead of
// dying of the signal.
func TestSignalEndsTheWaitForStdin(t *testing.T) {
	t.Parallel()
	good := writeConfig(t, nil, "hookpoint.yaml", "hooks:\n  - {id: a, on: x, exec: {command: /bin/true}}\n")
	for _, tc := range []struct {
		args []string
		sig  syscall.Signal
	}{
		{[]string{"emit", "-c", good, "--data", "@-", "x"}, syscall.SIGTERM},
		{[]string{"emit", "-c", good, "--data", "@-", "x"}, syscall.SIGINT},
		{[]string{"render", "-c", good, "--data", "@-", "x"}, syscall.SIGTERM},
		{[]string{"run", "-c", good, "--job", "j", "--data", "@-", "--", "/bin/true"}, syscall.SIGTERM},
	} {
		t.Run(tc.args[0]+" "+tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			stdin, feed, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer feed.Close() // never written: stdin does not end
			s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
			s.cmd = exec.Command(hookpointBin, tc.args...)
			s.cmd.Env, s.cmd.Dir, s.cmd.Stdin = childEnv(t), t.TempDir(), stdin
			s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
			if err := s.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdin.Close()
			go func() { s.err = s.cmd.Wait(); close(s.done) }()
			t.Cleanup(func() { _ = s.cmd.Process.Kill(); <-s.done })
			eventually(t, "hookpoint to wait on stdin", func() bool { return readingStdin(t, s.cmd.Process.Pid) })
			_ = s.cmd.Process.Signal(tc.sig)
			p := s.wait(t)
			wantExit(t, p, 128+int(tc.sig))
			name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[tc.sig]
			if !strings.Contains(p.stderr, "cancelled by "+name) {
				t.Errorf("stderr does not say the %s cancelled it", name)
			}
		})
	}
}
