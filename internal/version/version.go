// Package version holds the version hookpoint reports in User-Agent and --version.
package version

// Version is set at build time with -ldflags "-X github.com/hookpoint/hookpoint/internal/version.Version=1.2.3".
var Version = "0.1.0-dev"

// UserAgent is the User-Agent of every request hookpoint sends.
func UserAgent() string { return "hookpoint/" + Version }
