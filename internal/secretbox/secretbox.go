// Package secretbox encrypts the secrets set through the API (AES-256-GCM) before they
// are stored, so that a copy of the database alone does not give them away.
//
// A sealed value is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 random bytes) | ciphertext | GCM tag (16 bytes)
//
// The key id (the first 4 bytes of HMAC-SHA256(key, "hookpoint secretbox key id")) says
// which key sealed a value, so that a replaced key file is reported as such rather than
// as corruption, and so that keys can be rotated later (a Box holding the new key and the
// old ones, sealing with the new). The version and key id are authenticated along with
// the additional data the caller gives, which binds a value to where it belongs (the
// hook id and the secret's name: see AdditionalData).
//
// Random 96-bit nonces are safe for up to 2^32 values sealed with one key; secrets set by
// people through an API stay far below that.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

const (
	version   = 1
	headerLen = 1 + 4
	nonceLen  = 12
	tagLen    = 16
	// Overhead is how much longer a sealed value is than its plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

var (
	// ErrCorrupt is wrapped when a sealed value was altered, cut short, or is opened
	// with additional data other than it was sealed with (it belongs to another hook or
	// secret).
	ErrCorrupt = errors.New("the sealed value is corrupt, was altered, or belongs to another hook or secret")
	// ErrWrongKey is wrapped when a value was sealed with another key.
	ErrWrongKey = errors.New("the value was sealed with another key (was the secret key file replaced?)")
	// ErrVersion is wrapped when a value is in a format this version does not know.
	ErrVersion = errors.New("the sealed value is in an unknown format")
)

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   [4]byte
}

// New returns a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secret key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	b := &Box{aead: aead}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hookpoint secretbox key id"))
	copy(b.id[:], m.Sum(nil))
	return b, nil
}

// KeyID names the key in hex, for logs and messages; it reveals nothing of the key.
func (b *Box) KeyID() string { return fmt.Sprintf("%x", b.id) }

func (b *Box) header() [headerLen]byte {
	return [headerLen]byte{version, b.id[0], b.id[1], b.id[2], b.id[3]}
}

// authData is what GCM authenticates besides the ciphertext: the header, then the
// caller's additional data. The header has a fixed length, so the two cannot blur.
func authData(h [headerLen]byte, additionalData []byte) []byte {
	ad := make([]byte, 0, headerLen+len(additionalData))
	return append(append(ad, h[:]...), additionalData...)
}

// Seal encrypts plaintext and binds it to additionalData, which Open must be given
// again. Each call uses a new random nonce.
func (b *Box) Seal(plaintext, additionalData []byte) []byte {
	h := b.header()
	out := make([]byte, headerLen, Overhead+len(plaintext))
	copy(out, h[:])
	return b.aead.Seal(out, nil, plaintext, authData(h, additionalData))
}

// Open decrypts a value sealed by Seal with the same key and additionalData. Its errors
// wrap ErrCorrupt, ErrWrongKey or ErrVersion, and are safe to show.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < 1 {
		return nil, fmt.Errorf("empty: %w", ErrCorrupt)
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("version %d: %w", sealed[0], ErrVersion)
	}
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%d bytes, shorter than the least possible %d: %w", len(sealed), Overhead, ErrCorrupt)
	}
	h := [headerLen]byte(sealed[:headerLen])
	if [4]byte(h[1:]) != b.id {
		return nil, fmt.Errorf("key %x, not the current key %x: %w", h[1:], b.id, ErrWrongKey)
	}
	pt, err := b.aead.Open(nil, nil, sealed[headerLen:], authData(h, additionalData))
	if err != nil {
		return nil, ErrCorrupt
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// AdditionalData encodes fields (a hook id and a secret name, say) as additional data
// in which no two lists of fields look alike: each is preceded by its length, so
// ("ab", "c") and ("a", "bc") differ.
func AdditionalData(fields ...string) []byte {
	var out []byte
	for _, f := range fields {
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	return out
}
