package fleet_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/fleet"
)

func TestParseServerURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "http://10.0.0.5:8080", want: "http://10.0.0.5:8080"},
		{in: "https://hooks.example.com/", want: "https://hooks.example.com"},
		{in: "https://proxy.example.com/hookpoint/", want: "https://proxy.example.com/hookpoint"},
		{in: "ftp://x", err: "http:// or https://"},
		{in: "hooks.example.com:8080", err: "http:// or https://"},
		{in: "http://", err: "no host"},
		{in: "https://admin:s3cret@hooks.example.com", err: "no credentials"},
		{in: "https://hooks.example.com/?token=x", err: "no query"},
	} {
		u, err := fleet.ParseServerURL(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		case tc.err != "" && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%q: the error shows the password: %v", tc.in, err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && u.String() != tc.want:
			t.Errorf("%q: %s, want %s", tc.in, u, tc.want)
		}
	}
}

const gateConfig = `hooks:
  - id: freeze
    on: ["backup.pre"]
    http: {url: "RECV/freeze?say=frozen"}
  - id: check
    on: ["backup.pre"]
    order: 2
    http: {url: "RECV/check?code=503&say=disk+full"}
  - id: after
    on: ["backup.pre"]
    order: 3
    http: {url: "RECV/after"}
  - id: note
    on: ["backup.end"]
    http: {url: "RECV/note"}
`

// The server's answer is the engine's outcome: the verdict and one result per hook,
// read into the same type, with what a person is shown of a failure.
func TestSendAnswers(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, gateConfig, rcv, nil)
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()

	req := request("backup.pre", map[string]any{"vmid": "101"})
	s, err := c.Send(ctx, req, time.Minute, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Answer
	if a.Verdict != hookpoint.Abort || a.EventID != req.ID || s.Status != 200 || s.Attempts != 1 {
		t.Fatalf("answer %+v (status %d, %d attempts), want abort for %s", a, s.Status, s.Attempts, req.ID)
	}
	var got []string
	for _, r := range a.Results {
		got = append(got, r.HookID+"="+r.Outcome)
	}
	if want := []string{"freeze=ok", "check=failed", "after=skipped"}; !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q", got, want)
	}
	check := a.Results[1]
	if check.Status != 503 || check.Policy != "abort" || !strings.Contains(check.Response, "disk full") || check.Duration <= 0 {
		t.Errorf("check: %+v", check)
	}
	if d := rcv.byHook("freeze"); len(d) != 1 || d[0].EventID != req.ID || d[0].Data["vmid"] != "101" {
		t.Errorf("freeze got %+v, want the event %s with its data", d, req.ID)
	}

	note := request("backup.end", nil)
	s, err = c.Send(ctx, note, time.Minute, time.Minute)
	if err != nil || s.Answer.Verdict != hookpoint.Proceed || len(rcv.byHook("note")) != 1 {
		t.Fatalf("notification: %+v, %v; note called %d times", s.Answer, err, len(rcv.byHook("note")))
	}
}

// A server that is down when the first attempt is made, and up by the second: the
// event goes through.
func TestSendRetriesUntilTheServerStarts(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	addr := freeAddr(t)
	var waits []time.Duration
	c := newClient(t, "http://"+addr, func(o *fleet.Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			if len(waits) == 0 {
				startServer(t, gateConfig, rcv, listenOn(t, addr))
			}
			waits = append(waits, d)
			return nil
		}
	})
	s, err := c.Send(context.Background(), request("backup.end", nil), time.Minute, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Attempts != 2 || len(waits) != 1 || s.Answer.Verdict != hookpoint.Proceed || len(rcv.byHook("note")) != 1 {
		t.Errorf("%d attempts, waits %v, answer %+v, note called %d times", s.Attempts, waits, s.Answer, len(rcv.byHook("note")))
	}
}

// flaky is a reverse proxy in front of the server that spoils the first exchange: the
// way a load balancer or a restarting server does.
func flaky(t *testing.T, upstream string, spoil func(w http.ResponseWriter, r *http.Request, proxy http.Handler)) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(upstream)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var n atomic.Int32
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			spoil(w, r, proxy)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// The server ran the hooks but its answer was lost on the way: the POST is sent again
// with the same idempotency key, and the server answers its first answer without
// running the hooks again.
func TestSendLostAnswerRunsTheHooksOnce(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, gateConfig, rcv, nil)
	p := flaky(t, srv.URL, func(w http.ResponseWriter, r *http.Request, proxy http.Handler) {
		proxy.ServeHTTP(httptest.NewRecorder(), r) // the server answers; the answer goes nowhere
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	c := newClient(t, p.URL, nil)
	req := request("backup.pre", nil)
	s, err := c.Send(context.Background(), req, time.Minute, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Attempts != 2 || !s.Answer.Duplicate || s.Answer.Verdict != hookpoint.Abort {
		t.Errorf("%d attempts, answer %+v; want the first answer again, marked duplicate", s.Attempts, s.Answer)
	}
	if n := len(rcv.byHook("freeze")); n != 1 {
		t.Errorf("the freeze hook ran %d times, want once", n)
	}
}

// 503 (a server whose database is unavailable, or a proxy without a backend) is tried
// again, after the Retry-After the answer gives.
func TestSend503IsTriedAgain(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, gateConfig, rcv, nil)
	p := flaky(t, srv.URL, func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the database is unavailable; nothing was accepted, try again"}}`))
	})
	var waits []time.Duration
	c := newClient(t, p.URL, func(o *fleet.Options) {
		o.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	})
	s, err := c.Send(context.Background(), request("backup.end", nil), time.Minute, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Attempts != 2 || !slices.Equal(waits, []time.Duration{2 * time.Second}) || len(rcv.byHook("note")) != 1 {
		t.Errorf("%d attempts, waits %v, note called %d times", s.Attempts, waits, len(rcv.byHook("note")))
	}
}

// fakeClock moves only when the client waits.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	return nil
}

