package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// jobSpec is the command `hookpoint run` wraps.
type jobSpec struct {
	argv      []string
	env       []string      // added to hookpoint's own environment
	timeout   time.Duration // 0: none
	killAfter time.Duration // SIGKILL this long after a signal was sent; 0: never
	// foreground keeps the command in hookpoint's process group, for a terminal: it can
	// read the terminal, and Ctrl-C reaches it from the terminal, so SIGINT is not
	// forwarded again. Otherwise the command gets its own process group and every signal
	// is forwarded to the whole group.
	foreground bool
}

type jobResult struct {
	code      int // the exit status; 128+N when signal N ended it
	cancelled bool
	timedOut  bool
	err       error // the command could not be started or waited for
}

// runJob runs the command with hookpoint's stdio. pending is a signal that arrived
// before the command would start: then it is not started.
func runJob(spec jobSpec, sigs <-chan os.Signal, pending os.Signal) jobResult {
	if pending != nil {
		code := 130
		if s, ok := pending.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		return jobResult{code: code, cancelled: true, err: errors.New("cancelled by a signal before the command started")}
	}
	cmd := exec.Command(spec.argv[0], spec.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), spec.env...)
	if !spec.foreground {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		code := exitCannotExec
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = exitNotFound
		}
		return jobResult{code: code, err: fmt.Errorf("cannot start the command: %w", err)}
	}
	pid := cmd.Process.Pid
	send := func(sig syscall.Signal) {
		if spec.foreground {
			_ = syscall.Kill(pid, sig)
		} else {
			_ = syscall.Kill(-pid, sig) // the whole process group
		}
	}

	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var timeoutC, killC <-chan time.Time
	if spec.timeout > 0 {
		t := time.NewTimer(spec.timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	var killTimer *time.Timer
	armKill := func() {
		if spec.killAfter > 0 && killTimer == nil {
			killTimer = time.NewTimer(spec.killAfter)
			killC = killTimer.C
		}
	}
	defer func() {
		if killTimer != nil {
			killTimer.Stop()
		}
	}()
	var res jobResult
	signalled := false
	var err error
wait:
	for {
		select {
		case err = <-waitErr:
			break wait
		case s := <-sigs:
			signalled = true
			ss, ok := s.(syscall.Signal)
			if ok && !(spec.foreground && ss == syscall.SIGINT) {
				send(ss)
			}
			armKill()
		case <-timeoutC:
			res.timedOut = true
			send(syscall.SIGTERM)
			armKill()
		case <-killC:
			send(syscall.SIGKILL)
		}
	}
	if ps := cmd.ProcessState; ps != nil {
		res.code = ps.ExitCode()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			sig := ws.Signal()
			res.code = 128 + int(sig)
			res.cancelled = !res.timedOut && (signalled || sig == syscall.SIGINT || sig == syscall.SIGTERM || sig == syscall.SIGHUP)
			return res
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		res.err = err
		return res
	}
	res.cancelled = signalled && res.code != 0 && !res.timedOut
	return res
}
