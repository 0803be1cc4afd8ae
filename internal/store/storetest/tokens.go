package storetest

import (
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

func newToken(id string, hash string, created time.Time) *store.Token {
	return &store.Token{ID: id, Scope: store.ScopeEmit, Hash: []byte(hash), CreatedAt: created}
}

var tokenTests = map[string]func(t *testing.T, s store.Store){
	"RoundTrip": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		full := &store.Token{
			ID:          "tok_2",
			Description: "backup host pve-1 — «ünï»",
			Scope:       store.ScopeAdmin,
			Hash:        []byte{0, 1, 2, 0xfe, 0xff, 0},
			CreatedAt:   at(time.Nanosecond).In(elsewhere),
			LastUsedAt:  ptr(at(time.Hour)),
			RevokedAt:   ptr(at(2 * time.Hour)),
		}
		bare := newToken("tok_1", "hash-1", at(0))
		late := newToken("tok_0", "hash-0", at(time.Minute))
		for _, tok := range []*store.Token{full, bare, late} {
			must(t, s.InsertToken(ctx, tok))
		}
		list, err := s.ListTokens(ctx)
		must(t, err)
		equal(t, "ListTokens (oldest first)", list, []*store.Token{bare, full, late})
		for _, want := range []*store.Token{full, bare} {
			got, err := s.TokenByHash(ctx, want.Hash)
			must(t, err)
			equal(t, "TokenByHash", got, want)
		}
		_, err = s.TokenByHash(ctx, []byte("unknown"))
		wantErr(t, "TokenByHash of an unknown hash", err, store.ErrNotFound)
		_, err = s.TokenByHash(ctx, full.Hash[:5]) // a prefix is not the hash
		wantErr(t, "TokenByHash of a prefix", err, store.ErrNotFound)
	},
	"Conflict": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		must(t, s.InsertToken(ctx, newToken("tok_1", "hash-1", t0)))
		wantErr(t, "same id", s.InsertToken(ctx, newToken("tok_1", "hash-2", t0)), store.ErrConflict)
		wantErr(t, "same hash", s.InsertToken(ctx, newToken("tok_2", "hash-1", t0)), store.ErrConflict)
		list, err := s.ListTokens(ctx)
		must(t, err)
		equal(t, "tokens", len(list), 1)
	},
	"RevokeAndTouch": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		tok := newToken("tok_1", "hash-1", t0)
		must(t, s.InsertToken(ctx, tok))
		other := newToken("tok_2", "hash-2", t0)
		must(t, s.InsertToken(ctx, other))

		must(t, s.TouchToken(ctx, tok.ID, at(time.Hour+time.Nanosecond)))
		must(t, s.TouchToken(ctx, tok.ID, at(time.Minute))) // late and out of order: ignored
		must(t, s.RevokeToken(ctx, tok.ID, at(2*time.Hour).In(elsewhere)))
		must(t, s.RevokeToken(ctx, tok.ID, at(3*time.Hour))) // keeps the first time

		want := *tok
		want.LastUsedAt, want.RevokedAt = ptr(at(time.Hour+time.Nanosecond)), ptr(at(2*time.Hour))
		got, err := s.TokenByHash(ctx, tok.Hash)
		must(t, err)
		equal(t, "token after TouchToken and RevokeToken", got, &want)
		got, err = s.TokenByHash(ctx, other.Hash)
		must(t, err)
		equal(t, "the other token", got, other)

		wantErr(t, "RevokeToken of an unknown token", s.RevokeToken(ctx, "tok_missing", t0), store.ErrNotFound)
		wantErr(t, "TouchToken of an unknown token", s.TouchToken(ctx, "tok_missing", t0), store.ErrNotFound)
	},
}
