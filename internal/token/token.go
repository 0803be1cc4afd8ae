// Package token makes and checks the server's API tokens.
//
// A token reads hp_<scope>_<id>_<secret>, for example
//
//	hp_emit_k3v9q2x7m4b8n6ta_<52 characters>
//
// Its parts:
//   - hp_ marks it as hookpoint's, so that secret scanners and people can recognise a
//     leaked one; the scope is there for people (the scope that counts is the stored one).
//   - The id (80 random bits) is not secret: the server looks the token up by it, lists
//     tokens by it and revokes them by it (DELETE /v1/tokens/{id}), and logs may name it.
//   - The secret is 32 random bytes (256 bits).
//
// Both are lower-case base32 (a-z, 2-7): no character needs escaping in a header, URL
// or shell, a double click selects the whole token, and no character is ambiguous
// when read aloud in either case.
//
// Only SHA-256 of the whole token is stored. A slow password hash (bcrypt, argon2) is
// for secrets people choose, which can be guessed; 256 random bits cannot be guessed
// with any hash, and a slow hash would cost tens of milliseconds of CPU on every API
// request — a way to overload the server with bad tokens. The comparison of hashes is
// in constant time.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Scope is what a token may do.
type Scope string

const (
	// Admin may do everything.
	Admin Scope = "admin"
	// Emit may only send events: POST /v1/events and POST /v1/ingest/... (fleet
	// clients, systems that send webhooks).
	Emit Scope = "emit"
	// Read may only read: GET and HEAD, except the token list.
	Read Scope = "read"
)

// Scopes lists the scopes, most powerful first.
var Scopes = []Scope{Admin, Emit, Read}

// Valid reports whether s is one of the scopes.
func (s Scope) Valid() bool { return s == Admin || s == Emit || s == Read }

// ParseScope reads a scope name.
func ParseScope(s string) (Scope, error) {
	if sc := Scope(s); sc.Valid() {
		return sc, nil
	}
	return "", fmt.Errorf("unknown token scope %q (admin, emit or read)", s)
}

const (
	prefix    = "hp_"
	idBytes   = 10
	keyBytes  = 32
	idChars   = 16 // base32 of 10 bytes
	keyChars  = 52 // base32 of 32 bytes, unpadded
	maxLength = len(prefix) + 5 + 1 + idChars + 1 + keyChars
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrMalformed is returned by Parse for a string that is not a hookpoint token. Its
// message never quotes the string.
var ErrMalformed = errors.New("not a hookpoint API token (hp_<scope>_<id>_<secret>)")

// New makes a token for scope. plaintext is shown to the user once; id and hash are
// stored.
func New(scope Scope) (plaintext, id string, hash []byte, err error) {
	if !scope.Valid() {
		return "", "", nil, fmt.Errorf("unknown token scope %q (admin, emit or read)", scope)
	}
	raw := make([]byte, idBytes+keyBytes)
	rand.Read(raw)
	id = b32.EncodeToString(raw[:idBytes])
	plaintext = prefix + string(scope) + "_" + id + "_" + b32.EncodeToString(raw[idBytes:])
	return plaintext, id, Hash(plaintext), nil
}

// Parse splits a token into its id, to look it up by, and its secret. The scope part
// must name a scope, but the scope to enforce is the one stored with the id.
func Parse(plaintext string) (id, secret string, err error) {
	if len(plaintext) > maxLength || !strings.HasPrefix(plaintext, prefix) {
		return "", "", ErrMalformed
	}
	parts := strings.Split(plaintext[len(prefix):], "_")
	if len(parts) != 3 || !Scope(parts[0]).Valid() {
		return "", "", ErrMalformed
	}
	id, secret = parts[1], parts[2]
	if len(id) != idChars || len(secret) != keyChars || !isBase32(id) || !isBase32(secret) {
		return "", "", ErrMalformed
	}
	return id, secret, nil
}

// isBase32 reports whether s is lower-case base32 (a-z, 2-7) that decodes.
func isBase32(s string) bool {
	_, err := b32.DecodeString(s)
	return err == nil
}

// Hash is what is stored for a token: SHA-256 of the whole plaintext, so that the id and
// scope written in it cannot be changed either. It also serves for a token the operator
// chose (HOOKPOINT_TOKEN), which need not be in this package's format.
func Hash(plaintext string) []byte {
	h := sha256.Sum256([]byte(plaintext))
	return h[:]
}

// Verify reports whether plaintext is the token stored as hash, in time that does not
// depend on where they differ.
func Verify(plaintext string, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(plaintext), hash) == 1
}
