package receiver

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest is a request written by hand on its own connection, so that a test decides
// how much of the body is sent and when.
type rawRequest struct {
	conn net.Conn
	resp chan rawResponse
}

type rawResponse struct {
	code int
	body string
	err  error
}

// startRaw sends the request line and headers of a POST to path, with Content-Length
// declared (or chunked when declared < 0), and sends the first sent bytes of the body.
// The answer is read in the background.
func startRaw(t testing.TB, base, path string, declared int, sent string, header ...string) *rawRequest {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A bound for a broken test, not a measurement: no answer in a minute fails it.
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: test\r\n", path)
	if declared >= 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", declared)
	} else {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if sent != "" {
		if declared < 0 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(sent), sent)
		} else {
			b.WriteString(sent)
		}
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	r := &rawRequest{conn: conn, resp: make(chan rawResponse, 1)}
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			r.resp <- rawResponse{err: err}
			return
		}
		defer resp.Body.Close()
		var sb strings.Builder
		_, err = bufio.NewReader(resp.Body).WriteTo(&sb)
		r.resp <- rawResponse{code: resp.StatusCode, body: sb.String(), err: err}
	}()
	return r
}

// send writes more of the body (a chunk when the request is chunked; "" ends it).
func (r *rawRequest) send(t testing.TB, chunked bool, data string) {
	t.Helper()
	if chunked {
		data = fmt.Sprintf("%x\r\n%s\r\n", len(data), data)
	}
	if _, err := r.conn.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

func (r *rawRequest) answer(t testing.TB) rawResponse {
	t.Helper()
	a := <-r.resp
	if a.err != nil {
		t.Fatalf("no answer: %v", a.err)
	}
	return a
}

// TestRejectedBeforeTheBody: a request that a rule turns away on what the headers,
// query and request already say is answered without reading its body. Each request
// here declares a megabyte and sends none of it, so an answer proves the body was not
// waited for.
func TestRejectedBeforeTheBody(t *testing.T) {
	t.Parallel()
	token := valueRule("header", "X-Token", "s3cret")
	payload := valueRule("payload", "ref", "refs/heads/main")
	sig := *matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "s3cret", Parameter: arg("header", "X-Signature")})
	hook := func(id string, r Rules) *Hook {
		h := shHook(id, "echo ran")
		h.CaptureOutput, h.TriggerRule = true, &r
		return h
	}
	hooks := []*Hook{
		hook("header", token),
		hook("and-header-last", Rules{And: []Rules{payload, sig, token}}),
		hook("ip", *matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: "10.0.0.0/8"})),
		hook("not-ip", Rules{Not: matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: "127.0.0.0/8 ::1"})}),
		hook("query", *matchRule(MatchRule{Type: MatchRegex, Regex: "^v[0-9]+$", Parameter: arg("url", "version")})),
		hook("method", Rules{Or: []Rules{
			*matchRule(MatchRule{Type: MatchValue, Value: "PUT", Parameter: arg("request", "method")}),
			{And: []Rules{payload, valueRule("header", "X-Event", "push")}},
		}}),
		hook("json-header", valueRule("header", "X-Meta.env", "prod")),
		// A signature rule whose header is missing cannot match.
		hook("no-signature", Rules{And: []Rules{sig, payload}}),
		// A standard-webhooks timestamp outside the window is an error, as after the body.
		hook("stale", *matchRule(MatchRule{Type: MatchStandardWebhooks, Secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="})),
	}
	hooks[6].ParseParametersAsJSON = []Argument{arg("header", "X-Meta")}
	_, ts := serve(t, Options{}, compile(t, hooks...)...)
	for _, tc := range []struct {
		hook string
		code int
		body string
	}{
		{"header", 200, msgRulesNotMet},
		{"and-header-last", 200, msgRulesNotMet},
		{"ip", 200, msgRulesNotMet},
		{"not-ip", 200, msgRulesNotMet},
		{"query", 200, msgRulesNotMet},
		{"method", 200, msgRulesNotMet},
		{"json-header", 200, msgRulesNotMet},
		{"no-signature", 200, msgRulesNotMet},
		{"stale", 500, msgRuleError},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			t.Parallel()
			r := startRaw(t, ts.URL, "/hooks/"+tc.hook+"?version=latest", 1<<20, `{"ref": "refs/heads/main"}`,
				"X-Token: wrong", "X-Event: tag", `X-Meta: {"env": "dev"}`, "Content-Type: application/json",
				"webhook-id: msg_1", "webhook-timestamp: 1000", "webhook-signature: v1,AAAA")
			a := r.answer(t)
			if a.code != tc.code || a.body != tc.body {
				t.Fatalf("got %d %q, want %d %q", a.code, a.body, tc.code, tc.body)
			}
		})
	}
	// The same hooks still run for a request that meets the rule.
	t.Run("a match still reads the body", func(t *testing.T) {
		t.Parallel()
		body := `{"ref": "refs/heads/main"}`
		r := startRaw(t, ts.URL, "/hooks/method", len(body), "", "X-Event: push", "Content-Type: application/json")
		r.send(t, false, body)
		if a := r.answer(t); a.code != 200 || a.body != "ran\n" {
			t.Fatalf("got %d %q", a.code, a.body)
		}
	})
}

