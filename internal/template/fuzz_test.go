package template

import (
	"strings"
	"testing"
	"text/template/parse"
)

// FuzzRenderValue renders a fuzzed value in every position of every kind: Render must
// refuse it with the position's error, or produce well-formed output that carries it.
//
//	go test -run='^$' -fuzz=FuzzRenderValue -fuzztime=20s ./internal/template/
func FuzzRenderValue(f *testing.F) {
	for _, v := range hostileValues {
		if len(v) <= 1024 {
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, p := range positions {
			checkPosition(t, p, v)
		}
	})
}

// fuzzSecret is what env and file return while fuzzing templates.
const fuzzSecret = `S3CRET "q" <a&b> /p?x=y#f é\`

// fuzzData is the root fuzzed templates see: one of everything, each awkward.
func fuzzData() map[string]any {
	return map[string]any{
		"event": map[string]any{"id": "evt_1", "type": "backup.end", "status": "fail", "gate": true},
		"run":   map[string]any{"id": "run_1"},
		"hook":  map[string]any{"id": "h"},
		"data": map[string]any{
			"v":      `","admin":true,"x":"</a>&<!--]]>` + "\r\n\x00\t\xff é",
			"vmid":   "100",
			"vmname": "web\"01\\",
			"n":      float64(100),
			"b":      true,
			"nil":    nil,
			"list":   []any{"a\"", 1, nil},
			"m":      map[string]any{"k": "<v>", "n": 2},
		},
	}
}

// FuzzParseSource parses and renders fuzzed template sources of every kind: neither may
// panic, and when both succeed the output is well-formed for the kind, the same on a
// second rendering, and free of the raw secret once masked.
//
//	go test -run='^$' -fuzz=FuzzParseSource -fuzztime=20s ./internal/template/
func FuzzParseSource(f *testing.F) {
	for _, p := range positions {
		f.Add(p.src, uint8(p.kind))
	}
	seeds := []struct {
		src  string
		kind Kind
	}{
		{autosnapBody, JSON},
		{"https://example.com/notify?vm=%CV4PVE_AUTOSNAP_VMID%&label=%CV4PVE_AUTOSNAP_LABEL%", URL},
		{`{"tags":[{{range $i, $t := .data.list}}{{if $i}},{{end}}{{$t}}{{end}}],"m":{{json .data.m}}}`, JSON},
		{`{{define "q"}}"{{.}}"{{end}}{"a":{{template "q" .data.v}},"s":{{env "S"}}}`, JSON},
		{`<r a="{{.data.v}}">{{range .data.list}}<i>{{.}}</i>{{end}}<![CDATA[{{.data.vmname}}]]><!--{{.data.vmid}}--></r>`, XML},
		{`{{file "/secret"}}{{/* c */}}`, Text},
		{`Bearer {{env "S"}}`, Header},
		{`a={{.data.v}}&{{range $k, $v := .data.m}}{{$k}}={{$v}}&{{end}}`, Form},
		{`{{.data.base | default "https://example.com"}}/x/{{.data.v}}?q={{urlquery .data.v}}`, URL},
		{`--vm={{.data.vmid}}`, Arg},
		{`{{if .data.b}}<a/>{{else}}<b/>{{end}}`, XML},
		{`{"a":"\u{{.data.vmid}}"}`, JSON},
		{"<r/>\n", XML},
		{"\n<r>{{.data.v}}</r>\n", XML},
		{"<r><!-- {{.data.vmid}} --></r>", XML},
	}
	for _, s := range seeds {
		f.Add(s.src, uint8(s.kind))
	}
	f.Fuzz(func(t *testing.T, src string, k uint8) {
		kind := Kind(k % 7)
		if len(src) > 4096 {
			return
		}
		tp, err := Parse("fuzz", src, kind)
		if err != nil {
			return
		}
		if runsAway(tp) {
			return
		}
		env := fakeEnv(map[string]string{"S": fuzzSecret, "EMPTY": ""})
		files := fakeFiles(map[string]string{"/secret": fuzzSecret + "\n"})
		s := NewScope(fuzzData()).WithSecretSources(env, files)
		out, view, err := s.RenderView(tp)
		if err != nil {
			if out != "" {
				t.Errorf("Render failed (%v) but returned output %s", err, short(out))
			}
			return
		}
		if err := wellFormed(kind, out); err != nil {
			t.Fatalf("%s template %q rendered %s, which is not well-formed: %v", kind, src, short(out), err)
		}
		again, err := NewScope(fuzzData()).WithSecretSources(env, files).Render(tp)
		if err != nil || again != out {
			t.Fatalf("second rendering = %s, %v; first was %s", short(again), err, short(out))
		}
		if strings.Contains(view, fuzzSecret) {
			t.Fatalf("the view of %s is %s, which still holds the secret", short(out), short(view))
		}
		if masked := s.Mask(out); strings.Contains(masked, fuzzSecret) {
			t.Fatalf("Mask(%s) = %s still holds the secret", short(out), short(masked))
		}
	})
}

// runsAway reports whether a fuzzed template could loop or allocate without bound: large
// numbers (range over an integer, printf widths) are the only way to get there from a
// short source with small data.
func runsAway(tp *Template) bool {
	big := false
	for _, tt := range tp.base.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			switch x := n.(type) {
			case *parse.NumberNode:
				if !x.IsInt || x.Int64 > 64 || x.Int64 < -64 {
					big = true
				}
			case *parse.StringNode:
				if digitRun(x.Text) > 3 {
					big = true
				}
			}
		})
	}
	return big
}

func digitRun(s string) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}
