package token

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewAndParse(t *testing.T) {
	t.Parallel()
	for _, scope := range Scopes {
		plain, id, hash, err := New(scope)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "hp_"+string(scope)+"_"+id+"_") || len(id) != idChars {
			t.Errorf("token %q, id %q", plain, id)
		}
		gotID, secret, err := Parse(plain)
		if err != nil || gotID != id || len(secret) != keyChars {
			t.Errorf("Parse(%q) = %q, %q, %v", plain, gotID, secret, err)
		}
		if raw, err := b32.DecodeString(secret); err != nil || len(raw) < 32 {
			t.Errorf("secret holds %d bytes (%v), want at least 32", len(raw), err)
		}
		if !Verify(plain, hash) || !bytes.Equal(hash, Hash(plain)) || len(hash) != 32 {
			t.Errorf("Verify(New) = false")
		}
		if strings.ContainsAny(plain, "+/=-. ") {
			t.Errorf("token %q holds a character that needs escaping or breaks selection", plain)
		}
	}
	if _, _, _, err := New("root"); err == nil {
		t.Error("New accepted scope root")
	}
}

func TestTokensAreUnique(t *testing.T) {
	t.Parallel()
	ids, secrets := map[string]bool{}, map[string]bool{}
	for range 2000 {
		plain, id, _, _ := New(Emit)
		_, secret, _ := Parse(plain)
		if ids[id] || secrets[secret] {
			t.Fatalf("repeated id %s or secret", id)
		}
		ids[id], secrets[secret] = true, true
	}
}

// TestVerify: the hash covers the whole token, so changing the secret, the id or the
// scope written in it fails.
func TestVerify(t *testing.T) {
	t.Parallel()
	plain, id, hash, _ := New(Read)
	_, secret, _ := Parse(plain)
	other, _, _, _ := New(Read)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, candidate := range map[string]string{
		"other token":        other,
		"first secret char":  flip(plain, len(plain)-keyChars),
		"last secret char":   flip(plain, len(plain)-1),
		"id changed":         strings.Replace(plain, id, flip(id, 0), 1),
		"scope raised":       strings.Replace(plain, "hp_read_", "hp_admin_", 1),
		"secret alone":       secret,
		"trailing newline":   plain + "\n",
		"empty":              "",
		"upper case":         strings.ToUpper(plain),
		"truncated":          plain[:len(plain)-1],
		"with another's key": plain[:len(plain)-keyChars] + other[len(other)-keyChars:],
	} {
		if Verify(candidate, hash) {
			t.Errorf("%s: verified", name)
		}
	}
	for _, h := range [][]byte{nil, {}, hash[:31], append(bytes.Clone(hash), 0)} {
		if Verify(plain, h) {
			t.Errorf("verified against a %d-byte hash", len(h))
		}
	}
	// A token the operator chose (HOOKPOINT_TOKEN) is hashed and verified the same way.
	if !Verify("correct horse battery staple", Hash("correct horse battery staple")) {
		t.Error("an operator's token does not verify")
	}
}

