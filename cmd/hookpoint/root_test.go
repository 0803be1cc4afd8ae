package main

import (
	"slices"
	"strings"
	"testing"
)

func TestHoistSharedFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"--config c.yaml --journal j vzdump job-init", "vzdump --config c.yaml --journal j job-init"},
		{"-v -c c.yaml --log-format=json emit x.pre", "emit -v -c c.yaml --log-format=json x.pre"},
		{"-cc.yaml --async-deadline 5s run --job j -- true", "run -cc.yaml --async-deadline 5s --job j -- true"},
		{"-v listen -port 0", "listen -v -port 0"},
		{"--journal j check", "check --journal j"},
		{"__complete --config c.yaml emit ''", "__complete emit --config c.yaml ''"},
		{"emit --config c.yaml x.pre", "emit --config c.yaml x.pre"},
		{"--bogus --config c.yaml emit", "--bogus --config c.yaml emit"},
		{"-v", "-v"},
		{"--config", "--config"},
		{"-v --version", "-v --version"},
		{"", ""},
	} {
		got := strings.Join(hoistSharedFlags(strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("hoistSharedFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	in := []string{"-v", "emit", "x"}
	_ = hoistSharedFlags(in)
	if !slices.Equal(in, []string{"-v", "emit", "x"}) {
		t.Errorf("the arguments were changed in place: %q", in)
	}
}
