package main

import (
	"slices"
	"strings"
	"testing"
)

// A phase or hook type this version does not know (a newer tool's) fires as a
// notification with what could be read, warns on stderr and exits 0, even when a hook
// fails: failing the tool's job for it would stop every backup until hookpoint is
// upgraded.
func TestAdapterUnknownPhases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		typ   string
		data  map[string]any // expected among the event's data
		known string         // a known phase or type the warning lists
	}{
		{"vzdump guest phase", []string{"vzdump", "backup-verify", "snapshot", "100"}, []string{"STOREID=local", "VMTYPE=qemu"},
			"vzdump.backup-verify", map[string]any{"phase": "backup-verify", "mode": "snapshot", "vmid": "100", "storeid": "local"}, "backup-start"},
		{"vzdump job phase", []string{"vzdump", "job-verify"}, []string{"STOREID=local"},
			"vzdump.job-verify", map[string]any{"phase": "job-verify", "storeid": "local"}, "job-init"},
		{"vzdump other arguments", []string{"vzdump", "job-verify", "a", "b", "c"}, nil,
			"vzdump.job-verify", map[string]any{"args": []any{"a", "b", "c"}}, "job-init"},
		{"autosnap", []string{"autosnap"}, []string{"CV4PVE_AUTOSNAP_PHASE=snap-verify-pre", "CV4PVE_AUTOSNAP_LABEL=daily"},
			"autosnap.snap-verify-pre", map[string]any{"phase": "snap-verify-pre", "label": "daily"}, "snap-create-pre"},
		{"autosnap --phase", []string{"autosnap", "--phase", "snap-verify-post"}, []string{"CV4PVE_AUTOSNAP_VMID=100"},
			"autosnap.snap-verify-post", map[string]any{"phase": "snap-verify-post", "vmid": "100"}, "snap-create-pre"},
		{"jetbackup", []string{"jetbackup", "archive", "pre", "65f1", "Weekly archive", "log9"}, nil,
			"jetbackup.archive.pre", map[string]any{"hook_type": "archive", "position": "pre", "args": []any{"65f1", "Weekly archive", "log9"}}, "backup-account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: all
    on: ["*"]
    http: {url: "RECV/all"}
  - id: failing
    order: 5
    on: ["*"]
    http: {url: "RECV/failing?code=500"}
`)
			p := runHP(t, childEnv(t, append([]string{"HOOKPOINT_CONFIG=" + cfg}, tc.env...)...), tc.args...)
			wantExit(t, p, 0)
			for _, w := range []string{"warning", "unknown", tc.known, tc.typ} {
				if !strings.Contains(p.stderr, w) {
					t.Errorf("stderr %q, want a warning that says %q", p.stderr, w)
				}
			}
			reqs := wantEvents(t, rcv, "all", tc.typ)
			if gate, _ := reqs[0].JSON["gate"].(bool); gate {
				t.Error("an unknown phase fired as a gate; it is a notification")
			}
			data := reqs[0].data(t)
			for k, want := range tc.data {
				got, ok := data[k]
				if !ok || !equalJSON(got, want) {
					t.Errorf("data.%s = %#v, want %#v", k, got, want)
				}
			}
			wantEvents(t, rcv, "failing", tc.typ) // a notification: the failure only warns
			if !strings.Contains(p.stdout, tc.typ+": proceed") {
				t.Errorf("stdout %q, want the verdict proceed", p.stdout)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.EqualFunc(as, bs, equalJSON)
	}
	return a == b
}
