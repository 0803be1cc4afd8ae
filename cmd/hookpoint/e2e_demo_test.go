package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// examples/demo.sh reports the wrapped job's exit status, whatever it is, and exits with
// it. It runs here with a stand-in for go that "builds" a hookpoint which exits 3 and a
// receiver that waits, so the test checks the script, not the build.
func TestDemoScriptReportsExitStatus(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write := func(path, text string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "examples", "demo.sh"), string(src), 0o755)
	tools := t.TempDir()
	write(filepath.Join(tools, "go"), `#!/bin/sh
# go build -o bin/ ...: a hookpoint that fails the way a job can, and a receiver that waits.
mkdir -p bin
printf '#!/bin/sh\necho "hookpoint $*"\nexit 3\n' > bin/hookpoint
printf '#!/bin/sh\nexec sleep 30\n' > bin/receiver
chmod +x bin/hookpoint bin/receiver
`, 0o755)
	cmd := exec.Command("/bin/sh", filepath.Join(root, "examples", "demo.sh"))
	cmd.Env = []string{"PATH=" + tools + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	t.Logf("demo.sh:\n%s", out)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "exit status: 3") {
		t.Errorf("demo.sh did not report the exit status 3 of the run")
	}
	if code != 3 {
		t.Errorf("demo.sh exited %d, want the run's 3", code)
	}
}
