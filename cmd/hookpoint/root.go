package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/version"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	ConfigPath    string
	JournalPath   string
	Verbose       bool
	LogFormat     string
	AsyncDeadline time.Duration
}

func (o *globalOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.ConfigPath, "config", "c", os.Getenv("HOOKPOINT_CONFIG"),
		"config file, YAML or JSON (default: env HOOKPOINT_CONFIG, else ./hookpoint.yaml, else "+systemConfig+" when it exists)")
	fs.StringVar(&o.JournalPath, "journal", os.Getenv("HOOKPOINT_JOURNAL"), "append one JSON line per hook execution to this file (env HOOKPOINT_JOURNAL)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "log every hook execution to stderr")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.DurationVar(&o.AsyncDeadline, "async-deadline", 30*time.Second, "how long to wait for async hooks to be delivered before exiting")
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "hookpoint",
		Short:         "Lifecycle hooks for backup, snapshot and infrastructure jobs",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	g.AddFlags(root.PersistentFlags())
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
	root.AddCommand(newCheckCommand(g), newEmitCommand(g), newRenderCommand(g), newRunCommand(g),
		newVzdumpCommand(g), newAutosnapCommand(g), newJetbackupCommand(g), newListenCommand(g))
	root.AddCommand(newGenDocsCommand()) // hidden: man pages and completions for packages
	return root
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
		return slog.New(slog.NewTextHandler(os.Stderr, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, ho)), nil
	}
	return nil, usageErr("--log-format %q: use text or json", g.LogFormat)
}

// loadConfig loads the config, turning problems into a usage error (exit 2).
func (g *globalOptions) loadConfig() (*hookpoint.Config, error) {
	cfg, err := hookpoint.LoadConfig(g.configPath())
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

func (g *globalOptions) configPath() string {
	if g.ConfigPath != "" {
		return g.ConfigPath
	}
	if _, err := os.Stat("hookpoint.yaml"); err != nil {
		if _, err := os.Stat(systemConfig); err == nil {
			return systemConfig
		}
	}
	return "hookpoint.yaml"
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
