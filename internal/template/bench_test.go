package template

import (
	"encoding/json"
	"testing"
)

// BenchmarkRenderJSON renders a JSON body with five values in string, value and
// function positions: go test -run='^$' -bench=RenderJSON -benchmem ./internal/template/
func BenchmarkRenderJSON(b *testing.B) {
	tp := MustParse("body", `{
  "event": "{{.event.type}}",
  "vmid": {{.data.vmid}},
  "vmname": "{{.data.vmname}}",
  "status": "{{.event.status}}",
  "tags": {{json .data.tags}}
}`, JSON)
	data := map[string]any{
		"event": map[string]any{"type": "autosnap.snap-create-post", "status": "success"},
		"data": map[string]any{
			"vmid": float64(100), "vmname": `web "01" <prod>`, "tags": []any{"daily", "db"},
		},
	}
	out, err := NewScope(data).Render(tp)
	if err != nil {
		b.Fatal(err)
	}
	if !json.Valid([]byte(out)) {
		b.Fatalf("invalid JSON: %s", out)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := NewScope(data).Render(tp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderJSONFields is the common shape, text and field reads only, which runs
// without text/template's reflection (fast.go).
func BenchmarkRenderJSONFields(b *testing.B) {
	tp := MustParse("body", `{"event": "{{.event.type}}", "vmid": {{.data.vmid}}, "vmname": "{{.data.vmname}}", "status": "{{.event.status}}", "label": "%CV4PVE_AUTOSNAP_LABEL%"}`, JSON)
	if tp.fast == nil {
		b.Fatal("the template did not compile to the fast path")
	}
	data := map[string]any{
		"event": map[string]any{"type": "autosnap.snap-create-post", "status": "success"},
		"data":  map[string]any{"vmid": float64(100), "vmname": `web "01" <prod>`, "label": "daily"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewScope(data).Render(tp); err != nil {
			b.Fatal(err)
		}
	}
}
