package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/sign"
)

func TestHandlerRouting(t *testing.T) {
	t.Parallel()
	echo := shHook("echo", `printf 'ran %s' "$1"`, arg("request", "method"))
	echo.CaptureOutput = true
	post := shHook("post-only", "true")
	post.HTTPMethods = []string{" post ", "Put"}
	post.ResponseMessage = "accepted"
	_, ts := serve(t, Options{
		Headers:     []Header{{"X-Served-By", "hookpoint"}, {"Access-Control-Allow-Origin", "*"}},
		HTTPMethods: []string{"POST", "GET"},
	}, compile(t, echo, post)...)

	for _, tc := range []struct {
		name, method, path string
		code               int
		body               string
	}{
		{"unknown hook", "POST", "/hooks/nope", 404, "Hook not found."},
		{"outside the prefix", "POST", "/other/echo", 404, "404 page not found\n"},
		{"below a hook", "POST", "/hooks/echo/more", 404, "Hook not found."},
		{"prefix alone", "POST", "/hooks/", 404, "Hook not found."},
		{"server root", "GET", "/", 200, "OK"},
		{"global methods allow POST", "POST", "/hooks/echo", 200, "ran POST"},
		{"global methods allow GET", "GET", "/hooks/echo", 200, "ran GET"},
		{"global methods refuse DELETE", "DELETE", "/hooks/echo", 405, ""},
		{"hook methods win over global ones", "GET", "/hooks/post-only", 405, ""},
		{"hook methods trimmed", "POST", "/hooks/post-only", 200, "accepted"},
		{"hook methods any case", "PUT", "/hooks/post-only", 200, "accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := call(t, tc.method, ts.URL+tc.path, "")
			want(t, got, tc.code, tc.body)
			// As webhook: the -header headers go on the answers of a hook that was
			// found and allowed, not on 404, 405 or the root.
			hasGlobal := got.header.Get("X-Served-By") == "hookpoint" && got.header.Get("Access-Control-Allow-Origin") == "*"
			if wantGlobal := tc.code == 200 && tc.path != "/"; hasGlobal != wantGlobal {
				t.Errorf("global headers present = %v, want %v: %v", hasGlobal, wantGlobal, got.header)
			}
		})
	}

	t.Run("every method when none is configured", func(t *testing.T) {
		t.Parallel()
		_, ts := serve(t, Options{URLPrefix: "/custom/"}, compile(t, shHook("any", "true"))...)
		for _, m := range []string{"GET", "POST", "DELETE", "PATCH"} {
			want(t, call(t, m, ts.URL+"/custom/any", ""), 200, "")
		}
	})
}

func TestHandlerRuleMismatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	rule := valueRule("header", "X-Token", "s3cret")
	plain := shHook("plain", "echo > "+marker)
	plain.TriggerRule = &rule
	plain.ResponseHeaders = []Header{{"X-Hook", "plain"}}
	coded := shHook("coded", "echo > "+marker)
	r2 := valueRule("header", "X-Token", "s3cret")
	coded.TriggerRule = &r2
	coded.MismatchCode = 403
	_, ts := serve(t, Options{Headers: []Header{{"X-Global", "1"}}}, compile(t, plain, coded)...)

	got := call(t, "POST", ts.URL+"/hooks/plain", "", "X-Token: wrong")
	want(t, got, 200, "Hook rules were not satisfied.")
	if got.header.Get("X-Global") != "1" || got.header.Get("X-Hook") != "" {
		t.Errorf("headers on mismatch: %v (global ones only, as webhook)", got.header)
	}
	want(t, call(t, "POST", ts.URL+"/hooks/coded", ""), 403, "Hook rules were not satisfied.")
	if exists(marker) {
		t.Fatal("the command ran although the rules did not match")
	}
	got = call(t, "POST", ts.URL+"/hooks/plain", "", "X-Token: s3cret")
	want(t, got, 200, "")
	if got.header.Get("X-Hook") != "plain" || got.header.Get("X-Global") != "1" {
		t.Errorf("headers on success: %v", got.header)
	}
	waitFor(t, "the async command", func() bool { return exists(marker) })
}

