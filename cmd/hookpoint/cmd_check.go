package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
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
		Long: `Check reads the config file and reports every problem it finds, in file order, each
as FILE:LINE:COLUMN: FIELD: MESSAGE: YAML or JSON syntax, unknown fields, values of the
wrong type, bad patterns and templates, duplicate ids. It then renders each hook once
against an empty sample event, so that a template that can never make a well-formed
request is found now, and checks that the environment variables and files the
templates read secrets from exist (--no-secrets skips that).

Lines marked "warning:" are hooks that can never run for the events hookpoint sends: an
on pattern in the namespace of an adapter (vzdump.*, autosnap.*, jetbackup.*) or a
lifecycle event of hookpoint run (KIND.pre, .post, .abort, .end) that matches none of
them, or a status filter that the matched events never carry. Warnings do not fail the
check. Patterns of other sources (hookpoint emit, xo.*, virtfusion.*, zerobyte.*,
hookpoint.*) are not judged.

The exit status is 0 when the config is valid, with or without warnings, and 2 when it
is not.

The config file is --config FILE, else $HOOKPOINT_CONFIG, else ./hookpoint.yaml, else
` + systemConfig + `. A file named *.json is strict JSON; any other is YAML.
` + startHint,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("check takes no arguments, got %q (see %s --help)", args, c.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(g, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// runCheck reports every problem of the config: what loading finds, then, for the hooks
// that load without error, what a dry render against a sample event finds, and the
// secrets the templates read that are not there.
func runCheck(g *globalOptions, o *checkOptions, out, errOut io.Writer) error {
	path, err := g.configPath()
	if err != nil {
		return err
	}
	cfg, issues := config.Inspect(path)
	if cfg != nil {
		unfit := map[int]bool{}
		for _, is := range issues {
			if i, ok := hookIndex(is.Field); ok && !is.Warning {
				unfit[i] = true
			}
		}
		for i, h := range cfg.Hooks {
			if h == nil {
				continue
			}
			issues = append(issues, hookProblems(cfg, fmt.Sprintf("hooks[%d]", i), h, !o.NoSecrets, !unfit[i])...)
		}
	}
	sort.SliceStable(issues, func(a, b int) bool {
		if issues[a].Line != issues[b].Line {
			return issues[a].Line < issues[b].Line
		}
		return issues[a].Column < issues[b].Column
	})
	errs, warnings := 0, 0
	for _, is := range issues {
		fmt.Fprintln(errOut, is)
		if is.Warning {
			warnings++
		} else {
			errs++
		}
	}
	if errs > 0 {
		summary := count(errs, "error")
		if warnings > 0 {
			summary += ", " + count(warnings, "warning")
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %s", path, summary)}
	}
	enabled := 0
	for _, h := range cfg.Hooks {
		if h.IsEnabled() {
			enabled++
		}
	}
	fmt.Fprintf(out, "%s: OK, %d hook(s), %d enabled", path, len(cfg.Hooks), enabled)
	if warnings > 0 {
		fmt.Fprintf(out, ", %s", count(warnings, "warning"))
	}
	fmt.Fprintln(out)
	return nil
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// hookIndex returns N of a field hooks[N]...
func hookIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "hooks[")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil
}

// hookProblems checks the secrets the hook at path reads, and, when render is set, renders
// it with an empty event: what fails then fails for every event.
func hookProblems(cfg *config.Config, path string, h *config.Hook, secrets, render bool) []config.Issue {
	var out []config.Issue
	add := func(field, msg string) {
		p := cfg.Pos(field)
		out = append(out, config.Issue{File: cfg.File, Line: p.Line, Column: p.Column, Field: field, Message: fmt.Sprintf("hook %q: %s", h.ID, msg)})
	}
	warn := func(field, msg string) {
		p := cfg.Pos(field)
		out = append(out, config.Issue{File: cfg.File, Line: p.Line, Column: p.Column, Field: field, Message: fmt.Sprintf("hook %q: %s", h.ID, msg), Warning: true})
	}
	for _, sr := range refs(path, h) {
		if sr.ref.Func == "secret" {
			add(sr.field, fmt.Sprintf("secret %q: only hooks managed through the server's API have stored secrets; in a config file read secrets with env or file", sr.ref.Arg))
			render = false // it would fail for the same reason
			continue
		}
		if !secrets {
			continue
		}
		if msg := missingSecret(sr.ref); msg != "" {
			add(sr.field, msg)
		} else if msg := shortSecret(sr.ref); msg != "" {
			warn(sr.field, msg)
		}
	}
	if render {
		if err := dryRender(path, h); err != nil {
			field, msg := renderedField(cfg, path+"."+h.Action(), err.Error())
			add(field, "with an empty event: "+msg)
		}
	}
	return out
}

// renderedField finds the field a render error names first ("url: ...", "args[0]: ...",
// "body: vm: [0]: ...") within the action at path, and returns it with the rest of the
// message.
func renderedField(cfg *config.Config, path, msg string) (string, string) {
	field := path
	for {
		head, rest, ok := strings.Cut(msg, ": ")
		if !ok {
			return field, msg
		}
		next := field + "." + head
		if strings.HasPrefix(head, "[") {
			next = field + head
		}
		if !cfg.Written(next) {
			return field, msg
		}
		field, msg = next, rest
	}
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

// refs lists the env, file and secret references of every template of the hook at
// path p.
func refs(p string, h *config.Hook) []secretRef {
	var out []secretRef
	config.EachTemplate(h, func(field string, t *template.Template) {
		for _, r := range t.Refs() {
			out = append(out, secretRef{field: p + "." + field, ref: r})
		}
	})
	return out
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

// shortSecret warns about a secret too short to be masked safely: what hookpoint renders
// from it is masked exactly, but text that comes back from receivers can only be
// searched, and a short secret matches ordinary words (or, under template.MinMaskLen
// characters, is not searched for at all).
func shortSecret(r template.Ref) string {
	var v string
	switch r.Func {
	case "env":
		v = os.Getenv(r.Arg)
	case "file":
		b, err := readSecretFile(r.Arg)
		if err != nil {
			return ""
		}
		v = strings.TrimRight(string(b), "\r\n")
	}
	if v == "" || len(v) >= template.SafeMaskLen {
		return ""
	}
	what := fmt.Sprintf("secret %s %q is %d characters long", r.Func, r.Arg, len(v))
	if len(v) < template.MinMaskLen {
		return what + ": too short to be searched for in responses and command output, where it would show unmasked; use a secret of at least " + strconv.Itoa(template.SafeMaskLen) + " characters"
	}
	return what + ": responses and command output that contain the same letters are masked too; use a secret of at least " + strconv.Itoa(template.SafeMaskLen) + " characters"
}

// readSecretFile reads a file as the file function does: a regular file (a FIFO is not
// waited on, a device not read) of at most template.MaxSecretFile bytes.
func readSecretFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, template.MaxSecretFile)
}
