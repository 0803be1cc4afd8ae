package hookpoint_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
)

func TestSelectionAndOrder(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: zeta, order: 10, on: ["backup.*"], http: {url: "%[1]s/"}}
  - {id: alpha, order: 10, on: ["*"], http: {url: "%[1]s/"}}
  - {id: first, order: -1, on: ["*.end"], http: {url: "%[1]s/"}}
  - {id: late, order: 100, on: ["backup.end"], status: any, http: {url: "%[1]s/"}}
  - {id: off, enabled: false, on: ["*"], http: {url: "%[1]s/"}}
  - {id: on-fail, order: 5, on: ["*"], status: [fail, cancelled], http: {url: "%[1]s/"}}
  - {id: on-success, order: 5, on: ["*"], status: success, http: {url: "%[1]s/"}}
  - {id: restore-only, on: ["restore.*"], http: {url: "%[1]s/"}}
  - {id: a-b-c, order: 50, on: ["b*k*d"], http: {url: "%[1]s/"}}
`, rc.URL), hookpoint.Options{Recorder: rec})

	ev := hookpoint.NewEvent("backup.end")
	ev.Status = "fail"
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := "first,on-fail,alpha,zeta,a-b-c,late"
	if got := strings.Join(rc.hooks(), ","); got != want {
		t.Errorf("receiver saw %s, want %s", got, want)
	}
	if got := ids(out.Results); got != "first:ok,on-fail:ok,alpha:ok,zeta:ok,a-b-c:ok,late:ok" {
		t.Errorf("results %s", got)
	}
	if out.Verdict != hookpoint.Proceed || out.Warned() || out.AbortedBy() != nil || out.Cancelled {
		t.Errorf("verdict %s warned %v aborted by %v cancelled %v", out.Verdict, out.Warned(), out.AbortedBy(), out.Cancelled)
	}
	recs := rec.all()
	if len(recs) != 6 {
		t.Fatalf("%d journal records, want one per execution (6)", len(recs))
	}
	for i, r := range recs {
		if r.HookID != out.Results[i].HookID {
			t.Errorf("record %d is for %s, result for %s", i, r.HookID, out.Results[i].HookID)
		}
		if r.HookID == "off" {
			t.Error("a disabled hook left a journal record")
		}
	}

	// Another status selects other hooks.
	ev2 := hookpoint.NewEvent("backup.end")
	ev2.Status = "success"
	out2, _ := eng.Fire(context.Background(), ev2)
	if got := ids(out2.Results); got != "first:ok,on-success:ok,alpha:ok,zeta:ok,a-b-c:ok,late:ok" {
		t.Errorf("status success: %s", got)
	}
	// A type nothing else matches gets only the catch-all.
	out3, _ := eng.Fire(context.Background(), hookpoint.NewEvent("job.pre"))
	if got := ids(out3.Results); got != "alpha:ok" {
		t.Errorf("job.pre: %s", got)
	}
}

func TestNoMatchingHook(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	eng := engine(t, `
hooks:
  - {id: x, on: ["restore.pre"], exec: {command: /bin/false}}
  - {id: y, enabled: false, on: ["*"], exec: {command: /bin/false}}
