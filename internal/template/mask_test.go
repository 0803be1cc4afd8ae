package template

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Whatever a template computes from a secret — through a variable, any function, several
// steps — is shown masked, and the values that do not come from a secret are shown as
// they are, wherever they stand (before: the "came from a secret" mark landed on the
// next action instead).
func TestDerivedThroughVariablesAndFunctions(t *testing.T) {
	t.Parallel()
	const secret = "Sup3r-Secret/Value+Z=="
	env := fakeEnv(map[string]string{"S": secret, "B64": base64.StdEncoding.EncodeToString([]byte(secret))})
	for _, expr := range []string{
		`$s`, `upper $s`, `lower $s`, `trim $s`, `replace "-" "_" $s`, `b64enc $s`, `b64dec (env "B64")`,
		`printf "%x" $s`, `printf "%s!" $s`, `print $s`, `println $s`, `html $s`, `js $s`, `slice $s 3`,
		`slice $s 2 9`, `urlquery $s`, `json $s`, `xml $s`, `default "d" $s`, `or "" $s`, `and 1 $s`,
		`$s | upper | b64enc`, `printf "%s" (slice (upper $s) 1)`,
	} {
		for _, src := range []string{
			`{{ $s := env "S" }}{{ .data.v }}|{{ ` + expr + ` }}|{{ .data.v }}`,
			`{{ with env "S" }}{{ $s := . }}{{ $.data.v }}|{{ ` + expr + ` }}|{{ $.data.v }}{{ end }}`,
		} {
			s := NewScope(vdata("plain-value")).WithSecretSources(env, nil)
			out, view, err := s.RenderView(MustParse("t", src, Text))
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			parts := strings.Split(out, "|")
			if len(parts) < 3 || parts[1] == "" {
				t.Fatalf("%s rendered %q", src, out)
			}
			if want := "plain-value|" + Mask + "|plain-value"; view != want {
				t.Errorf("%s: view %q, want %q (output %q)", src, view, want, out)
			}
			// The derived value is a secret for text from outside too.
			if m := s.Mask("echo: " + strings.TrimSpace(parts[1])); strings.Contains(m, strings.TrimSpace(parts[1])) {
				t.Errorf("%s: Mask leaves the derived value: %q", src, m)
			}
		}
	}
}

// A byte of a secret cannot be taken out with index.
func TestIndexOfSecretRefused(t *testing.T) {
	t.Parallel()
	s := NewScope(nil).WithSecretSources(fakeEnv(map[string]string{"S": "secret-value"}), nil)
	if out, err := s.Render(MustParse("t", `{{ index (env "S") 0 }}`, Text)); err == nil {
		t.Fatalf("index of a secret rendered %q", out)
	}
	// index keeps working on data.
	out, err := NewScope(map[string]any{"data": map[string]any{"l": []any{"a", "b"}, "m": map[string]any{"k": "v"}}}).
		Render(MustParse("t", `{{ index .data.l 1 }}{{ index .data "m" "k" }}{{ slice "abcd" 1 3 }}`, Text))
	if err != nil || out != "bvbc" {
		t.Fatalf("index/slice on data: %q, %v", out, err)
	}
}

// A secret too short to be searched for does not garble text from outside; the parts
// of the output that came from it are still masked exactly.
func TestShortSecretsDoNotGarble(t *testing.T) {
	t.Parallel()
	s := NewScope(vdata("executing")).WithSecretSources(fakeEnv(map[string]string{"X": "x", "T": "test"}), nil)
	out, view, err := s.RenderView(MustParse("t", `{{ env "X" }}:{{ .data.v }}:{{ env "T" }}`, Header))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "output", out, "x:executing:test")
	equal(t, "view", view, Mask+":executing:"+Mask)
	equal(t, "outside text", s.Mask("error executing the request"), "error executing the request")
}

// Errors about a URL that does not parse name the problem without quoting the URL or
// any piece of it: the URL may be a secret.
func TestURLErrorsQuoteNothing(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://hooks.example:80abc/services/T0SECRET1",
		"https://hooks.ex{ample/services/T0SECRET1",
		"https://hooks.example/services/T0SECRET1%zz",
		"hooks.example/services/T0SECRET1:x",
		"https://us{er:pa}ss@hooks.example/T0SECRET1",
		"https://[fe80::1%en0SECRET/x",
		"ftp://hooks.example/services/T0SECRET1",
	} {
		s := NewScope(nil).WithSecretSources(fakeEnv(map[string]string{"U": u}), nil)
		_, err := s.Render(MustParse("u", `{{ env "U" }}`, URL))
		if err == nil {
			t.Fatalf("%s was accepted", u)
		}
		for _, piece := range []string{"SECRET", "T0SE", "hooks", "en0", "us{er", "pa}ss", "80abc", "%zz", "ex{a", "services"} {
			if strings.Contains(u, piece) && strings.Contains(err.Error(), piece) {
				t.Errorf("the error for %q quotes %q: %v", u, piece, err)
			}
		}
	}
}

