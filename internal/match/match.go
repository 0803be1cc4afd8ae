// Package match selects the hooks that run for an event and puts them in order.
package match

import (
	"cmp"
	"slices"
	"strings"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
)

// Pattern reports whether an event type matches a pattern, where '*' stands for any run
// of characters (including none and including dots).
func Pattern(pattern, typ string) bool {
	// Iterative glob with backtracking to the last star: linear for typical patterns.
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(typ) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case p < len(pattern) && pattern[p] == typ[t]:
			p++
			t++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Status reports whether a hook's status filter accepts status. An empty filter or "any"
// accepts everything.
func Status(filter []string, status string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if f == "any" || f == status {
			return true
		}
	}
	return false
}

// Select returns the enabled hooks for ev, sorted by order and then id.
func Select(hooks []*config.Hook, ev *event.Event) []*config.Hook {
	var out []*config.Hook
	for _, h := range hooks {
		if !h.IsEnabled() || !Status(h.Status, ev.Status) {
			continue
		}
		for _, p := range h.On {
			if Pattern(p, ev.Type) {
				out = append(out, h)
				break
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *config.Hook) int {
		if a.Order != b.Order {
			return cmp.Compare(a.Order, b.Order)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