`, hookpoint.Options{Recorder: rec})
	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != hookpoint.Proceed || len(out.Results) != 0 || len(rec.all()) != 0 {
		t.Errorf("verdict %s, %d results, %d records", out.Verdict, len(out.Results), len(rec.all()))
	}
}

func TestInvalidEvent(t *testing.T) {
	t.Parallel()
	eng := engine(t, `hooks: [{id: x, on: ["*"], exec: {command: /bin/true}}]`, hookpoint.Options{})
	for _, ev := range []*hookpoint.Event{
		hookpoint.NewEvent(""),
		hookpoint.NewEvent("has space"),
		hookpoint.NewEvent(".dot-first"),
		func() *hookpoint.Event { e := hookpoint.NewEvent("ok"); e.Status = "done"; return e }(),
	} {
		if _, err := eng.Fire(context.Background(), ev); !errors.Is(err, hookpoint.ErrInvalidEvent) {
			t.Errorf("type %q status %q: err %v, want ErrInvalidEvent", ev.Type, ev.Status, err)
		}
	}
}

func TestFillsEventDefaults(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	eng := engine(t, `hooks: [{id: x, on: ["*"], exec: {command: /bin/true}}]`, hookpoint.Options{Now: func() time.Time { return fixed }})
	ev := &hookpoint.Event{Type: "backup.pre"}
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ev.ID, "evt_") || !ev.Time.Equal(fixed) || ev.Source != "hookpoint" || out.Event != ev {
		t.Errorf("event defaults: id %q time %s source %q", ev.ID, ev.Time, ev.Source)
	}
}

func TestSyncHooksRunOneAfterAnother(t *testing.T) {
	t.Parallel()
	var inflight, peak atomic.Int32
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // room for an overlap, if there were one
	})
	var cfg strings.Builder
	cfg.WriteString("hooks:\n")
	for i := range 5 {
		fmt.Fprintf(&cfg, "  - {id: h%d, order: %d, on: [\"*\"], http: {url: %q}}\n", i, 5-i, rc.URL)
	}
	eng := engine(t, cfg.String(), hookpoint.Options{})
	out, err := eng.Fire(context.Background(), hookpoint.NewEvent("backup.post"))
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("%d sync hooks ran at the same time, want 1", p)
	}
	if got := strings.Join(rc.hooks(), ","); got != "h4,h3,h2,h1,h0" {
		t.Errorf("order %s", got)
	}
	if len(out.Results) != 5 {
		t.Errorf("%d results", len(out.Results))
	}
}

func TestFailurePolicies(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	tests := []struct {
		name        string
		gate        bool
		policy      string // on_failure of the failing hook; "" for the default
		wantVerdict hookpoint.Verdict
		wantResults string
		wantPolicy  string
		wantWarned  bool
	}{
		{"gate default aborts", true, "", hookpoint.Abort, "a:ok,b:failed,c:skipped,d:skipped", "abort", false},
		{"gate abort", true, "abort", hookpoint.Abort, "a:ok,b:failed,c:skipped,d:skipped", "abort", false},
		{"gate warn continues", true, "warn", hookpoint.Proceed, "a:ok,b:failed,c:ok,d:ok", "warn", true},
		{"gate ignore continues", true, "ignore", hookpoint.Proceed, "a:ok,b:failed,c:ok,d:ok", "ignore", false},
		{"notification default warns", false, "", hookpoint.Proceed, "a:ok,b:failed,c:ok,d:ok", "warn", true},
		{"notification ignore", false, "ignore", hookpoint.Proceed, "a:ok,b:failed,c:ok,d:ok", "ignore", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := ""
			if tt.policy != "" {
				pol = ", on_failure: " + tt.policy
			}
			rec := &recorder{}
			eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: a, order: 1, on: ["*"], http: {url: "%[1]s/200"}}
  - {id: b, order: 2, on: ["*"]%[2]s, http: {url: "%[1]s/500"}}
  - {id: c, order: 3, on: ["*"], http: {url: "%[1]s/200"}}
  - {id: d, order: 4, on: ["*"], exec: {command: /bin/true}}
`, rc.URL, pol), hookpoint.Options{Recorder: rec})
			ev := hookpoint.NewEvent("job.pre")
			ev.Gate = tt.gate
			ev.Run.ID = "run_" + strings.ReplaceAll(tt.name, " ", "_")
			out, err := eng.Fire(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if out.Verdict != tt.wantVerdict || ids(out.Results) != tt.wantResults {
				t.Errorf("verdict %s results %s, want %s %s", out.Verdict, ids(out.Results), tt.wantVerdict, tt.wantResults)
			}
			if out.Results[1].Policy != tt.wantPolicy || out.Results[1].Status != 500 {
				t.Errorf("failing hook: policy %q status %d", out.Results[1].Policy, out.Results[1].Status)
			}
			if out.Warned() != tt.wantWarned {
				t.Errorf("Warned() = %v", out.Warned())
			}
			if ab := out.AbortedBy(); (tt.wantVerdict == hookpoint.Abort) != (ab != nil) || (ab != nil && ab.HookID != "b") {
				t.Errorf("AbortedBy() = %+v", ab)
			}
			for _, r := range out.Results {
				if r.Outcome == hookpoint.OutcomeSkipped && (r.Error == "" || r.Mode != "sync") {
					t.Errorf("skipped result %+v lacks a reason", r)
				}
			}
			recs := rec.all()
			if len(recs) != 4 {
				t.Fatalf("%d records, want one per hook (skipped ones too)", len(recs))
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.HookID+":"+r.Outcome)
				if r.RunID != ev.Run.ID || r.EventID != ev.ID {
					t.Errorf("record %s: run %q event %q", r.HookID, r.RunID, r.EventID)
				}
			}
			if strings.Join(got, ",") != tt.wantResults {
				t.Errorf("records %v", got)
			}
			// Hooks after an abort were never sent.
			for _, h := range rc.requests() {
				if h.Header.Get("X-Hookpoint-Run") == ev.Run.ID && tt.wantVerdict == hookpoint.Abort && h.Header.Get("X-Hookpoint-Hook") == "c" {
					t.Error("hook c was sent after the abort")
				}
			}
		})
	}
}

