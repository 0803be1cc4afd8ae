package ingest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/event"
)

const zbSecret = "replace-with-a-long-random-secret"

// zbHeader is what net/http hands a handler for the headers Zerobyte sends with its
// default body and the secret header of its documentation.
func zbHeader() http.Header {
	return header("content-type", "application/json", "x-zerobyte-hook-secret", zbSecret)
}

func TestZerobyteAuthenticate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    Config
		header http.Header
		want   string // "" when accepted
	}{
		{"the default header", Config{Secret: zbSecret}, zbHeader(), ""},
		{"the default header named", Config{Secret: zbSecret, Header: "X-Zerobyte-Hook-Secret"}, zbHeader(), ""},
		{"the header named in lower case", Config{Secret: zbSecret, Header: "x-zerobyte-hook-secret"}, zbHeader(), ""},
		{"another header", Config{Secret: zbSecret, Header: "X-Backup-Token"}, header("x-backup-token", zbSecret), ""},
		{"no secret configured refuses everything", Config{}, zbHeader(), "no secret is configured"},
		{"no header", Config{Secret: zbSecret}, header("content-type", "application/json"), "no X-Zerobyte-Hook-Secret header"},
		{"the secret in another header", Config{Secret: zbSecret, Header: "X-Backup-Token"}, zbHeader(), "no X-Backup-Token header"},
		{"another secret", Config{Secret: zbSecret}, header("x-zerobyte-hook-secret", "replace-with-a-long-random-secreT"), "does not match"},
		{"an empty value", Config{Secret: zbSecret}, header("x-zerobyte-hook-secret", ""), "does not match"},
		{"sent twice", Config{Secret: zbSecret}, header("x-zerobyte-hook-secret", zbSecret, "X-Zerobyte-Hook-Secret", zbSecret), "more than once"},
		{"a header name that is not one", Config{Secret: zbSecret, Header: "X Secret"}, zbHeader(), "not a valid header name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Request{Header: tc.header, Body: payload(t, "zerobyte/pre.json")}
			err := Zerobyte{}.Authenticate(r, tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			unauthorizedErr(t, err, tc.want, zbSecret)
		})
	}
}

func TestZerobyteParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file   string
		typ    string
		gate   bool
		status string
		raw    string // data.status
		errMsg string // data.error
	}{
		{"zerobyte/pre.json", "zerobyte.backup.pre", true, "", "", ""},
		{"zerobyte/post-success.json", "zerobyte.backup.post", false, event.StatusSuccess, "success", ""},
		{"zerobyte/post-warning.json", "zerobyte.backup.post", false, event.StatusWarning, "warning", "some files could not be read"},
		{"zerobyte/post-error.json", "zerobyte.backup.post", false, event.StatusFail, "error", "Fatal: unable to open repository at s3:https://s3.example.com/backups: Stat: 403 Forbidden"},
		{"zerobyte/post-cancelled.json", "zerobyte.backup.post", false, event.StatusCancelled, "cancelled", "Operation aborted"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			ev := parse(t, Zerobyte{}, &Request{Header: zbHeader(), Body: payload(t, tc.file)})
			if ev.Type != tc.typ || ev.Gate != tc.gate || ev.Status != tc.status || ev.Subject != "sch_8kq2m" {
				t.Errorf("type %q gate %v status %q subject %q, want %q %v %q sch_8kq2m", ev.Type, ev.Gate, ev.Status, ev.Subject, tc.typ, tc.gate, tc.status)
			}
			if want := (event.Run{ID: "0196a5b2-7c3d-7e4f-8a9b-1c2d3e4f5a6b", Job: "sch_8kq2m", Kind: "zerobyte"}); ev.Run != want {
				t.Errorf("run %+v, want %+v", ev.Run, want)
			}
			want := map[string]any{
				"phase": strings.TrimPrefix(tc.typ, "zerobyte.backup."), "job_id": "0196a5b2-7c3d-7e4f-8a9b-1c2d3e4f5a6b",
				"schedule_id": "sch_8kq2m", "organization_id": "org_4f7d2c", "source_path": "/var/lib/zerobyte/volumes/postgres/_data",
			}
			if tc.raw != "" {
				want["status"] = tc.raw
			}
			if tc.errMsg != "" {
				want["error"] = tc.errMsg
			}
			if got := dataJSON(t, ev.Data); got != dataJSON(t, want) {
				t.Errorf("data %s\nwant %s", got, dataJSON(t, want))
			}
		})
	}
}

func TestZerobyteParseErrors(t *testing.T) {
	t.Parallel()
	const ctx = `"jobId":"j1","scheduleId":"s1","organizationId":"o1","sourcePath":"/data"`
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"a custom body", `stop postgres`, "", "malformed JSON at line 1, column 1"},
		{"a custom JSON body", `{"container":"postgres"}`, "phase", "leave the webhook's body empty in Zerobyte"},
		{"phase neither pre nor post", `{` + ctx + `,"phase":"during","event":"backup.during"}`, "phase", `"during" is neither`},
		{"event of the other phase", `{` + ctx + `,"phase":"pre","event":"backup.post"}`, "event", `"backup.post" does not go with phase "pre"`},
		{"no event", `{` + ctx + `,"phase":"pre"}`, "event", `Zerobyte sends "backup.pre"`},
		{"no jobId", `{"scheduleId":"s1","phase":"pre","event":"backup.pre"}`, "jobId", "missing"},
		{"jobId a list", `{"jobId":["j"],"phase":"pre","event":"backup.pre"}`, "jobId", "expected text or a number, got a list"},
		{"sourcePath true", `{"jobId":"j","sourcePath":true,"phase":"pre","event":"backup.pre"}`, "sourcePath", "expected text or a number, got true/false"},
		{"a post without status", `{` + ctx + `,"phase":"post","event":"backup.post"}`, "status", "Zerobyte sends it with every post-backup webhook"},
		{"an unknown status", `{` + ctx + `,"phase":"post","event":"backup.post","status":"failed"}`, "status", `"failed" is not one of success, warning, error, cancelled`},
		{"error not text", `{` + ctx + `,"phase":"post","event":"backup.post","status":"error","error":{"message":"x"}}`, "error", "expected text, got an object"},
		{"trailing data", `{` + ctx + `,"phase":"pre","event":"backup.pre"}` + "\n{}", "", "unexpected data after the JSON object at line 2, column 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseError(t, Zerobyte{}, &Request{Header: zbHeader(), Body: []byte(tc.body)}, tc.field, tc.want)
		})
	}
}

