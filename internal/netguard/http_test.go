package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// loopbackServer is a real HTTP server on 127.0.0.1 that counts its requests.
type loopbackServer struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

func newLoopbackServer(t *testing.T, h http.HandlerFunc) *loopbackServer {
	t.Helper()
	s := &loopbackServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	_, s.port, _ = net.SplitHostPort(s.Listener.Addr().String())
	return s
}

// guardedTransport is an http.Transport set up by the guard, resolving names with res.
func guardedTransport(t *testing.T, res Resolver, allow ...string) http.RoundTripper {
	t.Helper()
	g := newGuard(t, Config{AllowedOrigins: allow, Resolver: res})
	tr := &http.Transport{DisableKeepAlives: true}
	return g.Transport(tr)
}

func get(rt http.RoundTripper, u string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestHTTPLoopback sends real requests to a real server on 127.0.0.1: refused unless a
// CIDR or exactly its origin is allowed.
func TestHTTPLoopback(t *testing.T) {
	t.Parallel()
	srv := newLoopbackServer(t, nil)
	p := srv.port
	res := newResolver().
		set("svc.test", addrs("127.0.0.1")).
		set("other.test", addrs("127.0.0.1"))
	otherPort := "1"
	if p == "1" {
		otherPort = "2"
	}
	tests := []struct {
		name  string
		allow []string
		url   string
		ok    bool
	}{
		{"nothing allowed", nil, "http://127.0.0.1:" + p + "/", false},
		{"by CIDR", []string{"127.0.0.0/8"}, "http://127.0.0.1:" + p + "/", true},
		{"by address", []string{"127.0.0.1"}, "http://127.0.0.1:" + p + "/", true},
		{"by origin", []string{"http://127.0.0.1:" + p}, "http://127.0.0.1:" + p + "/x?y=1", true},
		{"origin with another port", []string{"http://127.0.0.1:" + otherPort}, "http://127.0.0.1:" + p + "/", false},
		{"origin with another scheme", []string{"https://127.0.0.1:" + p}, "http://127.0.0.1:" + p + "/", false},
		{"origin without port (80)", []string{"http://127.0.0.1"}, "http://127.0.0.1:" + p + "/", false},
		{"name by origin", []string{"http://svc.test:" + p}, "http://svc.test:" + p + "/", true},
		{"name by origin, other case", []string{"http://svc.test:" + p}, "http://SVC.Test:" + p + "/", true},
		{"other name, same address", []string{"http://svc.test:" + p}, "http://other.test:" + p + "/", false},
		{"name resolving to loopback", nil, "http://svc.test:" + p + "/", false},
		{"name by CIDR", []string{"127.0.0.0/8"}, "http://svc.test:" + p + "/", true},
		{"IPv4-mapped literal", []string{"http://127.0.0.1:" + p}, "http://[::ffff:127.0.0.1]:" + p + "/", false},
		{"IPv4-mapped literal by CIDR", []string{"127.0.0.0/8"}, "http://[::ffff:127.0.0.1]:" + p + "/", true},
		{"decimal IPv4", []string{"127.0.0.0/8"}, "http://2130706433:" + p + "/", false},
		{"hex IPv4", []string{"127.0.0.0/8"}, "http://0x7f.1:" + p + "/", false},
		{"unspecified address", nil, "http://0.0.0.0:" + p + "/", false},
		{"localhost", nil, "http://localhost:" + p + "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.hits.Load()
			var r Resolver = res
			if tt.name == "localhost" {
				r = net.DefaultResolver // the system's: /etc/hosts
			}
			rt := guardedTransport(t, r, tt.allow...)
			status, err := get(rt, tt.url)
			hit := srv.hits.Load() != before
			if tt.ok {
				if err != nil || status != 200 || !hit {
					t.Fatalf("status %d, err %v, reached %v; want 200", status, err, hit)
				}
				return
			}
			var le *LookupError
			if errors.As(err, &le) && tt.name == "localhost" {
				t.Skipf("localhost does not resolve here: %v", err)
			}
			if !errors.Is(err, ErrRefused) || hit {
				t.Fatalf("status %d, err %v, reached %v; want refused", status, err, hit)
			}
			// The transport hands the guard's error back as it is: no Go internals.
			var re *RefusedError
			if !errors.As(err, &re) || err.Error() != re.Error() || strings.Contains(err.Error(), "dial tcp") {
				t.Fatalf("error %q is not the guard's message", err)
			}
		})
	}
}

