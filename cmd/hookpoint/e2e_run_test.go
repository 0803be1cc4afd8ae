package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// recorderHook is a catch-all hook that runs first for every event and sends the
// default body (the event as a CloudEvents document) to the receiver.
const recorderHook = `
  - id: rec
    order: -10
    on: ["*"]
    http: {url: "RECV/rec"}
`

func TestRunSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		kind string // --kind; "" leaves the default
		env  []string
	}{
		{name: "default kind", kind: ""},
		{name: "backup kind and run id from env", kind: "backup", env: []string{"HOOKPOINT_RUN_ID=run_e2e_fixed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			kind := tc.kind
			if kind == "" {
				kind = "job"
			}
			envOut := filepath.Join(t.TempDir(), "exec-hook.out")
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook+`
  - id: templated
    on: ["`+kind+`.pre"]
    http:
      url: "RECV/tmpl?host={{ .data.host }}&job={{ .run.job }}"
      body: {host: "{{ .data.host }}", note: "{{ .data.note }}", job: "{{ .run.job }}", kind: "{{ .run.kind }}", run: "{{ .run.id }}"}
  - id: script
    on: ["`+kind+`.*"]
    exec:
      shell: true
      command: 'printf "%s %s %s\n" "$HOOKPOINT_EVENT" "$HOOKPOINT_DATA_HOST" "$HOOKPOINT_RUN_ID" >> "$OUT"'
      env: {OUT: "`+envOut+`"}
  - id: monitor
    on: ["*.end"]
    status: [success]
    mode: async
    http: {url: "RECV/monitor"}
`)
			args := []string{"run", "--config", cfg, "--job", "nightly", "--var", "host=db-1", "--var", `note=a "b" & c`}
			if tc.kind != "" {
				args = append(args, "--kind", tc.kind)
			}
			args = append(args, "--", "sh", "-c", "echo hello-from-job; echo complaint-from-job >&2")
			p := runHP(t, childEnv(t, tc.env...), args...)
			wantExit(t, p, 0)
			if !strings.Contains(p.stdout, "hello-from-job") {
				t.Errorf("the command's stdout was not streamed through: %q", p.stdout)
			}
			if !strings.Contains(p.stderr, "complaint-from-job") {
				t.Errorf("the command's stderr was not streamed through: %q", p.stderr)
			}

			reqs := wantEvents(t, rcv, "rec", kind+".pre", kind+".post", kind+".end")
			pre, post, end := reqs[0], reqs[1], reqs[2]
			if gate, _ := pre.JSON["gate"].(bool); !gate {
				t.Errorf("%s: gate = %v, want true", pre.Event, pre.JSON["gate"])
			}
			wantStatus(t, pre, "")
			wantStatus(t, post, "success")
			wantStatus(t, end, "success")
			wantNumber(t, end, "exit_code", 0)
			if d, ok := end.data(t)["duration"].(float64); !ok || d < 0 {
				t.Errorf("%s: data.duration = %#v, want a number of seconds", end.Event, end.data(t)["duration"])
			}
			runID := pre.str("runid")
			if runID == "" {
				t.Fatalf("%s carries no run id: %s", pre.Event, pre.Body)
			}
			if len(tc.env) > 0 && runID != "run_e2e_fixed" {
				t.Errorf("run id %q, want HOOKPOINT_RUN_ID's run_e2e_fixed", runID)
			}
			for _, r := range reqs {
				if r.str("runid") != runID || r.Run != runID {
					t.Errorf("%s: run id body %q header %q, want %q on every event", r.Event, r.str("runid"), r.Run, runID)
				}
				if got := r.data(t)["host"]; got != "db-1" {
					t.Errorf("%s: data.host = %#v, want the --var value db-1", r.Event, got)
				}
				if got := r.str("subject"); got != "nightly" {
					t.Errorf("%s: subject = %q, want the job name", r.Event, got)
				}
			}

			// the async hook was delivered before hookpoint exited
			wantStatus(t, wantEvents(t, rcv, "monitor", kind+".end")[0], "success")

			tmpl := wantEvents(t, rcv, "templated", kind+".pre")[0]
			if got := tmpl.Query.Get("host"); got != "db-1" {
				t.Errorf("templated URL: host = %q, want db-1", got)
			}
			want := map[string]string{"host": "db-1", "note": `a "b" & c`, "job": "nightly", "kind": kind, "run": runID}
			for k, v := range want {
				if got := tmpl.str(k); got != v {
					t.Errorf("templated body: %s = %q, want %q (body %s)", k, got, v, tmpl.Body)
				}
			}

			out, err := os.ReadFile(envOut)
			if err != nil {
				t.Fatalf("the exec hook did not run: %v", err)
			}
			wantLines := []string{kind + ".pre db-1 " + runID, kind + ".post db-1 " + runID, kind + ".end db-1 " + runID}
			if got := strings.Split(strings.TrimSpace(string(out)), "\n"); strings.Join(got, "|") != strings.Join(wantLines, "|") {
				t.Errorf("the exec hook saw %q, want %q", got, wantLines)
			}
		})
	}
}

