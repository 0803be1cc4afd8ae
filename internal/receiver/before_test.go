package receiver

import (
	"crypto/sha256"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBeforeTheBodyIsSound: for every rule tree built from a set of leaves (known from
// the headers or not, true or false or an error) up to two levels of and/or/not, with
// and without soft signature failures, the result the whole evaluation gives is one of
// those the evaluation before the body allows. So a request is never turned away
// before its body when the body could have let it through.
func TestBeforeTheBodyIsSound(t *testing.T) {
	t.Parallel()
	const body = `{"ref": "main"}`
	sig := "sha256=" + hexMAC(sha256.New, "s3cret", body)
	leaves := map[string]Rules{
		"header-true":  valueRule("header", "X-Token", "t"),
		"header-false": valueRule("header", "X-Token", "other"),
		"ip-false":     *matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: "10.0.0.0/8"}),
		"body-true":    valueRule("payload", "ref", "main"),
		"body-false":   valueRule("payload", "ref", "dev"),
		"sig-true":     *matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "s3cret", Parameter: arg("header", "X-Sig")}),
		"sig-error":    *matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "other", Parameter: arg("header", "X-Sig")}),
		"sig-missing":  *matchRule(MatchRule{Type: MatchHMACSHA256, Secret: "s3cret", Parameter: arg("header", "X-None")}),
	}
	var level1 []Rules
	for _, a := range leaves {
		level1 = append(level1, a, Rules{Not: &a})
		for _, b := range leaves {
			level1 = append(level1, Rules{And: []Rules{a, b}}, Rules{Or: []Rules{a, b}})
		}
	}
	var trees []Rules
	trees = append(trees, level1...)
	for i, a := range level1 {
		for j, b := range level1 {
			if (i*7+j)%13 == 0 { // a sample of the pairs keeps the test quick
				trees = append(trees, Rules{And: []Rules{a, b}}, Rules{Or: []Rules{a, b}}, Rules{Not: &Rules{And: []Rules{a, b}}})
			}
		}
	}
	now := time.Now()
	checked := 0
	for _, soft := range []bool{false, true} {
		for _, tree := range trees {
			r := tree
			if err := r.compile(); err != nil {
				t.Fatal(err)
			}
			hr := httptest.NewRequest("POST", "/hooks/x", strings.NewReader(body))
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("X-Token", "t")
			hr.Header.Set("X-Sig", sig)
			head, req := newHeadRequest(hr), newRequest(hr, []byte(body), "")
			head.SoftSignatureFailures, req.SoftSignatureFailures = soft, soft
			allowed := r.before(head, now)
			ok, err := r.Evaluate(req, now)
			var got outcomes
			switch {
			case err != nil:
				got = mayErr
			case ok:
				got = mayMatch
			default:
				got = mayFail
			}
			if allowed&got == 0 {
				t.Fatalf("soft=%v rule %s: evaluated %b, but before the body only %b was possible", soft, r.summary(), got, allowed)
			}
			checked++
		}
	}
	t.Logf("%d rule trees checked", checked)
}
