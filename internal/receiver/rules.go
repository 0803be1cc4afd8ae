package receiver

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // webhook's payload-hmac-sha1 is part of the format
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/sign"
)

// ErrSignature is a signature that does not verify.
var ErrSignature = errors.New("signature does not match")

// Evaluate reports whether the rules accept req. Errors are signature failures (which
// count as a mismatch with trigger-signature-soft-failures) and other evaluation
// failures.
func (r *Rules) Evaluate(req *Request, now time.Time) (bool, error) {
	switch {
	case r.And != nil:
		for i := range r.And {
			ok, err := r.And[i].Evaluate(req, now)
			if err != nil && !req.softSignatureError(err) {
				return false, err
			}
			if !ok {
				return false, nil
			}
		}
		return true, nil
	case r.Or != nil:
		// In order, as webhook: an error (a wrong signature) ends the evaluation even if
		// a later branch would match.
		for i := range r.Or {
			ok, err := r.Or[i].Evaluate(req, now)
			if err != nil && !req.softSignatureError(err) {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.Evaluate(req, now)
		if err != nil {
			return false, err
		}
		return !ok, nil
	case r.Match != nil:
		return r.Match.evaluate(req, now)
	}
	return false, nil
}

func (m *MatchRule) evaluate(req *Request, now time.Time) (bool, error) {
	switch m.Type {
	case MatchIPWhitelist:
		return ipAllowed(req.RemoteAddr, m.IPRange)
	case MatchStandardWebhooks:
		keys, err := standardKeys(m.Secret)
		if err != nil {
			return false, err
		}
		tol := time.Duration(m.Tolerance)
		if tol <= 0 {
			tol = 5 * time.Minute
		}
		h := req.header
		id, stamp := h.Get(sign.HeaderID), h.Get(sign.HeaderTimestamp)
		if err := sign.Verify(keys, id, stamp, h.Get(sign.HeaderSignature), req.Body, now, tol); err != nil {
			return false, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		if req.replay != nil && !slices.Contains(req.reserved, id) {
			// Verify has checked the timestamp: the message can be replayed until
			// its timestamp leaves the window.
			sec, _ := strconv.ParseInt(stamp, 10, 64)
			if err := req.replay.reserve(id, time.Unix(sec, 0).Add(tol), now); err != nil {
				return false, err
			}
			req.reserved = append(req.reserved, id)
		}
		return true, nil
	}
	arg, err := req.Get(m.Parameter)
	if err != nil {
		return false, nil // a missing parameter does not match
	}
	switch m.Type {
	case MatchValue:
		if m.templated && m.Value == "" {
			// Refused at load; should such a rule be built anyway, it lets nothing in.
			return false, errors.New("match value from the template is empty")
		}
		return subtle.ConstantTimeCompare([]byte(arg), []byte(m.Value)) == 1, nil
	case MatchRegex:
		return m.re.MatchString(arg), nil
	case MatchHMACSHA1, MatchHashSHA1:
		return checkHMAC(sha1.New, "sha1=", m.Secret, arg, req.Body)
	case MatchHMACSHA256, MatchHashSHA256:
		return checkHMAC(sha256.New, "sha256=", m.Secret, arg, req.Body)
	case MatchHMACSHA512, MatchHashSHA512:
		return checkHMAC(sha512.New, "sha512=", m.Secret, arg, req.Body)
	}
	return false, fmt.Errorf("match type %q is not supported", m.Type)
}

// outcomes is a set of the results a rule may have: matched, not matched, an error.
type outcomes uint8

const (
	mayMatch outcomes = 1 << iota
	mayFail
	mayErr
	anyOutcome = mayMatch | mayFail | mayErr
)

// before evaluates the rule on what is known before the body is read (headers, query,
// the method and the client's address): it returns every result the full evaluation
// may still give. Without mayMatch, the request is turned away without reading its
// body. It follows Evaluate step by step (and/or stop at the first false/true and at an
// error), so it never rules out a result Evaluate could give.
func (r *Rules) before(req *Request, now time.Time) outcomes {
	soft := func(o outcomes) outcomes {
		if req.SoftSignatureFailures && o&mayErr != 0 {
			o |= mayFail // a signature error counts as a mismatch inside and/or
		}
		return o
	}
	switch {
	case r.And != nil:
		var out outcomes
		for i := range r.And {
			o := soft(r.And[i].before(req, now))
			out |= o &^ mayMatch
			if o&mayMatch == 0 {
				return out
			}
		}
		return out | mayMatch
	case r.Or != nil:
		var out outcomes
		for i := range r.Or {
			o := soft(r.Or[i].before(req, now))
			out |= o &^ mayFail
			if o&mayFail == 0 {
				return out
			}
		}
		return out | mayFail
	case r.Not != nil:
		o := r.Not.before(req, now)
		out := o & mayErr
		if o&mayMatch != 0 {
			out |= mayFail
		}
		if o&mayFail != 0 {
			out |= mayMatch
		}
		return out
	case r.Match != nil:
		return r.Match.before(req, now)
	}
	return mayFail
}

func (m *MatchRule) before(req *Request, now time.Time) outcomes {
	switch m.Type {
	case MatchIPWhitelist:
		return known(m.evaluate(req, now))
	case MatchStandardWebhooks:
		// The headers and the timestamp are checked first, as Verify does.
		h := req.header
		sec, err := strconv.ParseInt(h.Get(sign.HeaderTimestamp), 10, 64)
		tol := time.Duration(m.Tolerance)
		if tol <= 0 {
			tol = 5 * time.Minute
		}
		if d := now.Sub(time.Unix(sec, 0)); err != nil || d > tol || d < -tol || h.Get(sign.HeaderSignature) == "" {
			return mayErr
		}
		return anyOutcome
	case MatchValue, MatchRegex:
		if !bodyFree(m.Parameter.Source) {
			return anyOutcome
		}
		return known(m.evaluate(req, now))
	}
	// payload-hmac-*: a signature that is not there cannot match.
	if bodyFree(m.Parameter.Source) {
		if _, err := req.Get(m.Parameter); err != nil {
			return mayFail
		}
	}
	return anyOutcome
}

func known(ok bool, err error) outcomes {
	switch {
	case err != nil:
		return mayErr
	case ok:
		return mayMatch
	}
	return mayFail
}

// bodyFree reports whether an argument source is known before the body is read.
func bodyFree(source string) bool {
	switch source {
	case SourceHeader, SourceQuery, SourceQueryAlias, SourceRequest, SourceString, SourceEntireHeaders, SourceEntireQuery:
		return true
	}
	return false
}

// uses reports whether the rule holds a match of type typ.
func (r *Rules) uses(typ string) bool {
	switch {
	case r.Match != nil:
		return r.Match.Type == typ
	case r.Not != nil:
		return r.Not.uses(typ)
	}
	for _, list := range [][]Rules{r.And, r.Or} {
		for i := range list {
			if list[i].uses(typ) {
				return true
			}
		}
	}
	return false
}

// softSignatureError reports whether err is a signature failure that the hook's
// trigger-signature-soft-failures turns into a plain mismatch.
func (req *Request) softSignatureError(err error) bool {
	return req.SoftSignatureFailures && errors.Is(err, ErrSignature)
}

// checkHMAC verifies a hex HMAC of body; the header may hold several comma-separated
// signatures, each optionally prefixed like "sha256=".
func checkHMAC(h func() hash.Hash, prefix, secret, header string, body []byte) (bool, error) {
	if secret == "" {
		return false, errors.New("signature rule without a secret")
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Split(header, ",") {
		sig = strings.TrimPrefix(strings.TrimSpace(sig), prefix)
		got, err := hex.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return true, nil
		}
	}
	return false, ErrSignature
}

// standardKeys decodes one or more space-separated whsec_ secrets.
func standardKeys(secrets string) ([][]byte, error) {
	var keys [][]byte
	for _, s := range strings.Fields(secrets) {
		k, err := config.DecodeSigningSecret(s)
		if err != nil {
			return nil, fmt.Errorf("standard-webhooks secret: %w", err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("standard-webhooks needs a secret (whsec_...)")
	}
	return keys, nil
}

func parseIPRanges(spec string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, f := range strings.Fields(spec) {
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("ip-range: %q is not an address or CIDR", f)
			}
			bits := 128
			if ip.To4() != nil {
				bits = 32
			}
			f = fmt.Sprintf("%s/%d", f, bits)
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("ip-range: %w", err)
		}
		nets = append(nets, n)
	}
	if len(nets) == 0 {
		return nil, errors.New("ip-whitelist needs an ip-range")
	}
	return nets, nil
}

func ipAllowed(remoteAddr, spec string) (bool, error) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	if ip == nil {
		return false, nil
	}
	nets, err := parseIPRanges(spec)
	if err != nil {
		return false, err
	}
	for _, n := range nets {
		if n.Contains(ip) {
			return true, nil
		}
	}
	return false, nil
}

// RuleSummary describes the hook's trigger rule in one line, without its secrets or
// compared values: "none" when it has no rule.
func (h *Hook) RuleSummary() string {
	if h.TriggerRule == nil {
		return "none (every request runs the command)"
	}
	return h.TriggerRule.summary()
}

func (r *Rules) summary() string {
	list := func(op string, rs []Rules) string {
		parts := make([]string, len(rs))
		for i := range rs {
			parts[i] = rs[i].summary()
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	}
	switch {
	case r.And != nil:
		return list("and", r.And)
	case r.Or != nil:
		return list("or", r.Or)
	case r.Not != nil:
		return "not(" + r.Not.summary() + ")"
	case r.Match != nil:
		m := r.Match
		param := m.Parameter.Source
		if m.Parameter.Name != "" {
			param += " " + m.Parameter.Name
		}
		switch m.Type {
		case MatchValue:
			return fmt.Sprintf("%s equals a value of %d characters", param, len(m.Value))
		case MatchRegex:
			return fmt.Sprintf("%s matches %q", param, m.Regex)
		case MatchIPWhitelist:
			return "client address in " + strings.Join(strings.Fields(m.IPRange), " ")
		case MatchStandardWebhooks:
			tol := time.Duration(m.Tolerance)
			if tol <= 0 {
				tol = 5 * time.Minute
			}
			return fmt.Sprintf("standard-webhooks signature (%d secret(s), tolerance %s)", len(strings.Fields(m.Secret)), tol)
		}
		return fmt.Sprintf("%s signature in %s", m.Type, param)
	}
	return "empty"
}
