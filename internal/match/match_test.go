package match_test

import (
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/match"
)

func TestPattern(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 50_000)
	tests := []struct {
		pattern, typ string
		want         bool
	}{
		{"backup.pre", "backup.pre", true},
		{"backup.pre", "backup.post", false},
		{"backup.pre", "backup.pre2", false},
		{"backup.pre", "xbackup.pre", false},
		{"backup.pre", "backup", false},
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a", true},
		{"*", "vzdump.backup-start", true},
		{"**", "anything.at.all", true},
		{"*.end", "backup.end", true},
		{"*.end", "a.b.c.end", true},
		{"*.end", ".end", true},
		{"*.end", "end", false},
		{"*.end", "backup.end.x", false},
		{"*.end", "backup.ending", false},
		{"backup.*", "backup.pre", true},
		{"backup.*", "backup.", true},
		{"backup.*", "backup", false},
		{"backup.*", "restore.pre", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "abbbcc", true},
		{"a*b*c", "a.b.c", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "abcX", false},
		{"a*b*c", "ab", false},
		{"a*b*c", "Xabc", false},
		{"*snap*", "autosnap.snap-create-pre", true},
		{"autosnap.snap-*-pre", "autosnap.snap-create-pre", true},
		{"autosnap.snap-*-pre", "autosnap.snap-remove-pre", true},
		{"autosnap.snap-*-pre", "autosnap.snap-create-post", false},
		// Case matters: event types are names.
		{"Backup.pre", "backup.pre", false},
		// Pathological inputs for naive backtracking: must finish (linear-ish) and be right.
		{strings.Repeat("a*", 30) + "b", long, false},
		{strings.Repeat("a*", 30) + "b", long + "b", true},
		{"*" + strings.Repeat("a", 40) + "*b", long, false},
		{strings.Repeat("*", 1000) + "x", long, false},
		{strings.Repeat("*", 1000) + "a", long, true},
	}
	for _, tt := range tests {
		if got := match.Pattern(tt.pattern, tt.typ); got != tt.want {
			t.Errorf("Pattern(%.40q, %.40q) = %v, want %v", tt.pattern, tt.typ, got, tt.want)
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter []string
		status string
		want   bool
	}{
		{nil, "", true},
		{nil, "fail", true},
		{[]string{"any"}, "", true},
		{[]string{"any"}, "cancelled", true},
		{[]string{"fail"}, "fail", true},
		{[]string{"fail"}, "success", false},
		{[]string{"fail"}, "", false},
		{[]string{"fail", "cancelled"}, "cancelled", true},
		{[]string{"fail", "cancelled"}, "warning", false},
		{[]string{"success"}, "", false},
	}
	for _, tt := range tests {
		if got := match.Status(tt.filter, tt.status); got != tt.want {
			t.Errorf("Status(%q, %q) = %v, want %v", tt.filter, tt.status, got, tt.want)
		}
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("select.yaml", []byte(`
hooks:
  - {id: z-late, order: 20, on: ["backup.*"], exec: {command: /bin/true}}
  - {id: b-tie, order: 10, on: ["*"], exec: {command: /bin/true}}
  - {id: a-tie, order: 10, on: ["backup.end"], exec: {command: /bin/true}}
  - {id: neg, order: -5, on: ["*.end"], exec: {command: /bin/true}}
  - {id: off, enabled: false, on: ["*"], exec: {command: /bin/true}}
  - {id: fail-only, on: ["*"], status: fail, exec: {command: /bin/true}}
  - {id: fail-or-cancel, on: ["*"], status: [fail, cancelled], exec: {command: /bin/true}}
  - {id: other-type, on: ["restore.*"], exec: {command: /bin/true}}
  - {id: any-status, order: 30, on: ["backup.end"], status: any, exec: {command: /bin/true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(typ, status string) string {
		ev := event.New(typ)
		ev.Status = status
		var out []string
		for _, h := range match.Select(cfg.Hooks, ev) {
			out = append(out, h.ID)
		}
		return strings.Join(out, ",")
	}
	tests := []struct{ typ, status, want string }{
		{"backup.end", "success", "neg,a-tie,b-tie,z-late,any-status"},
		{"backup.end", "fail", "neg,fail-only,fail-or-cancel,a-tie,b-tie,z-late,any-status"},
		{"backup.end", "cancelled", "neg,fail-or-cancel,a-tie,b-tie,z-late,any-status"},
		{"backup.pre", "", "b-tie,z-late"},
		{"restore.pre", "", "other-type,b-tie"},
		{"job.end", "", "neg,b-tie"},
	}
	for _, tt := range tests {
		if got := ids(tt.typ, tt.status); got != tt.want {
			t.Errorf("Select(%s, %q) = %s, want %s", tt.typ, tt.status, got, tt.want)
		}
	}
}
