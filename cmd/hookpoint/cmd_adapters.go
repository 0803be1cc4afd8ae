package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/adapter/autosnap"
	"github.com/hookpoint/hookpoint/internal/adapter/jetbackup"
	"github.com/hookpoint/hookpoint/internal/adapter/vzdump"
)

// The adapters make hookpoint the hook script of an existing tool: each reads what the
// tool passes (argv, environment), fires the event, prints one line per hook (tools copy
// their hook script's output into the job log) and exits the way the tool expects:
// 0 to go on, 1 when a hook aborted the event (on a gate phase the tool then stops the
// job or guest), 2 on a bad invocation or config. A phase the adapter does not know (a
// newer tool's) fires as a notification with a warning: never a failed job for it.

const adapterExit = `
Exit status: 0 to go on, 1 when a hook aborted the event, 2 on a bad invocation or config.
A phase this version does not know (one a newer release of the tool added) fires as a
notification with what could be read, with a warning on stderr; one that is not a plain
name (letters, digits, '-', '_') is a bad invocation and fires nothing. The output (one
line per hook, a failed hook's stderr or response below it) goes to the tool's log.

With --server (or HOOKPOINT_SERVER) the event goes to hookpoint serve, whose hooks and
verdict decide; when it cannot be reached a gate phase exits 1 (--server-unreachable
proceed: 0) and a notification is spooled and sent later (docs/fleet.md).`

func newVzdumpCommand(g *globalOptions) *cobra.Command {
	var phases strings.Builder
	for _, p := range vzdump.Phases {
		args, notes := "", []string{}
		if p.Guest {
			args = "<mode> <vmid>"
		}
		if p.Gate {
			notes = append(notes, "gate")
		}
		if p.Status != "" {
			notes = append(notes, "status "+p.Status)
		}
		line := fmt.Sprintf("  %-13s %-14s %s", p.Name, args, strings.Join(notes, ", "))
		phases.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	c := &cobra.Command{
		Use:   "vzdump <phase> [<mode> <vmid>]",
		Short: "Be vzdump's hook script (--script): fire vzdump.<phase> events",
		Long: `Be the hook script of Proxmox VE's vzdump: set it with 'vzdump --script' or 'script:' in
/etc/vzdump.conf (through a wrapper that passes --config). Reads VMTYPE, DUMPDIR, STOREID,
HOSTNAME, TARGET and LOGFILE from the environment. Fires vzdump.<phase>.

Phases, with the arguments vzdump passes after the phase (<mode> is one of
` + strings.Join(vzdump.Modes, ", ") + `):

` + strings.TrimRight(phases.String(), "\n") + `

A gate phase exits 1 when a hook aborts, so vzdump stops that job or guest.
` + adapterExit,
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			switch len(args) {
			case 0:
				var out []cobra.Completion
				for _, p := range vzdump.Phases {
					out = append(out, cobra.CompletionWithDesc(p.Name, phaseNote(p)))
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			case 1:
				return vzdump.Modes, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := vzdump.Event(args, os.Getenv)
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	c.Flags().SetInterspersed(false)
	g.AddConfigFlags(c.Flags())
	g.AddFireFlags(c.Flags())
	g.AddFleetFlags(c.Flags())
	return c
}

func phaseNote(p vzdump.Phase) string {
	switch {
	case p.Gate && p.Guest:
		return "gate, per guest"
	case p.Gate:
		return "gate"
	case p.Guest:
		return "per guest"
	}
	return "job"
}

type autosnapOptions struct {
	Phase string
}

func newAutosnapCommand(g *globalOptions) *cobra.Command {
	o := &autosnapOptions{}
	c := &cobra.Command{
		Use:   "autosnap",
		Short: "Be cv4pve-autosnap's hook script: fire autosnap.<phase> events",
		Long: `Be the hook script of cv4pve-autosnap (--script). Reads CV4PVE_AUTOSNAP_PHASE and every
other CV4PVE_AUTOSNAP_* variable, and fires autosnap.<phase>. Phases:

  ` + strings.Join(autosnap.Phases[:5], ", ") + `,
  ` + strings.Join(autosnap.Phases[5:], ", ") + `

*-pre phases are gates: a failing hook with on_failure abort skips the phase's later hooks
and the exit status is 1, which AutoSnap writes to its log (it does not stop the snapshot
on a hook's exit status). The %CV4PVE_AUTOSNAP_NAME% placeholders work in every template.
` + adapterExit,
		// cobra.NoArgs would report a plain error, exit 1: an abort, not a bad invocation.
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("autosnap takes no arguments (cv4pve-autosnap passes everything in CV4PVE_AUTOSNAP_* variables), got %q (see %s --help)", args, c.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ev, err := autosnap.Event(o.Phase, os.Environ())
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	g.AddConfigFlags(c.Flags())
	g.AddFireFlags(c.Flags())
	g.AddFleetFlags(c.Flags())
	c.Flags().StringVar(&o.Phase, "phase", "", "phase to fire instead of CV4PVE_AUTOSNAP_PHASE (for testing hooks)")
	_ = c.RegisterFlagCompletionFunc("phase", cobra.FixedCompletions(autosnap.Phases, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func newJetbackupCommand(g *globalOptions) *cobra.Command {
	var usage strings.Builder
	for _, t := range jetbackup.Types {
		for _, pos := range []string{"pre", "post"} {
			fmt.Fprintf(&usage, "  %s\n", jetbackup.Usage(t, pos))
		}
	}
	c := &cobra.Command{
		Use:   "jetbackup <type> <pre|post> ARGS...",
		Short: "Be a JetBackup hook script: fire jetbackup.<type>.<pre|post> events",
		Long: `Be a JetBackup hook script: fires jetbackup.<type>.<pre|post>. The arguments JetBackup
passes for each type and position ([...] may be left out: only account jobs have them):

` + strings.TrimRight(usage.String(), "\n") + `

Codes are decoded into readable values too. Pre hooks are gates: the exit status is 1
when a hook aborts, and JetBackup counts a non-zero exit as the hook script failing.
A type this version does not know fires with its arguments in data.args.
` + adapterExit,
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			switch {
			case len(args) == 0:
				return jetbackup.Types, cobra.ShellCompDirectiveNoFileComp
			case len(args) == 1 && slices.Contains(jetbackup.Types, args[0]):
				return []cobra.Completion{"pre", "post"}, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := jetbackup.Event(args, os.Getenv)
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	c.Flags().SetInterspersed(false)
	g.AddConfigFlags(c.Flags())
	g.AddFireFlags(c.Flags())
	g.AddFleetFlags(c.Flags())
	return c
}

// adapterErr turns an adapter's usage error into exit status 2, and warns about an
// invocation the adapter does not know (the event then fires: a newer tool's phase must
// not fail its jobs).
func adapterErr(err error, stderr io.Writer) error {
	var ue *adapter.UsageError
	var unk *adapter.Unknown
	switch {
	case errors.As(err, &ue):
		return usageErr("%s", ue.Msg)
	case errors.As(err, &unk):
		fmt.Fprintf(stderr, "hookpoint: warning: %s\n", unk.Msg)
		return nil
	}
	return err
}

// fireAdapter fires ev the way the tools expect: one line per hook and the verdict on
// stdout, exit 1 on abort.
func fireAdapter(ctx context.Context, g *globalOptions, ev *hookpoint.Event, out io.Writer) error {
	ctx, stop, caught := signalContext(ctx)
	defer stop()
	return fireOne(ctx, caught, g, ev, out, fireOptions{output: "text"})
}
