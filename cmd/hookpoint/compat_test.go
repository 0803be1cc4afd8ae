package main

// The adnanh/webhook compatibility suite. testdata/compat/cases.json holds requests
// against the hooks files next to it, each with the response and the command invocation
// the real webhook (Debian's package, 2.8.0) produced for it. runCompat replays every
// case against any server started by a start function, so the same corpus checks the
// real webhook (TestCompatWebhook, which also re-records it with -update-compat) and a
// reimplementation such as `hookpoint listen`. testdata/compat/README.md describes the
// layout.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var updateCompat = flag.Bool("update-compat", false,
	"re-record the expect blocks of testdata/compat/cases.json from the real webhook binary")

// compatDir is the corpus, relative to the package directory.
const compatDir = "testdata/compat"

// compatStart starts a server for one group of cases and returns a function that stops
// it. The server must:
//   - load hooksFiles (absolute paths, in order; every one lives in the same directory),
//   - apply flags (webhook's own flags, e.g. "-urlprefix", "api"),
//   - listen on port (the harness connects to 127.0.0.1:port and polls until it can),
//   - run with env as its whole environment and the hooks files' directory as its
//     working directory.
//
// stop must end the server; it is called once, by the goroutine that called start.
// start may instead return nil when the server could not start, having reported why
// with t.Errorf; the group's cases then fail at once.
type compatStart func(t *testing.T, hooksFiles []string, flags []string, env []string, port int) (stop func())

// compatCase is one entry of cases.json.
type compatCase struct {
	Name string `json:"name"`
	// Doc says what the case covers.
	Doc        string   `json:"doc,omitempty"`
	HooksFiles []string `json:"hooks_files"`
	// Flags are server flags beyond -hooks and -port.
	Flags []string `json:"flags,omitempty"`
	// Env is added to the server's environment (for -template's getenv).
	Env map[string]string `json:"env,omitempty"`
	// Timing is "sync" when the command must have finished by the time the response
	// arrives, "async" when it must not have (the command sleeps first), or empty.
	Timing  string        `json:"timing,omitempty"`
	Request compatRequest `json:"request"`
	Expect  *compatExpect `json:"expect"`
}

type compatRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the raw query string, without "?".
	Query string `json:"query,omitempty"`
	// Headers are sent with the names as written. In header values and in Query,
	// {{hmac-sha1:SECRET}}, {{hmac-sha256:SECRET}} and {{hmac-sha512:SECRET}} become the
	// hex HMAC of Body under SECRET.
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// compatExpect is what a server did with a request, normalised: the temporary directory
// the corpus is copied to reads "$ROOT", a client address 127.0.0.1:<port>, and the
// random part of a pass-file-to-command file name "*".
type compatExpect struct {
	Status int `json:"status"`
	// Headers are the response headers other than Date, Content-Length, Connection and
	// Transfer-Encoding; Content-Type is always present, null when webhook sent none.
	// A server may send more headers than these, but not a Content-Type where webhook
	// sent none.
	Headers map[string]*string `json:"headers"`
	Body    string             `json:"body"`
	// Invocation is nil when no command must run.
	Invocation *compatInvocation `json:"invocation"`
}

type compatInvocation struct {
	// Argv is the command's arguments after argv[0].
	Argv []string `json:"argv"`
	// Env is the command's environment less the server's (except COMPAT_INHERITED,
	// which shows the server's environment is passed on). Names beginning with
	// HOOKPOINT_ are ignored when comparing, so a reimplementation may add its own.
	Env map[string]string `json:"env"`
	Cwd string            `json:"cwd"`
	// Files maps a variable naming a file (pass-file-to-command) to the file's content,
	// "base64:..." when it is not UTF-8.
	Files map[string]string `json:"files,omitempty"`
}

