// Package version says which hookpoint this is: the version it reports in User-Agent,
// and the commit, build date and Go version that `hookpoint version` prints.
//
// Release builds set the variables with -ldflags:
//
//	go build -ldflags "-X github.com/hookpoint/hookpoint/internal/version.Version=1.2.3 \
//	  -X github.com/hookpoint/hookpoint/internal/version.Commit=$(git rev-parse HEAD) \
//	  -X github.com/hookpoint/hookpoint/internal/version.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/hookpoint
//
// Without them, the commit and date come from what the Go toolchain stamped into the
// binary (vcs.revision and vcs.time, present when it was built inside a git checkout).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time with -ldflags -X (see the package comment).
var (
	Version = "0.1.0-dev"
	Commit  = "" // full commit hash
	Date    = "" // build date, RFC 3339
)

// UserAgent is the User-Agent of every request hookpoint sends.
func UserAgent() string { return "hookpoint/" + Version }

// Info describes a build.
type Info struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`             // "unknown" when neither -ldflags nor the toolchain said
	Modified bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
	Date     string `json:"date"`               // "unknown" likewise
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Get returns the build's description.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi)
}

// get fills in what -ldflags left unset from the toolchain's build information (bi may be
// nil).
func get(bi *debug.BuildInfo) Info {
	in := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			in.Go = bi.GoVersion
		}
		fromVCS := in.Commit == ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if fromVCS {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			case "vcs.modified":
				in.Modified = fromVCS && s.Value == "true"
			}
		}
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// String is the text `hookpoint version` and `hookpoint --version` print.
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookpoint %s\n", in.Version)
	commit := in.Commit
	if in.Modified {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(&b, "  commit:  %s\n", commit)
	fmt.Fprintf(&b, "  built:   %s\n", in.Date)
	fmt.Fprintf(&b, "  go:      %s %s\n", in.Go, in.Platform)
	return b.String()
}
