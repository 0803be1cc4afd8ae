package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// hookpoint version and hookpoint --version say the version, commit, build date and Go
// version; release builds set them with -ldflags.
func TestVersion(t *testing.T) {
	t.Parallel()
	env := childEnv(t)
	p := runHP(t, env, "version")
	wantExit(t, p, 0)
	for _, want := range []string{"hookpoint 0.1.0-dev\n", "commit: ", "built: ", "go: ", runtime.Version()} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("version printed %q, want %q in it", p.stdout, want)
		}
	}
	flag := runHP(t, env, "--version")
	wantExit(t, flag, 0)
	if flag.stdout != p.stdout {
		t.Errorf("--version printed\n%s\nversion printed\n%s\nwant the same", flag.stdout, p.stdout)
	}

	bin := filepath.Join(t.TempDir(), "hookpoint")
	const pkg = "github.com/hookpoint/hookpoint/internal/version"
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X "+pkg+".Version=9.8.7 -X "+pkg+".Commit=0123abcd -X "+pkg+".Date=2030-01-02T03:04:05Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build with -ldflags: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hookpoint 9.8.7\n", "commit:  0123abcd\n", "built:   2030-01-02T03:04:05Z\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the -ldflags build printed %q, want %q in it", out, want)
		}
	}
}
