package main

// Fleet clients end to end: emit, run and the adapters with --server against a real
// `hookpoint serve` process, whose hooks call the test's receiver; the server stopped
// and started again on the same address to see gates abort, notifications spooled and
// then delivered once.

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fleetAdmin is the admin token of the servers the tests start (HOOKPOINT_TOKEN).
const fleetAdmin = "hpadmin_e2etoken_0123456789abcdefghijklmnop"

// fleetServe is a running `hookpoint serve`.
type fleetServe struct {
	proc *started
	url  string // http://ADDR
	db   string // sqlite://FILE
}

// startFleetServe starts `hookpoint serve` on listen (127.0.0.1:0 for a fresh port) with
// the hooks of cfg (RECV replaced by the receiver's URL), allowed to call 127.0.0.1,
// and returns once it prints its URL. It is stopped with SIGTERM when the test ends.
func startFleetServe(t *testing.T, rcv *receiver, cfg, listen string) *fleetServe {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, rcv, "server.yaml", cfg)
	db := "sqlite://" + filepath.Join(dir, "hookpoint.db")
	env := childEnv(t, "HOOKPOINT_TOKEN="+fleetAdmin, "HOOKPOINT_CONFIG="+path)
	p := startHookpoint(t, env, "serve", "--listen", listen, "--db", db, "--allow-origin", "127.0.0.1", "--sqlite-synchronous", "NORMAL")
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	})
	var u string
	eventually(t, "hookpoint serve to print its URL", func() bool {
		select {
		case <-p.done:
			t.Fatalf("hookpoint serve exited: %v\n%s", p.err, p.stderr)
		default:
		}
		line, _, ok := strings.Cut(p.stderr.String(), "\n")
		if !ok {
			return false
		}
		rest, found := strings.CutPrefix(line, "hookpoint serve: ")
		if !found {
			t.Fatalf("serve's first line is %q", line)
		}
		u, _, _ = strings.Cut(rest, " ")
		return true
	})
	return &fleetServe{proc: p, url: u, db: db}
}

// token makes a token of the scope on the server's database, as an operator does.
func (s *fleetServe) token(t *testing.T, scope string) string {
	t.Helper()
	p := runHP(t, childEnv(t), "token", "create", "--scope", scope, "--db", s.db, "--description", "node1")
	wantExit(t, p, 0)
	tok, _, _ := strings.Cut(p.stdout, "\n")
	if !strings.HasPrefix(tok, "hp_"+scope+"_") {
		t.Fatalf("token create printed %q", p.stdout)
	}
	return tok
}

// freePort returns an address where nothing listens yet: a server that is down.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// nodeEnv is the environment of a node that sends its events to server with tok, and
// spools to a file of its own.
func nodeEnv(t *testing.T, server, tok, spool string, extra ...string) []string {
	t.Helper()
	return childEnv(t, append([]string{"HOOKPOINT_SERVER=" + server, "HOOKPOINT_TOKEN=" + tok, "HOOKPOINT_SPOOL=" + spool}, extra...)...)
}