// TestHTTPProxy: a proxy would reach the destination unchecked, so Transport turns
// proxies off, and Wrap refuses a transport that has one.
func TestHTTPProxy(t *testing.T) {
	t.Parallel()
	target := newLoopbackServer(t, nil)
	proxy := newLoopbackServer(t, nil)
	proxyURL, _ := url.Parse(proxy.URL)
	res := newResolver().set("svc.test", addrs("127.0.0.1"))
	g := newGuard(t, Config{Resolver: res, AllowedOrigins: []string{"http://svc.test:" + target.port}})

	rt := g.Transport(&http.Transport{Proxy: http.ProxyURL(proxyURL), DisableKeepAlives: true})
	if status, err := get(rt, "http://svc.test:"+target.port+"/"); err != nil || status != 200 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if target.hits.Load() != 1 || proxy.hits.Load() != 0 {
		t.Fatalf("target reached %d times, proxy %d: the proxy was used", target.hits.Load(), proxy.hits.Load())
	}

	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), DialContext: g.DialContext, DisableKeepAlives: true}
	if _, err := get(g.Wrap(tr), "http://svc.test:"+target.port+"/"); !errors.Is(err, ErrRefused) {
		t.Fatalf("a transport with a proxy: %v, want refused", err)
	}
	// Even without Wrap's refusal, the dial to the proxy is checked as a dial of its own:
	// the allowed origin does not cover it.
	if _, err := get(&originOnly{tr}, "http://svc.test:"+target.port+"/"); !errors.Is(err, ErrRefused) {
		t.Fatalf("dial to the proxy: %v, want refused", err)
	}
	if proxy.hits.Load() != 0 || target.hits.Load() != 1 {
		t.Fatalf("proxy reached %d times, target %d", proxy.hits.Load(), target.hits.Load())
	}
}

// originOnly sets the origin as Wrap does, without Wrap's proxy refusal.
type originOnly struct{ next http.RoundTripper }

func (o *originOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	or, _ := requestOrigin(req)
	return o.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), originKey{}, or)))
}

// TestHTTPRedirect: a client that follows redirects (hookpoint's deliverer does not)
// still cannot be sent from an allowed origin to a refused one.
func TestHTTPRedirect(t *testing.T) {
	t.Parallel()
	inner := newLoopbackServer(t, nil)
	outer := newLoopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/admin", http.StatusFound)
	})
	res := newResolver().set("hooks.test", addrs("127.0.0.1"))
	rt := guardedTransport(t, res, "http://hooks.test:"+outer.port)
	client := &http.Client{Transport: rt, Timeout: 10 * time.Second}
	resp, err := client.Get("http://hooks.test:" + outer.port + "/")
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrRefused) || outer.hits.Load() != 1 || inner.hits.Load() != 0 {
		t.Fatalf("err %v; outer reached %d times, inner %d", err, outer.hits.Load(), inner.hits.Load())
	}
}

// TestHTTPConnectionReuse: a kept-alive connection to an allowed origin is not lent to
// a request for another origin on the same address.
func TestHTTPConnectionReuse(t *testing.T) {
	t.Parallel()
	srv := newLoopbackServer(t, nil)
	res := newResolver().set("a.test", addrs("127.0.0.1")).set("b.test", addrs("127.0.0.1"))
	g := newGuard(t, Config{Resolver: res, AllowedOrigins: []string{"http://a.test:" + srv.port}})
	rt := g.Transport(&http.Transport{})
	defer rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	for range 3 {
		if status, err := get(rt, "http://a.test:"+srv.port+"/"); err != nil || status != 200 {
			t.Fatalf("a.test: %d %v", status, err)
		}
	}
	if _, err := get(rt, "http://b.test:"+srv.port+"/"); !errors.Is(err, ErrRefused) {
		t.Fatalf("b.test: %v, want refused", err)
	}
	if _, err := get(rt, "https://a.test:"+srv.port+"/"); !errors.Is(err, ErrRefused) {
		t.Fatalf("https://a.test: %v, want refused", err)
	}
	if srv.hits.Load() != 3 {
		t.Fatalf("%d requests reached the server, want 3", srv.hits.Load())
	}
}

// BenchmarkDial compares a plain net.Dialer with the guard on real loopback connections.
func BenchmarkDial(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &net.Dialer{Timeout: 5 * time.Second}
	res := newResolver().set("svc.test", addrs("127.0.0.1"))
	g := newGuard(b, Config{Resolver: res, Dialer: d, AllowedOrigins: []string{"127.0.0.0/8"}})
	for _, bc := range []struct {
		name string
		dial func(context.Context, string, string) (net.Conn, error)
		addr string
	}{
		{"net.Dialer", d.DialContext, "127.0.0.1:" + port},
		{"guard/literal", g.DialContext, "127.0.0.1:" + port},
		{"guard/name", g.DialContext, "svc.test:" + port},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := bc.dial(context.Background(), "tcp", bc.addr)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// TestHTTPSOrigin: an https origin is allowed over TLS with HTTP/2 attempted, as the
// deliverer's transport is set up; the same host and port over http is not.
func TestHTTPSOrigin(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	g := newGuard(t, Config{AllowedOrigins: []string{"https://127.0.0.1:" + port}})
	tls := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	rt := g.Transport(&http.Transport{TLSClientConfig: tls, ForceAttemptHTTP2: true, Proxy: http.ProxyFromEnvironment})
	defer rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "HTTP/2.0" {
		t.Fatalf("status %d, %q", resp.StatusCode, body)
	}
	if _, err := get(rt, "http://127.0.0.1:"+port+"/"); !errors.Is(err, ErrRefused) {
		t.Fatalf("http to an https origin: %v, want refused", err)
	}
}
