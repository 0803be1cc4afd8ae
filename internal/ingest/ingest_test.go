package ingest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

func TestLookup(t *testing.T) {
	t.Parallel()
	names := Names()
	if want := []string{"generic", "virtfusion", "xo", "zerobyte"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	for _, n := range names {
		s, ok := Lookup(n)
		if !ok || s.Name() != n || s.MaxBody() <= 0 {
			t.Errorf("Lookup(%q) = %v, %v", n, s, ok)
		}
	}
	if _, ok := Lookup("XO"); ok {
		t.Error("source names are case-sensitive")
	}
}

func TestFieldError(t *testing.T) {
	t.Parallel()
	if got := (&FieldError{Field: "params.id", Message: "expected text, got a number"}).Error(); got != "params.id: expected text, got a number" {
		t.Errorf("%q", got)
	}
	if got := (&FieldError{Message: "the body is empty"}).Error(); got != "the body is empty" {
		t.Errorf("%q", got)
	}
}

// Which status each source answers with for each verdict: only a refused gate of
// Zerobyte or the generic source, and a Zerobyte post a hook aborted (which Zerobyte
// records, making a clean backup a warning), are non-2xx.
func TestAnswer(t *testing.T) {
	t.Parallel()
	abort := Outcome{Verdict: Abort, AbortedBy: "freeze-db"}
	for _, tc := range []struct {
		source Source
		typ    string
		gate   bool
		o      Outcome
		status int
	}{
		{XO{}, "xo.vm.snapshot.pre", true, Outcome{Verdict: Proceed}, http.StatusOK},
		{XO{}, "xo.vm.snapshot.pre", true, abort, http.StatusOK},
		{XO{}, "xo.vm.snapshot.post", false, abort, http.StatusOK},
		{VirtFusion{}, "virtfusion.server.create", false, Outcome{Verdict: Proceed}, http.StatusOK},
		{VirtFusion{}, "virtfusion.server.create", false, abort, http.StatusOK},
		{Zerobyte{}, "zerobyte.backup.pre", true, Outcome{Verdict: Proceed}, http.StatusOK},
		{Zerobyte{}, "zerobyte.backup.pre", true, abort, http.StatusConflict},
		{Zerobyte{}, "zerobyte.backup.post", false, Outcome{Verdict: Proceed}, http.StatusOK},
		{Zerobyte{}, "zerobyte.backup.post", false, abort, http.StatusConflict},
		{Generic{}, "backup.pre", true, Outcome{Verdict: Proceed}, http.StatusOK},
		{Generic{}, "backup.pre", true, abort, http.StatusConflict},
		{Generic{}, "backup.post", false, abort, http.StatusOK},
		{Generic{}, "backup.pre", true, Outcome{}, http.StatusOK}, // no verdict is proceed
	} {
		ev := event.New(tc.typ)
		ev.Gate = tc.gate
		a := tc.source.Answer(ev, tc.o)
		if a.Status != tc.status {
			t.Errorf("%s %s %+v: status %d, want %d", tc.source.Name(), tc.typ, tc.o, a.Status, tc.status)
		}
		var body map[string]string
		if err := json.Unmarshal(a.Body, &body); err != nil {
			t.Fatalf("%s: body %s: %v", tc.source.Name(), a.Body, err)
		}
		want := Proceed
		if tc.o.Verdict == Abort {
			want = Abort
		}
		if body["event_id"] != ev.ID || body["verdict"] != string(want) {
			t.Errorf("%s: body %s", tc.source.Name(), a.Body)
		}
		if (body["aborted_by"] == "freeze-db") != (want == Abort) || (body["message"] != "") != (want == Abort) {
			t.Errorf("%s: body %s", tc.source.Name(), a.Body)
		}
	}
}
