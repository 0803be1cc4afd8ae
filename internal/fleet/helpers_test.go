package fleet_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/fleet"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

const adminToken = "test-admin-token-0123456789"

// hookServer is a real hookpoint server (the API on a fresh SQLite file) listening on
// an address of its own.
type hookServer struct {
	URL  string
	http *httptest.Server
}

// startServer starts a server with the hooks of cfg (RECV replaced by the receiver's
// URL) on ln, or on a fresh address when ln is nil.
func startServer(t *testing.T, cfg string, rcv *receiver, ln net.Listener) *hookServer {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hookpoint.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	c := &config.Config{}
	if cfg != "" {
		if rcv != nil {
			cfg = strings.ReplaceAll(cfg, "RECV", rcv.URL)
		}
		if c, err = config.Parse("hookpoint.yaml", []byte(cfg)); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	box, _, err := secretbox.LoadOrCreateKey(filepath.Join(dir, "hookpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Config: c, ConfigFile: "hookpoint.yaml", Store: st, Box: box, AdminToken: adminToken,
		Node: "test", Queue: server.QueueOptions{FetchPollInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	if ln != nil {
		hs.Listener.Close()
		hs.Listener = ln
	}
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(sctx)
		_ = st.Close()
	})
	return &hookServer{URL: hs.URL, http: hs}
}

// freeAddr returns an address nothing listens on (for now): a server that is down.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// listenOn listens on addr again (the server comes back where it was).
func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s again: %v", addr, err)
	}
	return ln
}

// receiver records the requests of the server's HTTP hooks; ?code=N answers N.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

type received struct {
	Hook, Event, EventID string
	Data                 map[string]any
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ce struct {
			ID   string         `json:"id"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(body, &ce)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{Hook: r.Header.Get("X-Hookpoint-Hook"), Event: r.Header.Get("X-Hookpoint-Event"), EventID: ce.ID, Data: ce.Data})
		rc.mu.Unlock()
		if r.URL.Query().Get("hang") != "" {
			<-r.Context().Done()
			return
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("code")); err == nil {
			w.WriteHeader(n)
		}
		io.WriteString(w, "receiver says "+r.URL.Query().Get("say")+"\n")
	}))
	t.Cleanup(rc.Close)
	return rc
}

// byHook returns the requests one hook made.
func (rc *receiver) byHook(hook string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, r := range rc.reqs {
		if r.Hook == hook {
			out = append(out, r)
		}
	}
	return out
}

// newClient returns a client of url with the admin token (unless tok says otherwise)
// whose waits between attempts take no time.
func newClient(t *testing.T, url string, mod func(*fleet.Options)) *fleet.Client {
	t.Helper()
	o := fleet.Options{URL: url, Token: adminToken, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	if mod != nil {
		mod(&o)
	}
	c, err := fleet.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newEvent returns an event of typ, a gate when its name says so.
func newEvent(typ string, data map[string]any) *event.Event {
	ev := event.New(typ)
	ev.Gate = event.GateByName(typ)
	ev.Run.ID = event.NewID("run")
	for k, v := range data {
		ev.Data[k] = v
	}
	return ev
}

func request(typ string, data map[string]any) *fleet.Request {
	r := fleet.RequestFor(newEvent(typ, data))
	return &r
}