func TestRunPreAbort(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook+`
  - id: gate
    on: ["job.pre"]
    http: {url: "RECV/gate?code=500"}
  - id: after-gate
    order: 10
    on: ["job.pre"]
    http: {url: "RECV/after"}
`)
	marker := filepath.Join(t.TempDir(), "command-ran")
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	p := runHP(t, childEnv(t), "run", "--config", cfg, "--journal", journal, "--job", "nightly", "--", "touch", marker)
	wantExit(t, p, 75)
	if fileExists(marker) {
		t.Error("the command ran although the pre hook aborted the job")
	}
	if !strings.Contains(p.stderr, "gate") {
		t.Errorf("stderr does not name the aborting hook: %q", p.stderr)
	}
	reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
	wantEvents(t, rcv, "gate", "job.pre")
	wantEvents(t, rcv, "after-gate") // stopped by the abort
	abort, end := reqs[1], reqs[2]
	wantStatus(t, abort, "fail")
	wantStatus(t, end, "fail")
	wantNumber(t, abort, "exit_code", 75)
	wantNumber(t, end, "exit_code", 75)
	if e, _ := abort.data(t)["error"].(string); !strings.Contains(e, "gate") {
		t.Errorf("abort: data.error = %q, want it to name the gate hook", e)
	}
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r struct {
			EventType string `json:"event_type"`
			HookID    string `json:"hook_id"`
			Outcome   string `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		got = append(got, r.EventType+"/"+r.HookID+"/"+r.Outcome)
	}
	want := "job.pre/rec/ok job.pre/gate/failed job.pre/after-gate/skipped job.abort/rec/ok job.end/rec/ok"
	if strings.Join(got, " ") != want {
		t.Errorf("journal %q, want %q", got, want)
	}
}

func TestRunCommandFails(t *testing.T) {
	t.Parallel()
	notExec := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		command []string
		code    int
		errText string // in the abort event's data.error
	}{
		{"exits 3", []string{"sh", "-c", "exit 3"}, 3, "3"},
		{"not on PATH", []string{"hookpoint-e2e-no-such-command"}, 127, "cannot start"},
		{"no such file", []string{"/nonexistent/hookpoint-e2e"}, 127, "cannot start"},
		{"not executable", []string{notExec}, 126, "cannot start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
			p := runHP(t, childEnv(t), append([]string{"run", "--config", cfg, "--job", "j", "--"}, tc.command...)...)
			wantExit(t, p, tc.code)
			reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
			abort, end := reqs[1], reqs[2]
			wantStatus(t, abort, "fail")
			wantStatus(t, end, "fail")
			wantNumber(t, abort, "exit_code", float64(tc.code))
			wantNumber(t, end, "exit_code", float64(tc.code))
			if e, _ := abort.data(t)["error"].(string); !strings.Contains(e, tc.errText) {
				t.Errorf("abort: data.error = %q, want it to contain %q", e, tc.errText)
			}
		})
	}
}

func TestRunPostHookFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy string // on_failure of the failing post hook; "" for the default
		status string // of KIND.end
	}{
		{"warn", "warning"},
		{"", "warning"}, // warn is the default for events that are not gates
		{"ignore", "success"},
	} {
		t.Run("on_failure="+tc.policy, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			policy := ""
			if tc.policy != "" {
				policy = "\n    on_failure: " + tc.policy
			}
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook+`
  - id: post-fails
    on: ["job.post"]`+policy+`
    http: {url: "RECV/post?code=500"}
`)
			p := runHP(t, childEnv(t), "run", "--config", cfg, "--job", "j", "--", "true")
			wantExit(t, p, 0)
			reqs := wantEvents(t, rcv, "rec", "job.pre", "job.post", "job.end")
			wantEvents(t, rcv, "post-fails", "job.post")
			wantStatus(t, reqs[2], tc.status)
			wantNumber(t, reqs[2], "exit_code", 0)
		})
	}
}

func TestRunSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		// job is the command; DIR is replaced by the marker directory. It writes
		// DIR/started once running.
		job  []string
		code int
		// trapped is what the job writes to DIR/got-signal when the signal reaches it;
		// "" for a job that just dies of it.
		trapped string
	}{
		{"SIGTERM trapped", syscall.SIGTERM, []string{"sh", "TRAP", "DIR"}, 143, "TERM"},
		{"SIGINT trapped", syscall.SIGINT, []string{"sh", "TRAP", "DIR"}, 130, "INT"},
		{"SIGTERM kills the job", syscall.SIGTERM, []string{"sh", "-c", `echo started > "$1/started"; exec sleep 60`, "sh", "DIR"}, 143, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
			dir := t.TempDir()
			args := []string{"run", "--config", cfg, "--job", "j", "--"}
			for _, a := range tc.job {
				a = strings.ReplaceAll(a, "TRAP", testdata(t, "trap.sh"))
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			hp := startHookpoint(t, childEnv(t), args...)
			eventually(t, "job.pre at the receiver", func() bool { return rcv.saw("rec", "job.pre") })
			eventually(t, "the job to start", func() bool { return fileExists(filepath.Join(dir, "started")) })
			if err := hp.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			p := hp.wait(t)
			wantExit(t, p, tc.code)
			if tc.trapped != "" {
				got, err := os.ReadFile(filepath.Join(dir, "got-signal"))
				if err != nil {
					t.Fatalf("the signal was not forwarded to the job: %v", err)
				}
				if strings.TrimSpace(string(got)) != tc.trapped {
					t.Errorf("the job got %q, want %s", got, tc.trapped)
				}
			}
			reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
			abort, end := reqs[1], reqs[2]
			wantStatus(t, abort, "cancelled")
			wantStatus(t, end, "cancelled")
			wantNumber(t, abort, "exit_code", float64(tc.code))
			wantNumber(t, end, "exit_code", float64(tc.code))
			if e, _ := abort.data(t)["error"].(string); e == "" {
				t.Errorf("abort: no data.error")
			}
		})
	}
}

// A signal while a pre hook is still waiting for its receiver cancels the job before
// it starts.
func TestRunSignalDuringPreHook(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook+`
  - id: slow-gate
    on: ["job.pre"]
    http: {url: "RECV/slow?hang=1", timeout: 50s}
`)
	marker := filepath.Join(t.TempDir(), "command-ran")
	hp := startHookpoint(t, childEnv(t), "run", "--config", cfg, "--job", "j", "--", "touch", marker)
	eventually(t, "the slow pre hook to reach the receiver", func() bool { return rcv.saw("slow-gate", "job.pre") })
	if err := hp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p := hp.wait(t)
	wantExit(t, p, 143)
	if fileExists(marker) {
		t.Error("the command started although the run was cancelled before it")
	}
	reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
	wantStatus(t, reqs[1], "cancelled")
	wantStatus(t, reqs[2], "cancelled")
	wantNumber(t, reqs[2], "exit_code", 143)
}

func TestRunInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: a
    on: ["job.pre"]
    http: {url: "http://127.0.0.1:1/", method: FETCH}
`)
	marker := filepath.Join(t.TempDir(), "command-ran")
	p := runHP(t, childEnv(t), "run", "--config", cfg, "--job", "j", "--", "touch", marker)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, cfg+":4:") || !strings.Contains(p.stderr, "hooks[0].http.method") {
		t.Errorf("stderr does not name the file, line and field:\n%s", p.stderr)
	}
	if fileExists(marker) {
		t.Error("the command ran with an invalid config")
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
	t.Cleanup(func() { // after the parallel subtests
		if n := len(rcv.requests()); n != 0 {
			t.Errorf("usage errors fired %d hook(s)", n)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no job", []string{"--", "true"}},
		{"no command", []string{"--job", "j"}},
		{"status given", []string{"--job", "j", "--status", "success", "--", "true"}},
		{"empty kind", []string{"--job", "j", "--kind", "", "--", "true"}},
		{"bad var", []string{"--job", "j", "--var", "novalue", "--", "true"}},
		{"unknown flag", []string{"--job", "j", "--bogus", "--", "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t), append([]string{"run", "--config", cfg}, tc.args...)...)
			wantExit(t, p, 2)
			if !strings.HasPrefix(p.stderr, "hookpoint: ") {
				t.Errorf("stderr %q, want a hookpoint: message", p.stderr)
			}
		})
	}
}

// --timeout stops a command that runs too long: abort and end report fail with the
// timeout, and --kill-after follows with SIGKILL when the command ignores SIGTERM.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
	p := runHP(t, childEnv(t), "run", "--config", cfg, "--job", "slow", "--timeout", "300ms", "--kill-after", "300ms",
		"--", "sh", "-c", "trap '' TERM; sleep 30")
	wantExit(t, p, 128+int(syscall.SIGKILL))
	reqs := wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
	wantStatus(t, reqs[1], "fail")
	wantStatus(t, reqs[2], "fail")
	if e, _ := reqs[2].data(t)["error"].(string); !strings.Contains(e, "timeout") {
		t.Errorf("end error = %q, want it to name the timeout", e)
	}
}

// The wrapped command sees the run id, so a nested emit joins the run.
func TestRunPassesRunID(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook)
	out := filepath.Join(t.TempDir(), "env")
	p := runHP(t, childEnv(t, "OUT="+out), "run", "--config", cfg, "--job", "nested", "--kind", "backup",
		"--", "sh", "-c", `printf '%s|%s|%s' "$HOOKPOINT_RUN_ID" "$HOOKPOINT_JOB" "$HOOKPOINT_KIND" > "$OUT"`)
	wantExit(t, p, 0)
	reqs := wantEvents(t, rcv, "rec", "backup.pre", "backup.post", "backup.end")
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := reqs[0].Run + "|nested|backup"
	if reqs[0].Run == "" || string(got) != want {
		t.Errorf("command saw %q, want %q", got, want)
	}
}