// TestUnknownHookAnsweredBeforeTheBody: a request for a hook that does not exist, or
// with a method the hook does not take, is answered without waiting for its body.
func TestUnknownHookAnsweredBeforeTheBody(t *testing.T) {
	t.Parallel()
	h := shHook("post-only", "true")
	h.HTTPMethods = []string{"PUT"}
	_, ts := serve(t, Options{}, compile(t, h)...)
	if got := startRaw(t, ts.URL, "/hooks/nope", 1000, "{").answer(t); got.code != 404 || got.body != msgNotFound {
		t.Fatalf("unknown hook: %d %q", got.code, got.body)
	}
	if got := startRaw(t, ts.URL, "/hooks/post-only", 1000, "{").answer(t); got.code != 405 {
		t.Fatalf("wrong method: %d %q", got.code, got.body)
	}
}

// TestBodiesInFlightAreBounded: the bodies being read or held by requests are bounded
// server-wide; a request that would go past the budget gets 503 (at once when its
// Content-Length says so), and the budget is free again once requests end.
func TestBodiesInFlightAreBounded(t *testing.T) {
	t.Parallel()
	h := shHook("signed", "echo ran")
	h.CaptureOutput = true
	h.TriggerRule = matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "s3cret", Parameter: arg("header", "X-Signature")})
	const budget = 1 << 20
	srv, ts := serve(t, Options{MaxBodyInFlight: budget, MaxBody: budget}, compile(t, h)...)
	big := 700 << 10
	bad := "X-Signature: sha256=00"

	// A holds 700 KiB of the budget while it sends slowly.
	a := startRaw(t, ts.URL, "/hooks/signed", big, strings.Repeat("a", 1000), bad)
	waitFor(t, "the first body to be taken into the budget", func() bool { return srv.bodies.used() > 0 })
	// B declares 700 KiB too: refused at once, before it sends a byte.
	b := startRaw(t, ts.URL, "/hooks/signed", big, "", bad)
	if got := b.answer(t); got.code != 503 {
		t.Fatalf("a body past the budget: %d %q, want 503", got.code, got.body)
	}
	// C sends without a length: taken as it comes, refused once it would go past.
	c := startRaw(t, ts.URL, "/hooks/signed", -1, strings.Repeat("c", 64<<10), bad)
	for i := 0; i < 20; i++ {
		select {
		case got := <-c.resp:
			if got.err != nil || got.code != 503 {
				t.Fatalf("a chunked body past the budget: %d %q %v, want 503", got.code, got.body, got.err)
			}
			i = 20
			continue
		default:
		}
		c.send(t, true, strings.Repeat("c", 64<<10))
	}
	// A finishes: its signature is wrong; the budget is free again.
	a.send(t, false, strings.Repeat("a", big-1000))
	if got := a.answer(t); got.code != 500 || got.body != msgRuleError {
		t.Fatalf("the first request: %d %q", got.code, got.body)
	}
	waitFor(t, "the budget to be given back", func() bool { return srv.bodies.used() == 0 })
	d := startRaw(t, ts.URL, "/hooks/signed", big, strings.Repeat("d", big), bad)
	if got := d.answer(t); got.code != 500 || got.body != msgRuleError {
		t.Fatalf("after the budget was given back: %d %q", got.code, got.body)
	}
}

// TestBodyLargerThanDeclaredLimit: a Content-Length over -max-body is refused before
// any of the body is read.
func TestBodyLargerThanDeclaredLimit(t *testing.T) {
	t.Parallel()
	_, ts := serve(t, Options{MaxBody: 1024}, compile(t, shHook("open", "true"))...)
	r := startRaw(t, ts.URL, "/hooks/open", 1025, "")
	if got := r.answer(t); got.code != 413 || !strings.Contains(got.body, "larger than 1024 bytes") {
		t.Fatalf("got %d %q, want 413", got.code, got.body)
	}
}
