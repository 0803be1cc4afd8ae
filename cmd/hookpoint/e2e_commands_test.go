package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/sign"
)

// Secrets the tests put in the environment; none may ever be printed or journaled.
const (
	testToken = "tok-e2e-5ecret-9f2c"
	// testWhsec's key is "hookpoint-e2e-signing-key-0123".
	testWhsec    = "whsec_aG9va3BvaW50LWUyZS1zaWduaW5nLWtleS0wMTIz"
	testWhsecKey = "aG9va3BvaW50LWUyZS1zaWduaW5nLWtleS0wMTIz"
)

func wantNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{testToken, testWhsec, testWhsecKey, "hookpoint-e2e-signing-key"} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q:\n%s", where, s, text)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"misspelt command", []string{"chek"}, "did you mean check?"},
		{"check with an argument", []string{"check", "extra"}, "extra"},
		{"unknown global flag", []string{"--bogus", "check"}, "--bogus"},
		{"bad --async-deadline", []string{"emit", "--async-deadline", "soon", "x.y"}, "soon"},
		{"bad --log-format", []string{"emit", "--log-format", "xml", "--config", "/dev/null", "x.y"}, "xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t), tc.args...)
			wantExit(t, p, 2)
			if !strings.HasPrefix(p.stderr, "hookpoint: ") || !strings.Contains(p.stderr, tc.want) {
				t.Errorf("stderr %q, want a hookpoint: message with %q", p.stderr, tc.want)
			}
		})
	}
	t.Run("no command prints help", func(t *testing.T) {
		t.Parallel()
		p := runHP(t, childEnv(t))
		wantExit(t, p, 0)
		if !strings.Contains(p.stdout, "Available Commands") {
			t.Errorf("stdout %q, want the help", p.stdout)
		}
	})
}

