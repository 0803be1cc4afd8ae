package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/config"
)

var (
	schemaFile  = filepath.Join("..", "..", "schema", "hookpoint.schema.json")
	examplesDir = filepath.Join("..", "..", "examples")
)

// schemaDoc reads the schema as plain JSON values.
func schemaDoc(t testing.TB) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	return doc
}

// compileSchema compiles the schema with its 2020-12 meta-schema.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("hookpoint.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("hookpoint.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// instance decodes a config file into the JSON values a schema validates: JSON as JSON,
// YAML with go.yaml.in/yaml/v3 and then made JSON-compatible.
func instance(t testing.TB, name string, data []byte) any {
	t.Helper()
	if strings.HasSuffix(name, ".json") {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	raw, err := json.Marshal(jsonCompatible(v))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonCompatible turns the map[any]any YAML may produce into map[string]any.
func jsonCompatible(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonCompatible(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonCompatible(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonCompatible(e)
		}
		return x
	}
	return v
}

// resolve follows a local $ref ("#/$defs/name").
func resolve(t testing.TB, doc, node map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		if !ok {
			t.Fatalf("$ref %q is not local", ref)
		}
		next, ok := doc["$defs"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("$ref %q: no such definition", ref)
		}
		node = next
	}
}

// yamlFields returns the fields of a struct by their yaml names.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// namedProperties lists the property names a schema object mentions in its own
// properties and in the conditions and branches that apply to the same object.
func namedProperties(node map[string]any) []string {
	var names []string
	if props, ok := node["properties"].(map[string]any); ok {
		for k := range props {
			names = append(names, k)
		}
	}
	if req, ok := node["required"].([]any); ok {
		for _, k := range req {
			names = append(names, k.(string))
		}
	}
	if dep, ok := node["dependentRequired"].(map[string]any); ok {
		for k, v := range dep {
			names = append(names, k)
			for _, o := range v.([]any) {
				names = append(names, o.(string))
			}
		}
	}
	for _, kw := range []string{"if", "then", "else", "not"} {
		if sub, ok := node[kw].(map[string]any); ok {
			names = append(names, namedProperties(sub)...)
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := node[kw].([]any); ok {
			for _, s := range subs {
				names = append(names, namedProperties(s.(map[string]any))...)
			}
		}
	}
	return names
}

// TestSchemaMatchesTypes walks the Go types along their yaml tags and the schema along its
// properties: every field is in the schema at its place, with a description, and every
// property the schema names is a field.
func TestSchemaMatchesTypes(t *testing.T) {
	t.Parallel()
	doc := schemaDoc(t)
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", doc["$schema"])
	}
	visited := map[reflect.Type]bool{}
	var walk func(node map[string]any, typ reflect.Type, path string)
	walk = func(node map[string]any, typ reflect.Type, path string) {
		node = resolve(t, doc, node)
		visited[typ] = true
		if node["type"] != "object" || node["additionalProperties"] != false {
			t.Errorf("%s: the schema must be an object with additionalProperties false, as unknown fields are errors", path)
		}
		if _, ok := node["description"]; !ok && path != "(root)" {
			t.Errorf("%s: no description", path)
		}
		props, _ := node["properties"].(map[string]any)
		fields := yamlFields(typ)
		for _, name := range namedProperties(node) {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: the schema names %q, which %v does not have", path, name, typ)
			}
		}
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := strings.TrimPrefix(path+"."+name, "(root).")
			sub, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: field of %v missing from the schema", p, typ)
				continue
			}
			resolved := resolve(t, doc, sub)
			if sub["description"] == nil && resolved["description"] == nil {
				t.Errorf("%s: no description", p)
			}
			ft := fields[name]
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(config.Body{}) && ft != reflect.TypeOf(config.Rate{}):
				walk(sub, ft, p)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Pointer && ft.Elem().Elem().Kind() == reflect.Struct:
				if resolved["type"] != "array" {
					t.Errorf("%s: a list of objects, the schema says %v", p, resolved["type"])
					continue
				}
				walk(resolved["items"].(map[string]any), ft.Elem().Elem(), p+"[]")
			}
		}
	}
	walk(doc, reflect.TypeOf(config.Config{}), "(root)")
	for _, typ := range []any{config.Config{}, config.Hook{}, config.Retry{}, config.HTTP{}, config.Auth{}, config.TLS{}, config.Sign{}, config.Exec{}, config.Server{}} {
		if !visited[reflect.TypeOf(typ)] {
			t.Errorf("%T is not reached in the schema", typ)
		}
	}
}

