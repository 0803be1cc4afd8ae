package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

type tokenRequest struct {
	Scope       string `json:"scope"`
	Description string `json:"description"`
}

// NewToken makes a token of scope, stores its hash and returns it: the only time the
// token is shown. `hookpoint token create` uses it too.
func NewToken(ctx context.Context, st store.Queries, scope token.Scope, description string, now time.Time) (string, *store.Token, error) {
	plain, id, hash, err := token.New(scope)
	if err != nil {
		return "", nil, err
	}
	t := &store.Token{ID: id, Description: description, Scope: string(scope), Hash: hash, CreatedAt: now.UTC()}
	if err := st.InsertToken(ctx, t); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeJSON(w, r, maxSmallBody, &req); err != nil {
		return err
	}
	scope, err := token.ParseScope(req.Scope)
	if err != nil {
		return badRequest("scope", "scope must be admin, emit or read")
	}
	if len(req.Description) > 200 || strings.ContainsFunc(req.Description, unicode.IsControl) {
		return badRequest("description", "at most 200 characters, no control characters")
	}
	plain, t, err := NewToken(r.Context(), s.store, scope, req.Description, s.now())
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": plain, "id": t.ID, "scope": t.Scope, "description": t.Description,
		"created_at": t.CreatedAt, "note": "this is the only time the token is shown; only its hash is stored"})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.ListTokens(r.Context())
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	if ts == nil {
		ts = []*store.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.store.RevokeToken(r.Context(), id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return notFound("token", id)
	}
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
