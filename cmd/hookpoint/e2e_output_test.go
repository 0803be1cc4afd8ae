package main

// What a person sees of a hook's result: the failure line with the end of the hook's
// stderr or the start of the response (bounded, secrets masked), in emit, run and the
// adapters; gates by name; and -o json in the journal's shape.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const failureConfig = `hooks:
  - id: gate
    on: ["backup.pre", "job.pre", "vzdump.backup-start", "jetbackup.backup-account.pre", "autosnap.snap-create-pre"]
    exec:
      command: /bin/sh
      args: ["-c", "echo progress on stdout; echo 'gate says no' >&2; echo \"token is $TOKEN\" >&2; exit 7"]
      env: {TOKEN: '{{ env "HP_E2E_TOKEN" }}'}
  - id: chatty
    on: ["app.chatty"]
    exec:
      command: /bin/sh
      args: ["-c", "i=1; while [ $i -le 100 ]; do echo \"stderr line $i\" >&2; i=$((i+1)); done; exit 3"]
  - id: long-line
    on: ["app.long"]
    exec:
      command: /bin/sh
      args: ["-c", "i=0; while [ $i -lt 400 ]; do printf 'abcdefghijklmnopqrstuvwxyz' >&2; i=$((i+1)); done; echo ' THE END' >&2; exit 1"]
  - id: web
    on: ["app.web"]
    http:
      url: "RECV/web?code=503&echo=auth"
      auth: {type: bearer, token: '{{ env "HP_E2E_TOKEN" }}'}
`

// The failure line carries the end of the hook's stderr, masked, wherever a person or a
// tool's log sees it.
func TestFailureShowsHookOutput(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", failureConfig)
	env := childEnv(t, "HP_E2E_TOKEN="+testToken, "HOOKPOINT_CONFIG="+cfg)
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		code  int
		where string // stdout or stderr
	}{
		{"emit", []string{"emit", "--gate", "backup.pre"}, nil, 1, "stdout"},
		{"run", []string{"run", "--job", "nightly", "--", "true"}, nil, 75, "stderr"},
		{"vzdump", []string{"vzdump", "backup-start", "snapshot", "100"}, nil, 1, "stdout"},
		{"jetbackup", []string{"jetbackup", "backup-account", "pre", "65f1", "a1", "alice", "log1"}, nil, 1, "stdout"},
		{"autosnap", []string{"autosnap"}, []string{"CV4PVE_AUTOSNAP_PHASE=snap-create-pre", "CV4PVE_AUTOSNAP_VMID=100"}, 1, "stdout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, append(slices.Clone(env), tc.env...), tc.args...)
			wantExit(t, p, tc.code)
			out := p.stdout
			if tc.where == "stderr" {
				out = p.stderr
			}
			for _, want := range []string{"gate", "gate says no", "token is ****"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s %q\nwant it to show %q", tc.where, out, want)
				}
			}
			wantNoSecret(t, tc.name+" output", p.output())
		})
	}
}

// The excerpt is bounded: the last 10 lines, at most 1 KiB.
func TestFailureOutputBounded(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", failureConfig)
	env := childEnv(t, "HOOKPOINT_CONFIG="+cfg)
	p := runHP(t, env, "emit", "app.chatty")
	wantExit(t, p, 0)
	for i := 91; i <= 100; i++ {
		if !strings.Contains(p.stdout, fmt.Sprintf("stderr line %d\n", i)) {
			t.Errorf("stdout lacks stderr line %d:\n%s", i, p.stdout)
		}
	}
	if strings.Contains(p.stdout, "stderr line 90\n") {
		t.Errorf("stdout shows more than the last 10 lines:\n%s", p.stdout)
	}

	p = runHP(t, env, "emit", "app.long")
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "THE END") {
		t.Errorf("stdout lacks the end of the hook's stderr:\n%s", p.stdout)
	}
	if n := len(p.stdout); n > 1400 {
		t.Errorf("stdout is %d bytes for a 10 KiB stderr line; the excerpt should be bounded to about 1 KiB:\n%s", n, p.stdout)
	}
}

// An HTTP hook's failure shows the start of the response body, masked.
func TestFailureShowsResponse(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", failureConfig)
	p := runHP(t, childEnv(t, "HP_E2E_TOKEN="+testToken, "HOOKPOINT_CONFIG="+cfg), "emit", "--gate", "app.web")
	wantExit(t, p, 1)
	if !strings.Contains(p.stdout, "503") || !strings.Contains(p.stdout, "you sent Authorization: Bearer ****") {
		t.Errorf("stdout %q\nwant the status and the masked response", p.stdout)
	}
	wantNoSecret(t, "emit output", p.output())
}

// An event whose type ends in .pre is a gate unless --gate=false says otherwise.
func TestEmitGateByName(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: no
    on: ["*"]
    http: {url: "RECV/no?code=500"}
  - id: later
    order: 10
    on: ["*"]
    http: {url: "RECV/later"}
`)
	env := childEnv(t, "HOOKPOINT_CONFIG="+cfg)
	for _, tc := range []struct {
		args []string
		code int
		gate bool
	}{
		{[]string{"backup.pre"}, 1, true},
		{[]string{"--gate=false", "backup.pre"}, 0, false},
		{[]string{"backup.post"}, 0, false},
		{[]string{"--gate", "backup.post"}, 1, true},
		{[]string{"backup.prepare"}, 0, false},
	} {
		p := runHP(t, env, append([]string{"emit", "--run-id", "run_" + strings.ReplaceAll(strings.Join(tc.args, "_"), "=", "_")}, tc.args...)...)
		if p.code != tc.code {
			t.Errorf("emit %s: exit %d, want %d (gate %v)", strings.Join(tc.args, " "), p.code, tc.code, tc.gate)
		}
		for _, r := range rcv.byHook("no") {
			if r.Run == "run_"+strings.ReplaceAll(strings.Join(tc.args, "_"), "=", "_") {
				if g, _ := r.JSON["gate"].(bool); g != tc.gate {
					t.Errorf("emit %s: the event's gate is %v, want %v", strings.Join(tc.args, " "), g, tc.gate)
				}
			}
		}
	}
	help := runHP(t, env, "emit", "--help")
	if !strings.Contains(help.stdout, ".pre") || !strings.Contains(help.stdout, "--gate=false") {
		t.Errorf("emit --help does not say that .pre events are gates unless --gate=false:\n%s", help.stdout)
	}
}