// TestSchemaDefaults: the defaults the schema shows are the ones the code applies.
func TestSchemaDefaults(t *testing.T) {
	t.Parallel()
	doc := schemaDoc(t)
	defs := doc["$defs"].(map[string]any)
	def := func(obj, field string) any {
		props := defs[obj].(map[string]any)["properties"].(map[string]any)
		d, ok := props[field].(map[string]any)["default"]
		if !ok {
			t.Errorf("%s.%s has no default", obj, field)
		}
		return d
	}
	duration := func(v any) time.Duration {
		d, err := time.ParseDuration(fmt.Sprint(v))
		if err != nil {
			t.Errorf("default %v: %v", v, err)
		}
		return d
	}
	if d := duration(def("http", "timeout")); d != config.DefaultHTTPTimeout {
		t.Errorf("http.timeout default %v, code %v", d, config.DefaultHTTPTimeout)
	}
	if d := duration(def("exec", "timeout")); d != config.DefaultExecTimeout {
		t.Errorf("exec.timeout default %v, code %v", d, config.DefaultExecTimeout)
	}
	// What a hook that says nothing becomes.
	h := mustParse(t, "c.yaml", []byte(httpHook())).Hooks[0]
	checks := []struct {
		obj, field string
		code       any
	}{
		{"hook", "enabled", h.IsEnabled()},
		{"hook", "order", float64(h.Order)},
		{"hook", "mode", map[bool]string{true: "async", false: "sync"}[h.IsAsync()]},
		{"hook", "description", h.Description},
		{"http", "method", h.HTTP.Method},
		{"http", "body_type", h.HTTP.BodyType},
		{"exec", "shell", false},
		{"exec", "keep_children", false},
		{"exec", "stdin", "none"},
		{"auth", "base64", false},
		{"tls", "insecure_skip_verify", false},
		{"retry", "max_attempts", float64(0)},
	}
	for _, c := range checks {
		if d := def(c.obj, c.field); d != c.code {
			t.Errorf("%s.%s default %#v, code %#v", c.obj, c.field, d, c.code)
		}
	}
	if d := def("hook", "status"); d != "any" {
		t.Errorf("hook.status default %v", d)
	}
}

// TestExamplesMatchSchema validates every config in examples/ (and the test configs)
// against the schema, and loads it.
func TestExamplesMatchSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	files := configFiles(t, examplesDir)
	if len(files) == 0 {
		t.Fatalf("no config files in %s", examplesDir)
	}
	files = append(files, configFiles(t, "testdata")...)
	for _, file := range files {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(instance(t, file, data)); err != nil {
				t.Errorf("schema: %v", err)
			}
			if _, err := config.Load(file); err != nil {
				t.Errorf("load: %v", err)
			}
		})
	}
}

