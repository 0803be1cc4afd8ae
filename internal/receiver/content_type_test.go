package receiver

import "testing"

// TestSyncOutputIsPlainText: a command's output is text the request may have shaped
// (an echoed payload), so a browser must not sniff it into HTML: every answer that
// carries it says text/plain and nosniff, on success and on error, unless the hook
// names its own Content-Type in response-headers.
func TestSyncOutputIsPlainText(t *testing.T) {
	t.Parallel()
	const page = `<html><script>alert(1)</script></html>`
	echo := func(id string) *Hook {
		h := shHook(id, `printf %s "$1"; [ "$2" = ok ]`, arg("payload", "html"), arg("url", "status"))
		h.CaptureOutput = true
		return h
	}
	plain := echo("plain")
	shown := echo("shown")
	shown.CaptureOutputOnError = true
	hidden := echo("hidden")
	typed := echo("typed")
	typed.ResponseHeaders = []Header{{"content-type", "application/json"}}
	_, ts := serve(t, Options{}, compile(t, plain, shown, hidden, typed)...)

	for _, tc := range []struct {
		name, hook, status string
		code               int
		body, ctype        string
	}{
		{"success", "plain", "ok", 200, page, "text/plain; charset=utf-8"},
		{"error with output", "shown", "fail", 500, page, "text/plain; charset=utf-8"},
		{"error without output", "hidden", "fail", 500, msgCommandFailed, "text/plain; charset=utf-8"},
		{"the hook's own type", "typed", "ok", 200, page, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := call(t, "POST", ts.URL+"/hooks/"+tc.hook+"?status="+tc.status, `{"html": "`+page+`"}`,
				"Content-Type: application/json")
			want(t, got, tc.code, tc.body)
			if ct := got.header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if n := got.header.Get("X-Content-Type-Options"); n != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", n)
			}
		})
	}
}
