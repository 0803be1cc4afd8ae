package template

import (
	"encoding/base64"
	"strings"
	"testing"
)

// A value that is a whole path segment of "." or ".." is refused; inside a segment it is
// harmless and kept.
func TestURLDotSegments(t *testing.T) {
	t.Parallel()
	tmpl := MustParse("url", "https://h.example/a/{{ .data.v }}/b", URL)
	inside := MustParse("url", "https://h.example/a/x{{ .data.v }}/b", URL)
	for _, v := range []string{".", ".."} {
		_, err := NewScope(map[string]any{"data": map[string]any{"v": v}}).Render(tmpl)
		if err == nil || !strings.Contains(err.Error(), "whole path segment") {
			t.Errorf("%q as a whole segment: err = %v, want a refusal", v, err)
		}
		out, err := NewScope(map[string]any{"data": map[string]any{"v": v}}).Render(inside)
		if err != nil || out != "https://h.example/a/x"+v+"/b" {
			t.Errorf("%q inside a segment: %q, %v", v, out, err)
		}
	}
	out, err := NewScope(map[string]any{"data": map[string]any{"v": "..."}}).Render(tmpl)
	if err != nil || out != "https://h.example/a/.../b" {
		t.Errorf("\"...\" is an ordinary segment: %q, %v", out, err)
	}
}

// A secret passed through b64enc is masked too.
func TestMaskBase64Forms(t *testing.T) {
	t.Parallel()
	s := NewScope(nil)
	s.AddSecret("s3cr3t?>")
	for _, form := range []string{base64.StdEncoding.EncodeToString([]byte("s3cr3t?>")), base64.URLEncoding.EncodeToString([]byte("s3cr3t?>"))} {
		if got := s.Mask("x " + form + " y"); got != "x "+Mask+" y" {
			t.Errorf("Mask(%q) = %q", form, got)
		}
	}
}

// What one template produces is bounded, on the fast path and through text/template.
func TestOutputBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxOutput/2+1)
	data := map[string]any{"data": map[string]any{"v": big}}
	for _, src := range []string{"{{ .data.v }}{{ .data.v }}", "{{ range $i := .data.n }}{{ $.data.v }}{{ end }}{{ .data.v }}{{ .data.v }}"} {
		_, err := NewScope(data).Render(MustParse("t", src, Text))
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s: err = %v, want the size bound", src, err)
		}
	}
}

// A secret transformed by a function (b64enc, printf, upper, ...) is masked in its
// transformed form too, and errors about URLs never quote the value.
func TestDerivedSecretsMasked(t *testing.T) {
	t.Parallel()
	env := func(name string) (string, bool) {
		return map[string]string{"U": "bob", "P": "s3cr3t-pass", "HOOK": "hooks.example/services/T000/B000/XXXXSECRET"}[name], true
	}
	for _, src := range []string{
		`Basic {{ printf "%s:%s" (env "U") (env "P") | b64enc }}`,
		`{{ env "P" | upper }}`,
		`{{ env "P" | replace "-" "_" }}`,
		`x-{{ slice (env "P") 2 }}`,
	} {
		s := NewScope(nil).WithSecretSources(env, nil)
		_, masked, err := s.RenderView(MustParse("h", src, Header))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		for _, leak := range []string{"s3cr3t", "S3CR3T", "cr3t", "czNjcjN0"} {
			if strings.Contains(masked, leak) {
				t.Errorf("%s: masked output %q still shows %q", src, masked, leak)
			}
		}
	}
	s := NewScope(nil).WithSecretSources(env, nil)
	_, err := s.Render(MustParse("u", `{{ env "HOOK" }}`, URL))
	if err == nil {
		t.Fatal("a URL without a scheme was accepted")
	}
	if strings.Contains(err.Error(), "hooks.example") || strings.Contains(err.Error(), "XXXX") {
		t.Errorf("the error quotes the secret URL: %v", err)
	}
}
