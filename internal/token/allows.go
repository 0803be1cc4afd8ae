package token

import (
	"net/http"
	"path"
	"strings"
)

// Allows reports whether a token of scope may make a request with method to route, the
// request's path as the router matches it (r.URL.Path: decoded, not yet cleaned).
//
//   - admin: everything.
//   - emit: POST /v1/events and POST /v1/ingest/<source>[/...] only.
//   - read: GET and HEAD, except /v1/tokens: the list of credentials is an
//     administrator's business even without their secrets.
//
// A path that is not clean ("/v1/ingest/../hooks", "//v1/events", a trailing slash) is
// allowed to admin only: the router would redirect or route it elsewhere than it reads.
func Allows(scope Scope, method, route string) bool {
	switch scope {
	case Admin:
		return true
	case Emit:
		return method == http.MethodPost && clean(route) &&
			(route == "/v1/events" || strings.HasPrefix(route, "/v1/ingest/"))
	case Read:
		return (method == http.MethodGet || method == http.MethodHead) && clean(route) &&
			route != "/v1/tokens" && !strings.HasPrefix(route, "/v1/tokens/")
	}
	return false
}

func clean(route string) bool {
	return strings.HasPrefix(route, "/") && path.Clean(route) == route
}