func TestParseRefusals(t *testing.T) {
	t.Parallel()
	plain, id, _, _ := New(Admin)
	_, secret, _ := Parse(plain)
	for _, s := range []string{
		"",
		"hp_",
		"Bearer " + plain,
		" " + plain,
		plain + " ",
		plain + "a",
		"hp_root_" + id + "_" + secret,
		"hp_Admin_" + id + "_" + secret,
		"hp_admin_" + id + secret,
		"hp_admin_" + id + "_" + secret + "_x",
		"hp_admin__" + id + "_" + secret,
		"hp_admin_" + id[:15] + "_" + secret,
		"hp_admin_" + id + "_" + secret[:51],
		"hp_admin_" + strings.ToUpper(id) + "_" + secret,
		"hp_admin_" + id + "_" + strings.Replace(secret, secret[:1], "1", 1),
		"hp_admin_" + id + "_" + secret[:50] + "==",
		"HP_admin_" + id + "_" + secret,
		strings.Repeat("hp_admin_", 1000),
	} {
		gotID, gotSecret, err := Parse(s)
		if !errors.Is(err, ErrMalformed) || gotID != "" || gotSecret != "" {
			t.Errorf("Parse(%.60q) = %q, %q, %v; want ErrMalformed", s, gotID, gotSecret, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("the error quotes the token")
		}
	}
}

func TestParseScope(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"admin", "emit", "read"} {
		if sc, err := ParseScope(s); err != nil || string(sc) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, sc, err)
		}
	}
	for _, s := range []string{"", "Admin", "write", "root", "admin "} {
		if _, err := ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) accepted", s)
		}
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, route     string
		admin, emit, read bool
	}{
		{"POST", "/v1/events", true, true, false},
		{"GET", "/v1/events", true, false, true},
		{"PUT", "/v1/events", true, false, false},
		{"POST", "/v1/ingest/xo/s3cret", true, true, false},
		{"POST", "/v1/ingest/generic", true, true, false},
		{"GET", "/v1/ingest/generic", true, false, true},
		{"POST", "/v1/ingest/", true, false, false},
		{"POST", "/v1/ingest", true, false, false},
		{"POST", "/v1/ingestion", true, false, false},
		{"POST", "/v1/ingest/../hooks", true, false, false},
		{"POST", "/v1/ingest/x/../../tokens", true, false, false},
		{"POST", "/v1/events/", true, false, false},
		{"POST", "//v1/events", true, false, false},
		{"POST", "/v1/./events", true, false, false},
		{"POST", "v1/events", true, false, false},
		{"post", "/v1/events", true, false, false},
		{"GET", "/v1/hooks", true, false, true},
		{"HEAD", "/v1/hooks", true, false, true},
		{"POST", "/v1/hooks", true, false, false},
		{"GET", "/v1/hooks/h1", true, false, true},
		{"PUT", "/v1/hooks/h1", true, false, false},
		{"DELETE", "/v1/hooks/h1", true, false, false},
		{"POST", "/v1/hooks/h1/test", true, false, false},
		{"POST", "/v1/hooks/h1/recover", true, false, false},
		{"GET", "/v1/deliveries", true, false, true},
		{"GET", "/v1/deliveries/d1", true, false, true},
		{"POST", "/v1/deliveries/d1/retry", true, false, false},
		{"GET", "/v1/tokens", true, false, false},
		{"HEAD", "/v1/tokens", true, false, false},
		{"GET", "/v1/tokens/t1", true, false, false},
		{"POST", "/v1/tokens", true, false, false},
		{"DELETE", "/v1/tokens/t1", true, false, false},
		{"GET", "/v1/tokensx", true, false, true},
		{"GET", "/v1/watches", true, false, true},
		{"GET", "/metrics", true, false, true},
		{"GET", "/readyz", true, false, true},
		{"GET", "/", true, false, true},
		{"GET", "/v1/hooks/../tokens", true, false, false},
		{"OPTIONS", "/v1/hooks", true, false, false},
		{"CONNECT", "/v1/events", true, false, false},
	}
	for _, tt := range tests {
		for scope, want := range map[Scope]bool{Admin: tt.admin, Emit: tt.emit, Read: tt.read} {
			if got := Allows(scope, tt.method, tt.route); got != want {
				t.Errorf("Allows(%s, %s, %q) = %v, want %v", scope, tt.method, tt.route, got, want)
			}
		}
	}
	for _, scope := range []Scope{"", "root", "ADMIN"} {
		if Allows(scope, "GET", "/v1/hooks") {
			t.Errorf("scope %q allowed", scope)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	plain, _, hash, _ := New(Emit)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(plain); err != nil || !Verify(plain, hash) {
			b.Fatal("not verified")
		}
	}
}
