package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

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
// job or guest), 2 on a bad invocation or config.

func newVzdumpCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "vzdump <phase> [<mode> <vmid>]",
		Short: "Be vzdump's hook script (--script): fire vzdump.<phase> events",
		Long: `Be the hook script of Proxmox VE's vzdump: set it with 'vzdump --script' or 'script:' in
/etc/vzdump.conf (through a wrapper that passes --config). Reads VMTYPE, DUMPDIR, STOREID,
HOSTNAME, TARGET and LOGFILE from the environment. Gate phases (job-init, job-start,
backup-start, pre-stop) exit 1 when a hook aborts, so vzdump stops that job or guest.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := vzdump.Event(args, os.Getenv)
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	c.Flags().SetInterspersed(false)
	return c
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
other CV4PVE_AUTOSNAP_* variable. *-pre phases are gates: a failing hook with on_failure
abort skips the phase's later hooks and the exit status is 1, which AutoSnap writes to
its log (it does not stop the snapshot on a hook's exit status). The
%CV4PVE_AUTOSNAP_NAME% placeholders work in every template.`,
		// cobra.NoArgs would report a plain error, exit 1: an abort, not a bad invocation.
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("autosnap takes no arguments (cv4pve-autosnap passes everything in CV4PVE_AUTOSNAP_* variables), got %q (see %s --help)", args, c.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ev, err := autosnap.Event(o.Phase, os.Environ())
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&o.Phase, "phase", "", "phase to fire instead of CV4PVE_AUTOSNAP_PHASE (for testing hooks)")
	return c
}

func newJetbackupCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "jetbackup <type> <pre|post> ARGS...",
		Short: "Be a JetBackup hook script: fire jetbackup.<type>.<pre|post> events",
		Long: `Be a JetBackup hook script. Types: backup, backup-account, clone, clone-account, restore,
download, each with the positional arguments JetBackup passes; codes are decoded into
readable values too. Pre hooks are gates: the exit status is 1 when a hook aborts, and
JetBackup counts a non-zero exit as the hook script failing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := jetbackup.Event(args, os.Getenv)
			if err := adapterErr(err, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return fireAdapter(cmd.Context(), g, ev, cmd.OutOrStdout())
		},
	}
	c.Flags().SetInterspersed(false)
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
	return fireOne(ctx, g, ev, out, fireOptions{output: "text"})
}
