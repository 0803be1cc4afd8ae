package main

// Golden end-to-end tests of the adapters: each tool's hook-script calls for one
// realistic job are replayed through the built binary, with the argv and environment the
// tool passes in each phase, from one parent process per job (as the tool is), against
// the recording receiver. What the receiver got is normalised and compared with
// testdata/golden/<tool>.json; `go test ./cmd/hookpoint -run Golden -update` rewrites them.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/sign"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testBearer is the token of the autosnap-bearer hook (from a file, like the secret).
const testBearer = "autosnap-e2e-bearer-7d1e"

// toolStep is one call of the hook script: the arguments after the binary and the
// variables the tool sets for this phase.
type toolStep struct {
	args []string
	env  []string
}

// toolJob is one run of a tool: every step is made by the same parent process.
type toolJob struct {
	name string
	dir  string   // working directory of the tool
	env  []string // environment the tool itself has and passes on (besides each step's)
	argv []string // what the configured hook command puts before a step's arguments
	// steps, in the order the tool calls them
	steps []toolStep
}

// stepResult is how one call ended.
type stepResult struct {
	code           int
	stdout, stderr string
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// replay runs the job's steps one after another from a single sh process standing in for
// the tool, each under `env -i` so that it sees exactly the job's and the step's
// variables, and returns how each step ended and the pid of the tool process.
func replay(t *testing.T, job toolJob) ([]stepResult, int) {
	t.Helper()
	envBin, err := exec.LookPath("env")
	if err != nil {
		t.Fatalf("env(1) is needed to replay a tool's calls: %v", err)
	}
	out := t.TempDir()
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for i, st := range job.steps {
		line := []string{shQuote(envBin), "-i"}
		for _, kv := range slices.Concat(job.env, st.env) {
			line = append(line, shQuote(kv))
		}
		line = append(line, shQuote(hookpointBin))
		for _, a := range slices.Concat(job.argv, st.args) {
			line = append(line, shQuote(a))
		}
		// The echo after each call also keeps sh from exec'ing the last one in its place.
		fmt.Fprintf(&script, "%s >%s 2>%s; echo $? >%s\n", strings.Join(line, " "),
			shQuote(filepath.Join(out, strconv.Itoa(i)+".out")),
			shQuote(filepath.Join(out, strconv.Itoa(i)+".err")),
			shQuote(filepath.Join(out, strconv.Itoa(i)+".rc")))
	}
	path := filepath.Join(out, "tool.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", path)
	cmd.Dir, cmd.Env = job.dir, []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(procTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s: the replay did not finish within %s", job.name, procTimeout)
	}
	if err != nil {
		t.Fatalf("%s: replay script: %v\n%s", job.name, err, stderr.String())
	}
	res := make([]stepResult, len(job.steps))
	for i := range job.steps {
		read := func(ext string) string {
			b, err := os.ReadFile(filepath.Join(out, strconv.Itoa(i)+ext))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		code, err := strconv.Atoi(strings.TrimSpace(read(".rc")))
		if err != nil {
			t.Fatalf("step %d: exit status: %v", i, err)
		}
		res[i] = stepResult{code: code, stdout: read(".out"), stderr: read(".err")}
		t.Logf("%s step %d: hookpoint %s: exit %d\nstdout:\n%s\nstderr:\n%s", job.name, i,
			strings.Join(job.steps[i].args, " "), code, res[i].stdout, res[i].stderr)
	}
	return res, cmd.Process.Pid
}

// adapterConfig writes testdata/adapters.yaml, pointed at rcv and at secret files, as
// hookpoint.yaml in a directory of its own and returns its path.
func adapterConfig(t *testing.T, rcv *receiver) string {
	t.Helper()
	secrets := t.TempDir()
	for name, v := range map[string]string{"whsec": testWhsec, "token": testBearer} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(testdata(t, "adapters.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, rcv, "hookpoint.yaml", strings.ReplaceAll(string(text), "SECRETS", secrets))
}

// golden is what one job did, normalised.
type golden struct {
	Job   string       `json:"job"`
	Steps []goldenStep `json:"steps"`
}

type goldenStep struct {
	Args     []string        `json:"args"`
	Env      []string        `json:"env,omitempty"`
	Exit     int             `json:"exit"`
	Stdout   []string        `json:"stdout"`
	Requests []goldenRequest `json:"requests"`
}

type goldenRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	JSON    any               `json:"json,omitempty"`
	Text    string            `json:"text,omitempty"`
}

// goldenHeaders are the request headers the goldens hold.
var goldenHeaders = []string{
	"Authorization", "Content-Type", "User-Agent", "Webhook-Id", "Webhook-Signature", "Webhook-Timestamp",
	"X-Hookpoint-Delivery", "X-Hookpoint-Event", "X-Hookpoint-Event-Id", "X-Hookpoint-Hook",
	"X-Hookpoint-Run", "X-Hookpoint-Status", "X-Vzdump-Storage",
}

// volatileRunID is a run id derived from the tool's process: it differs between test runs.
var volatileRunID = regexp.MustCompile(`^(vzdump|autosnap)-[0-9]+-[0-9]+$`)

// normaliser replaces the values that change from run to run with tokens numbered in
// order of first appearance (EVENT-1, DELIVERY-1, RUN-1), so the goldens still show which
// requests share an event, a delivery or a run.
type normaliser struct {
	tokens map[string]string
	count  map[string]int
}

func newNormaliser() *normaliser {
	return &normaliser{tokens: map[string]string{}, count: map[string]int{}}
}

func (n *normaliser) register(kind, v string) {
	if v == "" || n.tokens[v] != "" {
		return
	}
	n.count[kind]++
	n.tokens[v] = fmt.Sprintf("%s-%d", kind, n.count[kind])
}

func (n *normaliser) replace(s string) string {
	// Longest first, so that no value is replaced inside a longer one; sorted, so that
	// the result does not depend on map order.
	vals := slices.Collect(maps.Keys(n.tokens))
	slices.SortFunc(vals, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, v := range vals {
		s = strings.ReplaceAll(s, v, n.tokens[v])
	}
	return s
}

// request normalises one received request, checking the volatile values before it
// replaces them: a signature that verifies, a timestamp near now, an RFC 3339 time.
func (n *normaliser) request(t *testing.T, r request) goldenRequest {
	t.Helper()
	n.register("EVENT", r.Header.Get("X-Hookpoint-Event-Id"))
	n.register("DELIVERY", r.Delivery)
	if volatileRunID.MatchString(r.Run) {
		n.register("RUN", r.Run)
	}
	where := r.Event + " -> " + r.Hook
	g := goldenRequest{Method: r.Method, URL: n.replace(r.Path), Headers: map[string]string{}}
	if r.RawQuery != "" {
		g.URL += "?" + n.replace(r.RawQuery)
	}
	for _, h := range goldenHeaders {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		switch h {
		case "User-Agent":
			if !strings.HasPrefix(v, "hookpoint/") {
				t.Errorf("%s: User-Agent %q", where, v)
			}
			v = "hookpoint/VERSION"
		case "Webhook-Timestamp":
			ts, err := strconv.ParseInt(v, 10, 64)
			if d := time.Since(time.Unix(ts, 0)); err != nil || d > 5*time.Minute || d < -5*time.Minute {
				t.Errorf("%s: webhook-timestamp %q is not the time of sending", where, v)
			}
			v = "TIMESTAMP"
		case "Webhook-Signature":
			key, _ := base64.StdEncoding.DecodeString(testWhsecKey)
			if err := sign.Verify([][]byte{key}, r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), v, r.Body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("%s: signature does not verify: %v", where, err)
			}
			v = "v1,VERIFIED"
		case "Webhook-Id":
			if v != r.Delivery {
				t.Errorf("%s: webhook-id %q is not the delivery id %q", where, v, r.Delivery)
			}
		}
		g.Headers[h] = n.replace(v)
	}
	if len(r.Body) == 0 {
		return g
	}
	body := n.replace(string(r.Body))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("%s: a JSON body that does not parse: %v\n%s", where, err, r.Body)
			g.Text = body
			return g
		}
		if obj, ok := v.(map[string]any); ok && obj["specversion"] != nil {
			if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(obj["time"])); err != nil {
				t.Errorf("%s: CloudEvents time %v: %v", where, obj["time"], err)
			}
			obj["time"] = "TIME"
		}
		g.JSON = v
		return g
	}
	g.Text = body
	return g
}