// TestCompatWebhook runs the corpus against the real webhook, proving the recorded
// expectations still describe it; with -update-compat it re-records them instead:
//
//	HOOKPOINT_COMPAT_WEBHOOK=1 go test ./cmd/hookpoint -run TestCompatWebhook -update-compat
//
// It skips unless HOOKPOINT_COMPAT_WEBHOOK=1 is set (-update-compat implies it); .ci/run
// installs Debian's webhook and sets it. When it is set and webhook is not on PATH the
// test skips, or fails under HOOKPOINT_TEST_STRICT=1.
func TestCompatWebhook(t *testing.T) {
	if os.Getenv("HOOKPOINT_COMPAT_WEBHOOK") != "1" && !*updateCompat {
		t.Skip("set HOOKPOINT_COMPAT_WEBHOOK=1 to run the compatibility corpus against adnanh/webhook (apt-get install webhook)")
	}
	bin, err := exec.LookPath("webhook")
	if err != nil {
		if os.Getenv("HOOKPOINT_TEST_STRICT") == "1" {
			t.Fatal("webhook is not on PATH (HOOKPOINT_TEST_STRICT=1): apt-get install webhook")
		}
		t.Skip("webhook is not on PATH: apt-get install webhook")
	}
	if out, err := exec.Command(bin, "-version").Output(); err == nil {
		t.Logf("%s: %s", bin, strings.TrimSpace(string(out)))
	}
	start := compatStartBinary(bin, "-verbose")
	if !*updateCompat {
		runCompat(t, start)
		return
	}
	cases := loadCompatCases(t)
	runCompatCases(t, start, cases, true)
	if t.Failed() {
		t.Fatal("not rewriting cases.json: recording failed")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cases); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(compatDir, "cases.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d cases into %s", len(cases), filepath.Join(compatDir, "cases.json"))
}

// TestCompatListen runs the whole corpus, recorded from adnanh/webhook, against
// `hookpoint listen`: the same hooks files, flags and requests must give the same
// responses and command invocations.
func TestCompatListen(t *testing.T) {
	runCompat(t, compatStartBinary(hookpointBin, "listen"))
}

// TestCompatCommand runs the corpus against the server command line in
// HOOKPOINT_COMPAT_CMD, split on spaces, with -hooks, -port and each case's flags
// appended; a first word of "hookpoint" means the binary TestMain built. For example:
//
//	HOOKPOINT_COMPAT_CMD='hookpoint listen' go test ./cmd/hookpoint -run TestCompatCommand
//	HOOKPOINT_COMPAT_CMD='webhook -verbose' go test ./cmd/hookpoint -run TestCompatCommand
//
// It skips when the variable is unset.
func TestCompatCommand(t *testing.T) {
	words := strings.Fields(os.Getenv("HOOKPOINT_COMPAT_CMD"))
	if len(words) == 0 {
		t.Skip("set HOOKPOINT_COMPAT_CMD (e.g. 'hookpoint listen') to run the compatibility corpus against a server")
	}
	if words[0] == "hookpoint" {
		words[0] = hookpointBin
	}
	runCompat(t, compatStartBinary(words[0], words[1:]...))
}

// compatStartBinary returns a compatStart that runs bin with the arguments
// prefix... -hooks F... -port N flags..., killing it on stop. Its output is logged if
// the test failed. For webhook: compatStartBinary("webhook", "-verbose"); for
// hookpoint: compatStartBinary(hookpointBin, "listen", "-verbose").
func compatStartBinary(bin string, prefix ...string) compatStart {
	return func(t *testing.T, hooksFiles, flags, env []string, port int) func() {
		t.Helper()
		args := slices.Clone(prefix)
		for _, f := range hooksFiles {
			args = append(args, "-hooks", f)
		}
		args = append(args, "-port", strconv.Itoa(port))
		args = append(args, flags...)
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Dir(hooksFiles[0])
		cmd.Env = env
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		logOutput := func() {
			log := out.String()
			if len(log) > 64<<10 {
				log = "...\n" + log[len(log)-64<<10:]
			}
			t.Logf("%s %q output:\n%s", bin, args, log)
		}
		// Wait for the port here too, to notice at once a server that exits instead.
		addr := "127.0.0.1:" + strconv.Itoa(port)
		deadline := time.Now().Add(15 * time.Second)
		for {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				break
			}
			select {
			case <-done:
				t.Errorf("%s exited before listening on %s: %v", bin, addr, cmd.ProcessState)
				logOutput()
				return nil
			case <-time.After(25 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				break // runCompat reports it
			}
		}
		return func() {
			_ = cmd.Process.Kill()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not exit after being killed", bin)
			}
			if t.Failed() {
				logOutput()
			}
		}
	}
}

