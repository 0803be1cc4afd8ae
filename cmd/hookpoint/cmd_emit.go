package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint"
)

type emitOptions struct {
	oneEventOptions
	StrictAsync bool
}

func newEmitCommand(g *globalOptions) *cobra.Command {
	o := &emitOptions{}
	c := &cobra.Command{
		Use:   "emit [flags] TYPE",
		Short: "Fire the hooks for one event; exit 1 when a hook aborts it",
		Long: `Fire the hooks for one event.

An event whose TYPE ends in .pre (backup.pre, job.pre) is a gate unless --gate=false is
given; any other event is a notification unless --gate is given. On a gate, a failing hook
aborts the event (its on_failure defaults to abort) and the exit status is 1; on a
notification a failing hook warns (on_failure defaults to warn).

The outcome is printed as soon as the sync hooks are done; async hooks are then given
up to --async-deadline, and any left undelivered are reported on stderr.

With --server (or HOOKPOINT_SERVER) the event goes to hookpoint serve, which runs its
hooks and answers the verdict; the outcome is printed the same way. When the server
cannot be reached, a gate aborts (--server-unreachable proceed lets it through) and a
notification is kept in the spool and sent once the server answers again. See
docs/fleet.md.

Exit status: 0 when the verdict is proceed, 1 when a hook aborted it, 2 on a usage or
configuration error (or the server refused the token or the event), 128+N when signal
N cancelled it, and with --strict-async 3 when async hooks could not be delivered
before --async-deadline.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmit(cmd.Context(), g, o, args, cmd.OutOrStdout())
		},
	}
	g.AddConfigFlags(c.Flags())
	g.AddFireFlags(c.Flags())
	g.AddFleetFlags(c.Flags())
	o.AddFlags(c.Flags())
	c.ValidArgsFunction = completeEventType(g)
	c.Flags().BoolVar(&o.StrictAsync, "strict-async", false, "exit 3 when async hooks could not be delivered before --async-deadline")
	return c
}

func runEmit(ctx context.Context, g *globalOptions, o *emitOptions, args []string, out io.Writer) error {
	if err := checkOutput(o.Output); err != nil {
		return err
	}
	typ, err := oneType(args)
	if err != nil {
		return err
	}
	// Signals are caught from here on, so that every wait (stdin, hooks, async
	// deliveries) ends with them and the exit status says which signal it was.
	ctx, stop, caught := signalContext(ctx)
	defer stop()
	ev, err := o.Event.build(ctx, typ)
	if err != nil {
		if s := caught(); s != nil {
			return cancelled(s, err)
		}
		return err
	}
	return fireOne(ctx, caught, g, ev, out, fireOptions{output: o.Output, strictAsync: o.StrictAsync})
}

type fireOptions struct {
	output      string // text or json
	strictAsync bool   // exit 3 when async hooks were left undelivered
}

// fireOne fires one event and prints the outcome before waiting (up to
// --async-deadline) for async deliveries, which are reported on stderr. Exit status: 0
// proceed, 1 abort, 128+N when signal N cancelled it, 3 for undelivered async hooks
// with strictAsync.
// ctx is cancelled by a signal, which caught tells.
func fireOne(ctx context.Context, caught func() os.Signal, g *globalOptions, ev *hookpoint.Event, out io.Writer, o fireOptions) error {
	e, err := g.openFirer()
	if err != nil {
		return err
	}
	res, err := e.fire(ctx, ev)
	if err != nil {
		e.close(ctx, g.AsyncDeadline)
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return usageErr("%v", err)
	}
	if o.output == "json" {
		err = printJSON(out, res)
	} else {
		printOutcome(out, res)
	}
	delivered := e.close(ctx, g.AsyncDeadline)
	switch {
	case err != nil:
		return err
	case caught() != nil:
		return &exitError{code: signalExit(caught()), err: fmt.Errorf("%s: cancelled by %v", ev.Type, caught())}
	case res.Verdict == hookpoint.Abort:
		return &exitError{code: exitAborted}
	case !delivered && o.strictAsync:
		return &exitError{code: exitUndeliver, err: fmt.Errorf("async hooks were not delivered (see above)")}
	}
	return nil
}
