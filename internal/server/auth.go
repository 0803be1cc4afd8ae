package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

// caller is who made a request: the admin token of the server's configuration, or a
// token made through the API.
type caller struct {
	tokenID string // "" for the configured admin token
	scope   token.Scope
}

type callerKey struct{}

func callerOf(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

// authenticated requires a bearer token whose scope allows the request: 401 without a
// valid token, 403 when its scope does not allow the route.
func (s *Server) authenticated(next http.Handler) http.Handler {
	return s.serveAPI(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.identify(r)
		if err != nil {
			return err
		}
		if !token.Allows(c.scope, r.Method, r.URL.Path) {
			return errorf(http.StatusForbidden, "forbidden", "", "a token of scope %s cannot %s %s", c.scope, r.Method, clipText(r.URL.Path, 200))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		return nil
	})
}

// identify finds the token of a request. Comparisons are in constant time; the error
// never says whether a token exists.
func (s *Server) identify(r *http.Request) (caller, error) {
	presented, ok := bearer(r)
	if !ok {
		return caller{}, errorf(http.StatusUnauthorized, "unauthorized", "", "send a token: Authorization: Bearer <token>")
	}
	return s.identifyToken(r.Context(), presented)
}

// identifyToken finds a presented token (the API's bearer token, the web UI's sign-in).
func (s *Server) identifyToken(ctx context.Context, presented string) (caller, error) {
	bad := errorf(http.StatusUnauthorized, "unauthorized", "", "the token is not valid")
	if s.admin != nil && equalToken(token.Hash(presented), s.admin) {
		return caller{scope: token.Admin}, nil
	}
	if _, _, err := token.Parse(presented); err != nil {
		return caller{}, bad
	}
	t, err := s.store.TokenByHash(ctx, token.Hash(presented))
	if errors.Is(err, store.ErrNotFound) {
		return caller{}, bad
	}
	if err != nil {
		return caller{}, errors.Join(errUnavailable, err)
	}
	if t.RevokedAt != nil || !token.Verify(presented, t.Hash) {
		return caller{}, bad
	}
	if t.LastUsedAt == nil || s.now().Sub(*t.LastUsedAt) > lastUsedGrain {
		if err := s.store.TouchToken(ctx, t.ID, s.now()); err != nil {
			s.log.Warn("token use not recorded", "token", t.ID, "err", err)
		}
	}
	scope, err := token.ParseScope(t.Scope)
	if err != nil {
		return caller{}, bad
	}
	return caller{tokenID: t.ID, scope: scope}, nil
}

// lastUsedGrain bounds how often a token's last use is written.
const lastUsedGrain = 60e9 // a minute

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
