package vzdump

import (
	"slices"
	"testing"
)

// TestEvents: Events lists one type per phase, with the status a real invocation of
// that phase carries.
func TestEvents(t *testing.T) {
	t.Parallel()
	specs := Events()
	if len(specs) != len(Phases) {
		t.Fatalf("%d specs for %d phases", len(specs), len(Phases))
	}
	for i, p := range Phases {
		args := []string{p.Name}
		if p.Guest {
			args = append(args, "snapshot", "100")
		}
		ev, err := Event(args, mapEnv(nil))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != specs[i].Type || !slices.Equal(specs[i].Statuses, []string{ev.Status}) {
			t.Errorf("%s: spec %+v, event %s with status %q", p.Name, specs[i], ev.Type, ev.Status)
		}
	}
}
