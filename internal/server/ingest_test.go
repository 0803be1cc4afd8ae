package server_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/server"
)

func seed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func source(t *testing.T, name string, c ingest.Config) server.IngestSource {
	s, ok := ingest.Lookup(name)
	if !ok {
		t.Fatalf("no source %s", name)
	}
	return server.IngestSource{Source: s, Config: c}
}

// The sources' own payloads, with their headers as they send them: events with their
// hooks run, and answers those systems act on.
func TestIngest(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/freeze" && r.URL.Query().Get("job") == "sch_8kq2m" {
			w.WriteHeader(500) // the Zerobyte pre hook refuses
		}
	})
	const xoSecret, vfToken, zbSecret = "xo-path-Secret-9a8b7c", "vf-Token-5d4e3f", "zb-Header-Secret-1a2b3c"
	e := newEnv(t, envOptions{
		config: fmt.Sprintf(`
hooks:
  - {id: xo-pre, on: [xo.vm.snapshot.pre], http: {url: "%[1]s/xo?vm={{ .event.subject }}&user={{ .data.user.name }}"}}
  - {id: vf, on: ["virtfusion.*"], status: fail, http: {url: "%[1]s/vf?server={{ .event.subject }}"}}
  - {id: zb-freeze, on: [zerobyte.backup.pre], http: {url: "%[1]s/freeze?job={{ .event.subject }}"}}
  - {id: all, on: ["xo.*", "virtfusion.*", "zerobyte.*", "app.*"], mode: async, http: {url: "%[1]s/all/{{ .event.type }}"}}
`, rc.URL),
		ingest: map[string]server.IngestSource{
			"xo":         source(t, "xo", ingest.Config{Secret: xoSecret}),
			"virtfusion": source(t, "virtfusion", ingest.Config{Token: vfToken}),
			"zerobyte":   source(t, "zerobyte", ingest.Config{Secret: zbSecret, Header: ingest.ZerobyteHeader}),
		},
	})
	post := func(path string, header map[string]string, body string) answer {
		t.Helper()
		req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header[k] = []string{v} // as written: Zerobyte sends lower-case names
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, raw}
	}

	// Xen Orchestra: the secret is the path segment; a pre is a gate whose sync hooks
	// finish before the answer.
	want(t, post("/v1/ingest/xo/wrong-secret", nil, seed(t, "xo/pre.json")), 401)
	want(t, post("/v1/ingest/xo", nil, seed(t, "xo/pre.json")), 401)
	a := want(t, post("/v1/ingest/xo/"+xoSecret, nil, seed(t, "xo/pre.json")), 200)
	if r, _ := rc.request(0); r.URL.Path != "/xo" || r.URL.Query().Get("vm") != "1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3" || r.URL.Query().Get("user") != "admin@admin.net" {
		t.Errorf("xo hook got %s", r.URL)
	}
	evID := a.json(t)["event_id"].(string)
	ev := want(t, e.admin("GET", "/v1/events/"+evID, nil), 200).json(t)["event"].(map[string]any)
	if ev["type"] != "xo.vm.snapshot.pre" || ev["gate"] != true || ev["run_id"] != "k3x9w2lq8a" || ev["origin"] != "ingest/xo" {
		t.Errorf("xo event %v", ev)
	}
	want(t, post("/v1/ingest/xo/"+xoSecret, nil, `{"type":"pre","callId":1}`), 400)

	// VirtFusion: Authorization: Bearer base64(token), exactly.
	vf := seed(t, "virtfusion/server-boot-fail.json")
	b64 := base64.StdEncoding.EncodeToString([]byte(vfToken))
	want(t, post("/v1/ingest/virtfusion", map[string]string{"Authorization": "Bearer " + vfToken}, vf), 401)
	want(t, post("/v1/ingest/virtfusion", map[string]string{"Authorization": "Bearer " + base64.StdEncoding.EncodeToString([]byte("wrong"))}, vf), 401)
	want(t, post("/v1/ingest/virtfusion", map[string]string{"Authorization": "Bearer " + b64}, vf), 200)
	waitFor(t, "the virtfusion hook", func() bool {
		for i := 0; i < rc.count(); i++ {
			if r, _ := rc.request(i); r.URL.Path == "/vf" && r.URL.Query().Get("server") != "" {
				return true
			}
		}
		return false
	})

	// Zerobyte: the secret header in lower case, as it sends it; an aborted pre answers
	// non-2xx so that it fails the backup before restic runs.
	zb := map[string]string{"x-zerobyte-hook-secret": zbSecret}
	want(t, post("/v1/ingest/zerobyte", map[string]string{"x-zerobyte-hook-secret": "wrong"}, seed(t, "zerobyte/pre.json")), 401)
	a = post("/v1/ingest/zerobyte", zb, seed(t, "zerobyte/pre.json"))
	if a.status < 300 || !strings.Contains(string(a.body), "zb-freeze") {
		t.Errorf("an aborted Zerobyte pre answered %d %s", a.status, a.body)
	}
	want(t, post("/v1/ingest/zerobyte", zb, seed(t, "zerobyte/post-error.json")), 200)

	// An admin or emit token is accepted in place of a source's secret; generic takes
	// only those.
	want(t, post("/v1/ingest/generic", nil, `{"type":"app.deploy","status":"success"}`), 401)
	want(t, post("/v1/ingest/generic", map[string]string{"Authorization": "Bearer " + adminToken}, `{"type":"app.deploy","status":"success"}`), 200)
	want(t, post("/v1/ingest/zerobyte", map[string]string{"Authorization": "Bearer " + adminToken}, seed(t, "zerobyte/post-success.json")), 200)
	a = want(t, post("/v1/ingest/generic", map[string]string{"Authorization": "Bearer " + adminToken}, `{"type":"app.deploy","bogus":1}`), 400)
	if a.apiError(t)["field"] != "bogus" {
		t.Errorf("generic unknown field: %s", a.body)
	}
	want(t, post("/v1/ingest/nosuch", map[string]string{"Authorization": "Bearer " + adminToken}, `{}`), 404)

	// Nothing is half-stored: refused payloads left no event.
	all := want(t, e.admin("GET", "/v1/deliveries?limit=500", nil), 200).json(t)["deliveries"].([]any)
	types := map[string]int{}
	for _, d := range all {
		types[d.(map[string]any)["event_type"].(string)]++
	}
	if types["xo.vm.snapshot.pre"] != 2 || types["zerobyte.backup.pre"] != 2 {
		t.Errorf("deliveries by event type %v", types)
	}
}

// Zerobyte sends header names in lower case over the wire; they arrive through a real
// socket as written.
func TestIngestZerobyteOverSocket(t *testing.T) {
	t.Parallel()
	const secret = "zb-Socket-Secret-42"
	e := newEnv(t, envOptions{ingest: map[string]server.IngestSource{
		"zerobyte": source(t, "zerobyte", ingest.Config{Secret: secret, Header: ingest.ZerobyteHeader}),
	}})
	body := seed(t, "zerobyte/post-success.json")
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/ingest/zerobyte HTTP/1.1\r\nhost: hookpoint\r\ncontent-type: application/json\r\nx-zerobyte-hook-secret: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s", secret, len(body), body)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Errorf("answer %q", buf[:n])
	}
}