// eventType is the event a step fired, from the verdict line the adapter prints last.
func eventType(stdout string) string {
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	typ, _, _ := strings.Cut(lines[len(lines)-1], ": ")
	return typ
}

// goldenFor pairs each step with the requests its event made (requests arrive in step
// order; the requests of one event share its id) and normalises the lot.
func goldenFor(t *testing.T, n *normaliser, job toolJob, res []stepResult, reqs []request) golden {
	t.Helper()
	var groups [][]request
	for _, r := range reqs {
		id := r.Header.Get("X-Hookpoint-Event-Id")
		if n := len(groups); n > 0 && groups[n-1][0].Header.Get("X-Hookpoint-Event-Id") == id {
			groups[n-1] = append(groups[n-1], r)
			continue
		}
		groups = append(groups, []request{r})
	}
	g := golden{Job: job.name}
	gi := 0
	for i, st := range job.steps {
		gs := goldenStep{Args: st.args, Env: st.env, Exit: res[i].code, Requests: []goldenRequest{}}
		gs.Stdout = strings.Split(strings.TrimSuffix(res[i].stdout, "\n"), "\n")
		if res[i].stdout == "" {
			gs.Stdout = []string{}
		}
		if typ := eventType(res[i].stdout); gi < len(groups) && groups[gi][0].Event == typ {
			for _, r := range groups[gi] {
				gs.Requests = append(gs.Requests, n.request(t, r))
			}
			gi++
		}
		g.Steps = append(g.Steps, gs)
	}
	if gi != len(groups) {
		t.Errorf("%d group(s) of requests belong to no step; the first is for %s", len(groups)-gi, groups[gi][0].Event)
	}
	return g
}

