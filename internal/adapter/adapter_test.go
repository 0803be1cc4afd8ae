package adapter

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestRunIDFromParent(t *testing.T) {
	t.Parallel()
	ppid := os.Getppid()
	if ppid <= 1 {
		t.Skipf("the test process has no parent of its own (ppid %d): nothing to derive a run id from", ppid)
	}
	a := RunID(noEnv, "vzdump", "fallback-a")
	b := RunID(noEnv, "vzdump", "fallback-b")
	if a != b {
		t.Fatalf("two calls from one process gave %q and %q; the id must be stable for every phase of one job", a, b)
	}
	prefix := "vzdump-" + strconv.Itoa(ppid) + "-"
	if !strings.HasPrefix(a, prefix) {
		t.Fatalf("RunID = %q, want it to start with %q (tool, parent pid)", a, prefix)
	}
	start := strings.TrimPrefix(a, prefix)
	if _, err := strconv.ParseUint(start, 10, 64); err != nil {
		t.Errorf("RunID = %q: after the pid comes %q, want the parent's start time in clock ticks", a, start)
	}
	if strings.Contains(a, "fallback") {
		t.Errorf("RunID = %q uses the fallback although /proc has the parent", a)
	}
	if got := RunID(noEnv, "autosnap", "x"); got != "autosnap-"+strings.TrimPrefix(a, "vzdump-") {
		t.Errorf("RunID for another tool = %q, want the same parent part as %q", got, a)
	}
}

func TestParentIDMatchesProc(t *testing.T) {
	t.Parallel()
	ppid := os.Getppid()
	if ppid <= 1 {
		t.Skipf("ppid %d", ppid)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command name: state, ppid, pgrp, ... starttime is field 22 of the line.
	want := strconv.Itoa(ppid) + "-" + f[19]
	if got := parentID(); got != want {
		t.Errorf("parentID() = %q, want %q", got, want)
	}
}

func TestRunIDFromEnvironmentWins(t *testing.T) {
	t.Parallel()
	env := func(name string) string {
		if name == "HOOKPOINT_RUN_ID" {
			return "nightly-2024-05-01"
		}
		return ""
	}
	if got := RunID(env, "vzdump", "fallback"); got != "nightly-2024-05-01" {
		t.Errorf("RunID = %q, want HOOKPOINT_RUN_ID as it is", got)
	}
}

func TestUint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"100", 100, true},
		{"007", 7, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"", 0, false},
		{"-1", 0, false},
		{"abc", 0, false},
		{"1.5", 0, false},
		{" 1", 0, false},
		{"1e3", 0, false},
		{"9223372036854775808", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := Uint("vmid", tc.in)
			if !tc.ok {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("Uint(%q) = %d, %v; want a *UsageError", tc.in, got, err)
				}
				want := "vmid must be a non-negative whole number, got " + strconv.Quote(tc.in)
				if ue.Msg != want {
					t.Errorf("message %q, want %q", ue.Msg, want)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Uint(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestUsagef(t *testing.T) {
	t.Parallel()
	err := Usagef("phase %s expects %d arguments", "backup-start", 2)
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("Usagef gave %T, want *UsageError", err)
	}
	if err.Error() != "phase backup-start expects 2 arguments" || ue.Msg != err.Error() {
		t.Errorf("Error() = %q, Msg = %q", err.Error(), ue.Msg)
	}
}