func TestExecFailureAbortsGate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	eng := engine(t, `
hooks:
  - {id: check, order: 1, on: ["backup.pre"], exec: {command: /bin/sh, args: ["-c", "exit 4"]}}
  - {id: after, order: 2, on: ["backup.pre"], exec: {command: /bin/touch, args: ["`+marker+`"]}}
`, hookpoint.Options{})
	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	out, _ := eng.Fire(context.Background(), ev)
	ab := out.AbortedBy()
	if out.Verdict != hookpoint.Abort || ab == nil || ab.HookID != "check" || ab.ExitCode == nil || *ab.ExitCode != 4 {
		t.Fatalf("verdict %s aborted by %+v", out.Verdict, ab)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the hook after the abort ran")
	}
}

func TestJournalRecordFields(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(502)
			_, _ = w.Write([]byte("upstream down"))
			return
		}
		w.WriteHeader(201)
		_, _ = w.Write([]byte("created"))
	})
	j := newJSONJournal()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: ok-http, order: 1, on: ["*"], http: {url: "%[1]s/ok"}}
  - {id: bad-http, order: 2, on: ["*"], on_failure: warn, http: {url: "%[1]s/fail", method: PUT}}
  - {id: bad-exec, order: 3, on: ["*"], exec: {command: /bin/sh, args: ["-c", "echo oops; exit 3"]}}
  - {id: never, order: 4, on: ["*"], exec: {command: /bin/true}}