// compareGolden compares g with testdata/golden/<name>.json, or rewrites it with -update.
func compareGolden(t *testing.T, name string, g golden) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".json")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if bytes.Equal(buf.Bytes(), want) {
		return
	}
	got, wantLines := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(got) || i < len(wantLines); i++ {
		var a, b string
		if i < len(got) {
			a = got[i]
		}
		if i < len(wantLines) {
			b = wantLines[i]
		}
		if a != b {
			t.Fatalf("%s differs from what the receiver got, first at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)\nwhole output:\n%s",
				path, i+1, a, b, buf.String())
		}
	}
}

// runIDs returns the distinct X-Hookpoint-Run values, in order of appearance.
func runIDs(reqs []request) []string {
	var ids []string
	for _, r := range reqs {
		if !slices.Contains(ids, r.Run) {
			ids = append(ids, r.Run)
		}
	}
	return ids
}

// wantReplay checks that every step proceeded (exit 0) with nothing on stderr.
func wantReplay(t *testing.T, job toolJob, res []stepResult) {
	t.Helper()
	for i, r := range res {
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s step %d (%s): exit %d, stderr %q; want 0 and nothing", job.name, i, strings.Join(job.steps[i].args, " "), r.code, r.stderr)
		}
	}
}

// vzdumpJob is `vzdump 100 101 --mode snapshot --storage local --compress zstd --script
// ...`: guest 100 (a VM) is backed up, guest 101 (a container) fails when its snapshot
// is taken. The order and the variables are PVE::VZDump's: run_hook_script sets only
// STOREID, DUMPDIR and the guest's VMTYPE, HOSTNAME, TARGET and LOGFILE (it clears the
// rest of the environment, PATH and HOOKPOINT_CONFIG included, so hookpoint finds its
// config in its working directory); job-init comes before the storage is activated, so
// without DUMPDIR; snapshot mode calls pre-stop, pre-restart and post-restart around the
// snapshot; a guest that fails gets backup-abort, every guest log-end; the job ends with
// job-end even when a guest failed (job-abort is for the job itself failing).
func vzdumpJob(dir string) toolJob {
	const dump = "/var/lib/vz/dump"
	job := []string{"STOREID=local", "DUMPDIR=" + dump}
	vm := append(slices.Clone(job), "VMTYPE=qemu", "HOSTNAME=web01",
		"TARGET="+dump+"/vzdump-qemu-100-2024_05_01-02_00_03.vma.zst",
		"LOGFILE="+dump+"/vzdump-qemu-100-2024_05_01-02_00_03.log")
	ct := append(slices.Clone(job), "VMTYPE=lxc", "HOSTNAME=db01",
		"TARGET="+dump+"/vzdump-lxc-101-2024_05_01-02_04_41.tar.zst",
		"LOGFILE="+dump+"/vzdump-lxc-101-2024_05_01-02_04_41.log")
	step := func(env []string, args ...string) toolStep {
		return toolStep{args: append([]string{"vzdump"}, args...), env: env}
	}
	return toolJob{
		name: "vzdump", dir: dir,
		steps: []toolStep{
			step([]string{"STOREID=local"}, "job-init"),
			step(job, "job-start"),
			step(vm, "backup-start", "snapshot", "100"),
			step(vm, "pre-stop", "snapshot", "100"),
			step(vm, "pre-restart", "snapshot", "100"),
			step(vm, "post-restart", "snapshot", "100"),
			step(vm, "backup-end", "snapshot", "100"),
			step(vm, "log-end", "snapshot", "100"),
			step(ct, "backup-start", "snapshot", "101"),
			step(ct, "pre-stop", "snapshot", "101"),
			step(ct, "backup-abort", "snapshot", "101"),
			step(ct, "log-end", "snapshot", "101"),
			step(job, "job-end"),
		},
	}
}

