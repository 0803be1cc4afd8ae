package receiver

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // testing webhook's payload-hmac-sha1
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/sign"
)

func hexMAC(h func() hash.Hash, secret, body string) string {
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func matchRule(m MatchRule) *Rules { return &Rules{Match: &m} }

func valueRule(source, name, value string) Rules {
	return Rules{Match: &MatchRule{Type: MatchValue, Value: value, Parameter: arg(source, name)}}
}

func evaluate(t *testing.T, r *Rules, req *Request, now time.Time) (bool, error) {
	t.Helper()
	if err := r.compile(); err != nil {
		t.Fatalf("compile: %v", err)
	}
	return r.Evaluate(req, now)
}

// outcome names a rule result: "match", "nomatch", "sigerr" (ErrSignature) or "err".
func outcome(ok bool, err error) string {
	switch {
	case errors.Is(err, ErrSignature):
		return "sigerr"
	case err != nil:
		return "err"
	case ok:
		return "match"
	}
	return "nomatch"
}

func TestValueAndRegexRules(t *testing.T) {
	t.Parallel()
	req := testRequest(t, "POST", "/hooks/x?token=s3cret&empty=", "application/json",
		`{"ref": "refs/heads/main", "n": 42, "tags": ["a", "b"]}`)
	for _, tc := range []struct {
		name string
		rule MatchRule
		want string
	}{
		{"value equal", MatchRule{Type: MatchValue, Value: "s3cret", Parameter: arg("url", "token")}, "match"},
		{"value prefix only", MatchRule{Type: MatchValue, Value: "s3cre", Parameter: arg("url", "token")}, "nomatch"},
		{"value longer", MatchRule{Type: MatchValue, Value: "s3cret!", Parameter: arg("url", "token")}, "nomatch"},
		{"value case differs", MatchRule{Type: MatchValue, Value: "S3CRET", Parameter: arg("url", "token")}, "nomatch"},
		{"value empty matches empty", MatchRule{Type: MatchValue, Value: "", Parameter: arg("url", "empty")}, "match"},
		{"value missing parameter", MatchRule{Type: MatchValue, Value: "", Parameter: arg("url", "nope")}, "nomatch"},
		{"value number", MatchRule{Type: MatchValue, Value: "42", Parameter: arg("payload", "n")}, "match"},
		{"value array as JSON", MatchRule{Type: MatchValue, Value: `["a","b"]`, Parameter: arg("payload", "tags")}, "match"},
		{"regex match", MatchRule{Type: MatchRegex, Regex: "^refs/heads/(main|master)$", Parameter: arg("payload", "ref")}, "match"},
		{"regex unanchored", MatchRule{Type: MatchRegex, Regex: "heads", Parameter: arg("payload", "ref")}, "match"},
		{"regex no match", MatchRule{Type: MatchRegex, Regex: "^refs/tags/", Parameter: arg("payload", "ref")}, "nomatch"},
		{"regex missing parameter", MatchRule{Type: MatchRegex, Regex: ".*", Parameter: arg("payload", "nope")}, "nomatch"},
		{"string source", MatchRule{Type: MatchValue, Value: "x", Parameter: str("x")}, "match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := evaluate(t, matchRule(tc.rule), req, time.Now())
			if got := outcome(ok, err); got != tc.want {
				t.Fatalf("%s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestHMACRules(t *testing.T) {
	t.Parallel()
	const body = `{"action": "opened"}`
	const secret = "It's a Secret to Everybody"
	for _, alg := range []struct {
		types  []string
		h      func() hash.Hash
		prefix string
	}{
		{[]string{MatchHMACSHA1, MatchHashSHA1}, sha1.New, "sha1="},
		{[]string{MatchHMACSHA256, MatchHashSHA256}, sha256.New, "sha256="},
		{[]string{MatchHMACSHA512, MatchHashSHA512}, sha512.New, "sha512="},
	} {
		good := hexMAC(alg.h, secret, body)
		other := hexMAC(alg.h, "another secret", body)
		for _, typ := range alg.types {
			for _, tc := range []struct {
				name, header string // header "-": not sent
				secret       string
				want         string
			}{
				{"plain", good, secret, "match"},
				{"prefixed", alg.prefix + good, secret, "match"},
				{"upper-case hex", strings.ToUpper(good), secret, "match"},
				{"wrong secret", other, secret, "sigerr"},
				{"wrong secret prefixed", alg.prefix + other, secret, "sigerr"},
				{"other algorithm's prefix", "md5=" + good, secret, "sigerr"},
				{"not hex", "zz" + good[2:], secret, "sigerr"},
				{"truncated", good[:len(good)-2], secret, "sigerr"},
				{"empty", "", secret, "sigerr"},
				{"several, right one last", alg.prefix + other + "," + alg.prefix + good, secret, "match"},
				{"several, right one first", alg.prefix + good + "," + alg.prefix + other, secret, "match"},
				{"several with spaces", other + ", " + alg.prefix + good, secret, "match"},
				{"several, none right", alg.prefix + other + "," + other, secret, "sigerr"},
				{"header missing", "-", secret, "nomatch"},
				{"no secret configured", good, "", "err"},
			} {
				t.Run(typ+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					var hdr []string
					if tc.header != "-" {
						hdr = append(hdr, "X-Signature: "+tc.header)
					}
					req := testRequest(t, "POST", "/hooks/x", "application/json", body, hdr...)
					rule := matchRule(MatchRule{Type: typ, Secret: tc.secret, Parameter: arg("header", "X-Signature")})
					var ok bool
					var err error
					if tc.secret == "" {
						// Refused at load; a rule built without loading never matches.
						ok, err = rule.Evaluate(req, time.Now())
					} else {
						ok, err = evaluate(t, rule, req, time.Now())
					}
					if got := outcome(ok, err); got != tc.want {
						t.Fatalf("%s (%v), want %s", got, err, tc.want)
					}
				})
			}
		}
	}
	t.Run("signature of another body", func(t *testing.T) {
		t.Parallel()
		req := testRequest(t, "POST", "/hooks/x", "application/json", body+" ", "X-Signature: "+hexMAC(sha256.New, secret, body))
		ok, err := evaluate(t, matchRule(MatchRule{Type: MatchHMACSHA256, Secret: secret, Parameter: arg("header", "X-Signature")}), req, time.Now())
		if outcome(ok, err) != "sigerr" {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("signature in the query", func(t *testing.T) {
		t.Parallel()
		req := testRequest(t, "POST", "/hooks/x?sig="+hexMAC(sha1.New, secret, body), "application/json", body)
		ok, err := evaluate(t, matchRule(MatchRule{Type: MatchHMACSHA1, Secret: secret, Parameter: arg("url", "sig")}), req, time.Now())
		if outcome(ok, err) != "match" {
			t.Fatalf("%v %v", ok, err)
		}
	})
}

func TestIPWhitelistRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		remote, ranges string
		want           string
	}{
		{"192.168.1.5:1234", "192.168.1.5", "match"},
		{"192.168.1.5:1234", "192.168.1.6", "nomatch"},
		{"192.168.1.5:1234", "192.168.1.0/24", "match"},
		{"192.168.2.5:1234", "192.168.1.0/24", "nomatch"},
		{"10.1.2.3:80", "192.168.0.0/16 10.0.0.0/8", "match"},
		{"172.16.0.1:80", "192.168.0.0/16   10.0.0.0/8\t127.0.0.1", "nomatch"},
		{"127.0.0.1:80", "192.168.0.0/16 10.0.0.0/8 127.0.0.1", "match"},
		{"0.0.0.0:80", "0.0.0.0/0", "match"},
		{"[2001:db8::1]:443", "2001:db8::/32", "match"},
		{"[2001:db9::1]:443", "2001:db8::/32", "nomatch"},
		{"[::1]:443", "::1", "match"},
		{"[::1]:443", "::2", "nomatch"},
		{"[::1]:443", "127.0.0.1", "nomatch"},
		{"[2001:db8::1]:443", "10.0.0.0/8 2001:db8::1", "match"},
		{"[::ffff:10.0.0.1]:443", "10.0.0.0/8", "match"},
		{"[fe80::1%eth0]:443", "fe80::/10", "nomatch"}, // a zone is not an address net.ParseIP reads
		{"192.168.1.5", "192.168.1.0/24", "match"},     // no port
		{"not-an-address:80", "0.0.0.0/0", "nomatch"},
	} {
		t.Run(tc.remote+" in "+tc.ranges, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/hooks/x", nil)
			r.RemoteAddr = tc.remote
			req := newRequest(r, nil, "")
			ok, err := evaluate(t, matchRule(MatchRule{Type: MatchIPWhitelist, IPRange: tc.ranges}), req, time.Now())
			if got := outcome(ok, err); got != tc.want {
				t.Fatalf("%s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestRuleNesting(t *testing.T) {
	t.Parallel()
	req := testRequest(t, "POST", "/hooks/x?a=1&b=2", "", "")
	yes := func() Rules { return valueRule("url", "a", "1") }
	no := func() Rules { return valueRule("url", "b", "1") }
	missing := func() Rules { return valueRule("url", "c", "1") }
	sigErr := func() Rules {
		return Rules{Match: &MatchRule{Type: MatchHMACSHA256, Secret: "s", Parameter: arg("url", "a")}}
	}
	not := func(r Rules) Rules { return Rules{Not: &r} }
	and := func(r ...Rules) Rules { return Rules{And: r} }
	or := func(r ...Rules) Rules { return Rules{Or: r} }
	for _, tc := range []struct {
		name string
		rule Rules
		want string
	}{
		{"and all", and(yes(), yes()), "match"},
		{"and one false", and(yes(), no()), "nomatch"},
		{"and missing parameter", and(yes(), missing()), "nomatch"},
		{"or one", or(no(), yes()), "match"},
		{"or none", or(no(), missing()), "nomatch"},
		{"not false", not(no()), "match"},
		{"not true", not(yes()), "nomatch"},
		{"not missing", not(missing()), "match"},
		{"not not", not(not(yes())), "match"},
		{"and of or and not", and(or(no(), yes()), not(no()), or(and(yes(), yes()), no())), "match"},
		{"or of ands", or(and(yes(), no()), and(no(), yes())), "nomatch"},
		{"deep", and(or(not(and(yes(), no())), no()), not(or(no(), missing()))), "match"},
		{"and stops at a signature error", and(yes(), sigErr()), "sigerr"},
		{"and stops before", and(no(), sigErr()), "nomatch"},
		{"or stops at a signature error, as webhook", or(sigErr(), yes()), "sigerr"},
		{"or matches before a signature error", or(yes(), sigErr()), "match"},
		{"or reports a signature error when nothing matched", or(sigErr(), no()), "sigerr"},
		{"not keeps a signature error", not(sigErr()), "sigerr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := evaluate(t, &tc.rule, req, time.Now())
			if got := outcome(ok, err); got != tc.want {
				t.Fatalf("%s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestStandardWebhooksRule(t *testing.T) {
	t.Parallel()
	key1 := []byte("0123456789abcdef0123456789abcdef")
	key2 := []byte("fedcba9876543210fedcba9876543210")
	secret := func(k []byte) string { return "whsec_" + base64.StdEncoding.EncodeToString(k) }
	now := time.Unix(1_700_000_000, 0)
	const body = `{"type": "backup.post"}`
	for _, tc := range []struct {
		name      string
		secrets   string
		tolerance time.Duration
		id        string
		ts        int64
		sig       string // "" computes it with key1
		body      string
		want      string
	}{
		{name: "valid", secrets: secret(key1), want: "match"},
		{name: "wrong key", secrets: secret(key2), want: "sigerr"},
		{name: "signed by the second of two secrets", secrets: secret(key2) + " " + secret(key1), want: "match"},
		{name: "several signatures, one valid", secrets: secret(key1),
			sig: "v1,bm9wZQ== " + sign.Signature(key1, "msg_1", now.Unix(), []byte(body)), want: "match"},
		{name: "signatures of both keys", secrets: secret(key2),
			sig: sign.Header([][]byte{key1, key2}, "msg_1", now.Unix(), []byte(body)), want: "match"},
		{name: "other id", secrets: secret(key1), id: "msg_2",
			sig: sign.Signature(key1, "msg_1", now.Unix(), []byte(body)), want: "sigerr"},
		{name: "other body", secrets: secret(key1), body: body + "\n",
			sig: sign.Signature(key1, "msg_1", now.Unix(), []byte(body)), want: "sigerr"},
		{name: "no v1 prefix", secrets: secret(key1),
			sig: strings.TrimPrefix(sign.Signature(key1, "msg_1", now.Unix(), []byte(body)), "v1,"), want: "sigerr"},
		{name: "old timestamp", secrets: secret(key1), ts: now.Add(-6 * time.Minute).Unix(), want: "sigerr"},
		{name: "future timestamp", secrets: secret(key1), ts: now.Add(6 * time.Minute).Unix(), want: "sigerr"},
		{name: "within the default 5m", secrets: secret(key1), ts: now.Add(-4 * time.Minute).Unix(), want: "match"},
		{name: "old but within a longer tolerance", secrets: secret(key1), tolerance: time.Hour,
			ts: now.Add(-30 * time.Minute).Unix(), want: "match"},
		{name: "outside a shorter tolerance", secrets: secret(key1), tolerance: 10 * time.Second,
			ts: now.Add(-11 * time.Second).Unix(), want: "sigerr"},
		{name: "no headers", secrets: secret(key1), id: "-", want: "sigerr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, ts, b := tc.id, tc.ts, tc.body
			if id == "" {
				id = "msg_1"
			}
			if ts == 0 {
				ts = now.Unix()
			}
			if b == "" {
				b = body
			}
			sig := tc.sig
			if sig == "" {
				sig = sign.Signature(key1, id, ts, []byte(b))
			}
			var hdr []string
			if id != "-" {
				hdr = []string{"webhook-id: " + id, "webhook-timestamp: " + strconv.FormatInt(ts, 10), "webhook-signature: " + sig}
			}
			req := testRequest(t, "POST", "/hooks/x", "application/json", b, hdr...)
			rule := matchRule(MatchRule{Type: MatchStandardWebhooks, Secret: tc.secrets, Tolerance: Duration(tc.tolerance)})
			ok, err := evaluate(t, rule, req, now)
			if got := outcome(ok, err); got != tc.want {
				t.Fatalf("%s (%v), want %s", got, err, tc.want)
			}
		})
	}
}
