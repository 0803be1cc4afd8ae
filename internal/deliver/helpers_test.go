package deliver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
)

// request is what a receiver got.
type request struct {
	Method string
	Path   string
	Query  string
	Host   string
	Header http.Header
	Body   []byte
}

// receiver is an httptest server that records every request and answers with handle.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, handle http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(rc.wrap(handle))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) wrap(handle http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Clone(), body})
		rc.mu.Unlock()
		if handle != nil {
			handle(w, r)
		}
	}
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// rendered parses a config with one hook and renders it for an event of type
// backup.pre with data vm=100.
func rendered(t *testing.T, yaml string, mutate ...func(*event.Event)) *render.Rendered {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte("hooks:\n"+yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ev := event.New("backup.pre")
	ev.Data["vm"] = "100"
	for _, m := range mutate {
		m(ev)
	}
	r, err := render.Hook(cfg.Hooks[0], ev, event.NewID("msg"), render.Options{})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}
