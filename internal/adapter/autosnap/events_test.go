package autosnap

import (
	"slices"
	"testing"
)

// TestEvents: Events lists one type per phase, with exactly the statuses real
// invocations of that phase carry for every value of CV4PVE_AUTOSNAP_STATE.
func TestEvents(t *testing.T) {
	t.Parallel()
	specs := Events()
	if len(specs) != len(Phases) {
		t.Fatalf("%d specs for %d phases", len(specs), len(Phases))
	}
	for i, phase := range Phases {
		spec := specs[i]
		var seen []string
		for _, state := range []string{"", "0", "1"} {
			ev, err := Event("", environ(phase, true, state))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != spec.Type {
				t.Errorf("spec type %s, event type %s", spec.Type, ev.Type)
			}
			if !slices.Contains(spec.Statuses, ev.Status) {
				t.Errorf("%s with STATE=%q carries %q, not in %q", phase, state, ev.Status, spec.Statuses)
			}
			if !slices.Contains(seen, ev.Status) {
				seen = append(seen, ev.Status)
			}
		}
		if len(seen) != len(spec.Statuses) {
			t.Errorf("%s: statuses %q, events carry %q", phase, spec.Statuses, seen)
		}
	}
}
