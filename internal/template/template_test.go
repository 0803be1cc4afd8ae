package template

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/event"
)

func TestKindString(t *testing.T) {
	t.Parallel()
	want := map[Kind]string{Text: "text", URL: "url", Header: "header", JSON: "json", XML: "xml", Form: "form", Arg: "arg", Kind(99): "text"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		kind Kind
		want string
	}{
		{"syntax", "{{ .data.v ", Text, "unclosed action"},
		{"unknown function", "{{ nope .data.v }}", Text, `function "nope" not defined`},
		{"constant invalid JSON", `{"a":`, JSON, "json: rendered body is not valid JSON"},
		{"constant invalid URL", "not a url", URL, "url:"},
		{"constant relative URL", "/path", URL, "scheme must be http or https"},
		{"constant header with LF", "a\nb", Header, "header: header value contains the control character"},
		{"constant XML with two roots", "<a/><b/>", XML, "exactly one root element"},
		{"constant XML with text outside the root", "<a/>tail", XML, "text outside the root element"},
		{"constant form with a bad escape", "a=%zz", Form, "form: rendered body is not valid form encoding"},
		{"constant arg with NUL", "a\x00", Arg, "NUL"},
		{"comment only, invalid JSON", "{{/* x */}}", JSON, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp, err := Parse("field", tt.src, tt.kind)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.src, tp)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.HasPrefix(err.Error(), "template: ") {
				t.Errorf("error %q keeps text/template's prefix", err)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid source did not panic")
		}
	}()
	MustParse("x", "{{", Text)
}

func TestConstants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		src          string
		kind         Kind
		want         string
		wantConstant bool
	}{
		{"plain text", "hello", Text, "hello", true},
		{"constant JSON", `{"a":[1,2]}`, JSON, `{"a":[1,2]}`, true},
		{"constant URL", "https://example.com/a?b=c", URL, "https://example.com/a?b=c", true},
		{"empty text", "", Text, "", true},
		{"comment is not output", "{{/* note */}}hello", Text, "hello", false},
		{"trimmed comment", "a {{- /* note */ -}} b", Text, "ab", false},
		{"comment in a URL", "https://example.com/{{/* path later */}}x", URL, "https://example.com/x", false},
		{"comment in JSON", `{{/* body */}}{"a":1}`, JSON, `{"a":1}`, false},
		{"define is not output", `{{define "x"}}<b>{{end}}<a/>`, XML, "<a/>", false},
		{"define only", `{{define "x"}}abc{{end}}`, Text, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp, err := Parse("field", tt.src, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if tp.Constant() != tt.wantConstant {
				t.Errorf("Constant() = %v, want %v", tp.Constant(), tt.wantConstant)
			}
			if tp.Source() != tt.src || tp.Kind() != tt.kind {
				t.Errorf("Source(), Kind() = %q, %v; want %q, %v", tp.Source(), tp.Kind(), tt.src, tt.kind)
			}
			for i := 0; i < 2; i++ { // twice: the second goes through the pooled instance
				out, err := NewScope(nil).Render(tp)
				if err != nil {
					t.Fatal(err)
				}
				equal(t, "output", out, tt.want)
			}
		})
	}
}

// TestRenderAfterError checks that a failed rendering leaves nothing behind for the next
// one, which reuses the pooled instance.
func TestRenderAfterError(t *testing.T) {
	t.Parallel()
	tp := MustParse("h", `{"a":"{{.data.v}}","b":{{.data.v}}}`, JSON)
	bad := NewScope(vdata(math.NaN()))
	if out, err := bad.Render(tp); err == nil {
		t.Fatalf("Render(NaN) = %q, want an error", out)
	}
	for i := 0; i < 3; i++ {
		out, err := NewScope(vdata("ok")).Render(tp)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "output", out, `{"a":"ok","b":"ok"}`)
	}
}

func TestRefs(t *testing.T) {
	t.Parallel()
	src := `{{env "A"}} {{file "/run/secret"}} {{env .data.name}} {{ "B" | env }} ` +
		`{{default "x" (env "C")}} {{if env "D"}}{{end}} {{with $t := file "/f2"}}{{$t}}{{end}} ` +
		`{{define "sub"}}{{env "E"}}{{end}}{{template "sub" .}}`
	tp, err := Parse("field", src, Text)
	if err != nil {
		t.Fatal(err)
	}
	got := map[Ref]int{}
	for _, r := range tp.Refs() {
		got[r]++
	}
	want := map[Ref]int{
		{"env", "A"}: 1, {"file", "/run/secret"}: 1, {"env", "C"}: 1, {"env", "D"}: 1,
		{"file", "/f2"}: 1, {"env", "E"}: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Refs() = %v, want %v (env/file with constant arguments only)", tp.Refs(), want)
	}

	if refs := MustParse("c", "no secrets {{.data.x}}", Text).Refs(); len(refs) != 0 {
		t.Errorf("Refs() of a template without env/file = %v", refs)
	}
}

