package server

import (
	"net/http"
	"slices"
)

// route is one line of the API's table: what api/openapi.yaml describes and a test
// keeps equal to it.
type route struct {
	Method  string
	Path    string
	Public  bool // no token needed
	Handler handlerFunc
}

// Limits of request bodies.
const (
	maxEventBody  = 1 << 20  // an event and its data
	maxHookBody   = 1 << 20  // a hook definition
	maxIngestBody = 1 << 20  // the sources' own payloads (Zerobyte sends at most 64 KiB)
	maxSmallBody  = 64 << 10 // tokens, recover, retry
)

// apiRoutes is the table of the API.
func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/healthz", true, s.healthz},
		{"GET", "/readyz", true, s.readyz},
		{"GET", "/metrics", false, s.metrics},

		{"POST", "/v1/events", false, s.postEvent},
		{"GET", "/v1/events/{id}", false, s.getEvent},

		{"GET", "/v1/hooks", false, s.listHooks},
		{"POST", "/v1/hooks", false, s.createHook},
		{"GET", "/v1/hooks/{id}", false, s.getHook},
		{"PUT", "/v1/hooks/{id}", false, s.putHook},
		{"DELETE", "/v1/hooks/{id}", false, s.deleteHook},
		{"POST", "/v1/hooks/{id}/test", false, s.testHook},
		{"POST", "/v1/hooks/{id}/recover", false, s.recoverHook},
		{"POST", "/v1/hooks/{id}/enable", false, s.enableHook},
		{"POST", "/v1/hooks/{id}/disable", false, s.disableHook},

		{"GET", "/v1/deliveries", false, s.listDeliveries},
		{"GET", "/v1/deliveries/{id}", false, s.getDelivery},
		{"POST", "/v1/deliveries/{id}/retry", false, s.retryDelivery},

		{"GET", "/v1/tokens", false, s.listTokens},
		{"POST", "/v1/tokens", false, s.createToken},
		{"DELETE", "/v1/tokens/{id}", false, s.revokeToken},

		// The sources authenticate in their own ways (or with an admin or emit token).
		{"POST", "/v1/ingest/{source}", true, s.ingest},
		{"POST", "/v1/ingest/{source}/{secret}", true, s.ingest},
	}
}

// Routes lists the API's routes as "METHOD PATH", for the OpenAPI test.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.apiRoutes() {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	paths := map[string][]string{}
	for _, rt := range s.apiRoutes() {
		h := s.serveAPI(rt.Handler)
		if !rt.Public {
			h = s.authenticated(h)
		}
		mux.Handle(rt.Method+" "+rt.Path, h)
		paths[rt.Path] = append(paths[rt.Path], rt.Method)
	}
	s.mountWeb(mux)
	// Everything else: 405 with Allow for a known path, else 404 — as JSON.
	mux.Handle("/", s.serveAPI(func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for path, methods := range paths {
			probe := http.NewServeMux()
			probe.Handle(path, http.NotFoundHandler())
			if _, pattern := probe.Handler(r); pattern != "" {
				allow = append(allow, methods...)
			}
		}
		if len(allow) > 0 {
			slices.Sort(allow)
			allow = slices.Compact(allow)
			return &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Allow: allow,
				Message: r.Method + " is not allowed here; use " + joinOr(allow)}
		}
		return errorf(http.StatusNotFound, "not_found", "", "no such route: %s %s", r.Method, clipText(r.URL.Path, 200))
	}))
	return mux
}

func joinOr(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " or "
		default:
			out += ", "
		}
		out += w
	}
	return out
}
