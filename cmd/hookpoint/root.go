package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/clip"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/version"
)

// globalOptions holds the flags that several commands share. Each command registers only
// those it uses: --config where the config is read (AddConfigFlags), the journal, log and
// async deadline where hooks fire (AddFireFlags), so that help lists nothing a command
// ignores.
type globalOptions struct {
	ConfigPath    string
	JournalPath   string
	Verbose       bool
	LogFormat     string
	AsyncDeadline time.Duration
	Fleet         fleetOptions // --server and the flags that go with it
}

// AddConfigFlags registers --config.
func (o *globalOptions) AddConfigFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.ConfigPath, "config", "c", os.Getenv("HOOKPOINT_CONFIG"),
		"the config `FILE`, YAML or JSON (default: env HOOKPOINT_CONFIG, else ./hookpoint.yaml, else "+systemConfig+" when it exists)")
}

// AddFireFlags registers the flags of the commands that fire hooks.
func (o *globalOptions) AddFireFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.JournalPath, "journal", os.Getenv("HOOKPOINT_JOURNAL"), "append one JSON line per hook execution to this `FILE` (env HOOKPOINT_JOURNAL)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "log every hook execution to stderr (failures are always logged)")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.DurationVar(&o.AsyncDeadline, "async-deadline", 30*time.Second, "how long to wait for async hooks to be delivered before exiting")
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "hookpoint",
		Short: "Lifecycle hooks for backup, snapshot and infrastructure jobs",
		Long: `Lifecycle hooks for backup, snapshot and infrastructure jobs: fire HTTP webhooks and run
commands before, after and around a job, with gates, ordering, templating, signing and a
journal. See docs/cli.md for every command, flag and exit status.`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Defined here so that cobra does not give it the shorthand -v, which means
	// --verbose on the commands that fire hooks.
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version")
	root.SetVersionTemplate(version.Get().String())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (see %s --help)", err, c.CommandPath())
	})
	// An unknown command is a usage error (exit 2). Cobra reports it as a plain error
	// unless the root validates its own arguments, which it only does when runnable.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageErr("%s (see %s --help)", msg, c.CommandPath())
	}
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	root.SuggestionsMinimumDistance = 2
	check := newCheckCommand(g)
	g.AddConfigFlags(check.Flags())
	root.AddCommand(check, newEmitCommand(g), newRenderCommand(g), newRunCommand(g),
		newVzdumpCommand(g), newAutosnapCommand(g), newJetbackupCommand(g), newListenCommand(g),
		newJournalCommand(), newVersionCommand(), newServeCommand(g), newTokenCommand(), newMigrateCommand(g))
	root.AddCommand(newGenDocsCommand()) // hidden: man pages and completions for packages
	return root
}

// Shared flags written before the command name, as the integration wrappers do
// (`hookpoint --config FILE --journal FILE vzdump "$@"`): they are moved behind it, where
// the command takes them or refuses them (check takes no --journal) like any of its own.
var (
	sharedValueFlags = []string{"--config", "-c", "--journal", "--log-format", "--async-deadline",
		"--server", "--token-file", "--server-unreachable", "--server-timeout", "--server-retry", "--server-ca", "--spool"}
	sharedBoolFlags = []string{"--verbose", "-v"}
)

// hoistSharedFlags moves the shared flags in front of the command name behind it. Other
// arguments are left as they are; so is a command line where no command name follows.
func hoistSharedFlags(args []string) []string {
	lead := 0
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		lead = 1
	}
	i := lead
	var moved []string
loop:
	for i < len(args) {
		a := args[i]
		name, _, inline := strings.Cut(a, "=")
		switch {
		case slices.Contains(sharedBoolFlags, name):
			moved, i = append(moved, a), i+1
		case slices.Contains(sharedValueFlags, name) && inline:
			moved, i = append(moved, a), i+1
		case slices.Contains(sharedValueFlags, name) && i+1 < len(args):
			moved, i = append(moved, a, args[i+1]), i+2
		case len(a) > 2 && strings.HasPrefix(a, "-c") && a[2] != '-': // -cFILE
			moved, i = append(moved, a), i+1
		default:
			break loop
		}
	}
	if len(moved) == 0 || i >= len(args) || strings.HasPrefix(args[i], "-") {
		return args
	}
	out := slices.Clone(args[:lead])
	out = append(out, args[i])
	out = append(out, moved...)
	return append(out, args[i+1:]...)
}

