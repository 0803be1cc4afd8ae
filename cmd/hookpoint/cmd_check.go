package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/safefile"
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
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("check takes no arguments, got %q (see %s --help)", args, c.CommandPath())
			}
			return nil
		},
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
	type problem struct {
		line int
		text string
	}
	var problems []problem
	for i, h := range cfg.Hooks {
		path := fmt.Sprintf("hooks[%d]", i)
		line := cfg.Pos(path).Line
		if !o.NoSecrets {
			for _, sr := range refs(path, h) {
				if msg := missingSecret(sr.ref); msg != "" {
					at := cfg.Pos(sr.field).Line
					problems = append(problems, problem{at, fmt.Sprintf("%s:%d: %s: hook %q: %s", cfg.File, at, sr.field, h.ID, msg)})
				}
			}
		}
		// A dry render with an empty event: what fails here fails for every event.
		if err := dryRender(path, h); err != nil {
			problems = append(problems, problem{line, fmt.Sprintf("%s:%d: %s: hook %q: with an empty event: %v", cfg.File, line, path, h.ID, err)})
		}
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(a, b int) bool {
			if problems[a].line != problems[b].line {
				return problems[a].line < problems[b].line
			}
			return problems[a].text < problems[b].text
		})
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p.text)
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

// secretRef is an env or file reference of a template, with the field (such as
// hooks[0].http.auth.token) whose template makes it.
type secretRef struct {
	field string
	ref   template.Ref
}

// Stand-ins for secrets that are not at hand when checking: a signing secret where a
// sign.secret reads it, and otherwise a base URL (the one place where a value's shape
// matters: a URL may start with a secret).
const (
	standInSigning = "whsec_c2FtcGxlLXNpZ25pbmcta2V5LTEyMzQ1Njc4"
	standInOther   = "https://stand-in.invalid"
)

// dryRender renders h for an empty event, with the secrets that are set and stand-ins
// for the others.
func dryRender(path string, h *config.Hook) error {
	signing := map[template.Ref]bool{}
	for _, sr := range refs(path, h) {
		if strings.Contains(sr.field, ".sign.secret[") {
			signing[sr.ref] = true
		}
	}
	standIn := func(r template.Ref) string {
		if signing[r] {
			return standInSigning
		}
		return standInOther
	}
	lookup := func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		return standIn(template.Ref{Func: "env", Arg: name}), true
	}
	read := func(p string) ([]byte, error) {
		if b, err := readSecretFile(p); err == nil {
			return b, nil
		}
		return []byte(standIn(template.Ref{Func: "file", Arg: p})), nil
	}
	_, err := render.Hook(h, event.New("check.sample"), "msg_check", render.Options{LookupEnv: lookup, ReadFile: read, Environ: []string{}})
	return err
}

// refs lists the env and file references of every template of the hook at path p.
func refs(p string, h *config.Hook) []secretRef {
	var out []secretRef
	add := func(field string, t *template.Template) {
		if t == nil {
			return
		}
		for _, r := range t.Refs() {
			out = append(out, secretRef{field: field, ref: r})
		}
	}
	if a := h.HTTP; a != nil && a.Compiled != nil {
		c, hp := a.Compiled, p+".http"
		add(hp+".url", c.URL)
		add(hp+".body", c.Body)
		add(hp+".auth.username", c.Username)
		add(hp+".auth.password", c.Password)
		add(hp+".auth.token", c.Token)
		for name := range a.Headers { // the name as written, which is where it is
			add(hp+".headers."+name, c.Headers[http.CanonicalHeaderKey(name)])
		}
		for i, t := range c.Secrets {
			add(fmt.Sprintf("%s.sign.secret[%d]", hp, i), t)
		}
		treeTemplates(hp+".body", c.Tree, add)
	}
	if a := h.Exec; a != nil && a.Compiled != nil {
		for i, t := range a.Compiled.Args {
			add(fmt.Sprintf("%s.exec.args[%d]", p, i), t)
		}
		for _, n := range a.Compiled.EnvNames {
			add(p+".exec.env."+n, a.Compiled.Env[n])
		}
	}
	return out
}

// treeTemplates calls add for every template leaf of a structured body.
func treeTemplates(path string, v any, add func(string, *template.Template)) {
	switch x := v.(type) {
	case *template.Template:
		add(path, x)
	case map[string]any:
		for k, c := range x {
			treeTemplates(path+"."+k, c, add)
		}
	case []any:
		for i, c := range x {
			treeTemplates(fmt.Sprintf("%s[%d]", path, i), c, add)
		}
	}
}

func missingSecret(r template.Ref) string {
	switch r.Func {
	case "env":
		if _, ok := os.LookupEnv(r.Arg); !ok {
			return fmt.Sprintf("secret env %q is not set", r.Arg)
		}
	case "file":
		if _, err := readSecretFile(r.Arg); err != nil {
			return fmt.Sprintf("secret file %q cannot be read: %v", r.Arg, safefile.Reason(err))
		}
	}
	return ""
}

// readSecretFile reads a file as the file function does: a regular file (a FIFO is not
// waited on, a device not read) of at most template.MaxSecretFile bytes.
func readSecretFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, template.MaxSecretFile)
}
