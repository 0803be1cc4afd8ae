package main

import (
	"os/signal"

	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
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
	// tty is the terminal on stdin when hookpoint is in its foreground: the command's
	// process group then becomes the terminal's foreground group for as long as it runs,
	// so it can read the terminal and Ctrl-C reaches it directly; -1 otherwise.
	tty int
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
	// The command always gets a process group of its own, so that signals reach it and
	// everything it starts exactly once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if spec.tty >= 0 {
		cmd.SysProcAttr.Foreground, cmd.SysProcAttr.Ctty = true, spec.tty
		defer takeTerminalBack(spec.tty)
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
		_ = syscall.Kill(-pid, sig) // the whole process group
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
			if ss, ok := s.(syscall.Signal); ok {
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
	res.cancelled = !res.timedOut && res.code != 0 && (signalled || spec.tty >= 0 && interrupted(res.code))
	return res
}

// interrupted reports whether an exit status is the one shells use after SIGINT or
// SIGQUIT: on a terminal those come from the keyboard straight to the command, and the
// status is all hookpoint sees of them.
func interrupted(code int) bool {
	return code == 128+int(syscall.SIGINT) || code == 128+int(syscall.SIGQUIT)
}

// foregroundTTY returns the terminal on stdin if hookpoint's process group is its
// foreground group (an interactive run), or -1 (cron, systemd, a pipe, a background job).
func foregroundTTY() int {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return -1
	}
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || pgrp != syscall.Getpgrp() {
		return -1
	}
	return fd
}

// takeTerminalBack makes hookpoint's process group the terminal's foreground group
// again once the command is over. Doing so from what is now a background group raises
// SIGTTOU, which is ignored for the moment.
func takeTerminalBack(fd int) {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, syscall.Getpgrp())
}
