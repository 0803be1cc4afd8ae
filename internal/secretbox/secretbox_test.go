package secretbox

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func testBox(t testing.TB) *Box {
	t.Helper()
	key := make([]byte, KeySize)
	rand.Read(key)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var ad = AdditionalData("hook-42", "password")

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := testBox(t)
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("hunter2"), bytes.Repeat([]byte{0xff}, 1<<20)} {
		sealed := b.Seal(pt, ad)
		if len(sealed) != len(pt)+Overhead {
			t.Errorf("sealed %d bytes into %d, want %d", len(pt), len(sealed), len(pt)+Overhead)
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt[:5]) {
			t.Errorf("the plaintext shows in the sealed value")
		}
		got, err := b.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, pt) || got == nil {
			t.Errorf("Open(Seal(%d bytes)) = %d bytes, %v", len(pt), len(got), err)
		}
	}
	// A new nonce each time: the same secret never seals to the same bytes.
	s1, s2 := b.Seal([]byte("same"), ad), b.Seal([]byte("same"), ad)
	if bytes.Equal(s1, s2) || bytes.Equal(s1[headerLen:headerLen+nonceLen], s2[headerLen:headerLen+nonceLen]) {
		t.Error("two seals of one value are alike")
	}
	if s1[0] != version || !bytes.Equal(s1[1:headerLen], b.id[:]) {
		t.Errorf("header % x, want version %d and key id %s", s1[:headerLen], version, b.KeyID())
	}
}

// TestTamper: any change to a sealed value, or opening it for another hook or secret, or
// with another key, fails and returns no plaintext.
func TestTamper(t *testing.T) {
	t.Parallel()
	b := testBox(t)
	sealed := b.Seal([]byte("the secret"), ad)
	for i := range len(sealed) * 8 {
		c := bytes.Clone(sealed)
		c[i/8] ^= 1 << (i % 8)
		if pt, err := b.Open(c, ad); err == nil || pt != nil {
			t.Fatalf("bit %d flipped: opened to %q, %v", i, pt, err)
		}
	}
	for n := range len(sealed) {
		if pt, err := b.Open(sealed[:n], ad); !errors.Is(err, ErrCorrupt) || pt != nil {
			t.Fatalf("cut to %d bytes: %q, %v", n, pt, err)
		}
	}
	if _, err := b.Open(append(bytes.Clone(sealed), 0), ad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a byte appended: %v", err)
	}
	for _, other := range [][]byte{
		AdditionalData("hook-43", "password"),
		AdditionalData("hook-42", "token"),
		AdditionalData("hook-4", "2password"),
		nil,
	} {
		if _, err := b.Open(sealed, other); !errors.Is(err, ErrCorrupt) {
			t.Errorf("opened with additional data %q: %v, want ErrCorrupt", other, err)
		}
	}
	if _, err := testBox(t).Open(sealed, ad); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key: %v, want ErrWrongKey", err)
	}
	c := bytes.Clone(sealed)
	c[0] = 2
	if _, err := b.Open(c, ad); !errors.Is(err, ErrVersion) {
		t.Errorf("version 2: %v, want ErrVersion", err)
	}
}

func TestAdditionalData(t *testing.T) {
	t.Parallel()
	seen := map[string][]string{}
	for _, fields := range [][]string{{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {"", "abc"}, {}, {""}} {
		k := string(AdditionalData(fields...))
		if prev, ok := seen[k]; ok {
			t.Errorf("%q and %q encode alike", prev, fields)
		}
		seen[k] = fields
	}
}

func TestNewKeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
}

func BenchmarkSealOpen(b *testing.B) {
	box := testBox(b)
	pt := []byte("a 32-byte webhook signing secret")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Open(box.Seal(pt, ad), ad); err != nil {
			b.Fatal(err)
		}
	}
}
