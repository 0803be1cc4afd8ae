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