// After the signal that cancelled the job, the end hooks still run; a second signal
// cancels them too, so hookpoint never keeps an operator (or systemd) waiting on a
// hanging receiver.
func TestRunSecondSignalCancelsEndHooks(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:`+recorderHook+`
  - id: slow-end
    on: ["job.end"]
    http: {url: "RECV/slow?hang=1", timeout: 10m}
`)
	dir := t.TempDir()
	hp := startHookpoint(t, childEnv(t), "run", "--config", cfg, "--job", "j", "--",
		"sh", "-c", `echo started > "$1/started"; exec sleep 60`, "sh", dir)
	eventually(t, "the job to start", func() bool { return fileExists(filepath.Join(dir, "started")) })
	if err := hp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hanging end hook to be called", func() bool { return rcv.saw("slow-end", "job.end") })
	if err := hp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p := hp.wait(t) // bounded by procTimeout: fails if hookpoint waits out the 10m hook timeout
	wantExit(t, p, 143)
	wantEvents(t, rcv, "rec", "job.pre", "job.abort", "job.end")
}

// emit cancelled by a signal exits 128+N, and a cancelled gate is never "proceed".
func TestEmitCancelledBySignal(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: slow-gate
    on: ["app.gate"]
    on_failure: warn
    http: {url: "RECV/slow?hang=1", timeout: 50s}
`)
	hp := startHookpoint(t, childEnv(t), "emit", "--config", cfg, "--gate", "app.gate")
	eventually(t, "the gate hook to be called", func() bool { return rcv.saw("slow-gate", "app.gate") })
	if err := hp.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p := hp.wait(t)
	wantExit(t, p, 130)
	if !strings.Contains(p.stdout, "app.gate: abort") {
		t.Errorf("a cancelled gate must not proceed; stdout:\n%s", p.stdout)
	}
}
