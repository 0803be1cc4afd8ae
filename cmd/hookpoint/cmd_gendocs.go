package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/version"
)

// genDocsOptions are the options of the hidden gen-docs command, which the packaging
// scripts run to write man pages and shell completions from the command tree.
type genDocsOptions struct {
	Dir string
}

func newGenDocsCommand() *cobra.Command {
	o := &genDocsOptions{}
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Write man pages (DIR/man1) and bash, zsh and fish completions (DIR/completion)",
		Hidden: true,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("gen-docs takes one directory (see %s --help)", c.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			return runGenDocs(cmd.Root(), o, cmd.OutOrStdout())
		},
	}
}

// Names of the completion files gen-docs writes, as the shells look them up.
const (
	completionBash = "hookpoint.bash" // installed as /usr/share/bash-completion/completions/hookpoint
	completionZsh  = "_hookpoint"
	completionFish = "hookpoint.fish"
)

// runGenDocs writes one man page per available command of root's tree, named as
// cobra names them (hookpoint-check.1), and the three completion scripts.
func runGenDocs(root *cobra.Command, o *genDocsOptions, out io.Writer) error {
	manDir := filepath.Join(o.Dir, "man1")
	compDir := filepath.Join(o.Dir, "completion")
	for _, d := range []string{manDir, compDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	for name, gen := range map[string]func(io.Writer) error{
		completionBash: func(w io.Writer) error { return root.GenBashCompletionV2(w, true) },
		completionZsh:  root.GenZshCompletion,
		completionFish: func(w io.Writer) error { return root.GenFishCompletion(w, true) },
	} {
		if err := writeFile(filepath.Join(compDir, name), gen); err != nil {
			return fmt.Errorf("completion: %w", err)
		}
	}

	// The pages of a release carry its date, not today's, so builds repeat exactly.
	// Without one, cobra takes SOURCE_DATE_EPOCH, else the current time.
	header := &doc.GenManHeader{
		Title:   "HOOKPOINT",
		Section: "1",
		Source:  "hookpoint " + version.Version,
		Manual:  "hookpoint manual",
	}
	if t, err := time.Parse(time.RFC3339, version.Date); err == nil {
		header.Date = &t
	}
	// cobra writes the pages in markdown, where <phase> would vanish as HTML and
	// CV4PVE_AUTOSNAP_* would turn italic: the texts are meant literally. This changes
	// the command tree, which gen-docs leaves as it exits.
	seen := map[*pflag.Flag]bool{}
	walk(root, func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		c.Use, c.Short, c.Long = markdownLiteral(c.Use), markdownLiteral(c.Short), markdownLiteral(c.Long)
		literalUsage(c.Flags(), seen)
		literalUsage(c.PersistentFlags(), seen)
	})
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	if err := genListenPage(root, header, manDir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}

	pages, _ := filepath.Glob(filepath.Join(manDir, "*.1"))
	fmt.Fprintf(out, "%s: %d man pages, 3 completion scripts\n", o.Dir, len(pages))
	return nil
}

// genListenPage writes listen's page again, with its real options: listen parses
// webhook's flags itself (one dash or two), so cobra knows none of them, and the global
// flags it would list as inherited do not apply to it. The page is made from a copy of
// the command under a parent without flags.
func genListenPage(root *cobra.Command, header *doc.GenManHeader, dir string) error {
	c, _, err := root.Find([]string{"listen"})
	if err != nil || c == root {
		return nil // no listen command: nothing to correct
	}
	page := &cobra.Command{Use: c.Use, Short: c.Short, Long: c.Long, Example: c.Example, DisableAutoGenTag: true}
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	(&listenOptions{}).AddFlags(fs)
	page.Flags().AddGoFlagSet(fs)
	literalUsage(page.Flags(), map[*pflag.Flag]bool{})
	(&cobra.Command{Use: root.Name()}).AddCommand(page)
	h := *header
	return writeFile(filepath.Join(dir, "hookpoint-listen.1"), func(w io.Writer) error { return doc.GenMan(page, &h, w) })
}

// markdownLiteral escapes the characters markdown would read as markup.
func markdownLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_<>[]#|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// literalUsage escapes the usage text of every flag of fs not seen yet.
func literalUsage(fs *pflag.FlagSet, seen map[*pflag.Flag]bool) {
	fs.VisitAll(func(f *pflag.Flag) {
		if !seen[f] {
			seen[f] = true
			f.Usage = markdownLiteral(f.Usage)
		}
	})
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, s := range c.Commands() {
		walk(s, fn)
	}
}

func writeFile(path string, gen func(io.Writer) error) error {
	var b strings.Builder
	if err := gen(&b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
