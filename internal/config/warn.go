package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hookpoint/hookpoint/internal/catalog"
	"github.com/hookpoint/hookpoint/internal/event"
)

// warnings finds hooks that load but can never run for the events hookpoint itself sends:
// an on pattern in the namespace of an adapter (or a lifecycle suffix of hookpoint run)
// that matches none of its events, and a status filter that the events a pattern matches
// never carry. Patterns that can match events of other sources are not judged.
func (c *Config) warnings(broken map[string]bool) []Issue {
	v := &validator{c: c, broken: broken}
	for i, h := range c.Hooks {
		p := fmt.Sprintf("hooks[%d]", i)
		if h == nil || v.isBroken(p+".on") {
			continue
		}
		filter := statusFilter(h)
		if v.isBroken(p + ".status") {
			filter = nil
		}
		for j, pat := range h.On {
			if !patternRE.MatchString(pat) {
				continue
			}
			field := fmt.Sprintf("%s.on[%d]", p, j)
			a := catalog.Analyze(pat)
			switch {
			case a.NoEvent:
				v.warnf(field, "%s", noEvent(pat, a))
			case len(filter) > 0 && a.Known && !carries(a.Statuses, filter):
				v.warnf(field, "%s", neverCarried(pat, a.Statuses, filter))
			}
		}
	}
	return v.issues
}

func (v *validator) warnf(path, format string, args ...any) {
	v.errf(path, format, args...)
	v.issues[len(v.issues)-1].Warning = true
}

// statusFilter returns the statuses a hook is limited to, or nil when it is not (or the
// filter is not valid, which validation reports).
func statusFilter(h *Hook) []string {
	for _, s := range h.Status {
		if s == "any" || !slices.Contains(filterStatuses, s) {
			return nil
		}
	}
	return h.Status
}

func carries(statuses, filter []string) bool {
	for _, s := range filter {
		if slices.Contains(statuses, s) {
			return true
		}
	}
	return false
}

func noEvent(pat string, a catalog.Analysis) string {
	msg := fmt.Sprintf("%q matches no event %s sends", pat, a.Source)
	if a.Source == catalog.RunSource {
		msg += " (event types are case-sensitive)"
	}
	if a.Suggestion != "" {
		return msg + fmt.Sprintf("; did you mean %q?", a.Suggestion)
	}
	return msg + fmt.Sprintf(" (it sends %s)", strings.Join(catalog.EventTypes(a.Source), ", "))
}

func neverCarried(pat string, statuses, filter []string) string {
	var carried []string
	none := false
	for _, s := range statuses {
		if s == event.StatusNone {
			none = true
		} else {
			carried = append(carried, s)
		}
	}
	what := "no status"
	switch {
	case len(carried) == 1 && !none:
		what = "only " + carried[0]
	case len(carried) > 0 && !none:
		what = or(carried)
	case len(carried) > 0:
		what = or(carried) + " or no status"
	}
	subject := pat + " events"
	if strings.Contains(pat, "*") {
		subject = "the events " + pat + " matches"
	}
	written := filter[0]
	if len(filter) > 1 {
		written = "[" + strings.Join(filter, ", ") + "]"
	}
	msg := fmt.Sprintf("%s carry %s, so with status: %s this hook never runs for them", subject, what, written)
	if !strings.Contains(pat, "*") {
		if others := catalog.Carrying(pat, filter); len(others) > 0 {
			msg += fmt.Sprintf("; for %s use %s", or(filter), or(others))
		}
	}
	return msg
}

// or joins words as "a, b or c".
func or(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