func TestGoldenVzdump(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := adapterConfig(t, rcv)
	job := vzdumpJob(filepath.Dir(cfg))
	res, toolPid := replay(t, job)
	wantReplay(t, job, res)
	reqs := rcv.requests()
	ids := runIDs(reqs)
	if prefix := "vzdump-" + strconv.Itoa(toolPid) + "-"; len(ids) != 1 || !strings.HasPrefix(ids[0], prefix) {
		t.Errorf("run ids %q; want one, %s<start time>, for every phase of the job", ids, prefix)
	}
	compareGolden(t, "vzdump", goldenFor(t, newNormaliser(), job, res, reqs))
}

// autosnapEnv is what cv4pve-autosnap sets for one phase (AutoSnapEngine and
// PhaseEventArgs): job phases leave the VM fields empty; STATE is 1 for snap-job-start
// and create-pre, 0 for clean-job-start and remove-pre, the outcome for the rest;
// DURATION is seconds as a C# double.
func autosnapEnv(phase, vmid, name, typ, snap, duration, state string) []string {
	return []string{
		"CV4PVE_AUTOSNAP_PHASE=" + phase,
		"CV4PVE_AUTOSNAP_VMID=" + vmid,
		"CV4PVE_AUTOSNAP_VMNAME=" + name,
		"CV4PVE_AUTOSNAP_VMTYPE=" + typ,
		"CV4PVE_AUTOSNAP_LABEL=daily",
		"CV4PVE_AUTOSNAP_KEEP=2",
		"CV4PVE_AUTOSNAP_SNAP_NAME=" + snap,
		"CV4PVE_AUTOSNAP_VMSTATE=0",
		"CV4PVE_AUTOSNAP_DURATION=" + duration,
		"CV4PVE_AUTOSNAP_STATE=" + state,
		"CV4PVE_AUTOSNAP_DEBUG=0",
		"CV4PVE_AUTOSNAP_DRY_RUN=0",
	}
}

// autosnapJobs are `cv4pve-autosnap --vmid=100,101 snap --label=daily --keep=2` and,
// later, `... --vmid=100 clean --label=daily --keep=1`, two runs of the tool. In the snap
// run VM 100 gets its snapshot and AutoSnap removes the one past keep before
// snap-create-post; container 101 fails (snap-create-abort), so snap-job-end has STATE 0.
// The hook script is called with no arguments and the tool's own environment, where the
// operator set HOOKPOINT_CONFIG.
func autosnapJobs(cfg string) []toolJob {
	const vm = `web "prod"` // quotes, to show the escaping of every placeholder
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=/root", "HOOKPOINT_CONFIG=" + cfg}
	step := func(env []string) toolStep { return toolStep{args: []string{"autosnap"}, env: env} }
	return []toolJob{
		{
			name: "autosnap snap", env: base,
			steps: []toolStep{
				step(autosnapEnv("snap-job-start", "", "", "", "", "0", "1")),
				step(autosnapEnv("snap-create-pre", "100", vm, "qemu", "autodaily240501020000", "0", "1")),
				step(autosnapEnv("snap-remove-pre", "100", vm, "qemu", "autodaily240429020000", "0", "0")),
				step(autosnapEnv("snap-remove-post", "100", vm, "qemu", "autodaily240429020000", "1.5218433", "1")),
				step(autosnapEnv("snap-create-post", "100", vm, "qemu", "autodaily240501020000", "4.8731962", "1")),
				step(autosnapEnv("snap-create-pre", "101", "db01", "lxc", "autodaily240501020000", "0", "1")),
				step(autosnapEnv("snap-create-abort", "101", "db01", "lxc", "autodaily240501020000", "0.6120057", "0")),
				step(autosnapEnv("snap-job-end", "", "", "", "", "6.2461338", "0")),
			},
		},
		{
			name: "autosnap clean", env: base,
			steps: []toolStep{
				step(autosnapEnv("clean-job-start", "", "", "", "", "0", "0")),
				step(autosnapEnv("snap-remove-pre", "100", vm, "qemu", "autodaily240430020000", "0", "0")),
				step(autosnapEnv("snap-remove-post", "100", vm, "qemu", "autodaily240430020000", "1.1046215", "1")),
				step(autosnapEnv("clean-job-end", "", "", "", "", "1.3380702", "1")),
			},
		},
	}
}