`, rc.URL), hookpoint.Options{Recorder: j})
	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	ev.Run.ID = "run_journal"
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if ids(out.Results) != "ok-http:ok,bad-http:failed,bad-exec:failed,never:skipped" {
		t.Fatalf("results %s", ids(out.Results))
	}
	lines := j.lines(t)
	if len(lines) != 4 {
		t.Fatalf("%d journal lines, want 4", len(lines))
	}
	common := func(m map[string]any, hook, action, outcome string) {
		t.Helper()
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"])); err != nil {
			t.Errorf("%s: time %v", hook, m["time"])
		}
		for k, v := range map[string]any{"run_id": "run_journal", "event_id": ev.ID, "event_type": "backup.pre", "hook_id": hook, "action": action, "outcome": outcome, "mode": "sync"} {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %v", hook, k, m[k], v)
			}
		}
		if _, ok := m["duration_ms"].(float64); !ok {
			t.Errorf("%s: no duration_ms", hook)
		}
	}
	m := lines[0]
	common(m, "ok-http", "http", "ok")
	if m["status"] != float64(201) || m["target"] != "POST "+rc.URL+"/ok" || m["attempt"] != float64(1) || m["response"] != "created" || m["delivery_id"] != out.Results[0].DeliveryID {
		t.Errorf("ok-http: %v", m)
	}
	m = lines[1]
	common(m, "bad-http", "http", "failed")
	if m["status"] != float64(502) || m["target"] != "PUT "+rc.URL+"/fail" || m["response"] != "upstream down" || !strings.Contains(fmt.Sprint(m["error"]), "502") {
		t.Errorf("bad-http: %v", m)
	}
	m = lines[2]
	common(m, "bad-exec", "exec", "failed")
	if m["exit_code"] != float64(3) || m["target"] != "/bin/sh" || m["response"] != "oops\n" || m["error"] != "exit status 3" {
		t.Errorf("bad-exec: %v", m)
	}
	if _, ok := m["status"]; ok {
		t.Errorf("exec record carries an HTTP status: %v", m)
	}
	m = lines[3]
	common(m, "never", "exec", "skipped")
	if m["error"] == nil {
		t.Errorf("skipped record without a reason: %v", m)
	}
}

func TestContextCancelledMidEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	slow := script(t, dir, "slow.sh", `sleep 300 &
echo $! > "`+pidfile+`.tmp"; mv "`+pidfile+`.tmp" "`+pidfile+`"
wait`)
	rc := newReceiver(t, nil)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: slow, order: 1, on: ["*"], on_failure: ignore, exec: {command: %q, timeout: 10m}}
  - {id: next, order: 2, on: ["*"], http: {url: %q}}
`, slow, rc.URL), hookpoint.Options{Recorder: rec})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type fired struct {
		out *hookpoint.Outcome
		err error
	}
	done := make(chan fired, 1)
	go func() {
		out, err := eng.Fire(ctx, hookpoint.NewEvent("backup.post"))
		done <- fired{out, err}
	}()
	pid := readPID(t, pidfile)
	cancel()
	var f fired
	select {
	case f = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Fire did not return after its context was cancelled")
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	if !f.out.Cancelled || ids(f.out.Results) != "slow:failed,next:skipped" {
		t.Errorf("cancelled %v results %s", f.out.Cancelled, ids(f.out.Results))
	}
	if f.out.Verdict != hookpoint.Abort {
		t.Errorf("verdict %s: a cancelled event must not read as proceed", f.out.Verdict)
	}
	if len(rc.requests()) != 0 {
		t.Error("a hook was sent after the cancellation")
	}
	if n := len(rec.all()); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
	waitFor(t, "the cancelled hook's process group to die", func() bool { return processGone(pid) })
}

func TestContextCancelledBeforeFire(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`hooks: [{id: a, on: ["*"], http: {url: %q}}, {id: b, on: ["*"], mode: async, http: {url: %q}}]`, rc.URL, rc.URL), hookpoint.Options{Recorder: rec})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := eng.Fire(ctx, hookpoint.NewEvent("backup.pre"))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Cancelled || out.Verdict != hookpoint.Abort || ids(out.Results) != "a:skipped,b:skipped" {
		t.Errorf("cancelled %v verdict %s results %s", out.Cancelled, out.Verdict, ids(out.Results))
	}
	rep := eng.Drain(context.Background())
	if len(rc.requests()) != 0 || rep.Delivered != 0 || len(rec.all()) != 2 {
		t.Errorf("%d requests, report %+v, %d records", len(rc.requests()), rep, len(rec.all()))
	}
}

func TestConcurrentFire(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: a, on: ["*"], http: {url: "%[1]s/200", body: {vm: "{{ .data.vm }}"}}}
  - {id: b, on: ["*"], exec: {command: /bin/true}}
`, rc.URL), hookpoint.Options{Recorder: rec})
	errc := make(chan error, 20)
	for i := range 20 {
		go func() {
			ev := hookpoint.NewEvent("backup.post")
			ev.Data["vm"] = i
			out, err := eng.Fire(context.Background(), ev)
			if err == nil && ids(out.Results) != "a:ok,b:ok" {
				err = fmt.Errorf("results %s", ids(out.Results))
			}
			errc <- err
		}()
	}
	for range 20 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if len(rc.requests()) != 20 || len(rec.all()) != 40 {
		t.Errorf("%d requests, %d records", len(rc.requests()), len(rec.all()))
	}
}
