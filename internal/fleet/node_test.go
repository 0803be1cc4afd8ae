package fleet_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/fleet"
	"github.com/hookpoint/hookpoint/internal/journal"
)

// records collects journal records.
type records struct {
	mu sync.Mutex
	rs []journal.Record
}

func (r *records) Record(rec journal.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rs = append(r.rs, rec)
}

func (r *records) all() []journal.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rs)
}

func newNode(t *testing.T, url string, tok string) (*fleet.Node, *records) {
	t.Helper()
	rec := &records{}
	c := newClient(t, url, func(o *fleet.Options) {
		if tok != "" {
			o.Token = tok
		}
	})
	return &fleet.Node{Client: c, Spool: &fleet.Spool{Path: filepath.Join(t.TempDir(), "spool.jsonl")}, Journal: rec,
		GateRetry: time.Millisecond, NoteRetry: time.Millisecond}, rec
}

// With the server down, a gate aborts (or proceeds when told) with one result that
// names the server, and a notification is spooled; once an event is answered, Flush
// sends the spool, and each spooled event runs its hooks once.
func TestNodeServerDownThenBack(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	addr := freeAddr(t)
	n, rec := newNode(t, "http://"+addr, "")
	ctx := context.Background()

	gate := newEvent("backup.pre", nil)
	out, err := n.Fire(ctx, gate)
	if err != nil {
		t.Fatal(err)
	}
	r := out.AbortedBy()
	if out.Verdict != hookpoint.Abort || r == nil || r.HookID != fleet.HookID || r.Action != fleet.Action ||
		!strings.Contains(r.Error, "could not reach the server http://"+addr) {
		t.Fatalf("gate: %+v", out)
	}
	n.Proceed = true
	if out, _ := n.Fire(ctx, newEvent("backup.pre", nil)); out.Verdict != hookpoint.Proceed || out.Results[0].Policy != "warn" {
		t.Errorf("gate with Proceed: %+v", out)
	}

	note := newEvent("backup.end", map[string]any{"n": "1"})
	out, err = n.Fire(ctx, note)
	if err != nil || out.Verdict != hookpoint.Proceed || out.Results[0].Outcome != fleet.OutcomeSpooled {
		t.Fatalf("notification: %+v, %v", out, err)
	}
	if l, _ := n.Spool.Len(); l != 1 {
		t.Fatalf("%d entries spooled, want 1", l)
	}
	if rep, _ := n.Flush(ctx); rep.Sent != 0 {
		t.Errorf("flushed to a server that never answered: %+v", rep)
	}

	startServer(t, gateConfig, rcv, listenOn(t, addr))
	if out, err := n.Fire(ctx, newEvent("job.start", nil)); err != nil || out.Verdict != hookpoint.Proceed {
		t.Fatalf("server back: %+v, %v", out, err)
	}
	rep, err := n.Flush(ctx)
	if err != nil || rep.Sent != 1 || rep.Left != 0 {
		t.Fatalf("flush: %+v, %v", rep, err)
	}
	if rep, _ := n.Flush(ctx); rep.Sent != 0 {
		t.Errorf("second flush sent %d", rep.Sent)
	}
	got := rcv.byHook("note")
	if len(got) != 1 || got[0].EventID != note.ID || got[0].Data["n"] != "1" {
		t.Errorf("note hook got %+v, want the spooled event once, with its id and data", got)
	}

	var outcomes []string
	for _, r := range rec.all() {
		outcomes = append(outcomes, r.EventType+"="+r.Outcome)
		if r.HookID != fleet.HookID || r.Target != "POST http://"+addr+"/v1/events" {
			t.Errorf("record %+v", r)
		}
	}
	want := []string{"backup.pre=failed", "backup.pre=failed", "backup.end=spooled", "job.start=ok", "backup.end=ok"}
	if !slices.Equal(outcomes, want) {
		t.Errorf("journal %q, want %q", outcomes, want)
	}
}

// A refusal is an error: nothing is spooled.
func TestNodeRefusalIsNotSpooled(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", nil, nil)
	n, rec := newNode(t, srv.URL, "hp_emit_wrongwrongwrong_wrongwrongwrongwrongwrong")
	_, err := n.Fire(context.Background(), newEvent("backup.end", nil))
	var ae *fleet.APIError
	if !errors.As(err, &ae) || !ae.Auth() {
		t.Fatalf("error %v, want a refused token", err)
	}
	if l, _ := n.Spool.Len(); l != 0 {
		t.Errorf("%d entries spooled", l)
	}
	if rs := rec.all(); len(rs) != 1 || rs[0].Outcome != "failed" || rs[0].Status != 401 {
		t.Errorf("journal %+v", rs)
	}
}

// A signal that ends the wait for a gate aborts it as cancelled; a notification is
// spooled all the same.
func TestNodeCancelled(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, `hooks:
  - id: slow
    on: ["*"]
    http: {url: "RECV/slow?hang=1", timeout: 30s}
`, rcv, nil)
	n, _ := newNode(t, srv.URL, "")
	for _, typ := range []string{"backup.pre", "backup.end"} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for len(rcv.byHook("slow")) == 0 || (typ == "backup.end" && len(rcv.byHook("slow")) < 2) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		out, err := n.Fire(ctx, newEvent(typ, nil))
		cancel()
		if err != nil || !out.Cancelled {
			t.Fatalf("%s: %+v, %v; want a cancelled outcome", typ, out, err)
		}
		if typ == "backup.pre" && out.Verdict != hookpoint.Abort {
			t.Errorf("cancelled gate: verdict %s", out.Verdict)
		}
		if typ == "backup.end" && out.Results[0].Outcome != fleet.OutcomeSpooled {
			t.Errorf("cancelled notification: %+v", out.Results[0])
		}
	}
}

// A full spool drops its oldest event to keep the new one, and the journal says so.
func TestNodeFullSpoolDropsTheOldest(t *testing.T) {
	t.Parallel()
	n, rec := newNode(t, "http://"+freeAddr(t), "")
	n.Spool.MaxEvents = 1
	first, second := newEvent("backup.end", nil), newEvent("backup.end", nil)
	for _, ev := range []*event.Event{first, second} {
		if out, err := n.Fire(context.Background(), ev); err != nil || out.Results[0].Outcome != fleet.OutcomeSpooled {
			t.Fatalf("%+v, %v", out, err)
		}
	}
	var got []string
	for _, r := range rec.all() {
		got = append(got, r.EventID+"="+r.Outcome)
	}
	want := []string{first.ID + "=spooled", first.ID + "=dropped", second.ID + "=spooled"}
	if !slices.Equal(got, want) {
		t.Errorf("journal %q, want %q", got, want)
	}
	if rs := rec.all(); !strings.Contains(rs[1].Error, "the spool is full") {
		t.Errorf("dropped record: %+v", rs[1])
	}
}