func TestGoldenAutosnap(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := adapterConfig(t, rcv)
	// One normaliser over both runs, so that RUN-1 and RUN-2 tell them apart.
	n := newNormaliser()
	all := golden{Job: "autosnap snap, then autosnap clean"}
	var runs []string
	for _, job := range autosnapJobs(cfg) {
		job.dir = t.TempDir()
		before := len(rcv.requests())
		res, toolPid := replay(t, job)
		wantReplay(t, job, res)
		reqs := rcv.requests()[before:]
		ids := runIDs(reqs)
		if prefix := "autosnap-" + strconv.Itoa(toolPid) + "-"; len(ids) != 1 || !strings.HasPrefix(ids[0], prefix) {
			t.Errorf("%s: run ids %q; want one, %s<start time>, for every phase of the run", job.name, ids, prefix)
		}
		runs = append(runs, ids...)
		all.Steps = append(all.Steps, goldenFor(t, n, job, res, reqs).Steps...)
	}
	if len(runs) != 2 || runs[0] == runs[1] {
		t.Errorf("run ids %q; want the snap and the clean run to differ", runs)
	}
	compareGolden(t, "autosnap", all)
}

// jetbackupJob is a JetBackup 5 account backup job, "Daily Accounts", of two accounts:
// alice's completes, bob's fails, so the job ends partially completed. Each hook is
// configured in JetBackup with its command line, `hookpoint --config FILE jetbackup
// <type> <position>`; JetBackup appends the documented positional arguments.
func jetbackupJob(cfg string) toolJob {
	const (
		jobID   = "65f1c0de8b1a2c0012ab34cd"
		jobLog  = "6631a6a08b1a2c0012ab9f01"
		dests   = "65f1c0de8b1a2c0012ab0001,65f1c0de8b1a2c0012ab0002"
		start   = "1714528800"
		end     = "1714532400"
		alice   = "65f1c0de8b1a2c0012ac0007"
		aliceLg = "6631a6a08b1a2c0012ab9f02"
		bob     = "65f1c0de8b1a2c0012ac0008"
		bobLg   = "6631a6a08b1a2c0012ab9f03"
	)
	step := func(args ...string) toolStep { return toolStep{args: append([]string{"jetbackup"}, args...)} }
	return toolJob{
		name: "jetbackup",
		env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
		argv: []string{"--config", cfg},
		steps: []toolStep{
			step("backup", "pre", jobID, "Daily Accounts", "1", "511", "5", dests, start, jobLog),
			step("backup-account", "pre", jobID, alice, "alice", aliceLg),
			step("backup-account", "post", jobID, alice, "alice", "100", aliceLg),
			step("backup-account", "pre", jobID, bob, "bob", bobLg),
			step("backup-account", "post", jobID, bob, "bob", "102", bobLg),
			step("backup", "post", jobID, "Daily Accounts", "1", "511", "5", dests, start, end, "101", jobLog),
		},
	}
}

func TestGoldenJetbackup(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := adapterConfig(t, rcv)
	job := jetbackupJob(cfg)
	job.dir = t.TempDir()
	res, _ := replay(t, job)
	wantReplay(t, job, res)
	reqs := rcv.requests()
	// The run id is the log id: the job's pre and post share it, each account's hooks
	// share the account's.
	want := []string{"jetbackup-6631a6a08b1a2c0012ab9f01", "jetbackup-6631a6a08b1a2c0012ab9f02", "jetbackup-6631a6a08b1a2c0012ab9f03"}
	if got := runIDs(reqs); !slices.Equal(got, want) {
		t.Errorf("run ids %q, want %q", got, want)
	}
	compareGolden(t, "jetbackup", goldenFor(t, newNormaliser(), job, res, reqs))
}