// fakeEnv is an environment for WithSecretSources.
func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// fakeFiles is a file system for WithSecretSources.
func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		s, ok := files[path]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(s), nil
	}
}

func TestMaskHidesEveryForm(t *testing.T) {
	t.Parallel()
	secret := `s3cr3t "q" <a&b> /p?x=y#f é\`
	scope := func() *Scope {
		return NewScope(vdata("v")).WithSecretSources(fakeEnv(map[string]string{"TOKEN": secret}), nil)
	}
	tests := []struct {
		src    string
		kind   Kind
		masked string
	}{
		{`Bearer {{env "TOKEN"}}`, Header, "Bearer ****"},
		{`{{env "TOKEN"}}`, Text, "****"},
		{`--token={{env "TOKEN"}}`, Arg, "--token=****"},
		{`{"t":"{{env "TOKEN"}}","u":{{env "TOKEN"}},"j":{{json (env "TOKEN")}}}`, JSON, `{"t":"****","u":"****","j":"****"}`},
		{`<r t="{{env "TOKEN"}}">{{env "TOKEN"}}|{{xml (env "TOKEN")}}</r>`, XML, `<r t="****">****|****</r>`},
		{`https://example.com/{{env "TOKEN"}}?t={{env "TOKEN"}}&u={{urlquery (env "TOKEN")}}#{{env "TOKEN"}}`, URL, "https://example.com/****?t=****&u=****#****"},
		{`t={{env "TOKEN"}}`, Form, "t=****"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			s := scope()
			out, view, err := s.RenderView(MustParse("t", tt.src, tt.kind))
			if err != nil {
				t.Fatal(err)
			}
			if !s.HasSecrets() {
				t.Fatal("HasSecrets() = false after env")
			}
			if !strings.Contains(out, "s3cr3t") {
				t.Fatalf("output %q does not carry the secret: nothing to mask", out)
			}
			equal(t, "masked", view, tt.masked)
		})
	}
}

func TestMaskForms(t *testing.T) {
	t.Parallel()
	secret := `p@ss w/rd?"<&>'é` + "\n\\"
	s := NewScope(nil)
	s.AddSecret(secret)
	s.AddSecret(secret) // once is enough
	s.AddSecret("")     // never a secret: it would mask everything
	jsonForm, _ := json.Marshal(secret)
	forms := map[string]string{
		"raw":          secret,
		"JSON-escaped": strings.Trim(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(jsonForm)), `"`),
		"query":        "p%40ss+w%2Frd%3F%22%3C%26%3E%27%C3%A9%0A%5C",
		"path":         "p@ss%20w%2Frd%3F%22%3C&%3E%27%C3%A9%0A%5C",
		"XML-escaped":  "p@ss w/rd?&quot;&lt;&amp;&gt;&apos;é&#xA;\\",
	}
	for name, form := range forms {
		text := "before " + form + " after"
		if got := s.Mask(text); got != "before "+Mask+" after" {
			t.Errorf("%s form: Mask(%q) = %q", name, text, got)
		}
	}
	if got := s.Mask("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Mask changed text without secrets: %q", got)
	}
	if got := NewScope(nil).Mask(secret); got != secret {
		t.Errorf("a scope without secrets masked %q", got)
	}
	if NewScope(nil).HasSecrets() {
		t.Error("a new scope has secrets")
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"TOKEN": "tok\"en", "EMPTY": ""})
	t.Run("set", func(t *testing.T) {
		t.Parallel()
		s := NewScope(nil).WithSecretSources(env, nil)
		out, view, err := s.RenderView(MustParse("h", `{"t":"{{env "TOKEN"}}"}`, JSON))
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "output", out, `{"t":"tok\"en"}`)
		equal(t, "masked", view, `{"t":"`+Mask+`"}`)
	})
	t.Run("set but empty", func(t *testing.T) {
		t.Parallel()
		s := NewScope(nil).WithSecretSources(env, nil)
		out, err := s.Render(MustParse("h", `x{{env "EMPTY"}}x`, Text))
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "output", out, "xx")
		if s.HasSecrets() {
			t.Error("an empty value counted as a secret")
		}
	})
	t.Run("unset", func(t *testing.T) {
		t.Parallel()
		s := NewScope(nil).WithSecretSources(env, nil)
		out, err := s.Render(MustParse("h", `Bearer {{env "MISSING_TOKEN"}}`, Header))
		if err == nil {
			t.Fatalf("Render = %q, want an error", out)
		}
		if out != "" {
			t.Errorf("output %q returned with the error", out)
		}
		if !strings.Contains(err.Error(), `"MISSING_TOKEN"`) || !strings.Contains(err.Error(), "not set") {
			t.Errorf("error %q does not name the unset variable", err)
		}
	})
	t.Run("nil sources keep the defaults", func(t *testing.T) {
		t.Parallel()
		s := NewScope(nil).WithSecretSources(nil, nil)
		if s.lookupEnv == nil || s.readFile == nil {
			t.Fatal("WithSecretSources(nil, nil) removed the default sources")
		}
	})
}