func TestHandlerSyncOutput(t *testing.T) {
	t.Parallel()
	ok := shHook("ok", `echo "out $1"; echo err >&2`, arg("payload", "name"))
	ok.CaptureOutput = true
	ok.ResponseHeaders = []Header{{"Content-Type", "text/plain"}, {"X-Hook", "ok"}}
	created := shHook("created", `echo made`)
	created.CaptureOutput, created.SuccessCode = true, 201
	failing := shHook("failing", `echo partial; echo broke >&2; exit 3`)
	failing.CaptureOutput, failing.SuccessCode = true, 201
	failingShown := shHook("failing-shown", `echo partial; echo broke >&2; exit 3`)
	failingShown.CaptureOutput, failingShown.CaptureOutputOnError = true, true
	missing := &Hook{ID: "missing", ExecuteCommand: "/nonexistent/command", CaptureOutput: true}
	killed := shHook("killed", `echo before; sleep 30`)
	killed.CaptureOutput, killed.CaptureOutputOnError = true, true
	killed.Timeout = Duration(100 * time.Millisecond)
	_, ts := serve(t, Options{}, compile(t, ok, created, failing, failingShown, missing, killed)...)

	const failMsg = "Error occurred while executing the hook's command. Please check your logs for more details."
	for _, tc := range []struct {
		hook string
		code int
		body string
	}{
		{"ok", 200, "out Ann\nerr\n"},
		{"created", 201, "made\n"},
		{"failing", 500, failMsg},
		{"failing-shown", 500, "partial\nbroke\n"},
		{"missing", 500, failMsg},
		{"killed", 500, "before\n"},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			t.Parallel()
			got := call(t, "POST", ts.URL+"/hooks/"+tc.hook, `{"name": "Ann"}`, "Content-Type: application/json")
			want(t, got, tc.code, tc.body)
			if tc.hook == "ok" && (got.header.Get("X-Hook") != "ok" || got.header.Get("Content-Type") != "text/plain") {
				t.Errorf("response headers %v", got.header)
			}
		})
	}
}

func TestHandlerAsync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, done := filepath.Join(dir, "gate"), filepath.Join(dir, "done")
	// The command cannot finish before the test opens the gate, so an answer that
	// arrives while the gate is shut was given without waiting for it.
	h := shHook("async", `while [ ! -e "$1" ]; do sleep 0.01; done; echo "$2" > "$3"`,
		str(gate), arg("payload", "name"), str(done))
	h.ResponseMessage = "queued, thanks"
	h.SuccessCode = 202
	h.ResponseHeaders = []Header{{"X-Hook", "async"}}
	_, ts := serve(t, Options{}, compile(t, h)...)

	got := call(t, "POST", ts.URL+"/hooks/async", "name=Ann", "Content-Type: application/x-www-form-urlencoded")
	want(t, got, 202, "queued, thanks")
	if got.header.Get("X-Hook") != "async" {
		t.Errorf("headers %v", got.header)
	}
	if exists(done) {
		t.Fatal("the command finished before the gate opened")
	}
	writeFile(t, gate, "")
	waitFor(t, "the command", func() bool { return len(lines(done)) == 1 })
	if l := lines(done); l[0] != "Ann" {
		t.Fatalf("command got %q", l)
	}
}

func TestHandlerIncomingContentType(t *testing.T) {
	t.Parallel()
	h := shHook("forced", `printf %s "$1"`, arg("payload", "repo.name"))
	h.CaptureOutput = true
	h.IncomingPayloadContentType = "application/json"
	_, ts := serve(t, Options{}, compile(t, h)...)
	want(t, call(t, "POST", ts.URL+"/hooks/forced", `{"repo": {"name": "web"}}`, "Content-Type: text/plain"), 200, "web")
}

func TestHandlerParseParametersAsJSON(t *testing.T) {
	t.Parallel()
	h := shHook("travis", `printf '%s|%s' "$1" "$2"`, arg("payload", "payload.repository.name"), arg("url", "meta.env"))
	h.CaptureOutput = true
	h.ParseParametersAsJSON = []Argument{arg("payload", "payload"), arg("url", "meta")}
	rule := valueRule("payload", "payload.state", "passed")
	h.TriggerRule = &rule
	_, ts := serve(t, Options{}, compile(t, h)...)
	form := "payload=" + strings.NewReplacer("{", "%7B", "}", "%7D", `"`, "%22", ":", "%3A", ",", "%2C", " ", "+").
		Replace(`{"state": "passed", "repository": {"name": "web"}}`)
	want(t, call(t, "POST", ts.URL+"/hooks/travis?meta=%7B%22env%22:%22prod%22%7D", form,
		"Content-Type: application/x-www-form-urlencoded"), 200, "web|prod")
	want(t, call(t, "POST", ts.URL+"/hooks/travis", strings.Replace(form, "passed", "failed", 1),
		"Content-Type: application/x-www-form-urlencoded"), 200, "Hook rules were not satisfied.")
}

func TestHandlerBodyLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	h := shHook("limited", `echo ran >> "$1"; printf %s "$2" | wc -c`, str(marker), arg("raw-request-body", ""))
	h.CaptureOutput = true
	_, ts := serve(t, Options{MaxBody: 1024}, compile(t, h)...)

	got := call(t, "POST", ts.URL+"/hooks/limited", strings.Repeat("x", 1025))
	if got.code != 413 || !strings.Contains(got.body, "larger than 1024 bytes") {
		t.Fatalf("got %d %q, want 413", got.code, got.body)
	}
	if exists(marker) {
		t.Fatal("the command ran for a body over the limit")
	}
	got = call(t, "POST", ts.URL+"/hooks/limited", strings.Repeat("x", 1024))
	if got.code != 200 || strings.TrimSpace(got.body) != "1024" {
		t.Fatalf("a body of exactly the limit: got %d %q", got.code, got.body)
	}
	if n := len(lines(marker)); n != 1 {
		t.Fatalf("the command ran %d times, want once", n)
	}
	t.Run("async hook", func(t *testing.T) {
		t.Parallel()
		marker := filepath.Join(t.TempDir(), "ran")
		h := shHook("limited-async", `echo ran >> "$1"`, str(marker))
		srv, ts := serve(t, Options{MaxBody: 10}, compile(t, h)...)
		if got := call(t, "POST", ts.URL+"/hooks/limited-async", "01234567890"); got.code != 413 {
			t.Fatalf("got %d %q, want 413", got.code, got.body)
		}
		want(t, call(t, "POST", ts.URL+"/hooks/limited-async", "0123456789"), 200, "")
		// Wait returns when every command started for an async hook has finished.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Wait(ctx)
		if n := len(lines(marker)); n != 1 {
			t.Fatalf("the command ran %d times, want once", n)
		}
	})
}

func TestHandlerIPWhitelist(t *testing.T) {
	t.Parallel()
	allowed := shHook("allowed", "echo yes")
	allowed.CaptureOutput = true
	allowed.TriggerRule = matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: "10.0.0.0/8 127.0.0.1 ::1"})
	refused := shHook("refused", "echo yes")
	refused.TriggerRule = matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: "10.0.0.0/8 192.168.0.0/16"})
	refused.MismatchCode = 403
	_, ts := serve(t, Options{}, compile(t, allowed, refused)...)
	want(t, call(t, "POST", ts.URL+"/hooks/allowed", ""), 200, "yes\n")
	want(t, call(t, "POST", ts.URL+"/hooks/refused", ""), 403, "Hook rules were not satisfied.")
}

