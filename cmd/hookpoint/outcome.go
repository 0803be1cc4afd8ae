package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/hookpoint/hookpoint"
)

// printOutcome writes one line per hook and the verdict. A failed hook's line is followed
// by the end of its stderr (exec) or the start of the response (HTTP), bounded and with
// secrets masked: what the tools copy into their job logs.
func printOutcome(w io.Writer, o *hookpoint.Outcome) {
	for i := range o.Results {
		r := &o.Results[i]
		line := fmt.Sprintf("%s %s: %s", o.Event.Type, r.HookID, describe(r))
		if r.Policy != "" {
			line += " [" + r.Policy + "]"
		}
		fmt.Fprintln(w, line)
		if r.Failed() {
			writeDetail(w, "  ", r)
		}
	}
	fmt.Fprintf(w, "%s: %s\n", o.Event.Type, o.Verdict)
}

// describe is a hook's outcome with its status or exit code and error, e.g.
// "failed (503): unexpected status 503" or "failed (exit 7)".
func describe(r *hookpoint.Result) string {
	s := r.Outcome
	switch {
	case r.Status != 0:
		s += fmt.Sprintf(" (%d)", r.Status)
	case r.ExitCode != nil:
		s += fmt.Sprintf(" (exit %d)", *r.ExitCode)
	}
	// "exit status 7" says again what "(exit 7)" said.
	if r.Error != "" && (r.ExitCode == nil || r.Error != fmt.Sprintf("exit status %d", *r.ExitCode)) {
		s += ": " + r.Error
	}
	return s
}

// Bounds of a response excerpt shown beside a failure (the stderr tail comes bounded).
const (
	detailMaxLines = 10
	detailMaxBytes = 1 << 10
)

// detail returns what a person is shown of a failed hook beyond its error: a label and
// lines, or no lines.
func detail(r *hookpoint.Result) (string, []string) {
	switch {
	case r.Stderr != "":
		return "stderr", lines(r.Stderr)
	case r.Action == "http" && r.Response != "":
		s := strings.TrimRight(r.Response, "\r\n")
		cut := false
		if len(s) > detailMaxBytes {
			s, cut = strings.ToValidUTF8(s[:detailMaxBytes], ""), true
		}
		l := lines(s)
		if len(l) > detailMaxLines {
			l, cut = l[:detailMaxLines], true
		}
		if cut {
			l[len(l)-1] += "..."
		}
		return "response", l
	}
	return "", nil
}

// writeDetail writes detail(r) one line each, indented and labelled so that every line of
// a tool's job log says where it comes from.
func writeDetail(w io.Writer, indent string, r *hookpoint.Result) {
	label, ls := detail(r)
	for _, l := range ls {
		fmt.Fprintf(w, "%s%s: %s\n", indent, label, l)
	}
}

// lines splits s into lines, with characters that would disturb a terminal or a log
// (escape sequences, carriage returns) shown escaped.
func lines(s string) []string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range ls {
		ls[i] = printable(strings.TrimSuffix(l, "\r"))
	}
	return ls
}

func printable(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029')
}