// env is what a command that fires hooks needs: the engine and its journal.
type env struct {
	cfg     *hookpoint.Config
	engine  *hookpoint.Engine
	logger  *slog.Logger
	journal *journal.File
}

func (g *globalOptions) logger() (*slog.Logger, error) {
	level := slog.LevelWarn
	if g.Verbose {
		level = slog.LevelInfo
	}
	ho := &slog.HandlerOptions{Level: level}
	switch g.LogFormat {
	case "text":
		return boundedLogger(slog.NewTextHandler(os.Stderr, ho)), nil
	case "json":
		return boundedLogger(slog.NewJSONHandler(os.Stderr, ho)), nil
	}
	return nil, usageErr("--log-format %q: use text or json", g.LogFormat)
}

// maxLogValue bounds each value of a log line (a hook's error, an id from a request):
// the journal's largest field bound, so that what the journal cut is not cut again.
const maxLogValue = journal.MaxError

// boundedLogger logs through h with every value cut to maxLogValue.
func boundedLogger(h slog.Handler) *slog.Logger {
	return slog.New(clip.NewHandler(h, maxLogValue))
}

// loadConfig loads the config, turning problems into a usage error (exit 2).
func (g *globalOptions) loadConfig() (*hookpoint.Config, error) {
	path, err := g.configPath()
	if err != nil {
		return nil, err
	}
	cfg, err := hookpoint.LoadConfig(path)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("invalid config:\n%s", indent(ce.Error()))}
		}
		return nil, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}

// systemConfig is where the config is looked for when neither --config nor
// HOOKPOINT_CONFIG names one and there is no hookpoint.yaml in the working directory:
// tools such as vzdump run their hook script from a directory of their own.
const systemConfig = "/etc/hookpoint/hookpoint.yaml"

// startHint says how to start a config, for messages and help.
const startHint = `To start one, copy examples/hookpoint.yaml
(https://github.com/hookpoint/hookpoint/blob/main/examples/hookpoint.yaml) to
./hookpoint.yaml, or write these lines there, then run hookpoint check:
  hooks:
    - id: ping
      on: backup.end
      http: {url: "https://hc.example.com/ping/UUID"}
docs/configuration.md describes every field.`

// configPath returns the config file: --config, else HOOKPOINT_CONFIG, else
// ./hookpoint.yaml, else systemConfig. When the file named is not there, or none is,
// the error says where it looked and how to start one.
func (g *globalOptions) configPath() (string, error) {
	if path := g.ConfigPath; path != "" {
		from := "--config"
		if path == os.Getenv("HOOKPOINT_CONFIG") {
			from = "HOOKPOINT_CONFIG"
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return "", usageErr("no config file at %s (named by %s).\n%s", path, from, startHint)
		}
		return path, nil
	}
	for _, path := range []string{"hookpoint.yaml", systemConfig} {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
	}
	cwd, _ := os.Getwd()
	return "", usageErr(`no config file. Looked for:
  --config FILE                   not given
  HOOKPOINT_CONFIG                not set
  ./hookpoint.yaml                not in %s
  %s   not there
%s
See hookpoint check --help.`, cwd, systemConfig, startHint)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// open loads the config, opens the journal and builds the engine.
func (g *globalOptions) open() (*env, error) {
	log, err := g.logger()
	if err != nil {
		return nil, err
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, logger: log}
	recs := journal.Multi{journal.Logger{L: log}}
	if g.JournalPath != "" {
		j, err := journal.OpenFile(g.JournalPath)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		e.journal = j
		recs = append(recs, j)
	}
	e.engine = hookpoint.New(cfg, hookpoint.Options{Recorder: recs})
	return e, nil
}

// close drains async deliveries within the deadline, reports what was left and closes
// the journal. It returns whether everything async was delivered.
// A signal (ctx cancelled) ends the wait at once.
func (e *env) close(ctx context.Context, deadline time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	rep := e.engine.Drain(ctx)
	e.engine.Close()
	for _, u := range rep.Undelivered {
		why := "the async deadline passed"
		if u.Final {
			why = "delivery gave up"
		}
		e.logger.Error("async hook not delivered", "hook", u.HookID, "event", u.EventType, "event_id", u.EventID,
			"delivery_id", u.DeliveryID, "attempts", u.Attempts, "reason", why, "last_error", u.LastError)
	}
	if e.journal != nil {
		if err := e.journal.Close(); err != nil {
			e.logger.Error("journal write failed", "error", err)
		}
	}
	return len(rep.Undelivered) == 0
}
