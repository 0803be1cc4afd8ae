package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hookpoint/hookpoint/internal/render"
)

// MaxOutput bounds the command output kept in memory while a command runs.
const MaxOutput = 64 << 10

// waitDelay bounds how long Run waits for output pipes held open by processes that
// outlived the command.
const waitDelay = 2 * time.Second

// Run runs a rendered command without a shell, in its own process group, and kills the
// whole group when the timeout passes or ctx is cancelled, and, unless c.KeepChildren,
// when the command ends: nothing it started outlives it.
func Run(ctx context.Context, c *render.Command) Result {
	start := time.Now()
	res := run(ctx, c)
	res.Duration = time.Since(start)
	return res
}

func run(parent context.Context, c *render.Command) Result {
	ctx, cancel := context.WithTimeout(parent, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid names the process group: the command and all it started.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	limit := c.MaxOutput
	if limit <= 0 {
		limit = MaxOutput
	}
	out := &syncBuffer{b: boundedBuffer{max: limit}}
	cmd.Stdout, cmd.Stderr = out, out
	var errTail *tailBuffer
	if c.StderrTail {
		// stderr through a pipe of its own: the order of stdout and stderr in the
		// combined output is then only as close as the two copies run.
		errTail = &tailBuffer{max: MaxTail + maskSlack}
		cmd.Stderr = io.MultiWriter(out, errTail)
	}
	err := cmd.Run()
	if cmd.Process != nil && (ctx.Err() != nil || !c.KeepChildren) {
		endGroup(cmd.Process.Pid)
	}
	res := Result{Output: out.output()}
	res.Excerpt, res.ExcerptCut = out.excerpt(c.Mask)
	if errTail != nil {
		res.Stderr = errTail.tail(c.Mask)
	}
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	if cmd.ProcessState != nil {
		code := exitCode(cmd.ProcessState)
		res.ExitCode = &code
	}
	switch {
	case err == nil:
		res.Outcome = OK
	case exited && errors.Is(err, exec.ErrWaitDelay):
		// The command exited by itself; something it started kept its output open.
		// Its exit status decides.
		res.Outcome = OK
		if *res.ExitCode != 0 {
			res.Outcome = Failed
			res.Error = fmt.Sprintf("exit status %d", *res.ExitCode)
		}
	case exited:
		var ee *exec.ExitError
		res.Outcome = Failed
		res.Error = err.Error()
		if errors.As(err, &ee) {
			res.Error = fmt.Sprintf("exit status %d", *res.ExitCode)
		}
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		res.Outcome = Timeout
		res.Error = "killed: the caller's deadline passed"
	case parent.Err() != nil:
		res.Outcome = Failed
		res.Error = "killed: cancelled"
	case ctx.Err() == context.DeadlineExceeded:
		res.Outcome = Timeout
		res.Error = fmt.Sprintf("killed after the %s timeout", c.Timeout)
	default:
		res.Outcome = Failed
		res.Error = err.Error()
		if res.ExitCode != nil {
			res.Error = fmt.Sprintf("exit status %d", *res.ExitCode)
		}
	}
	return res
}

// endGroup kills what is left of the process group of a command that has ended, with
// the grace for its output already past: the children it started in the background and
// left behind (exec cancels only the command itself), which would otherwise run on
// outside every timeout and concurrency limit.
func endGroup(pgid int) {
	// The negative pid names the process group. Its id cannot be taken by another group
	// while any member lives; when none does the kill finds no one (ESRCH).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func exitCode(ps interface{ Sys() any }) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
	return -1
}

type syncBuffer struct {
	mu sync.Mutex
	b  boundedBuffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b.buf)
}

func (s *syncBuffer) excerpt(mask func(string) string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.excerpt(mask)
}
