// Package version holds the version hookpoint reports in User-Agent and --version.
package version

// Set at build time by the release build (scripts/release.sh), e.g.
//
//	-ldflags "-X github.com/hookpoint/hookpoint/internal/version.Version=1.2.3
//	          -X github.com/hookpoint/hookpoint/internal/version.Commit=0123abc
//	          -X github.com/hookpoint/hookpoint/internal/version.Date=2026-11-30T12:00:00Z"
var (
	// Version is the release version, without a leading v.
	Version = "0.1.0-dev"
	// Commit is the git commit the binary was built from; empty when unknown.
	Commit = ""
	// Date is when that commit was made (RFC 3339, UTC); empty when unknown.
	Date = ""
)

// UserAgent is the User-Agent of every request hookpoint sends.
func UserAgent() string { return "hookpoint/" + Version }
