package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// When as many bodies as allowed are being read, one more request is answered 503 with
// Retry-After, without reading its body; the bound frees as reads end.
func TestBodiesInFlightBounded(t *testing.T) {
	for i := 0; i < maxBodiesInFlight; i++ {
		bodySlots <- struct{}{}
	}
	drained := false
	drain := func() {
		if !drained {
			for i := 0; i < maxBodiesInFlight; i++ {
				<-bodySlots
			}
			drained = true
		}
	}
	defer drain()
	var v map[string]any
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/events", strings.NewReader(`{"type":"a.b"}`))
	err := decodeJSON(w, r, 1<<20, &v)
	ae, ok := err.(*apiError)
	if !ok || ae.Status != http.StatusServiceUnavailable || ae.RetryAfter != 1 {
		t.Fatalf("with every slot taken: %v", err)
	}
	drain()
	if err := decodeJSON(w, httptest.NewRequest("POST", "/v1/events", strings.NewReader(`{"type":"a.b"}`)), 1<<20, &v); err != nil {
		t.Fatalf("with the slots free: %v", err)
	}
	if len(bodySlots) != 0 {
		t.Errorf("%d slots still taken after the read", len(bodySlots))
	}
}
