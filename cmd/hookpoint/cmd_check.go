package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/template"
)

type checkOptions struct {
	NoSecrets bool
}

func (o *checkOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.NoSecrets, "no-secrets", false, "do not require the env variables and files that templates read secrets from")
}

func newCheckCommand(g *globalOptions) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   "check",
		Short: "Validate the config: fields, patterns, templates and secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(g, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// runCheck validates the config, then renders every hook against a sample event so that
// templates which cannot produce a well-formed request are found now, and checks that
// the secrets templates read exist.
func runCheck(g *globalOptions, o *checkOptions, out io.Writer) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	var problems []string
	for i, h := range cfg.Hooks {
		p := cfg.Pos(fmt.Sprintf("hooks[%d]", i))
		where := fmt.Sprintf("%s:%d", cfg.File, p.Line)
		if !o.NoSecrets {
			for _, ref := range refs(h) {
				if msg := missingSecret(ref); msg != "" {
					problems = append(problems, fmt.Sprintf("%s: hook %q: %s", where, h.ID, msg))
				}
			}
		}
		// A dry render with an empty event and stand-in secrets: what fails here fails
		// for every event.
		ev := event.New("check.sample")
		stub := func(string) (string, bool) { return "whsec_c2FtcGxlLXNpZ25pbmcta2V5LTEyMzQ1Njc4", true }
		stubFile := func(string) ([]byte, error) { return []byte("whsec_c2FtcGxlLXNpZ25pbmcta2V5LTEyMzQ1Njc4"), nil }
		if _, err := render.Hook(h, ev, "msg_check", render.Options{LookupEnv: stub, ReadFile: stubFile, Environ: []string{}}); err != nil {
			problems = append(problems, fmt.Sprintf("%s: hook %q: with an empty event: %v", where, h.ID, err))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p)
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %d problem(s)", cfg.File, len(problems))}
	}
	enabled := 0
	for _, h := range cfg.Hooks {
		if h.IsEnabled() {
			enabled++
		}
	}
	fmt.Fprintf(out, "%s: OK, %d hook(s), %d enabled\n", cfg.File, len(cfg.Hooks), enabled)
	return nil
}

// refs lists the env and file references of every template of a hook.
func refs(h *config.Hook) []template.Ref {
	var ts []*template.Template
	if a := h.HTTP; a != nil && a.Compiled != nil {
		c := a.Compiled
		ts = append(ts, c.URL, c.Body, c.Username, c.Password, c.Token)
		for _, n := range c.HeaderNames {
			ts = append(ts, c.Headers[n])
		}
		ts = append(ts, c.Secrets...)
		ts = append(ts, treeTemplates(c.Tree)...)
	}
	if a := h.Exec; a != nil && a.Compiled != nil {
		ts = append(ts, a.Compiled.Args...)
		for _, n := range a.Compiled.EnvNames {
			ts = append(ts, a.Compiled.Env[n])
		}
	}
	var out []template.Ref
	for _, t := range ts {
		if t != nil {
			out = append(out, t.Refs()...)
		}
	}
	return out
}

func treeTemplates(v any) []*template.Template {
	switch x := v.(type) {
	case *template.Template:
		return []*template.Template{x}
	case map[string]any:
		var out []*template.Template
		for _, c := range x {
			out = append(out, treeTemplates(c)...)
		}
		return out
	case []any:
		var out []*template.Template
		for _, c := range x {
			out = append(out, treeTemplates(c)...)
		}
		return out
	}
	return nil
}

func missingSecret(r template.Ref) string {
	switch r.Func {
	case "env":
		if _, ok := os.LookupEnv(r.Arg); !ok {
			return fmt.Sprintf("secret env %q is not set", r.Arg)
		}
	case "file":
		f, err := os.Open(r.Arg)
		if err != nil {
			return fmt.Sprintf("secret file %q cannot be read: %v", r.Arg, err)
		}
		f.Close()
	}
	return ""
}
