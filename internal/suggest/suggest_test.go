package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	statuses := []string{"any", "success", "warning", "fail", "cancelled"}
	cases := []struct {
		word    string
		options []string
		want    string
	}{
		{"fial", statuses, "fail"},
		{"sucess", statuses, "success"},
		{"canceled", statuses, "cancelled"},
		{"Warning", statuses, "warning"},
		{"failed", statuses, "fail"},
		{"ok", statuses, ""},
		{"", statuses, ""},
		{"asink", []string{"sync", "async"}, "async"},
		{"onfailure", []string{"on", "on_failure", "order"}, "on_failure"},
		{"timeot", []string{"timeout", "tls"}, "timeout"},
		{"backup-strat", []string{"backup-start", "backup-end"}, "backup-start"},
		{"backup-begin", []string{"backup-start", "backup-end"}, ""},
		{"SnapCreatePre", []string{"snap-create-pre", "snap-create-post"}, "snap-create-pre"},
		{"x", []string{"y"}, ""},
	}
	for _, tc := range cases {
		if got := Closest(tc.word, tc.options); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"start", "strat", 1}, {"abc", "abc", 0}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