// Text from outside is searched for a secret URL's meaningful parts and a token's
// common encodings; ordinary words of the URL stay readable.
func TestMaskOutsideText(t *testing.T) {
	t.Parallel()
	s := NewScope(nil)
	s.AddSecret("https://hooks.example/services/T0A1B2/B3C4D5/XyZTokenValue9?key=Ab12Cd34&mode=json")
	s.AddSecret("tok/en+Value=7")
	for _, tt := range []struct{ in, want string }{
		{"Cannot POST /services/T0A1B2/B3C4D5/XyZTokenValue9", "Cannot POST /services/" + Mask + "/" + Mask + "/" + Mask},
		{`{"path":"\/services\/T0A1B2\/B3C4D5\/XyZTokenValue9"}`, `{"path":"\/services\/` + Mask + `\/` + Mask + `\/` + Mask + `"}`},
		{"key=Ab12Cd34 mode=json", "key=" + Mask + " mode=json"},
		{"t=tok%2fen%2bValue%3d7", "t=" + Mask},
		{"t=tok%2Fen%2BValue%3D7", "t=" + Mask},
		{`"tok\/en+Value=7"`, `"` + Mask + `"`},
		{"dG9rL2VuK1ZhbHVlPTc=", Mask},
		{"services api webhooks json", "services api webhooks json"},
	} {
		equal(t, tt.in, s.Mask(tt.in), tt.want)
	}
}

// A hook with stored secrets (made through the server's API) reads no environment
// variable and no file, in any form: its templates run with env and file refused.
func TestStoredSecretsTakeEnvAndFileAway(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"HOME": "/root"})
	files := fakeFiles(map[string]string{"/k": "key"})
	for _, src := range []string{`{{ env "HOME" }}`, `{{ "HOME" | env }}`, `{{ with $f := "/k" }}{{ file $f }}{{ end }}`, `{{ "/k" | file }}`} {
		s := NewScope(nil).WithSecretSources(env, files).WithStoredSecrets(func(string) (string, bool) { return "", false })
		if out, err := s.Render(MustParse("t", src, Text)); err == nil || strings.Contains(out, "/root") || strings.Contains(out, "key") {
			t.Errorf("%s rendered %q, %v", src, out, err)
		}
		if !MustParse("t", src, Text).Uses("env") && !MustParse("t", src, Text).Uses("file") {
			t.Errorf("%s: Uses finds neither env nor file", src)
		}
	}
	s := NewScope(nil).WithStoredSecrets(func(n string) (string, bool) { return "v-" + n, n == "a" })
	if out, err := s.Render(MustParse("t", `{{ secret "a" }}`, Text)); err != nil || out != "v-a" {
		t.Errorf("secret: %q %v", out, err)
	}
}

// Echoes in encodings receivers commonly use: ASCII-only JSON (\u escapes for non-ASCII
// letters), a JSON body echoed inside JSON (escaped twice), and a secret URL's host in an
// error.
func TestMaskMoreEchoes(t *testing.T) {
	t.Parallel()
	s := NewScope(nil)
	s.AddSecret("Grüße-Tok3n-2024-abcdef")
	s.AddSecret(`Pa"ss\w0rd-Secret-99`)
	s.AddSecret("https://hostsecretabc123.hooks.example/x")
	for _, tt := range []struct{ in, leak string }{
		{`{"auth":"Bearer Gr\u00fc\u00dfe-Tok3n-2024-abcdef"}`, "Tok3n-2024"},
		{`{"data":"{\"pw\":\"Pa\\\"ss\\\\w0rd-Secret-99\"}"}`, "w0rd-Secret"},
		{`cannot resolve host hostsecretabc123.hooks.example: no such host`, "hostsecretabc123"},
	} {
		if got := s.Mask(tt.in); strings.Contains(got, tt.leak) {
			t.Errorf("Mask(%s) = %s", tt.in, got)
		}
	}
}
