package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestGenDocs runs the hidden gen-docs command as the packaging script does and checks
// that every command a user can run has its man page (and nothing else has one), and
// that the completion scripts are there.
func TestGenDocs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"gen-docs", dir})
	if err := root.Execute(); err != nil {
		t.Fatalf("gen-docs: %v\n%s", err, out.String())
	}

	// Every available command, cobra's completion command included (Execute added it).
	var want []string
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root || c.IsAdditionalHelpTopicCommand() {
			return
		}
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, s := range c.Commands() {
			visit(s)
		}
	}
	visit(root)
	for _, must := range []string{"hookpoint.1", "hookpoint-check.1", "hookpoint-listen.1", "hookpoint-run.1", "hookpoint-completion-bash.1"} {
		if !slices.Contains(want, must) {
			t.Errorf("command tree has no %s; commands: %v", must, want)
		}
	}

	entries, err := os.ReadDir(filepath.Join(dir, "man1"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("man pages:\n got %v\nwant %v", got, want)
	}
	for _, name := range got {
		b, err := os.ReadFile(filepath.Join(dir, "man1", name))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		cmd := strings.TrimSuffix(name, ".1")
		if !strings.Contains(page, `.TH "HOOKPOINT" "1"`) || !strings.Contains(page, ".SH NAME\n"+cmd+" - ") ||
			!strings.Contains(page, ".SH SYNOPSIS") {
			t.Errorf("%s is not a man page of %s:\n%.300s", name, cmd, page)
		}
		if strings.Contains(page, "gen-docs") {
			t.Errorf("%s mentions the hidden gen-docs command", name)
		}
	}

	// listen's page lists webhook's flags, which cobra does not parse, and not the global
	// flags, which listen does not take.
	listen, _ := os.ReadFile(filepath.Join(dir, "man1", "hookpoint-listen.1"))
	if !strings.Contains(string(listen), "--hooks") || !strings.Contains(string(listen), "--max-concurrency") {
		t.Errorf("listen's page lacks its flags:\n%s", listen)
	}
	if strings.Contains(string(listen), "--journal") {
		t.Errorf("listen's page lists the global flags it does not take:\n%s", listen)
	}

	// Texts are literal, not markdown: <phase> is not dropped as HTML.
	vzdump, _ := os.ReadFile(filepath.Join(dir, "man1", "hookpoint-vzdump.1"))
	if !strings.Contains(string(vzdump), "vzdump <phase> [<mode> <vmid>]") {
		t.Errorf("vzdump's synopsis lost its arguments:\n%s", vzdump)
	}

	for _, name := range []string{completionBash, completionZsh, completionFish} {
		b, err := os.ReadFile(filepath.Join(dir, "completion", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("hookpoint")) || !bytes.Contains(b, []byte("__complete")) {
			t.Errorf("%s does not look like hookpoint's completion script:\n%.300s", name, b)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command(bash, "-n", filepath.Join(dir, "completion", completionBash)).CombinedOutput(); err != nil {
			t.Errorf("bash -n on the bash completion: %v\n%s", err, out)
		}
	}
}

func TestGenDocsUsage(t *testing.T) {
	t.Parallel()
	root := newRootCommand()
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"gen-docs"})
	if code := exitCodeQuiet(root.Execute()); code != exitUsage {
		t.Errorf("gen-docs without a directory: exit %d, want %d", code, exitUsage)
	}
}

// exitCodeQuiet is exitCode without its message on stderr.
func exitCodeQuiet(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
