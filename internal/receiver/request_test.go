package receiver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const githubPayload = `{
  "ref": "refs/heads/main",
  "after": 12345678901234567890,
  "ratio": 1.0,
  "private": false,
  "nothing": null,
  "head_commit": {"id": "abc123", "author": {"name": "Ann", "email": "ann@example.com"}},
  "commits": [
    {"id": "c1", "tags": ["x", "y"]},
    {"id": "c2", "author": {"name": "Bob"}}
  ],
  "a.b": "whole key with a dot",
  "a": {"b": "nested a then b"},
  "labels": {"app.kubernetes.io/name": "web", "x": {"y.z": "deep dotted"}}
}`

func TestArgumentSources(t *testing.T) {
	t.Parallel()
	jsonReq := func(t *testing.T) *Request {
		return testRequest(t, "POST", "/hooks/x?branch=main&n=2&n=3&empty=", "application/json", githubPayload,
			"X-Event: push", "x-multi: first", "X-Multi: second", "Content-Length: 999")
	}
	formReq := func(t *testing.T) *Request {
		return testRequest(t, "PUT", "/hooks/x", "application/x-www-form-urlencoded; charset=utf-8",
			"token=s%20ecret&tag=one&tag=two&payload=%7B%22repo%22%3A%7B%22name%22%3A%22r%22%7D%7D")
	}
	arrayReq := func(t *testing.T) *Request {
		return testRequest(t, "POST", "/hooks/x", "application/vnd.api+json", `[{"name": "first"}, {"name": "second", "n": 2}]`)
	}
	for _, tc := range []struct {
		name string
		req  func(*testing.T) *Request
		arg  Argument
		want string // "!" + anything: not found
	}{
		{"header", jsonReq, arg("header", "X-Event"), "push"},
		{"header any case", jsonReq, arg("header", "x-EVENT"), "push"},
		{"header first of several", jsonReq, arg("header", "X-Multi"), "first"},
		{"header missing", jsonReq, arg("header", "X-Nope"), "!"},
		{"url", jsonReq, arg("url", "branch"), "main"},
		{"query alias", jsonReq, arg("query", "branch"), "main"},
		{"url first of several", jsonReq, arg("url", "n"), "2"},
		{"url empty value", jsonReq, arg("url", "empty"), ""},
		{"url missing", jsonReq, arg("url", "nope"), "!"},
		{"payload string", jsonReq, arg("payload", "ref"), "refs/heads/main"},
		{"payload big number kept as written", jsonReq, arg("payload", "after"), "12345678901234567890"},
		{"payload float kept as written", jsonReq, arg("payload", "ratio"), "1.0"},
		{"payload bool", jsonReq, arg("payload", "private"), "false"},
		{"payload nested", jsonReq, arg("payload", "head_commit.author.email"), "ann@example.com"},
		{"payload object as JSON", jsonReq, arg("payload", "head_commit.author"), `{"email":"ann@example.com","name":"Ann"}`},
		{"payload array index", jsonReq, arg("payload", "commits.1.id"), "c2"},
		{"payload array index nested", jsonReq, arg("payload", "commits.1.author.name"), "Bob"},
		{"payload array in array", jsonReq, arg("payload", "commits.0.tags.1"), "y"},
		{"payload array as JSON", jsonReq, arg("payload", "commits.0.tags"), `["x","y"]`},
		{"payload index out of range", jsonReq, arg("payload", "commits.2.id"), "!"},
		{"payload negative index", jsonReq, arg("payload", "commits.-1.id"), "!"},
		{"payload index not a number", jsonReq, arg("payload", "commits.first.id"), "!"},
		{"payload key with a dot wins whole", jsonReq, arg("payload", "a.b"), "whole key with a dot"},
		{"payload dotted key below", jsonReq, arg("payload", "labels.app.kubernetes.io/name"), "web"},
		{"payload dotted key deeper", jsonReq, arg("payload", "labels.x.y.z"), "deep dotted"},
		{"payload missing", jsonReq, arg("payload", "head_commit.author.login"), "!"},
		{"payload through a string", jsonReq, arg("payload", "ref.x"), "!"},
		{"payload top-level array is root", arrayReq, arg("payload", "root.1.name"), "second"},
		{"payload top-level array number", arrayReq, arg("payload", "root.1.n"), "2"},
		{"form value decoded", formReq, arg("payload", "token"), "s ecret"},
		{"form first of several", formReq, arg("payload", "tag"), "one"},
		{"form json string stays text", formReq, arg("payload", "payload"), `{"repo":{"name":"r"}}`},
		{"form missing", formReq, arg("payload", "nope"), "!"},
		{"entire payload", arrayReq, arg("entire-payload", ""), `{"root":[{"name":"first"},{"n":2,"name":"second"}]}`},
		{"entire form payload", formReq, arg("entire-payload", ""),
			`{"payload":"{\"repo\":{\"name\":\"r\"}}","tag":"one","token":"s ecret"}`},
		{"entire query", jsonReq, arg("entire-query", ""), `{"branch":"main","empty":"","n":"2"}`},
		{"raw body", formReq, arg("raw-request-body", ""), "token=s%20ecret&tag=one&tag=two&payload=%7B%22repo%22%3A%7B%22name%22%3A%22r%22%7D%7D"},
		{"request method", formReq, arg("request", "method"), "PUT"},
		{"request method any case", formReq, arg("request", "METHOD"), "PUT"},
		{"request remote-addr", formReq, arg("request", "remote-addr"), "192.0.2.1:1234"},
		{"request other", formReq, arg("request", "host"), "!"},
		{"string", formReq, str("a literal, with $HOME and spaces"), "a literal, with $HOME and spaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.req(t).Get(tc.arg)
			if strings.HasPrefix(tc.want, "!") {
				if !errors.Is(err, errNoParameter) {
					t.Fatalf("Get(%+v) = %q, %v; want not found", tc.arg, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Get(%+v) = %q, %v; want %q", tc.arg, got, err, tc.want)
			}
		})
	}

	t.Run("entire headers", func(t *testing.T) {
		t.Parallel()
		got, err := jsonReq(t).Get(arg("entire-headers", ""))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		if m["X-Event"] != "push" || m["X-Multi"] != "first" || m["Content-Type"] != "application/json" {
			t.Fatalf("entire headers %s", got)
		}
	})
	t.Run("no payload", func(t *testing.T) {
		t.Parallel()
		for _, ct := range []string{"", "text/plain", "application/json"} {
			req := testRequest(t, "POST", "/hooks/x", ct, "not json {")
			if _, err := req.Get(arg("payload", "a")); !errors.Is(err, errNoParameter) {
				t.Errorf("content type %q: payload lookup %v", ct, err)
			}
			if got, _ := req.Get(arg("entire-payload", "")); got != "null" {
				t.Errorf("content type %q: entire payload %q", ct, got)
			}
			if got, _ := req.Get(arg("raw-request-body", "")); got != "not json {" {
				t.Errorf("content type %q: raw body %q", ct, got)
			}
		}
	})
}

// TestParseParametersAsJSON covers JSON held in a form field, a query parameter and a
// header, reached with dot paths afterwards.
func TestParseParametersAsJSON(t *testing.T) {
	t.Parallel()
	payload := `{"repository": {"name": "web", "id": 9007199254740993}, "list": [1, 2]}`
	req := testRequest(t, "POST", "/hooks/x?meta=%7B%22env%22%3A%22prod%22%7D&broken=%7Bnope",
		"application/x-www-form-urlencoded", "payload="+strings.ReplaceAll(payload, " ", "+"),
		"X-Data: {\"build\": {\"n\": 7}}")
	parseJSONParameters(req, []Argument{
		arg("payload", "payload"), arg("url", "meta"), arg("header", "x-data"), arg("url", "broken"), arg("payload", "missing"),
	})
	for _, tc := range []struct {
		arg  Argument
		want string
	}{
		{arg("payload", "payload.repository.name"), "web"},
		{arg("payload", "payload.repository.id"), "9007199254740993"},
		{arg("payload", "payload.list.1"), "2"},
		{arg("url", "meta.env"), "prod"},
		{arg("query", "meta"), `{"env":"prod"}`},
		{arg("header", "X-Data.build.n"), "7"},
		{arg("header", "x-data.build"), `{"n":7}`},
		{arg("url", "broken"), "{nope"},
	} {
		if got, err := req.Get(tc.arg); err != nil || got != tc.want {
			t.Errorf("Get(%+v) = %q, %v; want %q", tc.arg, got, err, tc.want)
		}
	}
}

// TestArgumentsReachTheCommand runs a real command and checks what it got in argv, its
// environment and files, and that the files are removed afterwards.
func TestArgumentsReachTheCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `printf 'arg=[%s]\n' "$@"
printf 'env=[%s]\n' "$EVENT" "$HOOK_ref" "${HOOK_missing-unset}"
printf 'cwd=%s\n' "$(pwd)"
printf 'blob=%s\n' "$(cat "$BLOB")"
echo "$BLOB" > ` + filepath.Join(dir, "paths") + `
echo "$HOOK_HEAD_COMMIT" >> ` + filepath.Join(dir, "paths") + `
printf 'plain=%s\n' "$(cat "$HOOK_HEAD_COMMIT")"
`
	h := shHook("args", script,
		arg("payload", "commits.1.id"), arg("header", "X-Event"), arg("url", "branch"), arg("payload", "missing"),
		arg("request", "method"), str("two words"), arg("payload", "after"))
	h.PassEnvironment = []Argument{
		{Source: "header", Name: "X-Event", EnvName: "EVENT"}, arg("payload", "ref"), arg("payload", "missing"),
	}
	h.PassFiles = []Argument{
		{Source: "payload", Name: "blob", EnvName: "BLOB", Base64Decode: true},
		arg("payload", "head_commit"), // webhook names it HOOK_ and the name upper-cased

	}
	h.CommandWorkingDirectory = dir
	h.CaptureOutput = true
	_, ts := serve(t, Options{}, compile(t, h)...)

	body := `{"ref": "refs/heads/main", "after": 12345678901234567890, "head_commit": {"id": "abc"},
  "commits": [{"id": "c1"}, {"id": "c2"}], "blob": "` + base64.StdEncoding.EncodeToString([]byte("bin\x01ary")) + `"}`
	got := call(t, "POST", ts.URL+"/hooks/args?branch=main", body, "Content-Type: application/json", "X-Event: push")
	realDir, _ := filepath.EvalSymlinks(dir)
	wantOut := strings.Join([]string{
		"arg=[c2]", "arg=[push]", "arg=[main]", "arg=[]", "arg=[POST]", "arg=[two words]", "arg=[12345678901234567890]",
		"env=[push]", "env=[refs/heads/main]", "env=[unset]",
		"cwd=" + realDir,
	}, "\n") + "\n"
	if got.code != 200 || !strings.HasPrefix(got.body, wantOut) {
		t.Fatalf("got %d:\n%s\nwant it to start with:\n%s", got.code, got.body, wantOut)
	}
	if !strings.Contains(got.body, "blob=bin\x01ary\n") || !strings.Contains(got.body, `plain={"id":"abc"}`) {
		t.Fatalf("file contents not passed:\n%s", got.body)
	}
	paths := lines(filepath.Join(dir, "paths"))
	if len(paths) != 2 {
		t.Fatalf("file paths %q", paths)
	}
	for i, p := range paths {
		if prefix := []string{"BLOB", "HOOK_HEAD_COMMIT"}[i]; !strings.HasPrefix(filepath.Base(p), prefix) {
			t.Errorf("file %s: want a name starting with %s", p, prefix)
		}
		if !filepath.IsAbs(p) || filepath.Dir(p) != dir {
			t.Errorf("file %s: want an absolute path in the working directory %s", p, dir)
		}
		if exists(p) {
			t.Errorf("file %s is still there after the command", p)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("working directory holds %d entries, want only the paths file", len(entries))
	}
}
