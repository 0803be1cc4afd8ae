package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// The children of the bench are this test binary started again.
func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		runChild(name)
	}
	os.Exit(m.Run())
}

// A smoke run: every measurement runs, briefly, and the table comes out whole. It
// checks that the bench works, not how fast anything is.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and bare River; skipped with -short")
	}
	o := options{
		rounds: 1, d: 300 * time.Millisecond, conc: 4, drain: 100, pacedD: 300 * time.Millisecond, rates: []int{50},
		backlog: 200, backlogHooks: 4, down: "refused", settle: 100 * time.Millisecond,
		child: childOptions{sync: "NORMAL", workers: 8, fetchCooldown: queueFetchCooldown, fetchPoll: 20 * time.Millisecond},
	}
	o.variants = []variant{{name: "as set", child: o.child}}
	var out bytes.Buffer
	run(&o, &out)
	t.Log(out.String())
	for _, want := range []string{
		"bare net/http POST to the receiver", "hookpoint: deliveries/s completed end to end", "bare River: jobs/s completed",
		"hookpoint submit-to-delivery p99 at 50/s", "bare River submit-to-delivery (a job per transaction) p99 at 50/s",
		"| 100% (200 deliveries) |", "peak (VmHWM)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table has no %q", want)
		}
	}
}