// gateConfig has two catch-all hooks: the first gets 500, the second records.
const gateConfig = `hooks:
  - id: first
    order: 1
    on: ["*"]
    http: {url: "RECV/first?code=500"}
  - id: second
    order: 2
    on: ["*"]
    http: {url: "RECV/second"}
`

// adapterCall is one call of an adapter, outside of a job.
type adapterCall struct {
	args []string
	env  []string
}

// everyPhase is one call per phase, hook type and position of each adapter, with
// whether it is a gate.
func everyPhase() []struct {
	call adapterCall
	gate bool
} {
	type pc = struct {
		call adapterCall
		gate bool
	}
	var out []pc
	vz := []string{"STOREID=local", "DUMPDIR=/var/lib/vz/dump", "VMTYPE=qemu", "HOSTNAME=web01"}
	for _, p := range []struct {
		phase string
		guest bool
		gate  bool
	}{
		{"job-init", false, true}, {"job-start", false, true}, {"job-end", false, false}, {"job-abort", false, false},
		{"backup-start", true, true}, {"backup-end", true, false}, {"backup-abort", true, false}, {"log-end", true, false},
		{"pre-stop", true, true}, {"pre-restart", true, false}, {"post-restart", true, false},
	} {
		args := []string{"vzdump", p.phase}
		if p.guest {
			args = append(args, "stop", "100")
		}
		out = append(out, pc{adapterCall{args, vz}, p.gate})
	}
	for _, p := range []string{"snap-job-start", "snap-job-end", "snap-create-pre", "snap-create-post", "snap-create-abort",
		"clean-job-start", "clean-job-end", "snap-remove-pre", "snap-remove-post", "snap-remove-abort"} {
		env := autosnapEnv(p, "100", "web01", "qemu", "autodaily240501020000", "0", "1")
		out = append(out, pc{adapterCall{[]string{"autosnap"}, env}, strings.HasSuffix(p, "-pre")})
	}
	const id, log = "65f1c0de8b1a2c0012ab34cd", "6631a6a08b1a2c0012ab9f01"
	for _, a := range [][]string{
		{"backup", "pre", id, "Daily", "1", "511", "5", "d1,d2", "1714528800", log},
		{"backup", "post", id, "Daily", "1", "511", "5", "d1,d2", "1714528800", "1714532400", "100", log},
		{"backup-account", "pre", id, "a1", "alice", log},
		{"backup-account", "post", id, "a1", "alice", "100", log},
		{"clone", "pre", id, "Clone", "1", "511", "d1", "1714528800", log},
		{"clone", "post", id, "Clone", "1", "511", "d1", "1714528800", "1714532400", "100", log},
		{"clone-account", "pre", id, "a1", "alice", log},
		{"clone-account", "post", id, "a1", "alice", "100", log},
		{"restore", "pre", "1", "511", "a1", "alice", "homedir", "1714528800", log},
		{"restore", "post", "1", "511", "a1", "alice", "homedir", "1714528800", "1714532400", "100", log},
		{"download", "pre", "a1", log},
		{"download", "post", "a1", log},
	} {
		out = append(out, pc{adapterCall{append([]string{"jetbackup"}, a...), nil}, a[1] == "pre"})
	}
	return out
}

// A hook that fails on a gate phase aborts it: the adapter exits 1 (the tool then stops
// the job or guest) and the later hooks of that phase are not sent. On the other phases
// the failure is a warning: exit 0, and the later hooks run.
func TestAdapterGates(t *testing.T) {
	t.Parallel()
	for _, tc := range everyPhase() {
		name := strings.Join(tc.call.args[:min(3, len(tc.call.args))], " ")
		if tc.call.args[0] == "autosnap" {
			name = "autosnap " + strings.TrimPrefix(tc.call.env[0], "CV4PVE_AUTOSNAP_PHASE=")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			cfg := writeConfig(t, rcv, "hookpoint.yaml", gateConfig)
			p := runHP(t, childEnv(t, append([]string{"HOOKPOINT_CONFIG=" + cfg}, tc.call.env...)...), tc.call.args...)
			if len(rcv.byHook("first")) != 1 {
				t.Fatalf("the first hook was called %d times, want once", len(rcv.byHook("first")))
			}
			typ := rcv.byHook("first")[0].Event
			if tc.gate {
				wantExit(t, p, 1)
				if n := len(rcv.byHook("second")); n != 0 {
					t.Errorf("the second hook was called %d times after the first aborted the gate", n)
				}
				if !strings.Contains(p.stdout, typ+": abort") {
					t.Errorf("stdout %q, want the verdict %s: abort", p.stdout, typ)
				}
				return
			}
			wantExit(t, p, 0)
			if n := len(rcv.byHook("second")); n != 1 {
				t.Errorf("the second hook was called %d times, want once: a failure on a notification is a warning", n)
			}
			if !strings.Contains(p.stdout, typ+": proceed") {
				t.Errorf("stdout %q, want the verdict %s: proceed", p.stdout, typ)
			}
		})
	}
}