// runCompat replays every case of the corpus against servers started by start and
// checks each response and command invocation against the recorded expectation.
func runCompat(t *testing.T, start compatStart) {
	t.Helper()
	runCompatCases(t, start, loadCompatCases(t), false)
}

func loadCompatCases(t *testing.T) []compatCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(compatDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cases []compatCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Fatalf("cases.json: duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		if len(c.HooksFiles) == 0 {
			t.Fatalf("cases.json: case %q has no hooks_files", c.Name)
		}
	}
	return cases
}

// compatGroupKey identifies the cases one server can answer: same files, flags, env.
func compatGroupKey(c compatCase) string {
	k, _ := json.Marshal([]any{c.HooksFiles, c.Flags, c.Env})
	return string(k)
}

// runCompatCases runs cases, one server per group of cases sharing hooks files, flags
// and env, in the order of their first case. When record is set it stores what it
// observed in each case's Expect instead of comparing.
func runCompatCases(t *testing.T, start compatStart, cases []compatCase, record bool) {
	t.Helper()
	var order []string
	groups := map[string][]int{}
	for i, c := range cases {
		k := compatGroupKey(c)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		first := cases[idx[0]]
		w := newCompatWorld(t)
		var hooks []string
		for _, f := range first.HooksFiles {
			hooks = append(hooks, filepath.Join(w.root, f))
		}
		env := w.env(first.Env)
		port := compatFreePort(t)
		stop := start(t, hooks, first.Flags, env, port)
		w.addr = "127.0.0.1:" + strconv.Itoa(port)
		ready := errors.New("the server did not start")
		if stop != nil {
			ready = compatWaitPort(w.addr, 15*time.Second)
		}
		for _, i := range idx {
			c := &cases[i]
			t.Run(c.Name, func(t *testing.T) {
				if ready != nil {
					t.Fatalf("server for %v %q never listened on %s: %v", first.HooksFiles, first.Flags, w.addr, ready)
				}
				if !record && c.Expect == nil {
					t.Fatal("no expectation recorded: run TestCompatWebhook with -update-compat")
				}
				got := w.run(t, c, record)
				if record {
					c.Expect = got
					return
				}
				compareCompat(t, c.Expect, got)
			})
		}
		if stop != nil {
			stop()
		}
		compatClient.CloseIdleConnections()
	}
}

// compatWorld is one server's surroundings: a copy of the corpus in a temporary
// directory (the server's working directory), with tmp (its TMPDIR), work (a command
// working directory), out (where record.sh records) and home.
type compatWorld struct {
	root     string
	realRoot string
	addr     string
	base     map[string]bool // the server's environment entries, as NAME=value
}

