package main

// `hookpoint journal`: reading journals as a person would.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// journalLine is one record as the journal writes it.
func journalLine(t *testing.T, when time.Time, run, typ, hook, outcome string, status, exit int, errText string) string {
	t.Helper()
	r := map[string]any{
		"time": when.UTC().Format(time.RFC3339Nano), "run_id": run, "event_id": "evt_" + hook, "event_type": typ,
		"hook_id": hook, "action": "exec", "mode": "sync", "attempt": 1, "outcome": outcome, "duration_ms": 12.5,
	}
	if status != 0 {
		r["action"], r["status"] = "http", status
	} else {
		r["exit_code"] = exit
	}
	if errText != "" {
		r["error"] = errText
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeJournal(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJournalReader(t *testing.T) {
	t.Parallel()
	now := time.Now()
	day := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	recs := []string{
		journalLine(t, day, "run_a", "backup.pre", "gate", "failed", 0, 7, "exit status 7"),
		journalLine(t, day.Add(time.Minute), "run_a", "backup.end", "notify", "ok", 204, 0, ""),
		journalLine(t, day.Add(24*time.Hour), "run_b", "vzdump.backup-start", "freeze", "timeout", 0, 137, "killed after the 10s timeout"),
		journalLine(t, now.Add(-3*time.Hour), "run_c", "backup.pre", "gate", "ok", 0, 0, ""),
		journalLine(t, now.Add(-10*time.Minute), "run_d", "backup.post", "notify", "skipped", 0, 0, "an earlier hook aborted\nthis event"),
	}
	path := writeJournal(t, recs...)
	env := childEnv(t, "TZ=UTC")
	rows := func(p proc) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(p.stdout), "\n") {
			if l != "" && !strings.HasPrefix(l, "TIME") {
				out = append(out, l)
			}
		}
		return out
	}

	t.Run("table", func(t *testing.T) {
		t.Parallel()
		p := runHP(t, env, "journal", path)
		wantExit(t, p, 0)
		if !strings.HasPrefix(p.stdout, "TIME ") || !strings.Contains(strings.SplitN(p.stdout, "\n", 2)[0], "OUTCOME") {
			t.Errorf("no header:\n%s", p.stdout)
		}
		r := rows(p)
		if len(r) != 5 {
			t.Fatalf("%d rows, want 5:\n%s", len(r), p.stdout)
		}
		for _, want := range []string{"2026-03-04 05:06:07", "backup.pre", "gate", "failed", "exit 7", "12.5ms", "run_a", "exit status 7"} {
			if !strings.Contains(r[0], want) {
				t.Errorf("row %q lacks %q", r[0], want)
			}
		}
		if !strings.Contains(r[1], "204") || !strings.Contains(r[4], "an earlier hook aborted | this event") {
			t.Errorf("rows\n%s\n%s\nwant the status and the error on one line", r[1], r[4])
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want []int // indexes of recs, in order
	}{
		{"by run", []string{"--run", "run_a"}, []int{0, 1}},
		{"by two hooks", []string{"--hook", "freeze", "--hook", "notify"}, []int{1, 2, 4}},
		{"by event pattern", []string{"--event", "backup.*"}, []int{0, 1, 3, 4}},
		{"by event patterns", []string{"--event", "*.pre", "--event", "vzdump.*"}, []int{0, 2, 3}},
		{"by outcome", []string{"--outcome", "failed,timeout"}, []int{0, 2}},
		{"since RFC 3339", []string{"--since", day.Add(30 * time.Second).Format(time.RFC3339), "--until", day.Add(25 * time.Hour).Format(time.RFC3339)}, []int{1, 2}},
		{"since a duration", []string{"--since", "1h"}, []int{4}},
		{"since a date", []string{"--since", "2026-03-05", "--until", now.Add(-time.Hour).Format(time.RFC3339)}, []int{2, 3}},
		{"filters combine", []string{"--hook", "gate", "--since", "24h"}, []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, env, append(append([]string{"journal", "-o", "json"}, tc.args...), path)...)
			wantExit(t, p, 0)
			var want []string
			for _, i := range tc.want {
				want = append(want, recs[i])
			}
			if got := strings.TrimSpace(p.stdout); got != strings.Join(want, "\n") {
				t.Errorf("-o json printed\n%s\nwant the records as written\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
	t.Run("usage errors", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"--outcome", "great", path}, {"--since", "yesterday", path}, {"--until", "-2h", path}, {"-o", "yaml", path},
			{"--event", "a b", path}, {"-f", "-"}, {},
		} {
			p := runHP(t, env, append([]string{"journal"}, args...)...)
			if p.code != 2 || !strings.HasPrefix(p.stderr, "hookpoint: ") {
				t.Errorf("journal %q: exit %d, stderr %q; want a usage error", args, p.code, p.stderr)
			}
		}
	})
}

// A journal written by emit reads back; HOOKPOINT_JOURNAL is the default file.
func TestJournalReadsWhatEmitWrote(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: ok
    on: ["app.*"]
    http: {url: "RECV/ok"}
  - id: nope
    on: ["app.*"]
    exec: {command: /bin/sh, args: ["-c", "exit 3"]}
`)
	path := filepath.Join(t.TempDir(), "j.jsonl")
	env := childEnv(t, "HOOKPOINT_CONFIG="+cfg, "HOOKPOINT_JOURNAL="+path)
	wantExit(t, runHP(t, env, "emit", "--run-id", "run_one", "app.one"), 0)
	wantExit(t, runHP(t, env, "emit", "--run-id", "run_two", "app.two"), 0)
	p := runHP(t, env, "journal", "--run", "run_two", "--outcome", "failed")
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "app.two") || !strings.Contains(p.stdout, "nope") || strings.Contains(p.stdout, "app.one") || strings.Count(p.stdout, "\n") != 2 {
		t.Errorf("journal printed\n%s\nwant the header and the failed hook of run_two", p.stdout)
	}
}

// Lines that are not records, or too long to be one, are reported with file and line and
// skipped; a file that cannot be read makes the exit status 1 after the others are read.
func TestJournalBadInput(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	good1 := journalLine(t, day, "run_a", "backup.pre", "gate", "ok", 0, 0, "")
	good2 := journalLine(t, day, "run_a", "backup.end", "notify", "ok", 200, 0, "")
	long := `{"error":"` + strings.Repeat("x", 3<<20) + `"}`
	path := writeJournal(t, good1, "not json", long, `{"some":"thing"}`, good2)
	p := runHP(t, childEnv(t), "journal", "-o", "json", path, "/nonexistent/hookpoint-journal.jsonl")
	wantExit(t, p, 1)
	if got := strings.TrimSpace(p.stdout); got != good1+"\n"+good2 {
		t.Errorf("stdout\n%s\nwant the two records", got)
	}
	for _, want := range []string{path + ":2: not a journal record", path + ":3: line of", "longer than", path + ":4: not a journal record", "/nonexistent/hookpoint-journal.jsonl: no such file"} {
		if !strings.Contains(p.stderr, want) {
			t.Errorf("stderr %q\nwant %q", p.stderr, want)
		}
	}
	if len(p.stderr) > 2000 {
		t.Errorf("stderr is %d bytes: the long line should be reported, not printed", len(p.stderr))
	}
}

// -f prints the records so far, then those written later, across truncation and rotation;
// a line written in two parts is printed once whole.
func TestJournalFollow(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := func(i int) string {
		return journalLine(t, day.Add(time.Duration(i)*time.Second), "run_f", "backup.pre", fmt.Sprintf("h%d", i), "ok", 0, 0, "")
	}
	path := writeJournal(t, rec(1))
	hp := startHookpoint(t, childEnv(t), "journal", "-f", "-o", "json", "--hook", "h1", "--hook", "h2", "--hook", "h3", "--hook", "h4", "--hook", "h5", path)
	seen := func(i int) func() bool {
		return func() bool { return strings.Contains(hp.stdout.String(), rec(i)+"\n") }
	}
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the first record", seen(1))

	// Appended in two writes: printed once the line is whole.
	r2 := rec(2)
	appendTo(r2[:20])
	appendTo(r2[20:] + "\n" + journalLine(t, day, "run_f", "x", "not-wanted", "ok", 0, 0, "") + "\n")
	eventually(t, "the appended record", seen(2))

	// Truncated (copytruncate): read again from the start.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the truncation to be noticed", func() bool { return strings.Contains(hp.stderr.String(), "truncated") })
	appendTo(rec(3) + "\n")
	eventually(t, "the record after the truncation", seen(3))

	// Rotated: renamed away, a new file at the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(rec(4) + "\n")
	eventually(t, "the record in the new file", seen(4))
	if !strings.Contains(hp.stderr.String(), "rotated") {
		t.Errorf("stderr %q, want the rotation noticed", hp.stderr.String())
	}
	appendTo(rec(5) + "\n")
	eventually(t, "a second record in the new file", seen(5))

	if err := hp.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p := hp.wait(t)
	wantExit(t, p, 0)
	if strings.Contains(p.stdout, "not-wanted") {
		t.Errorf("the filter was not applied while following:\n%s", p.stdout)
	}
	for i := 1; i <= 5; i++ {
		if n := strings.Count(p.stdout, rec(i)); n != 1 {
			t.Errorf("record %d printed %d times", i, n)
		}
	}
}
