package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
)

// fuzzSeeds are small configs, good and broken, beside the files of examples/ and
// testdata/.
var fuzzSeeds = []string{
	"",
	"hooks: []\n",
	"{}",
	"---\n",
	"hooks: []\n---\nhooks: []\n",
	"- a\n",
	"hooks: x\n",
	"hooks:\n  - ~\n",
	hookDoc(),
	httpHook(),
	execHook(),
	httpHook("method: get", "body: x"),
	httpHook("body_type: form", "body: {a: [1], b: {c: d}}"),
	httpHook("body_type: xml", "body: \"<a>{{ .data.x }}</a>\""),
	httpHook("body: {a: .nan, b: .inf, c: [1, {d: ~}]}"),
	httpHook("headers: {X-A: \"{{ .x }}\", x-a: b, Content-Length: 1, \"a b\": c}"),
	httpHook("auth: {type: api_key, token: t, header: X, query: q, username: u}"),
	httpHook("sign: {secret: [whsec_x, \"{{ env \\\"S\\\" }}\"]}", "expect: [99, 301, 200.5]"),
	httpHook("timeout: 1e300", "tls: {cert_file: a}"),
	execHook("shell: true", "args: [\"{{\"]", "env: {1A: x, B: \"\\0\"}", "stdin: yaml", "timeout: -1"),
	hookDoc("mode: async", "retry: {max_attempts: 101, schedule: [0, ~, soon]}", "http: {url: \"ftp://x\"}"),
	"hooks:\n  - &h {id: a, on: x, http: {url: \"http://h.example/\"}}\n  - <<: *h\n    id: b\n",
	"hooks:\n  - id: a\n    on: [x]\n    http: {url: \"http://h.example/\", body: &b {a: *b}}\n",
	"hooks:\n  - {on: [x], on_failure: [y], http: {url: \"http://h.example/\"}}\n",
	`{"hooks": [{"id": "a", "on": "x\/y", "description": "\ud83d\ude00 \ud800", "http": {"url": "http:\/\/h.example\/"}}]}`,
	`{"hooks": [{"id": "a", "on": ["x"], "http": {"url": "http://h.example/", "body": {"a": "{{ .data.a }}"}, "expect": 204}}], "server": {"listen": ":8080"}}`,
	"hooks:\n  - id: yes\n    on: [yes, no, on]\n    enabled: off\n    exec: {command: /bin/true, args: [on]}\n",
	"server: {listen: x, db: y, allowed_origins: [a, ~], token_file: z, port: 1}\n",
}

// FuzzParse checks, for any input, that Parse does not panic; that a failure is a
// *config.Error whose issues all name the file and say something; and that a success has
// every template of every action compiled, and writes out as JSON that reads back the
// same.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, dir := range []string{filepath.Join("..", "..", "examples"), "testdata"} {
		for _, file := range configFiles(f, dir) {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			// Broken variants: cut short, and with a line dropped.
			f.Add(data[:len(data)/2])
			if lines := strings.Split(string(data), "\n"); len(lines) > 10 {
				f.Add([]byte(strings.Join(append(lines[:7:7], lines[8:]...), "\n")))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		cfg, err := config.Parse(name, data)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config with an error")
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T: %v", err, err)
			}
			if len(ce.Issues) == 0 {
				t.Fatal("no issues")
			}
			for _, is := range ce.Issues {
				if is.File != name || strings.TrimSpace(is.Message) == "" || is.Line < 0 || is.Column < 0 {
					t.Fatalf("issue %#v", is)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatal("no config and no error")
		}
		ids := map[string]bool{}
		for _, h := range cfg.Hooks {
			if h == nil {
				t.Fatal("a nil hook")
			}
			if ids[h.ID] {
				t.Fatalf("duplicate id %q", h.ID)
			}
			ids[h.ID] = true
			if (h.HTTP == nil) == (h.Exec == nil) {
				t.Fatalf("hook %q has %v http and %v exec", h.ID, h.HTTP != nil, h.Exec != nil)
			}
			checkCompiled(t, h)
			if h.HTTP != nil && (h.HTTP.Method == "" || h.HTTP.BodyType == "") {
				t.Fatalf("hook %q: defaults not set: %+v", h.ID, h.HTTP)
			}
		}
		// What was accepted writes out as JSON (as the API would) and reads back the same.
		out, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("accepted config cannot be written as JSON: %v", err)
		}
		again, err := config.Parse("again.json", out)
		if err != nil {
			t.Fatalf("accepted config written as JSON does not read back: %v\n%s", err, out)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("JSON round trip changed the config:\n%s\n%s", out, out2)
		}
	})
}

// configFiles lists the YAML and JSON files under dir.
func configFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
