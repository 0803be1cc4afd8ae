package server

import (
	"context"
	"net/http"
	"time"
)

// healthz answers while the process serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	return nil
}

// readyz answers 200 when the database answers, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "not answering"})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "database": s.store.Driver()})
	return nil
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error { return s.metricsHandler(w, r) }
