// Package sign implements Standard Webhooks signatures: an HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<body>" keyed with the base64-decoded part of a
// "whsec_" secret, sent as "v1,<base64 signature>" (space-separated when there are
// several secrets).
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signature returns "v1,<base64 HMAC-SHA256>" of id.timestamp.body under key.
func Signature(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Header returns the webhook-signature value for every key, space-separated.
func Header(keys [][]byte, id string, ts int64, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Signature(k, id, ts, body)
	}
	return strings.Join(sigs, " ")
}

// Errors of Verify.
var (
	ErrNoSignature = errors.New("no v1 signature matches")
	ErrTimestamp   = errors.New("webhook-timestamp is missing, malformed or outside the tolerance")
)

// Verify checks a received webhook: the timestamp must be within tolerance of now, and
// one of the space-separated v1 signatures must match one of the keys.
func Verify(keys [][]byte, id, timestamp, signatures string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	for _, key := range keys {
		want := Signature(key, id, ts, body)
		for _, got := range strings.Fields(signatures) {
			if hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return ErrNoSignature
}