// journalRecords reads a journal file.
func journalRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("journal line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// spoolLines returns the lines of a spool file ("" when it does not exist).
func spoolLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// noSecret fails the test when the token shows in any of the texts.
func noSecret(t *testing.T, tok string, texts map[string]string) {
	t.Helper()
	for name, s := range texts {
		if strings.Contains(s, tok) {
			t.Errorf("the token shows in %s", name)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// The server's hooks decide: emit proceeds or aborts as the server's verdict says, and
// prints the server's results as it prints local ones.
func TestFleetEmit(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startFleetServe(t, rcv, `hooks:
  - id: freeze
    on: ["backup.pre"]
    http: {url: "RECV/freeze"}
  - id: check
    on: ["backup.pre"]
    order: 2
    exec:
      command: /bin/sh
      args: ["-c", "[ \"$HOOKPOINT_DATA_VMID\" != 666 ] || { echo \"disk of $HOOKPOINT_DATA_VMID is full\" >&2; exit 4; }"]
  - id: note
    on: ["backup.end"]
    http: {url: "RECV/note"}
`, "127.0.0.1:0")
	tok := srv.token(t, "emit")
	dir := t.TempDir()
	journal, spool := filepath.Join(dir, "j.jsonl"), filepath.Join(dir, "spool.jsonl")
	env := nodeEnv(t, srv.url, tok, spool)

	p := runHP(t, env, "emit", "--journal", journal, "--run-id", "run_fleet1", "--var", "vmid=101", "backup.pre")
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "backup.pre freeze: ok (200)") || !strings.Contains(p.stdout, "backup.pre check: ok (exit 0)") ||
		!strings.HasSuffix(p.stdout, "backup.pre: proceed\n") {
		t.Errorf("proceed: stdout\n%s", p.stdout)
	}
	if got := rcv.byHook("freeze"); len(got) != 1 || got[0].Run != "run_fleet1" || got[0].data(t)["vmid"] != "101" {
		t.Errorf("freeze got %d requests, want one with the run and data of the event", len(got))
	}

	p = runHP(t, env, "emit", "--journal", journal, "--var", "vmid=666", "backup.pre")
	wantExit(t, p, 1)
	want := "backup.pre check: failed (exit 4) [abort]\n  stderr: disk of 666 is full\nbackup.pre: abort\n"
	if !strings.HasSuffix(p.stdout, want) {
		t.Errorf("abort: stdout\n%s\nwant it to end with\n%s", p.stdout, want)
	}

	p = runHP(t, env, "emit", "--journal", journal, "-o", "json", "backup.end")
	wantExit(t, p, 0)
	var out struct {
		Event   map[string]any   `json:"event"`
		Verdict string           `json:"verdict"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(p.stdout), &out); err != nil {
		t.Fatalf("-o json: %v\n%s", err, p.stdout)
	}
	if out.Verdict != "proceed" || out.Event["type"] != "backup.end" || len(out.Results) != 1 ||
		out.Results[0]["hook_id"] != "note" || out.Results[0]["outcome"] != "ok" || out.Results[0]["status"] != 200.0 ||
		out.Results[0]["event_id"] != out.Event["id"] {
		t.Errorf("-o json: %s", p.stdout)
	}
	if n := len(rcv.byHook("note")); n != 1 {
		t.Errorf("note called %d times", n)
	}

	recs := journalRecords(t, journal)
	if len(recs) != 3 {
		t.Fatalf("%d journal records, want one per event sent", len(recs))
	}
	for _, r := range recs {
		if r["hook_id"] != "server" || r["action"] != "server" || r["outcome"] != "ok" || r["status"] != 200.0 ||
			r["target"] != "POST "+srv.url+"/v1/events" {
			t.Errorf("journal record %v", r)
		}
	}
	if fileExists(spool) && len(spoolLines(t, spool)) > 0 {
		t.Error("something was spooled while the server answered")
	}
	noSecret(t, tok, map[string]string{"output": p.output(), "journal": readFile(t, journal)})
}

// run: the server's verdict on KIND.pre decides whether the command starts; KIND.abort
// and KIND.end (or KIND.post and KIND.end) go to the server too.
func TestFleetRun(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startFleetServe(t, rcv, `hooks:
  - id: deny
    on: ["nightly.pre"]
    exec: {command: /bin/sh, args: ["-c", "echo 'maintenance window' >&2; exit 5"]}
  - id: log
    on: ["nightly.*", "daily.*"]
    http: {url: "RECV/log"}
`, "127.0.0.1:0")
	dir := t.TempDir()
	env := nodeEnv(t, srv.url, srv.token(t, "emit"), filepath.Join(dir, "spool.jsonl"))
	marker := filepath.Join(dir, "ran")

	p := runHP(t, env, "run", "--job", "db", "--kind", "nightly", "--", "touch", marker)
	wantExit(t, p, exitGateAbort)
	if fileExists(marker) {
		t.Error("the command ran although the server's pre hook aborted")
	}
	if !strings.Contains(p.stderr, "pre hook deny failed (exit 5)\n  stderr: maintenance window") {
		t.Errorf("stderr does not show the server's failed hook:\n%s", p.stderr)
	}
	reqs := wantEvents(t, rcv, "log", "nightly.abort", "nightly.end") // deny skipped log on nightly.pre
	if e, _ := reqs[1].data(t)["error"].(string); !strings.Contains(e, "pre hook deny failed") {
		t.Errorf("nightly.end error %q", e)
	}

	p = runHP(t, env, "run", "--job", "db", "--kind", "daily", "--", "touch", marker)
	wantExit(t, p, 0)
	if !fileExists(marker) {
		t.Error("the command did not run")
	}
	reqs = wantEvents(t, rcv, "log", "nightly.abort", "nightly.end", "daily.pre", "daily.post", "daily.end")
	wantStatus(t, reqs[4], "success")
}

// The vzdump adapter sends its event with vzdump's variables; the server's hooks see
// them as local ones do, and a gate phase exits 1 when the server aborts it.
func TestFleetVzdump(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	dir := t.TempDir()
	seen := filepath.Join(dir, "seen")
	srv := startFleetServe(t, rcv, `hooks:
  - id: guest
    on: ["vzdump.backup-start"]
    exec: {command: /bin/sh, args: ["-c", "echo \"$VMTYPE $HOOKPOINT_DATA_VMID $HOOKPOINT_DATA_MODE $HOOKPOINT_RUN_ID\" > `+seen+`"]}
  - id: stop
    on: ["vzdump.pre-stop"]
    http: {url: "RECV/stop?code=500"}
  - id: end
    on: ["vzdump.job-end"]
    http: {url: "RECV/end"}
`, "127.0.0.1:0")
	env := nodeEnv(t, srv.url, srv.token(t, "emit"), filepath.Join(dir, "spool.jsonl"), "VMTYPE=qemu", "HOOKPOINT_RUN_ID=vzdump-run-1")
	// As the wrapper writes it: the shared flags before the command name.
	p := runHP(t, env, "--server", srv.url, "vzdump", "backup-start", "snapshot", "101")
	wantExit(t, p, 0)
	if got := strings.TrimSpace(readFile(t, seen)); got != "qemu 101 snapshot vzdump-run-1" {
		t.Errorf("the server's exec hook saw %q", got)
	}
	p = runHP(t, env, "vzdump", "pre-stop", "stop", "101")
	wantExit(t, p, 1)
	if !strings.Contains(p.stdout, "vzdump.pre-stop stop: failed (500): unexpected status 500 [abort]\n  response: ok\nvzdump.pre-stop: abort") {
		t.Errorf("stdout:\n%s", p.stdout)
	}
	p = runHP(t, env, "vzdump", "job-end")
	wantExit(t, p, 0)
	if reqs := wantEvents(t, rcv, "end", "vzdump.job-end"); reqs[0].Run != "vzdump-run-1" {
		t.Errorf("job-end run %q", reqs[0].Run)
	}
}

// The server is down: gates abort (or proceed when told), notifications are kept in
// the spool; once the server is back, the next call that it answers sends them, oldest
// first, each once.
func TestFleetServerDown(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	addr := freePort(t)
	server := "http://" + addr
	dir := t.TempDir()
	journal, spool := filepath.Join(dir, "j.jsonl"), filepath.Join(dir, "state", "spool.jsonl")
	env := nodeEnv(t, server, fleetAdmin, spool)
	marker := filepath.Join(dir, "ran")
	fast := []string{"--server-retry", "100ms", "--journal", journal}
	var outputs []string
	hp := func(code int, args ...string) proc {
		t.Helper()
		p := runHP(t, env, append(slices.Clone(args[:1]), append(slices.Clone(fast), args[1:]...)...)...)
		wantExit(t, p, code)
		outputs = append(outputs, p.output())
		return p
	}

	p := hp(1, "emit", "backup.pre")
	if !strings.Contains(p.stdout, "backup.pre server: failed: could not reach the server "+server) ||
		!strings.Contains(p.stdout, "connection refused") || !strings.HasSuffix(p.stdout, "backup.pre: abort\n") {
		t.Errorf("gate, server down:\n%s", p.stdout)
	}
	p = hp(0, "emit", "--server-unreachable", "proceed", "backup.pre")
	if !strings.Contains(p.stdout, "the gate proceeds (--server-unreachable proceed) [warn]") || !strings.HasSuffix(p.stdout, "backup.pre: proceed\n") {
		t.Errorf("gate, server down, proceed:\n%s", p.stdout)
	}
	p = hp(exitGateAbort, "run", "--job", "db", "--kind", "backup", "--", "touch", marker)
	if fileExists(marker) || !strings.Contains(p.stderr, "could not reach the server "+server) || !strings.Contains(p.stderr, "the command was not started") {
		t.Errorf("run, server down: ran %v\n%s", fileExists(marker), p.stderr)
	}
	for _, n := range []string{"1", "2"} {
		p = hp(0, "emit", "--var", "n="+n, "app.done")
		if !strings.Contains(p.stdout, "app.done server: spooled: could not reach the server "+server) || !strings.Contains(p.stdout, "kept in the spool "+spool) {
			t.Errorf("notification, server down:\n%s", p.stdout)
		}
		if !strings.Contains(p.stderr, "outcome=spooled") {
			t.Errorf("no warning on stderr:\n%s", p.stderr)
		}
	}
	hp(0, "vzdump", "job-end")
	spooled := spoolLines(t, spool)
	if len(spooled) != 5 { // run's backup.abort and backup.end, app.done twice, vzdump.job-end
		t.Fatalf("%d events spooled, want 5:\n%s", len(spooled), strings.Join(spooled, "\n"))
	}
	if st, err := os.Stat(spool); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("spool mode: %v %v", st.Mode(), err)
	}
	var spooledIDs []string
	for _, l := range spooled {
		var e struct {
			Event struct{ ID, Type string } `json:"event"`
		}
		_ = json.Unmarshal([]byte(l), &e)
		spooledIDs = append(spooledIDs, e.Event.ID)
	}
	if len(rcv.requests()) != 0 {
		t.Fatal("a hook ran while the server was down")
	}

	startFleetServe(t, rcv, `hooks:
  - id: note
    on: ["app.done"]
    http: {url: "RECV/note"}
  - id: all
    on: ["*"]
    order: 2
    http: {url: "RECV/all"}
`, addr)
	p = hp(0, "emit", "app.start")
	notes := rcv.byHook("note")
	if len(notes) != 2 || notes[0].data(t)["n"] != "1" || notes[1].data(t)["n"] != "2" {
		t.Errorf("note got %d requests, want the two spooled app.done, oldest first", len(notes))
	}
	hp(0, "emit", "app.start") // nothing left to send
	count := map[string]int{}
	for _, r := range rcv.byHook("all") {
		count[r.str("id")]++
	}
	for _, id := range spooledIDs {
		if count[id] != 1 {
			t.Errorf("spooled event %s reached the hooks %d times, want once", id, count[id])
		}
	}
	if len(rcv.byHook("all")) != len(spooledIDs)+2 {
		t.Errorf("the all hook ran %d times, want %d", len(rcv.byHook("all")), len(spooledIDs)+2)
	}
	if l := spoolLines(t, spool); len(l) != 0 {
		t.Errorf("%d events left in the spool", len(l))
	}

	// The journal: each spooled event once as spooled, then once as sent.
	byID := map[string][]string{}
	for _, r := range journalRecords(t, journal) {
		if r["hook_id"] != "server" || strings.Contains(fmt.Sprint(r["target"]), "@") {
			t.Errorf("journal record %v", r)
		}
		id, _ := r["event_id"].(string)
		byID[id] = append(byID[id], r["outcome"].(string))
	}
	for _, id := range spooledIDs {
		if !slices.Equal(byID[id], []string{"spooled", "ok"}) {
			t.Errorf("journal of spooled event %s: %q, want spooled then ok", id, byID[id])
		}
	}
	noSecret(t, fleetAdmin, map[string]string{"output": strings.Join(outputs, "\n"), "journal": readFile(t, journal), "spool": strings.Join(spooled, "\n")})
}

// Several hookpoint processes at once spool without corrupting the file, and send the
// spool without sending an event twice.
func TestFleetSpoolConcurrentProcesses(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	addr := freePort(t)
	dir := t.TempDir()
	journal, spool := filepath.Join(dir, "j.jsonl"), filepath.Join(dir, "spool.jsonl")
	env := nodeEnv(t, "http://"+addr, fleetAdmin, spool)
	parallel := func(n int, args func(i int) []string) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wantExit(t, runHP(t, env, args(i)...), 0)
			}()
		}
		wg.Wait()
	}
	const n = 8
	parallel(n, func(i int) []string {
		return []string{"emit", "--server-retry", "100ms", "--journal", journal, "--var", fmt.Sprint("i=", i), "app.done"}
	})
	lines := spoolLines(t, spool)
	if len(lines) != n {
		t.Fatalf("%d lines spooled, want %d", len(lines), n)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("spool line is not JSON: %q", l)
		}
	}

	startFleetServe(t, rcv, `hooks:
  - id: note
    on: ["app.done"]
    http: {url: "RECV/note"}
`, addr)
	parallel(4, func(int) []string { return []string{"emit", "--journal", journal, "app.start"} })
	seen := map[string]int{}
	for _, r := range rcv.byHook("note") {
		seen[r.str("id")]++
	}
	if len(seen) != n {
		t.Errorf("%d spooled events reached the hook, want %d", len(seen), n)
	}
	sent := map[string]int{}
	for _, r := range journalRecords(t, journal) {
		if r["event_type"] == "app.done" && r["outcome"] == "ok" {
			sent[r["event_id"].(string)]++
			if strings.Contains(fmt.Sprint(r["response"]), `"duplicate":true`) {
				t.Errorf("%s was sent twice", r["event_id"])
			}
		}
	}
	for id, c := range seen {
		if c != 1 || sent[id] != 1 {
			t.Errorf("%s: reached the hook %d times, sent %d times; want once", id, c, sent[id])
		}
	}
}

// A token the server refuses is an error (exit 2), not an unreachable server: nothing is
// spooled, nothing runs, and the token is not shown.
func TestFleetRefusedToken(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startFleetServe(t, rcv, `hooks:
  - id: all
    on: ["*"]
    http: {url: "RECV/all"}
`, "127.0.0.1:0")
	dir := t.TempDir()
	spool, marker := filepath.Join(dir, "spool.jsonl"), filepath.Join(dir, "ran")
	const wrong = "hp_emit_aaaaaaaaaaaaaaaa_thisisnotthetokenthisisnotthetoken12345"
	env := nodeEnv(t, srv.url, wrong, spool)
	var outputs []string
	for _, args := range [][]string{{"emit", "app.done"}, {"emit", "backup.pre"}, {"run", "--job", "j", "--", "touch", marker}, {"vzdump", "job-end"}} {
		p := runHP(t, env, args...)
		wantExit(t, p, exitUsage)
		if !strings.Contains(p.stderr, "the server "+srv.url+" refused the token") || !strings.Contains(p.stderr, "HOOKPOINT_TOKEN") {
			t.Errorf("%s: stderr\n%s", args[0], p.stderr)
		}
		outputs = append(outputs, p.output())
	}
	if fileExists(spool) || fileExists(marker) || len(rcv.requests()) != 0 {
		t.Errorf("spooled %v, command ran %v, hooks ran %d times; want none of it", fileExists(spool), fileExists(marker), len(rcv.requests()))
	}
	noSecret(t, wrong, map[string]string{"output": strings.Join(outputs, "\n")})

	// A valid token without the scope: 403.
	p := runHP(t, nodeEnv(t, srv.url, srv.token(t, "read"), spool), "emit", "app.done")
	wantExit(t, p, exitUsage)
	if !strings.Contains(p.stderr, "use a token of scope emit") {
		t.Errorf("read token: %s", p.stderr)
	}
}

// Mistakes in the fleet flags are usage errors that send nothing.
func TestFleetUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"emit", "--server", "http://127.0.0.1:1", "app.done"}, "needs a token: set HOOKPOINT_TOKEN or give --token-file"},
		{[]string{"HOOKPOINT_TOKEN=x"}, []string{"emit", "--server", "ftp://h", "app.done"}, "--server: ftp://h: use an http:// or https:// URL"},
		{[]string{"HOOKPOINT_TOKEN=x", "HOOKPOINT_SERVER=https://u:pw@h"}, []string{"emit", "app.done"}, "HOOKPOINT_SERVER: https://u:xxxxx@h: put no credentials in the URL"},
		{[]string{"HOOKPOINT_TOKEN=x"}, []string{"emit", "--server", "http://h", "--server-unreachable", "maybe", "app.done"}, `--server-unreachable "maybe": use abort or proceed`},
		{nil, []string{"emit", "--server", "http://h", "--token-file", empty, "app.done"}, "--token-file " + empty + " is empty"},
	} {
		p := runHP(t, childEnv(t, append([]string{"HOOKPOINT_SPOOL=" + filepath.Join(dir, "spool")}, tc.env...)...), tc.args...)
		wantExit(t, p, exitUsage)
		if !strings.Contains(p.stderr, tc.want) {
			t.Errorf("%q: stderr %q, want %q", tc.args, p.stderr, tc.want)
		}
		if strings.Contains(p.stderr, "pw@") {
			t.Errorf("the password shows: %s", p.stderr)
		}
	}
}

// https: with --server-ca the node trusts the server's certificate; without it the
// certificate does not verify, which is an error (exit 2), not an unreachable server.
func TestFleetTLS(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startFleetServe(t, rcv, `hooks:
  - id: note
    on: ["app.done"]
    http: {url: "RECV/note"}
`, "127.0.0.1:0")
	u, _ := url.Parse(srv.url)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u)) // TLS ends in front of the server
	front.Config.ErrorLog = log.New(io.Discard, "", 0)
	front.StartTLS()
	t.Cleanup(front.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(srv.token(t, "emit")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := childEnv(t, "HOOKPOINT_SPOOL="+filepath.Join(dir, "spool.jsonl"))

	p := runHP(t, env, "emit", "--server", front.URL, "--token-file", tokFile, "app.done")
	wantExit(t, p, exitUsage)
	if !strings.Contains(p.stderr, "certificate") || fileExists(filepath.Join(dir, "spool.jsonl")) {
		t.Errorf("without --server-ca:\n%s", p.stderr)
	}
	p = runHP(t, env, "emit", "--server", front.URL, "--token-file", tokFile, "--server-ca", ca, "app.done")
	wantExit(t, p, 0)
	if len(rcv.byHook("note")) != 1 {
		t.Errorf("note called %d times, want once", len(rcv.byHook("note")))
	}
}
