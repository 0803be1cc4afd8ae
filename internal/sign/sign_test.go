package sign_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/sign"
)

// The example of the Standard Webhooks specification (and of the Svix libraries).
const (
	vectorSecret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // whsec_ stripped
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustKey(t *testing.T, b64 string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// independent computes the signature the way the specification describes it, without
// the package.
func independent(key []byte, id string, ts int64, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	key := mustKey(t, vectorSecret)
	if got := independent(key, vectorID, vectorTS, vectorBody); got != vectorSig {
		t.Fatalf("the test's own HMAC gives %s, the published vector is %s", got, vectorSig)
	}
	if got := sign.Signature(key, vectorID, vectorTS, []byte(vectorBody)); got != vectorSig {
		t.Errorf("Signature = %s, want %s", got, vectorSig)
	}
	if err := sign.Verify([][]byte{key}, vectorID, strconv.Itoa(vectorTS), vectorSig, []byte(vectorBody), time.Unix(vectorTS+10, 0), 5*time.Minute); err != nil {
		t.Errorf("Verify of the published vector: %v", err)
	}
}

func TestHeaderSeveralKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := []byte("0123456789abcdef-key-one"), []byte("0123456789abcdef-key-two")
	body := []byte(`{"a":1}`)
	h := sign.Header([][]byte{k1, k2}, "msg_1", 1700000000, body)
	parts := strings.Split(h, " ")
	if len(parts) != 2 {
		t.Fatalf("Header = %q, want two space-separated signatures", h)
	}
	if parts[0] != independent(k1, "msg_1", 1700000000, string(body)) || parts[1] != independent(k2, "msg_1", 1700000000, string(body)) {
		t.Errorf("Header = %q, signatures do not match an independent HMAC in key order", h)
	}
	// A receiver that knows only the second (new) key accepts it.
	if err := sign.Verify([][]byte{k2}, "msg_1", "1700000000", h, body, time.Unix(1700000000, 0), time.Minute); err != nil {
		t.Errorf("Verify with the second key: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	key := []byte("a-sixteen-byte-key-or-more")
	other := []byte("another-sixteen-byte-key")
	now := time.Unix(1_700_000_000, 0)
	ts := now.Unix()
	body := []byte(`{"type":"backup.pre","data":{"vm":"100"}}`)
	good := sign.Signature(key, "msg_abc", ts, body)
	tsStr := strconv.FormatInt(ts, 10)

	tests := []struct {
		name    string
		keys    [][]byte
		id, ts  string
		sigs    string
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"own signature", [][]byte{key}, "msg_abc", tsStr, good, body, now, nil},
		{"one of several keys", [][]byte{other, key}, "msg_abc", tsStr, good, body, now, nil},
		{"one of several signatures", [][]byte{key}, "msg_abc", tsStr, "v1,bm9wZQ== " + good, body, now, nil},
		{"within tolerance in the future", [][]byte{key}, "msg_abc", tsStr, good, body, now.Add(-4 * time.Minute), nil},
		{"wrong key", [][]byte{other}, "msg_abc", tsStr, good, body, now, sign.ErrNoSignature},
		{"tampered body", [][]byte{key}, "msg_abc", tsStr, good, []byte(`{"type":"backup.pre","data":{"vm":"101"}}`), now, sign.ErrNoSignature},
		{"other id", [][]byte{key}, "msg_abd", tsStr, good, body, now, sign.ErrNoSignature},
		{"timestamp changed", [][]byte{key}, "msg_abc", strconv.FormatInt(ts+1, 10), good, body, now.Add(time.Second), sign.ErrNoSignature},
		{"old timestamp", [][]byte{key}, "msg_abc", tsStr, good, body, now.Add(6 * time.Minute), sign.ErrTimestamp},
		{"timestamp too far ahead", [][]byte{key}, "msg_abc", tsStr, good, body, now.Add(-6 * time.Minute), sign.ErrTimestamp},
		{"malformed timestamp", [][]byte{key}, "msg_abc", "yesterday", good, body, now, sign.ErrTimestamp},
		{"missing timestamp", [][]byte{key}, "msg_abc", "", good, body, now, sign.ErrTimestamp},
		{"no signature", [][]byte{key}, "msg_abc", tsStr, "", body, now, sign.ErrNoSignature},
		{"v1 prefix missing", [][]byte{key}, "msg_abc", tsStr, strings.TrimPrefix(good, "v1,"), body, now, sign.ErrNoSignature},
		{"other version", [][]byte{key}, "msg_abc", tsStr, "v2," + strings.TrimPrefix(good, "v1,"), body, now, sign.ErrNoSignature},
		{"no keys", nil, "msg_abc", tsStr, good, body, now, sign.ErrNoSignature},
	}
	for _, tt := range tests {
		err := sign.Verify(tt.keys, tt.id, tt.ts, tt.sigs, tt.body, tt.now, 5*time.Minute)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}