// A server that stays down is tried with growing waits for as long as the retry window
// allows, and then called unreachable, by name.
func TestSendGivesUpAfterTheRetryWindow(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	c := newClient(t, "http://"+addr, func(o *fleet.Options) {
		o.Now, o.Sleep, o.Jitter = clk.Now, clk.Sleep, func(d time.Duration) time.Duration { return d }
	})
	s, err := c.Send(context.Background(), request("backup.pre", nil), time.Hour, 10*time.Second)
	if !errors.Is(err, fleet.ErrUnreachable) {
		t.Fatalf("error %v, want unreachable", err)
	}
	ms := time.Millisecond
	want := []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 2250 * ms} // the last at 10s
	if s.Attempts != 7 || !slices.Equal(clk.waits, want) || s.Status != 0 || s.Elapsed != 10*time.Second {
		t.Errorf("%d attempts in %s after waits %v (status %d), want 7 in 10s after %v", s.Attempts, s.Elapsed, clk.waits, s.Status, want)
	}
	if msg := err.Error(); !strings.Contains(msg, "could not reach the server http://"+addr) || !strings.Contains(msg, "connection refused") {
		t.Errorf("message %q does not name the server and the reason", msg)
	}

	// No window: one attempt.
	s, err = c.Send(context.Background(), request("backup.end", nil), time.Hour, 0)
	if !errors.Is(err, fleet.ErrUnreachable) || s.Attempts != 1 {
		t.Errorf("without a window: %d attempts, %v", s.Attempts, err)
	}
}

// A gate waits for the server's hooks, but no longer than its timeout: then the server
// is unreachable too.
func TestSendTimeout(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, `hooks:
  - id: slow
    on: ["backup.pre"]
    http: {url: "RECV/slow?hang=1", timeout: 30s}
`, rcv, nil)
	c := newClient(t, srv.URL, nil)
	s, err := c.Send(context.Background(), request("backup.pre", nil), 200*time.Millisecond, time.Minute)
	if !errors.Is(err, fleet.ErrUnreachable) || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("error %v, want unreachable: no answer within the timeout", err)
	}
	if s.Answer != nil {
		t.Errorf("an answer after the timeout: %+v", s.Answer)
	}
}

// Refusals are not tried again: a wrong token (401, never shown), a token without the
// scope (403), an event the server does not take (400 with its field).
func TestSendRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", nil, nil)
	ctx := context.Background()

	const wrong = "hp_emit_notatoken_butlongenoughtolookliketheone"
	c := newClient(t, srv.URL, func(o *fleet.Options) { o.Token = wrong })
	s, err := c.Send(ctx, request("backup.end", nil), time.Minute, time.Minute)
	var ae *fleet.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || !ae.Auth() || s.Attempts != 1 {
		t.Fatalf("wrong token: %v after %d attempts, want a 401 refusal at once", err, s.Attempts)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("the error shows the token: %v", err)
	}

	c = newClient(t, srv.URL, nil)
	req := request("backup.end", nil)
	req.SourceEnv = map[string]string{"1NOT-A-NAME": "x"}
	s, err = c.Send(ctx, req, time.Minute, time.Minute)
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "source_env" || ae.Auth() || s.Attempts != 1 {
		t.Fatalf("bad event: %v (%+v) after %d attempts, want a 400 on source_env", err, ae, s.Attempts)
	}
}

// A URL that answers, but not as hookpoint serve does, is not taken for a verdict.
func TestSendNotAServer(t *testing.T) {
	t.Parallel()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>It works!</html>"))
	}))
	t.Cleanup(web.Close)
	c := newClient(t, web.URL, nil)
	_, err := c.Send(context.Background(), request("backup.pre", nil), time.Minute, time.Minute)
	if !errors.Is(err, fleet.ErrBadAnswer) {
		t.Fatalf("error %v, want a bad answer", err)
	}
}

// https: the server's certificate is verified, against the system's authorities and
// the one --server-ca adds; one that does not verify is an error, not an unreachable
// server.
func TestSendTLS(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	srv := startServer(t, gateConfig, rcv, nil)
	u, _ := url.Parse(srv.URL)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u)) // TLS ends in front of the server
	front.Config.ErrorLog = log.New(io.Discard, "", 0)                          // the refused handshake
	front.StartTLS()
	t.Cleanup(front.Close)

	c := newClient(t, front.URL, nil)
	_, err := c.Send(context.Background(), request("backup.end", nil), time.Minute, time.Minute)
	if !errors.Is(err, fleet.ErrBadAnswer) || errors.Is(err, fleet.ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown authority: %v, want a certificate error", err)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, front.URL, func(o *fleet.Options) { o.CAFile = ca })
	s, err := c.Send(context.Background(), request("backup.end", nil), time.Minute, time.Minute)
	if err != nil || s.Answer.Verdict != hookpoint.Proceed || len(rcv.byHook("note")) != 1 {
		t.Fatalf("with --server-ca: %+v, %v", s.Answer, err)
	}

	if _, err := fleet.New(fleet.Options{URL: front.URL, Token: adminToken, CAFile: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Error("a CA file that does not exist was accepted")
	}
}