func TestCheckValid(t *testing.T) {
	t.Parallel()
	yamlPath := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: ping
    on: ["backup.*"]
    http: {url: "http://127.0.0.1:1/ping", auth: {type: bearer, token: '{{ env "HP_E2E_TOKEN" }}'}}
  - id: off
    enabled: false
    on: ["backup.end"]
    exec: {command: /bin/true}
`)
	jsonPath := writeConfig(t, nil, "hookpoint.json", `{"hooks": [
  {"id": "ping", "on": ["backup.*"], "http": {"url": "http://127.0.0.1:1/ping?vm={{ .data.vmid }}"}}
]}`)
	for _, tc := range []struct {
		name, path string
		want       string
	}{
		{"yaml", yamlPath, "OK, 2 hook(s), 1 enabled"},
		{"json", jsonPath, "OK, 1 hook(s), 1 enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t, "HP_E2E_TOKEN="+testToken), "check", "--config", tc.path)
			wantExit(t, p, 0)
			if !strings.Contains(p.stdout, tc.path+": "+tc.want) {
				t.Errorf("stdout %q, want %q", p.stdout, tc.path+": "+tc.want)
			}
			wantNoSecret(t, "check", p.output())
		})
	}
	t.Run("HOOKPOINT_CONFIG", func(t *testing.T) {
		t.Parallel()
		p := runHP(t, childEnv(t, "HOOKPOINT_CONFIG="+jsonPath), "check")
		wantExit(t, p, 0)
		if !strings.Contains(p.stdout, jsonPath+": OK") {
			t.Errorf("stdout %q, want the HOOKPOINT_CONFIG file checked", p.stdout)
		}
	})
}

func TestCheckInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		config string
		env    []string
		line   int    // the line the message must name
		want   string // text the message must hold, naming the field
	}{
		{
			name: "unknown field",
			config: `hooks:
  - id: a
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      methd: POST
`,
			line: 6, want: `hooks[0].http: unknown field "methd"`,
		},
		{
			name: "bad method",
			config: `hooks:
  - id: a
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      method: FETCH
`,
			line: 6, want: `hooks[0].http.method: "FETCH" is not a supported method`,
		},
		{
			name: "bad template",
			config: `hooks:
  - id: a
    on: ["x.y"]
    http:
      method: POST
      url: "http://127.0.0.1/?vm={{ .data.vmid "
`,
			line: 6, want: `hooks[0].http.url`,
		},
		{
			name: "wrong type",
			config: `hooks:
  - id: a
    order: high
    on: ["x.y"]
    exec: {command: /bin/true}
`,
			line: 3, want: `hooks[0].order: expected a whole number, got "high"`,
		},
		{
			name: "unknown field in JSON",
			config: `{"hooks": [
  {"id": "a", "on": ["x.y"],
   "http": {"url": "http://127.0.0.1/", "metod": "POST"}}
]}`,
			line: 3, want: `hooks[0].http: unknown field "metod"`,
		},
		{
			name: "bad pattern in the second hook",
			config: `hooks:
  - id: a
    on: ["x.y"]
    exec: {command: /bin/true}
  - id: b
    on: ["x.y", "x y"]
    exec: {command: /bin/true}
`,
			line: 6, want: `hooks[1].on[1]: "x y" is not a valid event pattern`,
		},
		{
			name: "missing secret env",
			config: `hooks:
  - id: a
    on: ["x.y"]
    exec: {command: /bin/true}
  - id: needs-token
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      auth: {type: bearer, token: '{{ env "HP_E2E_UNSET_TOKEN" }}'}
`,
			line: 9, want: `hooks[1].http.auth.token: hook "needs-token": secret env "HP_E2E_UNSET_TOKEN" is not set`,
		},
		{
			name: "missing secret file",
			config: `hooks:
  - id: a
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      sign: {secret: '{{ file "/nonexistent/hookpoint-e2e/whsec" }}'}
`,
			line: 6, want: `hooks[0].http.sign.secret[0]: hook "a": secret file "/nonexistent/hookpoint-e2e/whsec" cannot be read`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := "hookpoint.yaml"
			if strings.HasPrefix(tc.config, "{") {
				name = "hookpoint.json"
			}
			path := writeConfig(t, nil, name, tc.config)
			p := runHP(t, childEnv(t, tc.env...), "check", "--config", path)
			wantExit(t, p, 2)
			if where := path + ":" + strconv.Itoa(tc.line) + ":"; !strings.Contains(p.stderr, where) {
				t.Errorf("stderr does not name %s:\n%s", where, p.stderr)
			}
			if !strings.Contains(p.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, p.stderr)
			}
			if strings.Contains(p.stdout, "OK") {
				t.Errorf("stdout says OK for an invalid config: %q", p.stdout)
			}
		})
	}
	t.Run("every missing secret, in file order", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: a
    on: ["x.y"]
    exec:
      command: /bin/true
      env:
        LATER: '{{ env "HP_E2E_UNSET_2" }}'
  - id: b
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      headers: {X-Key: '{{ env "HP_E2E_UNSET_3" }}'}
      body: {deep: ['{{ env "HP_E2E_UNSET_4" }}']}
`)
		p := runHP(t, childEnv(t), "check", "--config", path)
		wantExit(t, p, 2)
		want := []string{
			path + `:7:9: hooks[0].exec.env.LATER: hook "a": secret env "HP_E2E_UNSET_2" is not set`,
			path + `:12:17: hooks[1].http.headers.X-Key: hook "b": secret env "HP_E2E_UNSET_3" is not set`,
			path + `:13:21: hooks[1].http.body.deep[0]: hook "b": secret env "HP_E2E_UNSET_4" is not set`,
		}
		if got := strings.Split(strings.TrimSpace(p.stderr), "\n"); len(got) != 4 || strings.Join(got[:3], "\n") != strings.Join(want, "\n") {
			t.Errorf("stderr:\n%s\nwant:\n%s\nand a summary line", p.stderr, strings.Join(want, "\n"))
		}
	})
	t.Run("--no-secrets", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: needs-token
    on: ["x.y"]
    http:
      url: "http://127.0.0.1/"
      auth: {type: bearer, token: '{{ env "HP_E2E_UNSET_TOKEN" }}'}
`)
		wantExit(t, runHP(t, childEnv(t), "check", "--no-secrets", "--config", path), 0)
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "nope.yaml")
		p := runHP(t, childEnv(t), "check", "--config", path)
		wantExit(t, p, 2)
		if !strings.Contains(p.stderr, path) {
			t.Errorf("stderr does not name the file: %q", p.stderr)
		}
	})
}

// The demo config of the README passes check when its signing secret is set, and names
// the secret when it is not.
func TestCheckExampleConfig(t *testing.T) {
	t.Parallel()
	path, err := filepath.Abs(filepath.Join("..", "..", "examples", "hookpoint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := runHP(t, childEnv(t, "DEMO_WHSEC=whsec_ZGVtby1zZWNyZXQtZm9yLWhvb2twb2ludC1kZW1v"), "check", "--config", path)
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "OK") {
		t.Errorf("stdout %q, want OK", p.stdout)
	}
	p = runHP(t, childEnv(t), "check", "--config", path)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, "DEMO_WHSEC") {
		t.Errorf("stderr does not name the missing secret DEMO_WHSEC: %q", p.stderr)
	}
}

const emitConfig = `hooks:
  - id: ok
    on: ["app.ok", "app.data"]
    http: {url: "RECV/ok"}
  - id: ok-async
    on: ["app.ok"]
    mode: async
    http: {url: "RECV/ok-async"}
  - id: gatekeeper
    on: ["app.gated"]
    http: {url: "RECV/gate?code=500"}
  - id: after-gatekeeper
    order: 10
    on: ["app.gated"]
    http: {url: "RECV/after"}
  - id: flaky
    on: ["app.flaky"]
    mode: async
    retry: {schedule: [1s]}
    http: {url: "RECV/flaky?code=500"}
  - id: stuck
    on: ["app.stuck"]
    mode: async
    http: {url: "RECV/stuck?hang=1"}
`

func TestEmitVerdict(t *testing.T) {
	t.Parallel()
	t.Run("proceed", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "app.ok")
		wantExit(t, p, 0)
		if !strings.Contains(p.stdout, "app.ok: proceed") {
			t.Errorf("stdout %q, want the verdict", p.stdout)
		}
		wantEvents(t, rcv, "ok", "app.ok")
		// async hooks are delivered before emit exits
		wantEvents(t, rcv, "ok-async", "app.ok")
	})
	t.Run("gate aborted", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "--gate", "app.gated")
		wantExit(t, p, 1)
		if !strings.Contains(p.stdout, "app.gated: abort") {
			t.Errorf("stdout %q, want the abort verdict", p.stdout)
		}
		reqs := wantEvents(t, rcv, "gatekeeper", "app.gated")
		if gate, _ := reqs[0].JSON["gate"].(bool); !gate {
			t.Errorf("gate = %v in the body, want true", reqs[0].JSON["gate"])
		}
		wantEvents(t, rcv, "after-gatekeeper") // stopped by the abort
	})
	t.Run("not a gate: failure warns", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "app.gated")
		wantExit(t, p, 0)
		if !strings.Contains(p.stdout, "[warn]") {
			t.Errorf("stdout %q, want the failure shown as a warning", p.stdout)
		}
		wantEvents(t, rcv, "after-gatekeeper", "app.gated")
	})
	t.Run("no hook matches", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		wantExit(t, runHP(t, childEnv(t), "emit", "--config", cfg, "--gate", "app.nothing"), 0)
		if n := len(rcv.requests()); n != 0 {
			t.Errorf("%d request(s) for an event no hook matches", n)
		}
	})
}

func TestEmitUndelivered(t *testing.T) {
	t.Parallel()
	t.Run("retries used up", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "--strict-async", "--async-deadline", "2s", "app.flaky")
		wantExit(t, p, 3)
		if !strings.Contains(p.stderr, "not delivered") || !strings.Contains(p.stderr, "flaky") {
			t.Errorf("stderr does not report the undelivered hook:\n%s", p.stderr)
		}
		reqs := rcv.byHook("flaky")
		if len(reqs) == 0 || len(reqs) > 2 {
			t.Fatalf("%d attempt(s), want 1 or 2 (schedule [1s])", len(reqs))
		}
		for _, r := range reqs {
			if r.Delivery != reqs[0].Delivery {
				t.Errorf("delivery ids %q and %q differ across attempts", reqs[0].Delivery, r.Delivery)
			}
		}
	})
	t.Run("deadline passes", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "--strict-async", "--async-deadline", "1s", "app.stuck")
		wantExit(t, p, 3)
		if !strings.Contains(p.stderr, "stuck") {
			t.Errorf("stderr does not name the undelivered hook:\n%s", p.stderr)
		}
	})
	t.Run("without --strict-async the verdict decides the exit status", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t)
		cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "--async-deadline", "1s", "app.stuck")
		wantExit(t, p, 0)
		if !strings.Contains(p.stderr, "stuck") || !strings.Contains(p.stderr, "not delivered") {
			t.Errorf("stderr does not warn about the undelivered hook:\n%s", p.stderr)
		}
		if !strings.Contains(p.stdout, "app.stuck: proceed") {
			t.Errorf("stdout lacks the verdict:\n%s", p.stdout)
		}
	})
}

func TestEmitData(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
	check := func(t *testing.T, r request) {
		t.Helper()
		d := r.data(t)
		if d["vmid"] != float64(101) || d["vmname"] != "from-var" || d["note"] != "kept" || d["extra"] != "x=y" {
			t.Errorf("data = %v, want the file's values with --var winning", d)
		}
		if tags, _ := d["tags"].([]any); len(tags) != 2 {
			t.Errorf("data.tags = %#v, want the file's list", d["tags"])
		}
	}
	t.Run("@file", func(t *testing.T) {
		p := runHP(t, childEnv(t), "emit", "--config", cfg, "--data", "@"+testdata(t, "data.json"),
			"--var", "vmname=from-var", "--var", "extra=x=y", "--status", "success", "app.data")
		wantExit(t, p, 0)
		reqs := wantEvents(t, rcv, "ok", "app.data")
		check(t, reqs[0])
		wantStatus(t, reqs[0], "success")
	})
	t.Run("@- from stdin", func(t *testing.T) {
		raw, err := os.ReadFile(testdata(t, "data.json"))
		if err != nil {
			t.Fatal(err)
		}
		p := runHPStdin(t, childEnv(t), string(raw), "emit", "--config", cfg, "--data", "@-",
			"--var", "vmname=from-var", "--var", "extra=x=y", "app.data")
		wantExit(t, p, 0)
		reqs := wantEvents(t, rcv, "ok", "app.data", "app.data")
		check(t, reqs[1])
	})
}

// A signed hook's request verifies with the secret, as a Standard Webhooks receiver
// would check it.
func TestEmitSigned(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: signed
    on: ["app.signed"]
    http:
      url: "RECV/signed"
      sign: {secret: '{{ env "HP_E2E_WHSEC" }}'}
`)
	p := runHP(t, childEnv(t, "HP_E2E_WHSEC="+testWhsec), "emit", "--config", cfg, "--var", "vm=101", "app.signed")
	wantExit(t, p, 0)
	r := wantEvents(t, rcv, "signed", "app.signed")[0]
	key, err := config.DecodeSigningSecret(testWhsec)
	if err != nil {
		t.Fatal(err)
	}
	id, ts, sig := r.Header.Get(sign.HeaderID), r.Header.Get(sign.HeaderTimestamp), r.Header.Get(sign.HeaderSignature)
	if id != r.Delivery {
		t.Errorf("webhook-id %q, want the delivery id %q", id, r.Delivery)
	}
	if err := sign.Verify([][]byte{key}, id, ts, sig, r.Body, time.Now(), time.Hour); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
}

