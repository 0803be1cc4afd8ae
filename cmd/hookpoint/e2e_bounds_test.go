package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// maxLine bounds every journal line and every log line, whatever the event carries.
const maxLine = 16 << 10

// TestHugeValueBoundedInJournalLogsAndOutput: a 1 MiB event value that ends up in a
// hook's target and error gives journal lines, stderr log lines and -o json results that
// are each bounded and say the value was cut; a secret next to the cut is masked, not
// left partly visible.
func TestHugeValueBoundedInJournalLogsAndOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "S3cr3tT0kenValue"
	secretFile := filepath.Join(dir, "token")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.json")
	b, _ := json.Marshal(map[string]string{"big": strings.Repeat("v", 1<<20), "pad": strings.Repeat("p", 1991), "mid": strings.Repeat("m", 8<<10)})
	if err := os.WriteFile(data, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Hook big: nothing listens on port 1, and the secret sits where the 2 KiB cut of
	// the target falls. Hook host: the host name is the value, which the error quotes
	// (a name that long is refused without a lookup). Hook echo: the
	// response quotes an 8 KiB value, and its excerpt is cut. (An exec hook cannot take a
	// 1 MiB value: it is in the command's environment, which the system refuses.)
	cfg := writeConfig(t, newReceiver(t), "hookpoint.yaml", `hooks:
  - id: big
    on: x
    http:
      url: 'http://127.0.0.1:1/?p={{ .data.pad }}&k={{ file "`+secretFile+`" }}&v={{ .data.big }}'
      method: GET
  - id: host
    on: x
    http: {url: 'http://{{ .data.big }}.invalid/', method: GET}
  - id: echo
    on: x
    http: {url: 'RECV/?echo=query&v={{ .data.mid }}', method: GET}
`)
	journal := filepath.Join(dir, "journal.jsonl")
	for _, format := range []string{"text", "json"} {
		p := runHP(t, childEnv(t), "emit", "-c", cfg, "-v", "--log-format", format, "--journal", journal, "--data", "@"+data, "-o", "json", "x")
		wantExit(t, p, 0)
		for _, line := range strings.Split(strings.TrimSpace(p.stderr), "\n") {
			if len(line) > maxLine {
				t.Errorf("%s log: a %d-byte line: %.200s", format, len(line), line)
			}
			if (strings.Contains(line, "big") || strings.Contains(line, "host")) && !strings.Contains(line, "…[cut ") {
				t.Errorf("%s log: the line of a hook with a huge value does not say it was cut: %.300s", format, line)
			}
			if strings.Contains(line, secret[:6]) {
				t.Errorf("%s log: part of the secret is visible", format)
			}
		}
		var out struct {
			Results []struct {
				HookID    string   `json:"hook_id"`
				Target    string   `json:"target"`
				Error     string   `json:"error"`
				Truncated []string `json:"truncated"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(p.stdout), &out); err != nil || len(out.Results) != 3 {
			t.Fatalf("-o json: %v, %d results", err, len(out.Results))
		}
		for _, r := range out.Results {
			// The same as the journal's: a result is its journal record.
			want := map[string]string{"big": "target", "host": "target,error", "echo": "target,response"}[r.HookID]
			if len(r.Target) > 2<<10 || len(r.Error) > 4<<10 || strings.Join(r.Truncated, ",") != want ||
				strings.Contains(r.Target+r.Error, secret[:6]) {
				t.Errorf("-o json result of hook %s: target %d bytes, error %d bytes, truncated %q (want %q)", r.HookID, len(r.Target), len(r.Error), r.Truncated, want)
			}
		}
	}
	f, err := os.Open(journal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if len(line) > maxLine {
			t.Errorf("a %d-byte journal line", len(line))
		}
		var rec struct {
			HookID    string   `json:"hook_id"`
			Truncated []string `json:"truncated"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("journal line: %v", err)
		}
		want := map[string]string{"big": "target", "host": "target,error", "echo": "target,response"}[rec.HookID]
		if strings.Join(rec.Truncated, ",") != want {
			t.Errorf("journal record of hook %s: truncated %q, want %q", rec.HookID, rec.Truncated, want)
		}
		if strings.Contains(line, secret[:6]) {
			t.Error("journal: part of the secret is visible")
		}
	}
	if n != 6 {
		t.Errorf("%d journal lines, want 6", n)
	}
}

// TestListenLogLinesBounded: a 512 KiB request id (and hook id) gives log lines of
// listen that are bounded and say the value was cut.
func TestListenLogLinesBounded(t *testing.T) {
	t.Parallel()
	hooks := filepath.Join(t.TempDir(), "hooks.json")
	if err := os.WriteFile(hooks, []byte(`[{"id": "h", "execute-command": "/bin/true"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startListen(t, "-hooks", hooks, "-x-request-id")
	big := strings.Repeat("r", 512<<10)
	for _, path := range []string{"/hooks/h", "/hooks/" + strings.Repeat("i", 256<<10)} {
		req, _ := http.NewRequest("POST", l.base+path, strings.NewReader("{}"))
		req.Header.Set("X-Request-Id", big)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	eventually(t, "listen to log both requests", func() bool {
		s := l.stderr.String()
		return strings.Contains(s, "command finished") && strings.Contains(s, "hook not found")
	})
	l.signal(t, syscall.SIGTERM)
	p := l.wait(t)
	for _, line := range strings.Split(strings.TrimSpace(p.stderr), "\n") {
		if len(line) > maxLine {
			t.Errorf("a %d-byte log line: %.200s", len(line), line)
		}
		if strings.Contains(line, "rrrrrrrr") && !strings.Contains(line, "…[cut ") {
			t.Errorf("a log line with the request id does not say it was cut: %.200s", line)
		}
	}
}
