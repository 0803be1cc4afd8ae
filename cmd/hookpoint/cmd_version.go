package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint/internal/version"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version (as --version does)",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("version takes no arguments, got %q (see %s --help)", args, c.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout())
		},
	}
}

func runVersion(out io.Writer) error {
	_, err := fmt.Fprint(out, version.Get().String())
	return err
}