func TestEmitJSONOutput(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
	p := runHP(t, childEnv(t), "emit", "--config", cfg, "-o", "json", "--run-id", "run_e2e_json", "--var", "k=v", "app.ok")
	wantExit(t, p, 0)
	var out struct {
		Verdict string `json:"verdict"`
		Event   struct {
			Type  string         `json:"type"`
			RunID string         `json:"run_id"`
			Data  map[string]any `json:"data"`
		} `json:"event"`
		Results []struct {
			HookID  string `json:"hook_id"`
			Mode    string `json:"mode"`
			Outcome string `json:"outcome"`
			Status  int    `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(p.stdout), &out); err != nil {
		t.Fatalf("-o json output does not parse: %v\n%s", err, p.stdout)
	}
	if out.Verdict != "proceed" || out.Event.Type != "app.ok" || out.Event.RunID != "run_e2e_json" || out.Event.Data["k"] != "v" {
		t.Errorf("output %+v, want verdict proceed for app.ok, run run_e2e_json, data k=v", out)
	}
	if len(out.Results) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(out.Results), out.Results)
	}
	if r := out.Results[0]; r.HookID != "ok" || r.Outcome != "ok" || r.Status != 200 || r.Mode != "sync" {
		t.Errorf("results[0] = %+v, want hook ok answered 200", r)
	}
	if r := out.Results[1]; r.HookID != "ok-async" || r.Outcome != "queued" || r.Mode != "async" {
		t.Errorf("results[1] = %+v, want hook ok-async queued", r)
	}
}

func TestEmitUsage(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", emitConfig)
	t.Cleanup(func() { // after the parallel subtests
		if n := len(rcv.requests()); n != 0 {
			t.Errorf("usage errors fired %d hook(s)", n)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no TYPE", nil, "TYPE"},
		{"two TYPEs", []string{"app.ok", "app.data"}, "TYPE"},
		{"bad TYPE", []string{"app ok"}, "app ok"},
		{"bad --var", []string{"--var", "novalue", "app.ok"}, "novalue"},
		{"empty --var key", []string{"--var", "=v", "app.ok"}, "--var"},
		{"bad --status", []string{"--status", "great", "app.ok"}, "great"},
		{"bad --data JSON", []string{"--data", "{bad", "app.ok"}, "--data"},
		{"--data not an object", []string{"--data", "[1, 2]", "app.ok"}, "--data"},
		{"--data missing file", []string{"--data", "@/nonexistent/hookpoint-e2e.json", "app.ok"}, "--data"},
		{"bad --output", []string{"-o", "yaml", "app.ok"}, "yaml"},
		{"unknown flag", []string{"--bogus", "app.ok"}, "bogus"},
		{"missing config", []string{"--config", "/nonexistent/hookpoint-e2e.yaml", "app.ok"}, "/nonexistent/hookpoint-e2e.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t), append([]string{"emit", "--config", cfg}, tc.args...)...)
			wantExit(t, p, 2)
			if !strings.HasPrefix(p.stderr, "hookpoint: ") || !strings.Contains(p.stderr, tc.want) {
				t.Errorf("stderr %q, want a hookpoint: message naming %q", p.stderr, tc.want)
			}
		})
	}
}

const renderConfig = `hooks:
  - id: notify
    order: 1
    on: ["backup.*"]
    http:
      url: "RECV/notify?vm={{ .data.vmid }}"
      method: PUT
      headers: {X-Vm-Name: "{{ .data.vmname }}"}
      auth: {type: bearer, token: '{{ env "HP_E2E_TOKEN" }}'}
      body: {vm: "{{ .data.vmid }}", name: "{{ .data.vmname }}", event: "{{ .event.type }}", key: '{{ env "HP_E2E_TOKEN" }}'}
      sign: {secret: ['{{ env "HP_E2E_WHSEC" }}', '{{ file "WHSECFILE" }}']}
  - id: keyed
    order: 2
    on: ["backup.pre"]
    http:
      url: "RECV/keyed"
      method: GET
      auth: {type: api_key, query: key, token: '{{ env "HP_E2E_TOKEN" }}'}
  - id: script
    order: 3
    on: ["backup.pre"]
    exec:
      command: /usr/bin/touch
      args: ["MARKER", "--vm={{ .data.vmid }}"]
      env: {TOKEN: '{{ env "HP_E2E_TOKEN" }}', VM: "{{ .data.vmid }}"}
`

func TestRender(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	marker := filepath.Join(t.TempDir(), "script-ran")
	whsecFile := filepath.Join(t.TempDir(), "whsec")
	if err := os.WriteFile(whsecFile, []byte(testWhsec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, rcv, "hookpoint.yaml", strings.NewReplacer("MARKER", marker, "WHSECFILE", whsecFile).Replace(renderConfig))
	env := childEnv(t, "HP_E2E_TOKEN="+testToken, "HP_E2E_WHSEC="+testWhsec)
	args := []string{"render", "--config", cfg, "--var", "vmid=101", "--var", "vmname=web-1", "backup.pre"}

	t.Run("text", func(t *testing.T) {
		p := runHP(t, env, args...)
		wantExit(t, p, 0)
		for _, want := range []string{
			"# hook notify (http, sync)",
			"PUT " + rcv.URL() + "/notify?vm=101",
			"Authorization: Bearer ****",
			"X-Vm-Name: web-1",
			"X-Hookpoint-Event: backup.pre",
			"Webhook-Signature: v1,",
			`"vm":"101"`,
			`"name":"web-1"`,
			`"key":"****"`,
			"# hook keyed (http, sync)",
			"GET " + rcv.URL() + "/keyed?key=****",
			"# hook script (exec, sync)",
			`argv: "/usr/bin/touch" "` + marker + `" "--vm=101"`,
			"env: HOOKPOINT_EVENT=backup.pre",
			"env: HOOKPOINT_DATA_VMID=101",
			"env: TOKEN=****",
			"env: VM=101",
		} {
			if !strings.Contains(p.stdout, want) {
				t.Errorf("render output lacks %q", want)
			}
		}
		wantNoSecret(t, "render", p.output())
	})
	t.Run("json", func(t *testing.T) {
		p := runHP(t, env, append(append([]string{}, args...), "-o", "json")...)
		wantExit(t, p, 0)
		var previews []struct {
			Hook    string      `json:"hook"`
			Action  string      `json:"action"`
			Method  string      `json:"method"`
			URL     string      `json:"url"`
			Headers [][2]string `json:"headers"`
			Argv    []string    `json:"argv"`
			Error   string      `json:"error"`
		}
		if err := json.Unmarshal([]byte(p.stdout), &previews); err != nil {
			t.Fatalf("render -o json does not parse: %v\n%s", err, p.stdout)
		}
		var hooks []string
		for _, pv := range previews {
			hooks = append(hooks, pv.Hook)
			if pv.Error != "" {
				t.Errorf("hook %s: %s", pv.Hook, pv.Error)
			}
		}
		if strings.Join(hooks, ",") != "notify,keyed,script" {
			t.Errorf("previews for %v, want notify, keyed, script in order", hooks)
		}
		wantNoSecret(t, "render -o json", p.output())
	})
	t.Run("no hook matches", func(t *testing.T) {
		p := runHP(t, env, "render", "--config", cfg, "other.event")
		wantExit(t, p, 0)
		if !strings.Contains(p.stdout, "no enabled hook matches other.event") {
			t.Errorf("stdout %q", p.stdout)
		}
	})
	// render sends and runs nothing
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("render sent %d request(s)", n)
	}
	if fileExists(marker) {
		t.Error("render ran the exec hook")
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	journalPath := filepath.Join(t.TempDir(), "journal.jsonl")
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: echo-auth
    order: 1
    on: ["app.j"]
    http:
      url: "RECV/echo?echo=auth"
      auth: {type: bearer, token: '{{ env "HP_E2E_TOKEN" }}'}
  - id: echo-query
    order: 2
    on: ["app.j"]
    http:
      url: "RECV/echo?code=500&echo=query"
      auth: {type: api_key, query: key, token: '{{ env "HP_E2E_TOKEN" }}'}
      sign: {secret: '{{ env "HP_E2E_WHSEC" }}'}
  - id: script
    order: 3
    on: ["app.j", "job.*"]
    on_failure: warn # also on the gate job.pre
    exec:
      command: /bin/sh
      args: ["-c", "echo \"token is $TOKEN\"; exit 4"]
      env: {TOKEN: '{{ env "HP_E2E_TOKEN" }}'}
`)
	env := childEnv(t, "HP_E2E_TOKEN="+testToken, "HP_E2E_WHSEC="+testWhsec)
	p := runHP(t, env, "emit", "-v", "--config", cfg, "--journal", journalPath, "--run-id", "run_e2e_journal", "app.j")
	wantExit(t, p, 0) // every failure only warns: app.j is not a gate
	wantNoSecret(t, "emit -v", p.output())
	if got := rcv.byHook("echo-auth"); len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer "+testToken {
		t.Fatalf("the receiver did not get the real token; the test proves nothing")
	}

	// The journal is appended to, here through HOOKPOINT_JOURNAL.
	p = runHP(t, append(env, "HOOKPOINT_JOURNAL="+journalPath), "run", "--config", cfg, "--job", "j", "--", "true")
	wantExit(t, p, 0)

	raw, err := os.ReadFile(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	wantNoSecret(t, "the journal", string(raw))
	type record struct {
		RunID     string `json:"run_id"`
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
		HookID    string `json:"hook_id"`
		Action    string `json:"action"`
		Target    string `json:"target"`
		Attempt   int    `json:"attempt"`
		Outcome   string `json:"outcome"`
		Status    int    `json:"status"`
		ExitCode  *int   `json:"exit_code"`
		Error     string `json:"error"`
		Response  string `json:"response"`
	}
	var recs []record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.EventType+"/"+r.HookID+"/"+r.Outcome)
		if r.EventID == "" || r.Attempt != 1 || r.RunID == "" || r.Action == "" {
			t.Errorf("incomplete record %+v", r)
		}
	}
	want := []string{
		"app.j/echo-auth/ok", "app.j/echo-query/failed", "app.j/script/failed",
		"job.pre/script/failed", "job.post/script/failed", "job.end/script/failed",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("journal records\n%q\nwant\n%q", got, want)
	}
	if r := recs[0]; r.RunID != "run_e2e_journal" || r.Status != 200 || !strings.Contains(r.Response, "Bearer ****") {
		t.Errorf("echo-auth record %+v, want run id, status 200 and the masked echo", r)
	}
	if r := recs[1]; r.Status != 500 || r.Target != "POST "+rcv.URL()+"/echo?code=500&echo=query&key=****" || r.Error == "" {
		t.Errorf("echo-query record %+v, want status 500, the masked target and an error", r)
	}
	if r := recs[2]; r.ExitCode == nil || *r.ExitCode != 4 || !strings.Contains(r.Response, "token is ****") {
		t.Errorf("script record %+v, want exit code 4 and the masked output", r)
	}
	if recs[3].RunID == recs[0].RunID || recs[3].RunID != recs[5].RunID {
		t.Errorf("run ids %q %q %q: the run's records should share their own run id", recs[0].RunID, recs[3].RunID, recs[5].RunID)
	}
}

// A URL may start with a secret: check renders with the real value when it is set, with
// a stand-in of the right shape when it is not (--no-secrets), and reports a real value
// that is not a URL.
func TestCheckURLFromSecret(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	cfg := writeConfig(t, rcv, "hookpoint.yaml", `hooks:
  - id: ping
    on: ["x"]
    http: {url: '{{ env "HC_URL" }}/ping', sign: {secret: '{{ env "WH" }}'}}
`)
	wh := "WH=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wantExit(t, runHP(t, childEnv(t, "HC_URL=https://hc.example/abc", wh), "check", "--config", cfg), 0)
	wantExit(t, runHP(t, childEnv(t), "check", "--no-secrets", "--config", cfg), 0)
	p := runHP(t, childEnv(t, "HC_URL=hc.example/abc", wh), "check", "--config", cfg)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, "http or https") || strings.Contains(p.stderr, "hc.example") {
		t.Errorf("check should say the URL needs a scheme without quoting the secret:\n%s", p.stderr)
	}
}