func TestHandlerSignatures(t *testing.T) {
	t.Parallel()
	const secret, body = "topsecret", `{"ref": "main"}`
	good := "sha256=" + hexMAC(sha256.New, secret, body)
	bad := "sha256=" + hexMAC(sha256.New, "guess", body)
	hard := shHook("hard", "echo ran")
	hard.CaptureOutput = true
	hard.TriggerRule = matchRule(MatchRule{Type: MatchHMACSHA256, Secret: secret, Parameter: arg("header", "X-Hub-Signature-256")})
	soft := shHook("soft", "echo ran")
	soft.CaptureOutput = true
	soft.SignatureSoftFailures = true
	soft.MismatchCode = 401
	soft.TriggerRule = matchRule(MatchRule{Type: MatchHMACSHA256, Secret: secret, Parameter: arg("header", "X-Hub-Signature-256")})
	// With soft failures, an or of two signature rules accepts either sender.
	either := shHook("either", "echo ran")
	either.CaptureOutput = true
	either.SignatureSoftFailures = true
	either.TriggerRule = &Rules{Or: []Rules{
		*matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "first sender", Parameter: arg("header", "X-Hub-Signature-256")}),
		*matchRule(MatchRule{Type: MatchHMACSHA256, Secret: secret, Parameter: arg("header", "X-Hub-Signature-256")}),
	}}
	noSecret := shHook("no-secret", "echo ran")
	noSecret.SignatureSoftFailures = true
	noSecret.TriggerRule = matchRule(MatchRule{Type: MatchHMACSHA1, Parameter: arg("header", "X-Hub-Signature")})

	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	std := shHook("std", "echo ran")
	std.CaptureOutput = true
	std.TriggerRule = matchRule(MatchRule{Type: MatchStandardWebhooks, Secret: "whsec_" + base64.StdEncoding.EncodeToString(key)})
	stdSoft := shHook("std-soft", "echo ran")
	stdSoft.CaptureOutput = true
	stdSoft.SignatureSoftFailures = true
	stdSoft.MismatchCode = 401
	stdSoft.TriggerRule = matchRule(MatchRule{Type: MatchStandardWebhooks,
		Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("an old key of sixteen+")) + " whsec_" + base64.StdEncoding.EncodeToString(key)})
	_, ts := serve(t, Options{Now: func() time.Time { return now }}, append(compile(t, hard, soft, either, std, stdSoft), noSecret)...) // no-secret is refused at load: built here as a library user could

	const ruleErr = "Error occurred while evaluating hook rules."
	const mismatch = "Hook rules were not satisfied."
	stdHeaders := func(ts time.Time, k []byte) []string {
		return []string{"webhook-id: msg_7", "webhook-timestamp: " + strconv.FormatInt(ts.Unix(), 10),
			"webhook-signature: " + sign.Signature(k, "msg_7", ts.Unix(), []byte(body))}
	}
	for _, tc := range []struct {
		name, hook string
		header     []string
		code       int
		body       string
	}{
		{"hard, good", "hard", []string{"X-Hub-Signature-256: " + good}, 200, "ran\n"},
		{"hard, bad signature is an error", "hard", []string{"X-Hub-Signature-256: " + bad}, 500, ruleErr},
		{"hard, no signature is a mismatch", "hard", nil, 200, mismatch},
		{"soft, good", "soft", []string{"X-Hub-Signature-256: " + good}, 200, "ran\n"},
		{"soft, bad signature is a mismatch", "soft", []string{"X-Hub-Signature-256: " + bad}, 401, mismatch},
		{"soft or, second secret", "either", []string{"X-Hub-Signature-256: " + good}, 200, "ran\n"},
		{"soft or, neither", "either", []string{"X-Hub-Signature-256: " + bad}, 200, mismatch},
		{"soft does not hide a configuration error", "no-secret", []string{"X-Hub-Signature: abc"}, 500, ruleErr},
		{"standard, valid", "std", stdHeaders(now, key), 200, "ran\n"},
		{"standard, wrong key", "std", stdHeaders(now, []byte("another key, long enough")), 500, ruleErr},
		{"standard, old timestamp", "std", stdHeaders(now.Add(-10*time.Minute), key), 500, ruleErr},
		{"standard, missing headers", "std", nil, 500, ruleErr},
		{"standard soft, second secret", "std-soft", stdHeaders(now.Add(-time.Minute), key), 200, "ran\n"},
		{"standard soft, old timestamp", "std-soft", stdHeaders(now.Add(-time.Hour), key), 401, mismatch},
		{"standard soft, wrong key", "std-soft", stdHeaders(now, []byte("another key, long enough")), 401, mismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want(t, call(t, "POST", ts.URL+"/hooks/"+tc.hook, body, append(tc.header, "Content-Type: application/json")...), tc.code, tc.body)
		})
	}
}

// Status codes with no standard meaning fall back to 200, as webhook does, instead of
// making the handler panic.
func TestOddStatusCodes(t *testing.T) {
	t.Parallel()
	h := shHook("odd", "true")
	h.SuccessCode = 42
	m := shHook("odd-mismatch", "true")
	m.MismatchCode = 7
	m.TriggerRule = &Rules{Match: &MatchRule{Type: MatchValue, Value: "x", Parameter: arg(SourceHeader, "X-Token")}}
	_, ts := serve(t, Options{}, compile(t, h, m)...)
	want(t, call(t, "POST", ts.URL+"/hooks/odd", ""), 200, "")
	want(t, call(t, "POST", ts.URL+"/hooks/odd-mismatch", ""), 200, msgRulesNotMet)
}

// max-queue -1 turns the queue off: a busy hook answers 503 at once.
func TestNoQueue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	h := shHook("busy", `while [ ! -e "$1" ]; do sleep 0.05; done`, str(gate))
	h.MaxConcurrency, h.MaxQueue = 1, -1
	_, ts := serve(t, Options{}, compile(t, h)...)
	want(t, call(t, "POST", ts.URL+"/hooks/busy", ""), 200, "")
	got := call(t, "POST", ts.URL+"/hooks/busy", "")
	writeFile(t, gate, "open")
	if got.code != 503 {
		t.Fatalf("second request while the first runs: %d, want 503", got.code)
	}
}