// -o json writes each hook's result with the journal's field names and units: the
// same values as the journal record of that execution, plus policy and stderr.
func TestEmitJSONMatchesJournal(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: ok
    on: ["app.mix"]
    http: {url: "RECV/ok"}
  - id: script
    order: 2
    on: ["app.mix"]
    exec: {command: /bin/sh, args: ["-c", "echo out; echo err >&2; exit 5"]}
`)
	journalPath := filepath.Join(t.TempDir(), "journal.jsonl")
	p := runHP(t, childEnv(t, "HOOKPOINT_CONFIG="+cfg), "emit", "-o", "json", "--journal", journalPath, "app.mix")
	wantExit(t, p, 0)
	var out struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(p.stdout), &out); err != nil {
		t.Fatalf("-o json: %v\n%s", err, p.stdout)
	}
	f, err := os.Open(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records := map[string]map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		records[r["hook_id"].(string)] = r
	}
	if len(out.Results) != 2 || len(records) != 2 {
		t.Fatalf("%d results and %d journal records, want 2 of each", len(out.Results), len(records))
	}
	for _, res := range out.Results {
		id, _ := res["hook_id"].(string)
		rec := records[id]
		if _, ok := res["duration"]; ok {
			t.Errorf("result %s has duration (nanoseconds); the journal's name and unit is duration_ms", id)
		}
		if _, ok := res["duration_ms"].(float64); !ok {
			t.Errorf("result %s lacks duration_ms: %v", id, res)
		}
		for k, v := range rec {
			if k == "duration_ms" || k == "time" {
				continue // measured separately: the same kind of value, not the same number
			}
			if got, ok := res[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("result %s: %s = %v, journal has %v", id, k, got, v)
			}
		}
		for k := range res {
			if _, ok := rec[k]; !ok && k != "policy" && k != "stderr" {
				t.Errorf("result %s has %s, which the journal record does not", id, k)
			}
		}
	}
	if r := out.Results[0]; !strings.Contains(fmt.Sprint(r["response"]), "ok") {
		t.Errorf("result ok: response = %v, want the response excerpt", r["response"])
	}
	if r := out.Results[1]; fmt.Sprint(r["stderr"]) != "err" {
		t.Errorf("result script: stderr = %v, want err", r["stderr"])
	}
}
