package main

// The Zerobyte recipes of docs/integrations/zerobyte.md, run as written: the hooks files
// and scripts of docs/integrations/zerobyte/ served by `hookpoint listen -template`, with
// a stand-in for docker on PATH, and requests shaped like Zerobyte's backup webhooks.

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const zerobyteDocs = "../../docs/integrations/zerobyte"

// zerobyteSecret is the header secret the tests give listen in its environment.
const zerobyteSecret = "0f6c1e9a4b7d2c8e5a3f9b1d7c4e2a6b"

// fakeDocker is docker for the recipe scripts: it records its arguments and keeps the
// container's state in a file.
const fakeDocker = `#!/bin/sh
echo "$*" >> "$DOCKER_LOG"
case $1 in
inspect) cat "$DOCKER_STATE" ;;
stop) echo false > "$DOCKER_STATE"; echo "$2" ;;
start) echo true > "$DOCKER_STATE"; echo "$2" ;;
esac
`

// zerobyteListen copies a hooks file of the docs with /opt/zerobyte-hooks and
// /usr/local/bin replaced by dir, and starts listen on it with env.
func zerobyteListen(t *testing.T, dir, hooksFile string, env ...string) *listenProc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(zerobyteDocs, hooksFile))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("/opt/zerobyte-hooks", dir, "/usr/local/bin", dir).Replace(string(b))
	hooks := filepath.Join(dir, hooksFile)
	if err := os.WriteFile(hooks, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := startHookpoint(t, childEnv(t, env...), "listen", "-hooks", hooks, "-template", "-ip", "127.0.0.1", "-port", "0", "-verbose")
	var addr string
	eventually(t, "listen to log its address", func() bool {
		select {
		case <-hp.done:
			t.Fatalf("listen exited: %v\n%s", hp.err, hp.stderr)
		default:
		}
		if m := listenAddrRE.FindStringSubmatch(hp.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	})
	return &listenProc{started: hp, base: "http://" + addr}
}

// zerobyteCall sends what Zerobyte sends: a POST with its JSON body and the secret header
// (none when secret is nil).
func zerobyteCall(t *testing.T, l *listenProc, id, body string, secret *string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/hooks/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != nil {
		req.Header["X-Zerobyte-Hook-Secret"] = []string{*secret}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /hooks/%s: %v", id, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func ptr(s string) *string { return &s }

const (
	zerobytePre  = `{"phase":"pre","event":"backup.pre","jobId":"job_1","scheduleId":"sched_1","organizationId":"org_1","sourcePath":"/data"}`
	zerobytePost = `{"phase":"post","event":"backup.post","jobId":"job_1","scheduleId":"sched_1","organizationId":"org_1","sourcePath":"/data","status":"error","error":"restic exited 1"}`
)

// TestZerobyteContainerRecipe: the pre hook stops the container, the post hook starts it,
// and a missing, empty or wrong secret is answered 403 (not webhook's 200, which Zerobyte would
// take for success) without running anything.
func TestZerobyteContainerRecipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, s := range []string{"stop-postgres.sh", "start-postgres.sh"} {
		copyExecutable(t, filepath.Join(zerobyteDocs, s), filepath.Join(dir, s))
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	state, dockerLog := filepath.Join(dir, "state"), filepath.Join(dir, "docker.log")
	if err := os.WriteFile(state, []byte("true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := zerobyteListen(t, dir, "hooks.json", "ZEROBYTE_HOOK_SECRET="+zerobyteSecret,
		"DOCKER_STATE="+state, "DOCKER_LOG="+dockerLog, "PATH="+bin+":"+os.Getenv("PATH"))

	for _, c := range []struct {
		name   string
		secret *string
	}{{"no header", nil}, {"empty header", ptr("")}, {"wrong secret", ptr("guess")}} {
		if code, body := zerobyteCall(t, l, "stop-postgres", zerobytePre, c.secret); code != http.StatusForbidden {
			t.Errorf("%s: %d %q, want 403", c.name, code, body)
		}
	}
	if b, _ := os.ReadFile(dockerLog); len(b) > 0 {
		t.Fatalf("docker ran for a refused request:\n%s", b)
	}

	if code, body := zerobyteCall(t, l, "stop-postgres", zerobytePre, ptr(zerobyteSecret)); code != http.StatusOK || !strings.Contains(body, "postgres is stopped") {
		t.Fatalf("stop-postgres: %d %q\n%s", code, body, l.stderr)
	}
	if code, body := zerobyteCall(t, l, "start-postgres", zerobytePost, ptr(zerobyteSecret)); code != http.StatusOK || !strings.Contains(body, "postgres is running") {
		t.Fatalf("start-postgres: %d %q\n%s", code, body, l.stderr)
	}
	b, _ := os.ReadFile(dockerLog)
	want := "inspect --format {{.State.Running}} postgres\nstop postgres\ninspect --format {{.State.Running}} postgres\nstart postgres\n"
	if string(b) != want {
		t.Errorf("docker calls:\n%s\nwant:\n%s", b, want)
	}
}

// TestZerobyteUnsetSecret: with ZEROBYTE_HOOK_SECRET missing from listen's environment,
// the value rule would compare the header with "" and let an empty header through; listen
// refuses to start on such a hooks file, and says which variable is missing.
func TestZerobyteUnsetSecret(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"hooks.json", "hooks-emit.json"} {
		hooks := filepath.Join(t.TempDir(), name)
		copyExecutable(t, filepath.Join(zerobyteDocs, name), hooks)
		p := runHP(t, childEnv(t), "listen", "-hooks", hooks, "-template", "-ip", "127.0.0.1", "-port", "0")
		if p.code != exitUsage || !strings.Contains(p.stderr, "ZEROBYTE_HOOK_SECRET") {
			t.Errorf("%s without the secret: exit %d, want %d naming ZEROBYTE_HOOK_SECRET\n%s", name, p.code, exitUsage, p.stderr)
		}
	}
}

// TestZerobyteEmitRecipe: Zerobyte's webhooks become the hookpoint events
// zerobyte.backup.pre (a gate that can stop the backup) and zerobyte.backup.post.
func TestZerobyteEmitRecipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyExecutable(t, filepath.Join(zerobyteDocs, "zerobyte-hookpoint"), filepath.Join(dir, "zerobyte-hookpoint"))
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hookpointBin, filepath.Join(bin, "hookpoint")); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "events")
	// The gate refuses a backup of /refuse; every event is written to a file.
	config := writeConfig(t, nil, "zerobyte.yaml", `
hooks:
  - id: gate
    on: zerobyte.backup.pre
    exec: {command: /bin/sh, args: ["-c", 'test "$0" != /refuse', "{{ .data.sourcePath }}"]}
  - id: record
    order: 10
    on: "zerobyte.*"
    exec: {command: /bin/sh, args: ["-c", 'echo "$HOOKPOINT_EVENT $HOOKPOINT_STATUS $0" >> `+events+`', "{{ .data.jobId }}"]}
`)
	l := zerobyteListen(t, dir, "hooks-emit.json", "ZEROBYTE_HOOK_SECRET="+zerobyteSecret,
		"ZEROBYTE_HOOKPOINT_CONFIG="+config, "PATH="+bin+":"+os.Getenv("PATH"))

	if code, body := zerobyteCall(t, l, "zerobyte", zerobytePre, ptr("guess")); code != http.StatusForbidden {
		t.Errorf("wrong secret: %d %q, want 403", code, body)
	}
	if code, body := zerobyteCall(t, l, "zerobyte", zerobytePre, ptr(zerobyteSecret)); code != http.StatusOK || !strings.Contains(body, "zerobyte.backup.pre: proceed") {
		t.Errorf("pre: %d %q\n%s", code, body, l.stderr)
	}
	refused := strings.Replace(zerobytePre, `"/data"`, `"/refuse"`, 1)
	if code, body := zerobyteCall(t, l, "zerobyte", refused, ptr(zerobyteSecret)); code != http.StatusInternalServerError || !strings.Contains(body, "abort") {
		t.Errorf("pre, gate failing: %d %q, want 500 with the verdict", code, body)
	}
	if code, body := zerobyteCall(t, l, "zerobyte", zerobytePost, ptr(zerobyteSecret)); code != http.StatusOK {
		t.Errorf("post: %d %q\n%s", code, body, l.stderr)
	}
	if code, body := zerobyteCall(t, l, "zerobyte", `{"custom":"body"}`, ptr(zerobyteSecret)); code != http.StatusInternalServerError {
		t.Errorf("a body without phase: %d %q, want 500", code, body)
	}
	b, _ := os.ReadFile(events)
	if want := "zerobyte.backup.pre  job_1\nzerobyte.backup.post fail job_1\n"; string(b) != want {
		t.Errorf("events:\n%s\nwant:\n%s", b, want)
	}
}
