package jetbackup

import (
	"slices"
	"strconv"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

// TestEvents: Events lists every type and position, pre events with no status, post
// events with every status a real invocation carries, for every queue status code
// (known or not).
func TestEvents(t *testing.T) {
	t.Parallel()
	specs := map[string][]string{}
	for _, s := range Events() {
		specs[s.Type] = s.Statuses
	}
	if len(specs) != len(Types)*len(Positions) {
		t.Errorf("%d types, want %d", len(specs), len(Types)*len(Positions))
	}
	for _, typ := range Types {
		if got := specs["jetbackup."+typ+".pre"]; !slices.Equal(got, []string{event.StatusNone}) {
			t.Errorf("%s pre: statuses %q", typ, got)
		}
	}
	post := specs["jetbackup.backup.post"]
	var seen []string
	for _, code := range append(QueueStatusCodes(), 999) {
		args := []string{"backup", "post", jobID, "Daily", "1", "511", "1", "d1", "1714528800", "1714532400", strconv.FormatInt(code, 10), logID}
		ev, err := Event(args, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(post, ev.Status) {
			t.Errorf("queue status %d gives %q, not in %q", code, ev.Status, post)
		}
		if !slices.Contains(seen, ev.Status) {
			seen = append(seen, ev.Status)
		}
	}
	if len(seen) != len(post) {
		t.Errorf("post statuses %q, events carry %q", post, seen)
	}
}
