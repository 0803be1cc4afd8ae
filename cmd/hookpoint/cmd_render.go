package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint"
)

type renderOptions struct{ oneEventOptions }

func newRenderCommand(g *globalOptions) *cobra.Command {
	o := &renderOptions{}
	c := &cobra.Command{
		Use:   "render [flags] TYPE",
		Short: "Print what each matching hook would send or run, secrets masked; sends nothing",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRender(cmd.Context(), g, o, args, cmd.OutOrStdout())
		},
	}
	g.AddConfigFlags(c.Flags())
	o.AddFlags(c.Flags())
	c.ValidArgsFunction = completeEventType(g)
	return c
}

func runRender(ctx context.Context, g *globalOptions, o *renderOptions, args []string, out io.Writer) error {
	if err := checkOutput(o.Output); err != nil {
		return err
	}
	typ, err := oneType(args)
	if err != nil {
		return err
	}
	ctx, stop, caught := signalContext(ctx)
	defer stop()
	ev, err := o.Event.build(ctx, typ)
	if err != nil {
		if s := caught(); s != nil {
			return cancelled(s, err)
		}
		return err
	}
	stop() // nothing below waits: a signal may end the process at once
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	eng := hookpoint.New(cfg, hookpoint.Options{})
	defer eng.Close()
	previews, errs := eng.Render(ev)
	failed := 0
	if o.Output == "json" {
		type item struct {
			hookpoint.Preview
			Error string `json:"error,omitempty"`
		}
		items := make([]item, len(previews))
		for i := range previews {
			items[i].Preview = previews[i]
			if errs[i] != nil {
				items[i].Error = errs[i].Error()
				failed++
			}
		}
		if err := printJSON(out, items); err != nil {
			return err
		}
	} else {
		if len(previews) == 0 {
			fmt.Fprintf(out, "no enabled hook matches %s\n", typ)
		}
		for i, p := range previews {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "# hook %s (%s, %s)\n", p.Hook, p.Action, p.Mode)
			if errs[i] != nil {
				failed++
				fmt.Fprintf(out, "error: %v\n", errs[i])
				continue
			}
			writePreview(out, p)
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d hook(s) cannot be rendered for this event", failed)}
	}
	return nil
}

func writePreview(w io.Writer, p hookpoint.Preview) {
	if p.Action == "http" {
		fmt.Fprintf(w, "%s %s\n", p.Method, p.URL)
		for _, h := range p.Headers {
			fmt.Fprintf(w, "%s: %s\n", h[0], h[1])
		}
		fmt.Fprintf(w, "# timeout %s\n", p.Timeout)
		if p.Body != "" {
			fmt.Fprintf(w, "\n%s\n", p.Body)
		}
		return
	}
	fmt.Fprintf(w, "argv: %s\n", quoteAll(p.Argv))
	if p.Workdir != "" {
		fmt.Fprintf(w, "workdir: %s\n", p.Workdir)
	}
	fmt.Fprintf(w, "timeout: %s\n", p.Timeout)
	for _, kv := range p.Env {
		fmt.Fprintf(w, "env: %s\n", kv)
	}
	if p.Stdin != "" {
		fmt.Fprintf(w, "stdin: %s\n", p.Stdin)
	}
}

func quoteAll(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, " ")
}
