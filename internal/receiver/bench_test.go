package receiver

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// benchServe serves one hook and returns a client and the hook's URL.
func benchServe(b *testing.B, h *Hook) (*http.Client, string) {
	b.Helper()
	_, ts := serve(b, Options{MaxConcurrency: 64, MaxQueue: 1024}, compile(b, h)...)
	return ts.Client(), ts.URL + "/hooks/" + h.ID
}

func benchPost(client *http.Client, url, body string, wantCode int) error {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != wantCode {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, wantCode)
	}
	return nil
}

// BenchmarkListenSync: a sync hook running /bin/true, through a real HTTP server: the
// cost of a request that starts a process and waits for it.
func BenchmarkListenSync(b *testing.B) {
	h := &Hook{ID: "true", ExecuteCommand: "/bin/true", CaptureOutput: true,
		PassArguments: []Argument{arg("payload", "ref")}}
	r := valueRule("payload", "ref", "refs/heads/main")
	h.TriggerRule = &r
	client, url := benchServe(b, h)
	b.ReportAllocs()
	for b.Loop() {
		if err := benchPost(client, url, `{"ref": "refs/heads/main"}`, http.StatusOK); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListenMismatch: the rule-mismatch path (an HMAC rule on a body that does not
// carry the signature header), which starts nothing.
func BenchmarkListenMismatch(b *testing.B) {
	h := &Hook{ID: "signed", ExecuteCommand: "/bin/true", MismatchCode: http.StatusForbidden}
	h.TriggerRule = &Rules{And: []Rules{
		*matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "s", Parameter: arg("header", "X-Hub-Signature-256")}),
		valueRule("payload", "ref", "refs/heads/main"),
	}}
	client, url := benchServe(b, h)
	body := `{"ref": "refs/heads/main", "commits": [` + strings.Repeat(`{"id": "abc", "message": "fix"},`, 20) + `{}]}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchPost(client, url, body, http.StatusForbidden); err != nil {
				b.Error(err) // not Fatal: this is not the benchmark's goroutine
				return
			}
		}
	})
}