// TestEnvProcess reads the real environment (not parallel: it sets a variable).
func TestEnvProcess(t *testing.T) {
	t.Setenv("HOOKPOINT_TEMPLATE_TEST_TOKEN", "from-process")
	out, err := NewScope(nil).Render(MustParse("h", `{{env "HOOKPOINT_TEMPLATE_TEST_TOKEN"}}`, Header))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "output", out, "from-process")
}

func TestFile(t *testing.T) {
	t.Parallel()
	files := fakeFiles(map[string]string{
		"/s/lf":    "secret\n",
		"/s/crlf":  "secret\r\n",
		"/s/lines": "secret\n\n",
		"/s/bare":  "secret",
		"/s/inner": "sec\nret\n",
		"/s/space": " secret \n",
	})
	tests := []struct{ path, want string }{
		{"/s/lf", "secret"},
		{"/s/crlf", "secret"},
		{"/s/lines", "secret"},
		{"/s/bare", "secret"},
		{"/s/inner", "sec\nret"},
		{"/s/space", " secret "},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			s := NewScope(nil).WithSecretSources(nil, files)
			out, view, err := s.RenderView(MustParse("a", `[{{file "`+tt.path+`"}}]`, Text))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "output", out, "["+tt.want+"]")
			equal(t, "masked", view, "["+Mask+"]")
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		s := NewScope(nil).WithSecretSources(nil, files)
		out, err := s.Render(MustParse("a", `{{file "/s/none"}}`, Text))
		if err == nil || out != "" {
			t.Fatalf("Render = %q, %v; want an error and no output", out, err)
		}
		if !strings.Contains(err.Error(), `file "/s/none": file does not exist`) {
			t.Errorf("error %q does not name the file and the cause", err)
		}
	})
}

