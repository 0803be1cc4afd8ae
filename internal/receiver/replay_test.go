package receiver

import (
	"encoding/base64"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/sign"
)

// clock is a settable time for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// stdSigned returns the headers of a Standard Webhooks message id sent at ts.
func stdSigned(key []byte, id string, ts time.Time, body string) []string {
	return []string{"webhook-id: " + id, "webhook-timestamp: " + strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature: " + sign.Signature(key, id, ts.Unix(), []byte(body)), "Content-Type: application/json"}
}

// TestStandardWebhooksReplay: a signed message is accepted once. Sent again inside the
// tolerance window it is refused (an error, or a mismatch with soft failures), by id,
// whatever else the request carries; a message the server turned away for want of room
// may be retried; the ids kept are bounded, and a full hook refuses new messages (503)
// rather than forget ids whose window is still open.
func TestStandardWebhooksReplay(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	const body = `{"type": "backup.post"}`
	std := func(id string) *Hook {
		h := shHook(id, "echo ran")
		h.CaptureOutput = true
		h.TriggerRule = matchRule(MatchRule{Type: MatchStandardWebhooks, Secret: secret})
		return h
	}
	plain, soft, small := std("plain"), std("soft"), std("small")
	soft.SignatureSoftFailures, soft.MismatchCode = true, 409
	// Only the signature is checked by the rule's first part; a header decides the rest.
	env := std("env")
	env.TriggerRule = &Rules{And: []Rules{*env.TriggerRule, valueRule("header", "X-Env", "prod")}}
	gate := filepath.Join(t.TempDir(), "gate")
	busy := shHook("busy", `while [ ! -e "$1" ]; do sleep 0.01; done; echo ran`, str(gate))
	busy.CaptureOutput, busy.MaxConcurrency, busy.MaxQueue = true, 1, -1
	busy.TriggerRule = std("x").TriggerRule
	other := std("other")

	now := time.Unix(1_800_000_000, 0)
	clk := &clock{t: now}
	srv, ts := serve(t, Options{Now: clk.Now, MaxReplayIDs: 2}, compile(t, plain, soft, small, env, busy, other)...)
	post := func(hook string, header ...string) response {
		t.Helper()
		return call(t, "POST", ts.URL+"/hooks/"+hook, body, header...)
	}
	const ruleErr = "Error occurred while evaluating hook rules."

	t.Run("a second delivery is refused", func(t *testing.T) {
		m := stdSigned(key, "msg_1", now, body)
		want(t, post("plain", m...), 200, "ran\n")
		want(t, post("plain", m...), 500, ruleErr)
		// The same id signed again later (a new timestamp and signature) is still the
		// same message.
		want(t, post("plain", stdSigned(key, "msg_1", now.Add(time.Second), body)...), 500, ruleErr)
		want(t, post("plain", stdSigned(key, "msg_2", now, body)...), 200, "ran\n")
		// Each hook keeps its own ids.
		want(t, post("other", m...), 200, "ran\n")
	})
	t.Run("soft failures make it a mismatch", func(t *testing.T) {
		m := stdSigned(key, "msg_1", now, body)
		want(t, post("soft", m...), 200, "ran\n")
		want(t, post("soft", m...), 409, msgRulesNotMet)
	})
	t.Run("a message runs its command at most once, whatever the unsigned headers say", func(t *testing.T) {
		m := stdSigned(key, "msg_1", now, body)
		want(t, post("env", append(m, "X-Env: staging")...), 200, msgRulesNotMet)
		want(t, post("env", append(m, "X-Env: prod")...), 200, "ran\n")
		want(t, post("env", append(m, "X-Env: prod")...), 500, ruleErr)
		want(t, post("env", append(m, "X-Env: staging")...), 200, msgRulesNotMet)
	})
	t.Run("a message turned away for want of room may come again", func(t *testing.T) {
		first := goCall(t, "POST", ts.URL+"/hooks/busy", body, stdSigned(key, "msg_1", now, body)...)
		waitFor(t, "the first command to hold the only slot", func() bool {
			srv.limMu.Lock()
			defer srv.limMu.Unlock()
			l := srv.lims["busy"]
			return l != nil && len(l.slots) == 1
		})
		m := stdSigned(key, "msg_2", now, body)
		if got := post("busy", m...); got.code != 503 {
			t.Fatalf("a busy hook answered %d %q, want 503", got.code, got.body)
		}
		writeFile(t, gate, "")
		want(t, <-first, 200, "ran\n")
		want(t, post("busy", m...), 200, "ran\n")
		want(t, post("busy", m...), 500, ruleErr)
	})
	t.Run("a full hook refuses rather than forgets", func(t *testing.T) {
		want(t, post("small", stdSigned(key, "a", now, body)...), 200, "ran\n")
		want(t, post("small", stdSigned(key, "b", now.Add(time.Minute), body)...), 200, "ran\n")
		c := stdSigned(key, "c", now.Add(time.Minute), body)
		if got := post("small", c...); got.code != 503 {
			t.Fatalf("a third message with two kept: %d %q, want 503", got.code, got.body)
		}
		// Once a's window has closed (its timestamp + 5m), a is forgotten and there is
		// room; a itself cannot come back, its timestamp is now too old.
		clk.Set(now.Add(5*time.Minute + time.Second))
		want(t, post("small", c...), 200, "ran\n")
		want(t, post("small", stdSigned(key, "a", now, body)...), 500, ruleErr)
		want(t, post("small", c...), 500, ruleErr)
	})
}
