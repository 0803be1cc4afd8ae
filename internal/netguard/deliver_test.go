package netguard_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/netguard"
	"github.com/hookpoint/hookpoint/internal/render"
)

// TestDeliverThroughGuard plugs the guard into the deliverer's seams, as the server does,
// and sends a hook to a real receiver on 127.0.0.1.
func TestDeliverThroughGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	send := func(allow ...string) deliver.Result {
		g, err := netguard.New(netguard.Config{AllowedOrigins: allow})
		if err != nil {
			t.Fatal(err)
		}
		h := deliver.NewHTTP()
		h.DialContext, h.WrapTransport = g.DialContext, g.Wrap
		defer h.Close()
		return h.Send(context.Background(), &render.Request{Method: "POST", URL: srv.URL + "/hook", Header: http.Header{}, Body: []byte("{}"), Timeout: 5 * time.Second}, "msg_1")
	}

	res := send()
	want := "destination 127.0.0.1 is a loopback address; add it to server.allowed_origins to allow it"
	if res.Outcome != deliver.Failed || res.Error != want || hits.Load() != 0 {
		t.Fatalf("not allowed: outcome %v, error %q, %d requests reached the receiver", res.Outcome, res.Error, hits.Load())
	}
	if res := send("http://127.0.0.1:" + port); res.Outcome != deliver.OK || hits.Load() != 1 {
		t.Fatalf("allowed origin: %+v", res)
	}
	if res := send("https://127.0.0.1:"+port, "http://127.0.0.1:1"); res.Outcome != deliver.Failed || hits.Load() != 1 {
		t.Fatalf("other origins allowed: %+v", res)
	}
}