// TestFileReal reads real files through the default source.
func TestFileReal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/whsec"
	writeFile(t, path, "whsec_abc\n")
	big := dir + "/big"
	writeFile(t, big, strings.Repeat("x", MaxSecretFile+1))

	s := NewScope(nil)
	out, err := s.Render(MustParse("a", `{{file "`+path+`"}}`, Text))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "output", out, "whsec_abc")

	for _, p := range []string{dir + "/missing", big} {
		out, err := NewScope(nil).Render(MustParse("a", `{{file "`+p+`"}}`, Text))
		if err == nil {
			t.Errorf("file %s: Render = %q, want an error", p, out)
			continue
		}
		if !strings.Contains(err.Error(), `file "`+p+`": `) {
			t.Errorf("error %q should name the path", err)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// autosnapBody is the JSON body from the cv4pve-autosnap documentation's example.
const autosnapBody = `{
  "event": "snapshot_created",
  "vmid": "%CV4PVE_AUTOSNAP_VMID%",
  "vmname": "%CV4PVE_AUTOSNAP_VMNAME%",
  "snapshot": "%CV4PVE_AUTOSNAP_SNAP_NAME%",
  "duration": "%CV4PVE_AUTOSNAP_DURATION%"
}`

func autosnapData(vmname string) map[string]any {
	ev := &event.Event{ID: "evt_1", Type: "autosnap.snap-create-post", Time: time.Unix(0, 0), Data: map[string]any{
		"vmid": "100", "vmname": vmname, "snap_name": "auto" + vmname, "duration": 1.5, "label": vmname,
	}}
	return Data(ev, "notify")
}

func TestAutoSnapSeedBody(t *testing.T) {
	t.Parallel()
	tp := MustParse("body", autosnapBody, JSON)
	for _, name := range hostileValues {
		out, err := NewScope(autosnapData(name)).Render(tp)
		if err != nil {
			t.Fatalf("vmname %s: %v", short(name), err)
		}
		m := decodeJSONObject(t, out, "event", "vmid", "vmname", "snapshot", "duration")
		equal(t, "vmname", jsonField(t, m, "vmname"), wantJSON(name))
		equal(t, "snapshot", jsonField(t, m, "snapshot"), wantJSON("auto"+name))
		equal(t, "vmid", jsonField(t, m, "vmid"), "100")
		equal(t, "duration", jsonField(t, m, "duration"), "1.5")
		equal(t, "event", jsonField(t, m, "event"), "snapshot_created")
	}
}

func TestAutoSnapPlaceholders(t *testing.T) {
	t.Parallel()
	const name = "web \"01\" & <db>\r\n?#/é"
	t.Run("url", func(t *testing.T) {
		t.Parallel()
		out := mustRender(t, "https://example.com/notify/%CV4PVE_AUTOSNAP_VMNAME%?vm=%CV4PVE_AUTOSNAP_VMID%&label=%CV4PVE_AUTOSNAP_LABEL%", URL, autosnapData(name))
		u := decodeURL(t, out)
		equal(t, "path", u.Path, "/notify/"+name)
		q := decodeQuery(t, u.RawQuery, "vm", "label")
		equal(t, "vm", q.Get("vm"), "100")
		equal(t, "label", q.Get("label"), name)
	})
	t.Run("header refuses CR LF", func(t *testing.T) {
		t.Parallel()
		tp := MustParse("h", "vm=%CV4PVE_AUTOSNAP_VMNAME%", Header)
		if out, err := NewScope(autosnapData(name)).Render(tp); err == nil {
			t.Errorf("Render = %q, want an error for CR LF", out)
		}
		out, err := NewScope(autosnapData("web 01 é")).Render(tp)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "header", out, "vm=web 01 é")
	})
	t.Run("xml", func(t *testing.T) {
		t.Parallel()
		out := mustRender(t, `<e vm="%CV4PVE_AUTOSNAP_VMNAME%">%CV4PVE_AUTOSNAP_VMNAME%</e>`, XML, autosnapData(name))
		n := decodeXML(t, out)
		a, _ := attr(n, "vm")
		equal(t, "attribute", a, name)
		equal(t, "text", n.Text, name)
	})
	t.Run("json value position and missing placeholder", func(t *testing.T) {
		t.Parallel()
		out := mustRender(t, `{"d":%CV4PVE_AUTOSNAP_DURATION%,"k":%CV4PVE_AUTOSNAP_KEEP%,"s":"%CV4PVE_AUTOSNAP_STATE%"}`, JSON, autosnapData(name))
		equal(t, "output", out, `{"d":1.5,"k":null,"s":""}`)
	})
	t.Run("lower case is not a placeholder", func(t *testing.T) {
		t.Parallel()
		out := mustRender(t, "x %cv4pve_autosnap_vmid% %CV4PVE_AUTOSNAP_VMID%", Text, autosnapData(name))
		equal(t, "output", out, "x %cv4pve_autosnap_vmid% 100")
	})
}

func TestData(t *testing.T) {
	t.Parallel()
	ev := &event.Event{
		ID: "evt_1", Type: "backup.end", Time: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", 3600)),
		Source: "vzdump", Subject: "vm/100", Status: "fail", Gate: true,
		Run: event.Run{ID: "run_1", Job: "nightly", Kind: "backup"},
	}
	src := `{{.event.id}} {{.event.type}} {{.event.time}} {{.event.status}} {{.event.source}} {{.event.subject}} {{.event.gate}} ` +
		`{{.run.id}} {{.run.job}} {{.run.kind}} {{.hook.id}} [{{.data.x}}]`
	out := mustRender(t, src, Text, Data(ev, "h1"))
	equal(t, "output", out, "evt_1 backup.end 2024-01-02T02:04:05.000006Z fail vzdump vm/100 true run_1 nightly backup h1 []")
}

// TestConcurrentRender renders one template from many goroutines, each with its own
// scope, and checks that no output carries another goroutine's value or secret.
func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	tp := MustParse("body", `{"v":"{{.data.v}}","s":{{env "S"}},"n":[{{range .data.list}}{{.}},{{end}}0]}`, JSON)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				v := fmt.Sprintf(`g%d "i%d"`, g, i)
				s := NewScope(map[string]any{"data": map[string]any{"v": v, "list": []any{g, i}}}).
					WithSecretSources(fakeEnv(map[string]string{"S": "sec" + v}), nil)
				out, err := s.Render(tp)
				if err != nil {
					t.Error(err)
					return
				}
				var got struct {
					V, S string
					N    []int
				}
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Errorf("output %s: %v", out, err)
					return
				}
				if got.V != v || got.S != "sec"+v || fmt.Sprint(got.N) != fmt.Sprint([]int{g, i, 0}) {
					t.Errorf("goroutine %d render %d got %+v", g, i, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
