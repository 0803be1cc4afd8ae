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
func Pattern(pattern, typ string) bool { return event.MatchType(pattern, typ) }

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
