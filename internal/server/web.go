package server

import (
	"net/http"

	"github.com/hookpoint/hookpoint/internal/web"
)

// mountWeb serves the web UI at / and under /ui/ (docs/ui.md); the API keeps /v1, its
// 404 and 405 answers, /healthz, /readyz and /metrics.
func (s *Server) mountWeb(mux *http.ServeMux) {
	h := web.New(web.Options{Service: uiService{s}, Logger: s.log, Now: s.now})
	mux.Handle("GET /{$}", h)
	mux.Handle("/ui/", h)
}
