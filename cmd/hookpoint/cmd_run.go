package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/fleet"
)

type runOptions struct {
	Event     eventOptions
	Timeout   time.Duration
	KillAfter time.Duration
}

func (o *runOptions) AddFlags(fs *pflag.FlagSet) {
	o.Event.AddFlags(fs, false)
	fs.StringVar(&o.Event.Job, "job", "", "job name (required; .run.job)")
	fs.StringVar(&o.Event.Kind, "kind", "job", "job kind: events are KIND.pre, KIND.post, KIND.abort and KIND.end")
	fs.DurationVar(&o.Timeout, "timeout", 0, "stop the command with SIGTERM after this long (0: no limit); the run then fails")
	fs.DurationVar(&o.KillAfter, "kill-after", 30*time.Second, "send SIGKILL when the command is still running this long after it was sent a signal (0: never)")
}

func newRunCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	c := &cobra.Command{
		Use:   "run --job NAME [flags] -- COMMAND [ARGS...]",
		Short: "Wrap a command in a lifecycle: KIND.pre (gate), KIND.post or KIND.abort, KIND.end",
		Long: `Wrap a command in a lifecycle of events:

  KIND.pre    a gate: when a hook aborts it the command is not started, KIND.abort and
              KIND.end fire, and the exit status is 75
  KIND.post   after the command exits 0 (status success)
  KIND.abort  after it fails (status fail) or is cancelled by a signal (status cancelled)
  KIND.end    always, last, with the final status, duration and exit_code

SIGINT and SIGTERM are forwarded to the command (when stdin is a terminal the command
stays in the terminal's foreground process group, so it can read the terminal and gets
Ctrl-C from it directly). --timeout stops the command with SIGTERM, and --kill-after
follows any signal with SIGKILL if the command is still running. The command sees
HOOKPOINT_RUN_ID, so a nested 'hookpoint emit' joins the run.

With --server (or HOOKPOINT_SERVER) the four events go to hookpoint serve, which runs
its hooks; its verdict on KIND.pre decides whether the command starts. When the server
cannot be reached the command is not started (--server-unreachable proceed starts it),
and the later events are kept in the spool until it answers again (docs/fleet.md).

The exit status is the command's own, unless a pre hook aborted it or the server could
not be reached for KIND.pre (75), or the server refused the token (2, nothing ran).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), g, o, args, cmd.ErrOrStderr())
		},
	}
	c.Flags().SetInterspersed(false)
	g.AddConfigFlags(c.Flags())
	g.AddFireFlags(c.Flags())
	g.AddFleetFlags(c.Flags())
	o.AddFlags(c.Flags())
	return c
}

// signalContext returns a context cancelled by SIGINT or SIGTERM, and a function that
// tells which signal cancelled it (nil while none has).
func signalContext(parent context.Context) (context.Context, context.CancelFunc, func() os.Signal) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(sigs)
		select {
		case <-done:
		default:
			close(done)
		}
		cancel()
	}
	which := func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	return ctx, stop, which
}

// afterPhase returns a context that the cancellation of ctx does not reach but the next
// signal on sigs does, and a function that stops watching.
func afterPhase(ctx context.Context, sigs <-chan os.Signal) (context.Context, func()) {
	after, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
		}
	}()
	return after, func() { close(done); cancel() }
}

// signalExit is the conventional exit status for a process ended by sig: 128+N.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// signalName names a signal as people know it: SIGTERM, SIGINT.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// cancelled is the error of a command that signal sig ended before it fired any hook.
func cancelled(sig os.Signal, err error) error {
	return &exitError{code: signalExit(sig), err: fmt.Errorf("cancelled by %s before any hook ran (%v)", signalName(sig), err)}
}

// lifecycle fires the events of one wrapped run.
type lifecycle struct {
	f     firer
	base  *hookpoint.Event
	start time.Time
	log   io.Writer
}

// fire fires KIND.phase with the base data plus extra. An error (the server refused
// the token) is returned for the pre gate and reported for the others, which then count
// as proceeding.
func (l *lifecycle) fire(ctx context.Context, phase, status string, gate bool, extra map[string]any) (*hookpoint.Outcome, error) {
	ev := event.New(l.base.Run.Kind + "." + phase)
	ev.Run, ev.Source, ev.Subject, ev.Status, ev.Gate = l.base.Run, l.base.Source, l.base.Subject, status, gate
	for k, v := range l.base.Data {
		ev.Data[k] = v
	}
	for k, v := range extra {
		ev.Data[k] = v
	}
	out, err := l.f.fire(ctx, ev)
	if err != nil && gate {
		return nil, err
	}
	if err != nil { // the type and status are built here: the server refused it or the token
		fmt.Fprintf(l.log, "hookpoint: %s: %v\n", ev.Type, err)
		return &hookpoint.Outcome{Event: ev, Verdict: hookpoint.Proceed}, nil
	}
	return out, nil
}

// notify fires a notification of the lifecycle, whose errors fire reports.
func (l *lifecycle) notify(ctx context.Context, phase, status string, extra map[string]any) *hookpoint.Outcome {
	out, _ := l.fire(ctx, phase, status, false, extra)
	return out
}

func runRun(ctx context.Context, g *globalOptions, o *runOptions, args []string, stderr io.Writer) error {
	if o.Event.Job == "" {
		return usageErr("--job is required")
	}
	if len(args) == 0 {
		return usageErr("no command given: hookpoint run --job NAME -- COMMAND [ARGS...]")
	}
	if o.Event.Kind == "" {
		return usageErr("--kind cannot be empty")
	}
	if o.Event.Subject == "" {
		o.Event.Subject = o.Event.Job
	}
	// Signals: until the command starts they cancel what is under way (reading --data
	// from stdin, the pre hooks); while it runs they are forwarded to it; afterwards the
	// end hooks still run (each has its own timeout).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	preCtx, cancelPre := context.WithCancel(ctx)
	var preSignal os.Signal
	preDone, preExited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(preExited)
		select {
		case s := <-sigs:
			preSignal = s
			cancelPre()
		case <-preDone:
		}
	}()
	endPre := func() {
		close(preDone)
		<-preExited
		cancelPre()
	}
	base, err := o.Event.build(preCtx, o.Event.Kind+".pre")
	if err != nil {
		endPre()
		if preSignal != nil {
			return cancelled(preSignal, err)
		}
		return err
	}
	e, err := g.openFirer()
	if err != nil {
		endPre()
		return err
	}
	l := &lifecycle{f: e, base: base, start: time.Now(), log: stderr}
	pre, err := l.fire(preCtx, "pre", "", true, nil)
	endPre()
	if err != nil { // nothing ran: the server refused the token or the event
		e.close(ctx, g.AsyncDeadline)
		return err
	}

	// The hooks after the command (or after a pre abort) are not cancelled by the signal
	// that ended it, but a further signal cancels them and the async wait.
	var afterCtx context.Context
	var stopAfter func()
	finish := func(status string, code int, errText string) {
		extra := map[string]any{"exit_code": code, "duration": time.Since(l.start).Seconds()}
		if errText != "" {
			extra["error"] = errText
		}
		l.notify(afterCtx, "end", status, extra)
	}

	if pre.Verdict == hookpoint.Abort {
		afterCtx, stopAfter = afterPhase(ctx, sigs)
		defer stopAfter()
		status, code, why := event.StatusFail, exitGateAbort, "a pre hook aborted the job"
		shown := why // on stderr: with the end of the hook's stderr or its response
		if r := pre.AbortedBy(); r != nil && r.Action == fleet.Action {
			why = r.Error // the server could not be reached
			shown = why + "; the command was not started"
		} else if r != nil {
			why = fmt.Sprintf("pre hook %s failed: %s", r.HookID, r.Error)
			var b strings.Builder
			fmt.Fprintf(&b, "pre hook %s %s\n", r.HookID, describe(r))
			writeDetail(&b, "  ", r)
			shown = strings.TrimSuffix(b.String(), "\n")
		}
		if preSignal != nil || pre.Cancelled {
			status, why = event.StatusCancelled, "cancelled by a signal before the command started"
			shown = why
			if s, ok := preSignal.(syscall.Signal); ok {
				code = 128 + int(s)
			}
		}
		l.notify(afterCtx, "abort", status, map[string]any{"exit_code": code, "error": why})
		finish(status, code, why)
		e.close(afterCtx, g.AsyncDeadline)
		return &exitError{code: code, err: errors.New(shown)}
	}
	// A signal that raced with the end of the pre hooks still counts.
	if preSignal == nil {
		select {
		case s := <-sigs:
			preSignal = s
		default:
		}
	}

	jr := runJob(jobSpec{
		argv:      args,
		env:       []string{"HOOKPOINT_RUN_ID=" + base.Run.ID, "HOOKPOINT_JOB=" + base.Run.Job, "HOOKPOINT_KIND=" + base.Run.Kind},
		timeout:   o.Timeout,
		killAfter: o.KillAfter,
		tty:       foregroundTTY(),
	}, sigs, preSignal)
	code, runErr := jr.code, jr.err
	status := event.StatusSuccess
	switch {
	case jr.cancelled:
		status = event.StatusCancelled
	case code != 0 || jr.timedOut:
		status = event.StatusFail
	}
	errText := ""
	switch {
	case runErr != nil:
		errText = runErr.Error()
	case jr.timedOut:
		errText = fmt.Sprintf("the command ran past its %s timeout and was stopped", o.Timeout)
	case jr.cancelled:
		errText = "the command was cancelled by a signal"
	case code != 0:
		errText = fmt.Sprintf("the command exited with status %d", code)
	}
	afterCtx, stopAfter = afterPhase(ctx, sigs)
	defer stopAfter()
	if status == event.StatusSuccess {
		post := l.notify(afterCtx, "post", event.StatusSuccess, map[string]any{"exit_code": code, "duration": time.Since(l.start).Seconds()})
		switch {
		case post.Verdict == hookpoint.Abort:
			status = event.StatusFail
			if r := post.AbortedBy(); r != nil {
				errText = fmt.Sprintf("post hook %s failed: %s", r.HookID, r.Error)
			}
		case post.Warned():
			status = event.StatusWarning
		}
	} else {
		l.notify(afterCtx, "abort", status, map[string]any{"exit_code": code, "error": errText, "duration": time.Since(l.start).Seconds()})
	}
	finish(status, code, errText)
	if !e.close(afterCtx, g.AsyncDeadline) {
		fmt.Fprintln(stderr, "hookpoint: warning: some async hooks were not delivered (see above)")
	}
	if runErr != nil {
		return &exitError{code: code, err: runErr}
	}
	return &exitError{code: code}
}