func newCompatWorld(t *testing.T) *compatWorld {
	t.Helper()
	root := t.TempDir()
	err := filepath.WalkDir(compatDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(compatDir, path)
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy %s: %v", compatDir, err)
	}
	for _, d := range []string{"tmp", "work", "out", "home"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	return &compatWorld{root: root, realRoot: real}
}

// env is the server's whole environment: record.sh first on PATH, TMPDIR inside the
// world, COMPAT_OUT for record.sh, COMPAT_ROOT for templates, COMPAT_INHERITED to show
// the environment reaches commands, and the case's own variables.
func (w *compatWorld) env(extra map[string]string) []string {
	env := []string{
		"PATH=" + filepath.Join(w.root, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + filepath.Join(w.root, "home"),
		"TMPDIR=" + filepath.Join(w.root, "tmp"),
		"LC_ALL=C",
		"COMPAT_ROOT=" + w.root,
		"COMPAT_OUT=" + filepath.Join(w.root, "out"),
		"COMPAT_INHERITED=passed-through",
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	w.base = map[string]bool{}
	for _, e := range env {
		if !strings.HasPrefix(e, "COMPAT_INHERITED=") {
			w.base[e] = true
		}
	}
	return env
}

var compatAddrRE = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// norm removes what differs from run to run: the world's path and client ports.
func (w *compatWorld) norm(s string) string {
	s = strings.ReplaceAll(s, w.realRoot, "$ROOT")
	s = strings.ReplaceAll(s, w.root, "$ROOT")
	return compatAddrRE.ReplaceAllString(s, "127.0.0.1:<port>")
}

var compatHMACRE = regexp.MustCompile(`\{\{hmac-(sha1|sha256|sha512):([^}]*)\}\}`)

func compatSign(s, body string) string {
	return compatHMACRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := compatHMACRE.FindStringSubmatch(m)
		var h func() hash.Hash
		switch sub[1] {
		case "sha1":
			h = sha1.New
		case "sha256":
			h = sha256.New
		default:
			h = sha512.New
		}
		mac := hmac.New(h, []byte(sub[2]))
		mac.Write([]byte(body))
		return hex.EncodeToString(mac.Sum(nil))
	})
}

var compatClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		DisableCompression: true, // no Accept-Encoding header: entire-headers stays fixed
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// run sends the case's request and observes the response and any invocation.
func (w *compatWorld) run(t *testing.T, c *compatCase, record bool) *compatExpect {
	t.Helper()
	out := filepath.Join(w.root, "out")
	compatClear(t, out)
	if left := w.leftovers(); len(left) > 0 {
		t.Fatalf("files left over from an earlier case: %v", left)
	}

	r := c.Request
	url := "http://" + w.addr + r.Path
	if r.Query != "" {
		url += "?" + compatSign(r.Query, r.Body)
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["User-Agent"] = []string{"hookpoint-compat"}
	for k, v := range r.Headers {
		if http.CanonicalHeaderKey(k) == "User-Agent" {
			delete(req.Header, "User-Agent")
		}
		req.Header[k] = []string{compatSign(v, r.Body)} // the name exactly as written
	}
	resp, err := compatClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, url, err)
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	doneAtResponse, _ := compatInvocations(out)

	got := &compatExpect{Status: resp.StatusCode, Body: w.norm(string(respBody)), Headers: map[string]*string{"Content-Type": nil}}
	for k, v := range resp.Header {
		switch k {
		case "Date", "Content-Length", "Connection", "Transfer-Encoding":
			continue
		}
		s := w.norm(strings.Join(v, ", "))
		got.Headers[k] = &s
	}

	// Wait for the command: until it has recorded when one is expected, otherwise for
	// a grace period and then until any command that started has finished.
	// A command that never starts is reported by the comparison; one that never
	// finishes is reported here.
	wantRun := !record && c.Expect != nil && c.Expect.Invocation != nil
	deadline := time.Now().Add(10 * time.Second)
	if !wantRun {
		time.Sleep(250 * time.Millisecond)
	}
	for {
		done, running := compatInvocations(out)
		if running == 0 && (!wantRun || len(done) > 0) {
			break
		}
		if time.Now().After(deadline) {
			if running > 0 {
				t.Fatalf("the command was still running after %v", 10*time.Second)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	done, _ := compatInvocations(out)
	switch {
	case len(done) > 1:
		t.Errorf("the command ran %d times, want at most once", len(done))
	case len(done) == 1:
		got.Invocation = w.readInvocation(t, done[0])
	}
	// Timing is checked only when the command ran: the comparison reports it if not.
	switch c.Timing {
	case "sync":
		if len(doneAtResponse) == 0 && got.Invocation != nil {
			t.Errorf("timing: the response came before the command finished; want a synchronous hook")
		}
	case "async":
		if len(doneAtResponse) > 0 {
			t.Errorf("timing: the response waited for the command; want an asynchronous hook")
		}
	case "":
	default:
		t.Fatalf("timing %q: want sync, async or empty", c.Timing)
	}

	// pass-file-to-command files must be gone once the command has finished.
	deadline = time.Now().Add(5 * time.Second)
	for left := w.leftovers(); len(left) > 0; left = w.leftovers() {
		if time.Now().After(deadline) {
			t.Errorf("files left behind after the command finished: %v", left)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

// compatInvocations lists out's completed records and counts running commands.
func compatInvocations(out string) (done []string, running int) {
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "inv."):
			done = append(done, filepath.Join(out, e.Name()))
		case strings.HasPrefix(e.Name(), ".running."):
			running++
		}
	}
	return done, running
}

func compatClear(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// leftovers lists the files in the world's tmp and work directories.
func (w *compatWorld) leftovers() []string {
	var left []string
	for _, d := range []string{"tmp", "work"} {
		entries, _ := os.ReadDir(filepath.Join(w.root, d))
		for _, e := range entries {
			left = append(left, d+"/"+e.Name())
		}
	}
	return left
}

func (w *compatWorld) readInvocation(t *testing.T, dir string) *compatInvocation {
	t.Helper()
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("invocation record: %v", err)
		}
		return string(data)
	}
	inv := &compatInvocation{Argv: []string{}, Env: map[string]string{}}
	if argv := read("argv"); argv != "" {
		for _, a := range strings.Split(strings.TrimSuffix(argv, "\x00"), "\x00") {
			inv.Argv = append(inv.Argv, w.norm(a))
		}
	}
	inv.Cwd = w.norm(strings.TrimSuffix(read("cwd"), "\n"))
	for _, e := range strings.Split(read("environ"), "\x00") {
		if e == "" || w.base[e] {
			continue
		}
		name, value, _ := strings.Cut(e, "=")
		inv.Env[name] = w.norm(value)
	}
	files, _ := os.ReadDir(filepath.Join(dir, "files"))
	for _, f := range files {
		name := f.Name()
		content := read(filepath.Join("files", name))
		if !utf8.ValidString(content) {
			content = "base64:" + base64.StdEncoding.EncodeToString([]byte(content))
		}
		if inv.Files == nil {
			inv.Files = map[string]string{}
		}
		inv.Files[name] = w.norm(content)
		// The file's name is the variable's name and a random suffix.
		p := w.norm(read(filepath.Join("paths", name)))
		if d, base := filepath.Split(p); strings.HasPrefix(base, name) {
			p = d + name + "*"
		}
		if _, ok := inv.Env[name]; ok {
			inv.Env[name] = p
		}
	}
	return inv
}

func compareCompat(t *testing.T, want, got *compatExpect) {
	t.Helper()
	if got.Status != want.Status {
		t.Errorf("status = %d, want %d", got.Status, want.Status)
	}
	if got.Body != want.Body {
		t.Errorf("body = %q\nwant   %q", got.Body, want.Body)
	}
	for k, v := range want.Headers {
		g := got.Headers[http.CanonicalHeaderKey(k)]
		switch {
		case v == nil && g != nil:
			t.Errorf("header %s = %q, want none", k, *g)
		case v != nil && g == nil:
			t.Errorf("header %s missing, want %q", k, *v)
		case v != nil && *g != *v:
			t.Errorf("header %s = %q, want %q", k, *g, *v)
		}
	}
	switch {
	case want.Invocation == nil && got.Invocation != nil:
		t.Errorf("the command ran, want it not to run: %s", compatJSON(got.Invocation))
	case want.Invocation != nil && got.Invocation == nil:
		t.Errorf("the command did not run, want %s", compatJSON(want.Invocation))
	case want.Invocation != nil:
		g := *got.Invocation
		g.Env = map[string]string{}
		for k, v := range got.Invocation.Env {
			if !strings.HasPrefix(k, "HOOKPOINT_") {
				g.Env[k] = v
			}
		}
		if a, b := compatJSON(&g), compatJSON(want.Invocation); a != b {
			t.Errorf("invocation differs\n got: %s\nwant: %s", a, b)
		}
	}
}

func compatJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

func compatFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// compatWaitPort polls addr until it accepts a connection.
func compatWaitPort(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", limit, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
