package catalog

import (
	"slices"
	"strings"
	"testing"
)

// TestAnalyze: what a pattern matches among the events hookpoint sends, and the statuses
// they carry ("-" stands for none).
func TestAnalyze(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern    string
		noEvent    bool
		suggestion string
		known      bool
		statuses   string // sorted, comma-separated, when known
	}{
		// Adapters: finite, known statuses.
		{"vzdump.job-end", false, "", true, "-"},
		{"vzdump.job-abort", false, "", true, "fail"},
		{"vzdump.backup-*", false, "", true, "-,fail,success"},
		{"vzdump.*", false, "", true, "-,fail,success"},
		{"vzdump.backup-strat", true, "vzdump.backup-start", false, ""},
		{"vzdump.backup-begin", true, "", false, ""},
		{"vzdump.end", true, "", false, ""},
		{"vzdump.bakup-*", true, "", false, ""},
		{"autosnap.SnapCreatePre", true, "autosnap.snap-create-pre", false, ""},
		{"autosnap.snap_create_post", true, "autosnap.snap-create-post", false, ""},
		{"autosnap.snap-create-pre", false, "", true, "-"},
		{"autosnap.snap-create-post", false, "", true, "fail,success"},
		{"autosnap.*-abort", false, "", true, "fail"},
		{"jetbackup.backup.pre", false, "", true, "-"},
		{"jetbackup.backup.post", false, "", true, "-,cancelled,fail,success,warning"},
		{"jetbackup.*.pre", false, "", true, "-"},
		{"jetbackup.backups.pre", true, "jetbackup.backup.pre", false, ""},
		// The lifecycle of hookpoint run, for any kind.
		{"backup.pre", false, "", true, "-"},
		{"backup.post", false, "", true, "success"},
		{"backup.abort", false, "", true, "cancelled,fail"},
		{"db.dump.end", false, "", true, "cancelled,fail,success,warning"},
		{"backup.Pre", true, "backup.pre", false, ""},
		{"backup.*", false, "", false, ""},
		{"backup.*.end", false, "", true, "cancelled,fail,success,warning"},
		// Patterns that reach the server's namespaces or unknown events.
		{"*.pre", false, "", false, ""},
		{"*", false, "", false, ""},
		{"*.end", false, "", false, ""},
		{"xo.vm.snapshot.pre", false, "", false, ""},
		{"zerobyte.*", false, "", false, ""},
		{"virtfusion.server.create", false, "", false, ""},
		{"hookpoint.hook.failing", false, "", false, ""},
		{"server.create", false, "", false, ""},
		{"backup", false, "", false, ""},
	}
	for _, tc := range cases {
		a := Analyze(tc.pattern)
		if a.NoEvent != tc.noEvent || a.Suggestion != tc.suggestion || a.Known != tc.known {
			t.Errorf("%s: %+v, want noEvent %v suggestion %q known %v", tc.pattern, a, tc.noEvent, tc.suggestion, tc.known)
			continue
		}
		if tc.known {
			got := slices.Clone(a.Statuses)
			for i, s := range got {
				if s == "" {
					got[i] = "-"
				}
			}
			slices.Sort(got)
			if strings.Join(got, ",") != tc.statuses {
				t.Errorf("%s: statuses %q, want %s", tc.pattern, got, tc.statuses)
			}
		}
	}
}

func TestCarrying(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ      string
		statuses []string
		want     string
	}{
		{"backup.pre", []string{"fail"}, "backup.abort,backup.end"},
		{"backup.post", []string{"warning"}, "backup.end"},
		{"vzdump.job-end", []string{"fail"}, "vzdump.job-abort,vzdump.backup-abort"},
		{"jetbackup.backup.pre", []string{"fail"}, "jetbackup.backup.post,jetbackup.clone.post,jetbackup.backup-account.post"},
	}
	for _, tc := range cases {
		if got := strings.Join(Carrying(tc.typ, tc.statuses), ","); got != tc.want {
			t.Errorf("Carrying(%s, %v) = %s, want %s", tc.typ, tc.statuses, got, tc.want)
		}
	}
}

func TestSourceEnvName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"VMTYPE": true, "HOSTNAME": true, "CV4PVE_AUTOSNAP_VMID": true, "JETBACKUP_ARG_3": true,
		"BASH_ENV": false, "LD_PRELOAD": false, "PATH": false, "HOOKPOINT_RUN_ID": false, "ENV": false,
		"CV4PVE_AUTOSNAP_": false, "JETBACKUP_x": false, "PYTHONPATH": false, "NODE_OPTIONS": false,
	} {
		if got := SourceEnvName(name); got != want {
			t.Errorf("SourceEnvName(%q) = %v, want %v", name, got, want)
		}
	}
}
