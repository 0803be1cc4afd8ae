package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint"
)

type emitOptions struct{ oneEventOptions }

func newEmitCommand(g *globalOptions) *cobra.Command {
	o := &emitOptions{}
	c := &cobra.Command{
		Use:   "emit [flags] TYPE",
		Short: "Fire the hooks for one event; exit 1 when a hook aborts it",
		Long: `Fire the hooks for one event.

Exit status: 0 when the verdict is proceed, 1 when a hook aborted it, 2 on a usage or
configuration error, 3 when async hooks could not be delivered before --async-deadline.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmit(cmd.Context(), g, o, args, cmd.OutOrStdout())
		},
	}
	o.AddFlags(c.Flags())
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
	ev, err := o.Event.build(typ)
	if err != nil {
		return err
	}
	e, err := g.open()
	if err != nil {
		return err
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	res, err := e.engine.Fire(ctx, ev)
	delivered := e.close(g.AsyncDeadline)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.Output == "json" {
		if err := printJSON(out, res); err != nil {
			return err
		}
	} else {
		printOutcome(out, res)
	}
	switch {
	case res.Verdict == hookpoint.Abort:
		return &exitError{code: exitAborted}
	case !delivered:
		return &exitError{code: exitUndeliver, err: fmt.Errorf("async hooks were not delivered (see above)")}
	}
	return nil
}

// printOutcome writes one line per hook and the verdict.
func printOutcome(w io.Writer, o *hookpoint.Outcome) {
	for _, r := range o.Results {
		line := fmt.Sprintf("%s %s: %s", o.Event.Type, r.HookID, r.Outcome)
		switch {
		case r.Status != 0:
			line += fmt.Sprintf(" (%d)", r.Status)
		case r.ExitCode != nil:
			line += fmt.Sprintf(" (exit %d)", *r.ExitCode)
		}
		if r.Error != "" {
			line += ": " + r.Error
		}
		if r.Policy != "" {
			line += " [" + r.Policy + "]"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s: %s\n", o.Event.Type, o.Verdict)
}