// vzdump calls job-abort when job-start fails: the replay of that, the tool reacting to
// the adapter's exit status.
func TestVzdumpJobStartAbort(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: storage-check
    on: ["vzdump.job-start"]
    http: {url: "RECV/check?code=503"}
  - id: notify
    order: 5
    on: ["vzdump.*"]
    http: {url: "RECV/notify"}
`)
	env := []string{"STOREID=local", "DUMPDIR=/var/lib/vz/dump"}
	run := func(phase string) proc {
		// vzdump's environment only, the config found in the working directory.
		cmd := exec.Command(hookpointBin, "vzdump", phase)
		cmd.Env, cmd.Dir = env, filepath.Dir(cfg)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		p := proc{stdout: out.String(), stderr: errb.String()}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		t.Logf("vzdump %s: exit %d\n%s%s", phase, p.code, p.stdout, p.stderr)
		return p
	}
	wantExit(t, run("job-init"), 0)
	wantExit(t, run("job-start"), 1)
	wantExit(t, run("job-abort"), 0)
	wantEvents(t, rcv, "storage-check", "vzdump.job-start")
	reqs := wantEvents(t, rcv, "notify", "vzdump.job-init", "vzdump.job-abort")
	wantStatus(t, reqs[1], "fail")
	if reqs[0].Run == "" || reqs[0].Run != reqs[1].Run {
		t.Errorf("run ids %q and %q, want one for the job", reqs[0].Run, reqs[1].Run)
	}
}

// Bad invocations exit 2 with a message that says what was expected, and fire nothing.
func TestAdapterBadInvocations(t *testing.T) {
	t.Parallel()
	snapPre := autosnapEnv("snap-create-pre", "100", "web01", "qemu", "autodaily240501020000", "0", "1")
	without := func(env []string, name string) []string {
		return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	}
	with := func(env []string, kv string) []string {
		name, _, _ := strings.Cut(kv, "=")
		return append(without(env, name), kv)
	}
	for _, tc := range []struct {
		name string
		call adapterCall
		want []string
	}{
		{"vzdump without a phase", adapterCall{[]string{"vzdump"}, nil}, []string{"expected <phase> [<mode> <vmid>]", "phases: job-init"}},
		{"vzdump phase with a space", adapterCall{[]string{"vzdump", "backup begin", "snapshot", "100"}, nil}, []string{`phase "backup begin"`, "letters, digits"}},
		{"vzdump phase with a slash", adapterCall{[]string{"vzdump", "../backup-start"}, nil}, []string{`phase "../backup-start"`}},
		{"vzdump guest phase without mode and vmid", adapterCall{[]string{"vzdump", "backup-start"}, nil}, []string{"backup-start expects <mode> <vmid>"}},
		{"vzdump guest phase without vmid", adapterCall{[]string{"vzdump", "pre-stop", "stop"}, nil}, []string{"pre-stop expects <mode> <vmid>"}},
		{"vzdump non-numeric vmid", adapterCall{[]string{"vzdump", "backup-start", "snapshot", "web01"}, nil}, []string{"vmid must be a non-negative whole number", `"web01"`}},
		{"vzdump unknown mode", adapterCall{[]string{"vzdump", "backup-start", "live", "100"}, nil}, []string{`mode "live"`, "snapshot, suspend, stop"}},
		{"vzdump job phase with arguments", adapterCall{[]string{"vzdump", "job-end", "snapshot", "100"}, nil}, []string{"job-end takes no further arguments"}},
		{"autosnap without a phase", adapterCall{[]string{"autosnap"}, without(snapPre, "CV4PVE_AUTOSNAP_PHASE")}, []string{"CV4PVE_AUTOSNAP_PHASE is not set", "snap-job-start"}},
		{"autosnap phase with a space", adapterCall{[]string{"autosnap"}, with(snapPre, "CV4PVE_AUTOSNAP_PHASE=snap create pre")}, []string{`phase "snap create pre"`}},
		{"autosnap --phase with a slash", adapterCall{[]string{"autosnap", "--phase", "snap/create"}, snapPre}, []string{`phase "snap/create"`}},
		{"autosnap guest phase without VMID", adapterCall{[]string{"autosnap"}, with(snapPre, "CV4PVE_AUTOSNAP_VMID=")}, []string{"snap-create-pre needs CV4PVE_AUTOSNAP_VMID"}},
		{"autosnap non-numeric VMID", adapterCall{[]string{"autosnap"}, with(snapPre, "CV4PVE_AUTOSNAP_VMID=web01")}, []string{"CV4PVE_AUTOSNAP_VMID must be a non-negative whole number", `"web01"`}},
		{"autosnap non-numeric STATE", adapterCall{[]string{"autosnap"}, with(snapPre, "CV4PVE_AUTOSNAP_STATE=true")}, []string{"CV4PVE_AUTOSNAP_STATE must be a non-negative whole number"}},
		{"autosnap with an argument", adapterCall{[]string{"autosnap", "snap-create-pre"}, snapPre}, []string{"autosnap takes no arguments", "CV4PVE_AUTOSNAP_*"}},
		{"jetbackup without arguments", adapterCall{[]string{"jetbackup"}, nil}, []string{"expected <type> <pre|post> ARGS...", "types: backup, backup-account"}},
		{"jetbackup type with a space", adapterCall{[]string{"jetbackup", "arch ive", "pre", "x"}, nil}, []string{`hook type "arch ive"`}},
		{"jetbackup unknown position", adapterCall{[]string{"jetbackup", "backup", "after", "x"}, nil}, []string{`position "after" is neither pre nor post`}},
		{"jetbackup too few arguments", adapterCall{[]string{"jetbackup", "backup", "pre", "65f1", "Daily", "1", "511"}, nil},
			[]string{"too few arguments: got 4, want 8", "expected: jetbackup backup pre <job_id> <job_name> <job_type> <contains> <structure> <destinations> <start> <log_id>"}},
		{"jetbackup too many arguments", adapterCall{[]string{"jetbackup", "download", "post", "a1", "log1", "extra"}, nil}, []string{"too many arguments: got 3, want 2", "jetbackup download post [account_id] <log_id>"}},
		{"jetbackup non-numeric queue status", adapterCall{[]string{"jetbackup", "backup-account", "post", "65f1", "a1", "alice", "done", "log1"}, nil},
			[]string{"argument 4 (queue_status)", `"done"`, "<queue_status>"}},
		{"jetbackup non-numeric epoch", adapterCall{[]string{"jetbackup", "clone", "pre", "65f1", "Clone", "1", "511", "d1", "yesterday", "log1"}, nil},
			[]string{"argument 6 (start)", `"yesterday"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			fired := filepath.Join(t.TempDir(), "fired")
			cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: catch-all
    on: ["*"]
    http: {url: "RECV/all"}
  - id: touch
    on: ["*"]
    exec: {command: /usr/bin/touch, args: ["`+fired+`"]}
`)
			p := runHP(t, childEnv(t, append([]string{"HOOKPOINT_CONFIG=" + cfg}, tc.call.env...)...), tc.call.args...)
			wantExit(t, p, 2)
			if !strings.HasPrefix(p.stderr, "hookpoint: ") {
				t.Errorf("stderr %q, want a hookpoint: message", p.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.stderr, w) {
					t.Errorf("stderr %q\nwant it to say %q", p.stderr, w)
				}
			}
			if p.stdout != "" {
				t.Errorf("stdout %q, want nothing", p.stdout)
			}
			if fileExists(fired) {
				t.Error("the exec hook ran; a bad invocation fires nothing")
			}
			if reqs := rcv.requests(); len(reqs) != 0 {
				t.Errorf("the receiver got %d request(s), first for %q; a bad invocation fires nothing", len(reqs), reqs[0].Event)
			}
		})
	}
}