// TestSchemaAgreesWithValidation: configs that both the schema and the loader accept,
// and configs that both refuse.
func TestSchemaAgreesWithValidation(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	good := []string{
		httpHook(),
		httpHook("method: get"),
		httpHook("method: delete", "body: {id: x}"),
		httpHook("body_type: form", "body: {a: x, n: 1, ok: true}"),
		httpHook("body: [1, 2]"),
		httpHook("timeout: 90", "expect: 204"),
		httpHook("timeout: 1h30m", "expect: [200, 201]"),
		httpHook("timeout: \"2.5\""),
		httpHook("auth: {type: api_key, token: t, header: X-Key}"),
		httpHook("auth: {type: basic, username: u}"),
		httpHook("tls: {cert_file: c, key_file: k}"),
		httpHook("sign: {secret: " + goodSecret + "}"),
		httpHook("headers: {X-Count: 5}"),
		"hooks:\n  - id: a\n    on: \"*\"\n    status: [fail, cancelled]\n    http: {url: \"http://h.example/\"}\n",
		hookDoc("mode: async", "retry: {schedule: [1s, 90]}", "http: {url: \"http://h.example/\"}"),
		execHook("shell: true", "args: []", "env: {A_1: x}"),
		"hooks: []\nserver: {listen: \":8080\", db: \"postgres://h/db\", allowed_origins: [10.0.0.0/8], token_file: /t}\n",
	}
	for _, src := range good {
		if err := sch.Validate(instance(t, "c.yaml", []byte(src))); err != nil {
			t.Errorf("schema refuses:\n%s%v", src, err)
		}
		if _, err := config.Parse("c.yaml", []byte(src)); err != nil {
			t.Errorf("loader refuses:\n%s%v", src, err)
		}
	}
	bad := []string{
		"hooks: []\nextra: 1\n",
		"hooks:\n  - id: a\n    on: [x]\n",
		"hooks:\n  - on: [x]\n    http: {url: \"http://h.example/\"}\n",
		"hooks:\n  - id: A\n    on: [x]\n    http: {url: \"http://h.example/\"}\n",
		"hooks:\n  - id: a\n    http: {url: \"http://h.example/\"}\n",
		"hooks:\n  - id: a\n    on: [\"a b\"]\n    http: {url: \"http://h.example/\"}\n",
		hookDoc("color: red", "http: {url: \"http://h.example/\"}"),
		hookDoc("http: {url: \"http://h.example/\"}", "exec: {command: /bin/true}"),
		hookDoc("status: [any, fail]", "http: {url: \"http://h.example/\"}"),
		hookDoc("status: done", "http: {url: \"http://h.example/\"}"),
		hookDoc("on_failure: stop", "http: {url: \"http://h.example/\"}"),
		hookDoc("retry: {max_attempts: 3}", "http: {url: \"http://h.example/\"}"),
		hookDoc("mode: async", "retry: {max_attempts: 101}", "http: {url: \"http://h.example/\"}"),
		hookDoc("mode: async", "retry: {schedule: [0]}", "http: {url: \"http://h.example/\"}"),
		hookDoc("http: {method: POST}"),
		httpHook("method: HEAD"),
		httpHook("method: GET", "body: x"),
		httpHook("method: GET", "body_type: json"),
		httpHook("body_type: none", "body: x"),
		httpHook("body_type: xml"),
		httpHook("body_type: text", "body: {a: b}"),
		httpHook("body_type: form", "body: {a: {b: c}}"),
		httpHook("body_type: yaml", "body: x"),
		httpHook("headers: {\"a b\": c}"),
		httpHook("headers: {content-length: \"1\"}"),
		httpHook("headers: {Webhook-Signature: x}"),
		httpHook("auth: {token: t}"),
		httpHook("auth: {type: digest}"),
		httpHook("auth: {type: basic, password: p}"),
		httpHook("auth: {type: bearer, token: t, username: u}"),
		httpHook("auth: {type: api_key, token: t}"),
		httpHook("auth: {type: api_key, token: t, header: X, query: q}"),
		httpHook("auth: {type: none, token: t}"),
		httpHook("timeout: soon"),
		httpHook("timeout: -1s"),
		httpHook("timeout: 90000"),
		httpHook("tls: {cert_file: c}"),
		httpHook("tls: {ca: c}"),
		httpHook("sign: {}"),
		httpHook("sign: {secret: []}"),
		httpHook("expect: 99"),
		httpHook("expect: [200, 302]"),
		execHook("shell: true", "args: [a]"),
		execHook("stdin: yaml"),
		execHook("env: {A-B: x}"),
		execHook("cwd: /tmp"),
		hookDoc("exec: {command: \"/bin/{{ .data.x }}\"}"),
		hookDoc("exec: {args: [a]}"),
		"server: {port: 80}\n",
		"server: {allowed_origins: 10.0.0.0/8}\n",
	}
	for _, src := range bad {
		if err := sch.Validate(instance(t, "c.yaml", []byte(src))); err == nil {
			t.Errorf("schema accepts:\n%s", src)
		}
		if _, err := config.Parse("c.yaml", []byte(src)); err == nil {
			t.Errorf("loader accepts:\n%s", src)
		}
	}
}
