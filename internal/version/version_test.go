package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func setVars(t *testing.T, v, commit, date string) {
	t.Helper()
	ov, oc, od := Version, Commit, Date
	Version, Commit, Date = v, commit, date
	t.Cleanup(func() { Version, Commit, Date = ov, oc, od })
}

func TestGetPrefersLdflags(t *testing.T) {
	setVars(t, "1.2.3", "abc123", "2026-01-02T03:04:05Z")
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "fromtoolchain"}, {Key: "vcs.time", Value: "2020-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	in := get(bi)
	if in.Version != "1.2.3" || in.Commit != "abc123" || in.Date != "2026-01-02T03:04:05Z" || in.Modified || in.Go != "go1.99.1" {
		t.Errorf("get = %+v, want the -ldflags values and the toolchain's Go version", in)
	}
}

func TestGetFallsBackToBuildInfo(t *testing.T) {
	setVars(t, "0.1.0-dev", "", "")
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2025-05-06T07:08:09Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	in := get(bi)
	if in.Commit != "0123456789abcdef" || in.Date != "2025-05-06T07:08:09Z" || !in.Modified {
		t.Errorf("get = %+v, want vcs.revision, vcs.time and vcs.modified", in)
	}
	s := in.String()
	for _, want := range []string{"hookpoint 0.1.0-dev\n", "commit:  0123456789abcdef (with uncommitted changes)", "built:   2025-05-06T07:08:09Z", "go:      go1.99.1 "} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want %q in it", s, want)
		}
	}
}

func TestGetWithoutAnything(t *testing.T) {
	setVars(t, "0.1.0-dev", "", "")
	in := get(nil)
	if in.Commit != "unknown" || in.Date != "unknown" || in.Go == "" {
		t.Errorf("get(nil) = %+v, want unknown commit and date and the runtime's Go version", in)
	}
}
