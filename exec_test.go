package hookpoint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/deliver"
)

func TestExecArgvNeverThroughAShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "PWNED")
	out := filepath.Join(dir, "argv")
	dump := script(t, dir, "dump.sh", `for a in "$@"; do printf '%s\0' "$a"; done > "`+out+`"`)
	attempts := []string{
		"; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"&& touch " + marker,
		"|| touch " + marker,
		"x | touch " + marker,
		"x\ntouch " + marker,
		"> " + marker,
		"${IFS}touch${IFS}" + marker,
		`"; touch ` + marker + `; echo "`,
		`'; touch ` + marker + `; echo '`,
	}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: argv
    on: ["*"]
    exec:
      command: %q
      args: ["--vm", "{{ .data.vm }}", "prefix-{{ .data.vm }}-suffix", "%%CV4PVE_AUTOSNAP_VM%%"]
`, dump), hookpoint.Options{})
	for _, v := range attempts {
		ev := hookpoint.NewEvent("backup.pre")
		ev.Data["vm"] = v
		res, err := eng.Fire(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Results[0]; r.Outcome != hookpoint.OutcomeOK {
			t.Fatalf("%q: %s %s", v, r.Outcome, r.Error)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		want := []string{"--vm", v, "prefix-" + v + "-suffix", v}
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("%q: argv %q, want %q", v, got, want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%q: a shell ran the value: %s exists", v, marker)
		}
	}
}

func TestExecEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envOut := filepath.Join(dir, "env")
	stdinOut := filepath.Join(dir, "stdin")
	pwdOut := filepath.Join(dir, "pwd")
	work := t.TempDir()
	probe := script(t, dir, "probe.sh", `env > "`+envOut+`"; cat > "`+stdinOut+`"; pwd > "`+pwdOut+`"`)
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: probe-hook
    on: ["autosnap.*"]
    exec:
      command: %q
      env: {DUMP_TARGET: "s3://bucket/{{ .data.vmid }}", SECRET_TOKEN: '{{ env "TOKEN" }}', HOME: /hook-home}
      stdin: json
      workdir: %q
`, probe, work), hookpoint.Options{
		Environ:   []string{"PATH=/usr/bin:/bin", "HOME=/inherited-home", "INHERITED=yes", "HOOKPOINT_DATA_VMID=stale"},
		LookupEnv: func(k string) (string, bool) { return "tkn-123", k == "TOKEN" },
	})
	ev := hookpoint.NewEvent("autosnap.snap-create-pre")
	ev.Status = "success"
	ev.Run.ID = "run_env"
	ev.Data["vmid"] = "100"
	ev.Data["vm-name"] = "web 01; $(id)"
	ev.Data["keep"] = 3
	ev.SourceEnv = map[string]string{"CV4PVE_AUTOSNAP_VMID": "100", "CV4PVE_AUTOSNAP_PHASE": "snap-create-pre"}
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Results[0]; r.Outcome != hookpoint.OutcomeOK || r.ExitCode == nil || *r.ExitCode != 0 {
		t.Fatalf("%+v", r)
	}
	b, _ := os.ReadFile(envOut)
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		if _, dup := env[k]; dup {
			t.Errorf("%s is set twice", k)
		}
		env[k] = v
	}
	for k, v := range map[string]string{
		"HOOKPOINT_EVENT":        "autosnap.snap-create-pre",
		"HOOKPOINT_STATUS":       "success",
		"HOOKPOINT_RUN_ID":       "run_env",
		"HOOKPOINT_HOOK":         "probe-hook",
		"HOOKPOINT_DATA_VMID":    "100",
		"HOOKPOINT_DATA_VM_NAME": "web 01; $(id)",
		"HOOKPOINT_DATA_KEEP":    "3",
		"CV4PVE_AUTOSNAP_VMID":   "100",
		"CV4PVE_AUTOSNAP_PHASE":  "snap-create-pre",
		"DUMP_TARGET":            "s3://bucket/100",
		"SECRET_TOKEN":           "tkn-123",
		"HOME":                   "/hook-home",
		"INHERITED":              "yes",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	b, _ = os.ReadFile(stdinOut)
	var in map[string]any
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("stdin %q: %v", b, err)
	}
	if in["id"] != ev.ID || in["type"] != ev.Type || in["status"] != "success" || in["run_id"] != "run_env" {
		t.Errorf("stdin is not the event: %s", b)
	}
	if d, _ := in["data"].(map[string]any); d["vm-name"] != "web 01; $(id)" || d["keep"] != float64(3) {
		t.Errorf("stdin data: %s", b)
	}
	b, _ = os.ReadFile(pwdOut)
	real, _ := filepath.EvalSymlinks(work)
	if got := strings.TrimSpace(string(b)); got != real {
		t.Errorf("workdir %q, want %q", got, real)
	}
}

func TestExecShellGetsValuesOnlyThroughEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "PWNED")
	out := filepath.Join(dir, "out")
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: sh
    on: ["*"]
    exec:
      shell: true
      command: 'printf "%%s|%%s" "$HOOKPOINT_DATA_NAME" "$LABEL" > %s'
      env: {LABEL: "label-{{ .data.name }}"}
`, out), hookpoint.Options{})
	for _, v := range []string{"$(touch " + marker + ")", "`touch " + marker + "`", "; touch " + marker, "x\"; touch " + marker + "; \""} {
		ev := hookpoint.NewEvent("backup.pre")
		ev.Data["name"] = v
		res, err := eng.Fire(context.Background(), ev)
		if err != nil || res.Results[0].Outcome != hookpoint.OutcomeOK {
			t.Fatalf("%q: %v %+v", v, err, res.Results)
		}
		b, _ := os.ReadFile(out)
		if string(b) != v+"|label-"+v {
			t.Errorf("%q: the script saw %q", v, b)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%q: the shell ran the value", v)
		}
	}
	// A shell hook cannot take args: values would land in the script.
	if _, err := hookpoint.ParseConfig("bad.yaml", []byte(`hooks: [{id: sh, on: ["*"], exec: {shell: true, command: "echo", args: ["{{ .data.x }}"]}}]`)); err == nil {
		t.Error("shell: true with args was accepted")
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	eng := engine(t, `
hooks:
  - {id: zero, order: 1, on: ["*"], exec: {command: /bin/sh, args: ["-c", "exit 0"]}}
  - {id: three, order: 2, on: ["*"], exec: {command: /bin/sh, args: ["-c", "echo failing >&2; exit 3"]}}
  - {id: missing, order: 3, on: ["*"], exec: {command: /nonexistent/hook}}
`, hookpoint.Options{Recorder: rec})
	out := fireOne(t, eng)
	if got := ids(out.Results); got != "zero:ok,three:failed,missing:failed" {
		t.Fatalf("results %s", got)
	}
	r := out.Results[1]
	if r.ExitCode == nil || *r.ExitCode != 3 || r.Error != "exit status 3" || r.Policy != "warn" {
		t.Errorf("three: %+v", r)
	}
	if recs := rec.all(); recs[1].ExitCode == nil || *recs[1].ExitCode != 3 || recs[1].Response != "failing\n" {
		t.Errorf("three: record %+v", recs[1])
	}
	if m := out.Results[2]; m.ExitCode != nil || m.Error == "" {
		t.Errorf("missing: %+v", m)
	}
}

func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	s := script(t, dir, "spawn.sh", `sleep 300 &
echo $! > "`+pidfile+`.tmp"; mv "`+pidfile+`.tmp" "`+pidfile+`"
echo started
wait`)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`hooks: [{id: slow, on: ["*"], exec: {command: %q, timeout: 1s}}]`, s), hookpoint.Options{Recorder: rec})
	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	done := make(chan *hookpoint.Outcome, 1)
	go func() {
		out, _ := eng.Fire(context.Background(), ev)
		done <- out
	}()
	pid := readPID(t, pidfile)
	var out *hookpoint.Outcome
	select {
	case out = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the hook outlived its timeout")
	}
	r := out.Results[0]
	if r.Outcome != hookpoint.OutcomeTimeout || out.Verdict != hookpoint.Abort || out.AbortedBy() == nil {
		t.Errorf("outcome %s verdict %s", r.Outcome, out.Verdict)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0].Outcome != "timeout" || recs[0].Response != "started\n" {
		t.Errorf("records %+v", recs)
	}
	waitFor(t, "the background grandchild to be killed with the group", func() bool { return processGone(pid) })
}

func TestExecOutputBounded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	eng := engine(t, `hooks: [{id: loud, on: ["*"], exec: {command: /bin/sh, args: ["-c", "head -c 10485760 /dev/zero | tr '\\0' y"]}}]`, hookpoint.Options{Recorder: rec})
	out := fireOne(t, eng)
	if out.Results[0].Outcome != hookpoint.OutcomeOK {
		t.Fatalf("%+v", out.Results[0])
	}
	resp := rec.all()[0].Response
	if len(resp) > deliver.MaxExcerpt+64 || !strings.HasPrefix(resp, "yyyy") || !strings.HasSuffix(resp, "(truncated)") {
		t.Errorf("journal response of %d bytes, want at most %d and marked truncated", len(resp), deliver.MaxExcerpt+64)
	}
}