// Zerobyte sends at most 64 KiB; a longer error is bounded in the event's data.
func TestZerobyteSizes(t *testing.T) {
	t.Parallel()
	body := []byte(`{"jobId":"j","phase":"post","event":"backup.post","status":"warning","error":"` + strings.Repeat("x", ZerobyteMaxBody) + `"}`)
	if _, err := (Zerobyte{}).Parse(&Request{Body: body}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	body = []byte(`{"jobId":"j","phase":"post","event":"backup.post","status":"warning","error":"` + strings.Repeat("x", 60<<10) + `"}`)
	ev := parse(t, Zerobyte{}, &Request{Body: body})
	if msg := ev.Data["error"].(string); len(msg) > 4<<10 || !strings.HasPrefix(msg, "xxxx") || !strings.Contains(msg, "cut") {
		t.Errorf("error of %d bytes: %.40q…", len(msg), msg)
	}
}

// TestZerobyteOverSocket sends the bytes Zerobyte writes (Node's http client, as Bun
// runs it: the header names in lower case as Headers.entries() gives them, then Host and
// Connection) to a real HTTP server that hands them to the source, and reads the answer
// Zerobyte would read.
func TestZerobyteOverSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		file    string
		secret  string
		outcome Outcome
		status  int
		typ     string
	}{
		{"pre, hooks proceed", "zerobyte/pre.json", zbSecret, Outcome{Verdict: Proceed}, 200, "zerobyte.backup.pre"},
		{"pre, a hook aborts: Zerobyte fails the backup", "zerobyte/pre.json", zbSecret, Outcome{Verdict: Abort, AbortedBy: "stop-postgres"}, 409, "zerobyte.backup.pre"},
		{"post with a warning", "zerobyte/post-warning.json", zbSecret, Outcome{Verdict: Proceed}, 200, "zerobyte.backup.post"},
		{"another secret", "zerobyte/pre.json", "not-the-secret", Outcome{Verdict: Proceed}, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			events := make(chan *event.Event, 1)
			srv := httptest.NewServer(ingestHandler(t, Zerobyte{}, Config{Secret: zbSecret}, tc.outcome, events))
			defer srv.Close()
			body := payload(t, tc.file)
			raw := "POST /v1/ingest/zerobyte HTTP/1.1\r\n" +
				"content-type: application/json\r\n" +
				"x-zerobyte-hook-secret: " + tc.secret + "\r\n" +
				fmt.Sprintf("content-length: %d\r\n", len(body)) +
				"Host: " + srv.Listener.Addr().String() + "\r\n" +
				"Connection: keep-alive\r\n\r\n" + string(body)
			resp := sendRaw(t, srv.Listener.Addr().String(), raw)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d (body %s)", resp.status, tc.status, resp.body)
			}
			if tc.typ == "" {
				return
			}
			ev := <-events
			if ev.Type != tc.typ {
				t.Errorf("type %q, want %q", ev.Type, tc.typ)
			}
			var a struct {
				EventID   string  `json:"event_id"`
				Verdict   Verdict `json:"verdict"`
				AbortedBy string  `json:"aborted_by"`
				Message   string  `json:"message"`
			}
			if err := json.Unmarshal(resp.body, &a); err != nil {
				t.Fatalf("answer %s: %v", resp.body, err)
			}
			if a.EventID != ev.ID || a.Verdict != tc.outcome.Verdict || a.AbortedBy != tc.outcome.AbortedBy {
				t.Errorf("answer %+v, want event %s and outcome %+v", a, ev.ID, tc.outcome)
			}
			if tc.outcome.Verdict == Abort && a.Message != "hook stop-postgres aborted zerobyte.backup.pre" {
				t.Errorf("message %q", a.Message)
			}
		})
	}
}

// ingestHandler serves one source the way the server is to: authenticate, read a bounded
// body, parse, answer with outcome. Each event parsed is sent on events.
func ingestHandler(t *testing.T, s Source, cfg Config, outcome Outcome, events chan<- *event.Event) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &Request{Header: r.Header, PathSecret: r.PathValue("secret")}
		if err := s.Authenticate(req, cfg); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var err error
		if req.Body, err = io.ReadAll(io.LimitReader(r.Body, s.MaxBody()+1)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, err := s.Parse(req)
		if err != nil {
			t.Errorf("Parse: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events <- ev
		a := s.Answer(ev, outcome)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	})
}

type rawResponse struct {
	status int
	body   []byte
}

// sendRaw writes raw to addr over TCP and reads one HTTP response.
func sendRaw(t *testing.T, addr, raw string) rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, body: body}
}
