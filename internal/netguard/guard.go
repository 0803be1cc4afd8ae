// Package netguard protects the server's outbound requests against server-side request
// forgery: a hook URL, or the DNS answer for its host, must not make hookpoint reach
// loopback, private, link-local or cloud metadata addresses unless the operator allowed
// them in server.allowed_origins.
//
// The check happens at dial time, on the addresses the guard resolved itself, and the
// connection goes to one of exactly those addresses: a second DNS answer (rebinding)
// is never asked for. Use it as
//
//	g, err := netguard.New(netguard.Config{AllowedOrigins: cfg.Server.AllowedOrigins})
//	rt := g.Transport(&http.Transport{...})
//
// Transport turns off proxies: through a proxy, the guard would see only the proxy's
// address and the proxy would reach the destination unchecked.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Resolver looks up the addresses of a host; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer connects to an address; *net.Dialer is one. The guard gives it only IP
// addresses, never a name to resolve.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Config sets up a Guard. Only AllowedOrigins is usually set.
type Config struct {
	// AllowedOrigins are server.allowed_origins: origins (http://host.docker.internal:9000,
	// https://hooks.internal), which permit exactly that scheme, host and port whatever
	// the host resolves to; CIDRs (10.0.0.0/8, fd00::/8) and IP addresses, which permit
	// the addresses in them for any host.
	AllowedOrigins []string
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
	// Dialer defaults to a net.Dialer with a 10s timeout.
	Dialer Dialer
	// LookupTimeout bounds each DNS lookup; it defaults to 5s.
	LookupTimeout time.Duration
}

// Guard checks destinations at dial time. It is safe for concurrent use.
type Guard struct {
	allow         allowList
	resolver      Resolver
	dialer        Dialer
	lookupTimeout time.Duration
}

// DefaultLookupTimeout bounds a DNS lookup when Config.LookupTimeout is zero.
const DefaultLookupTimeout = 5 * time.Second

// New returns a guard for c. An unusable allowed_origins entry is an *EntryError.
func New(c Config) (*Guard, error) {
	al, err := parseAllowList(c.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	g := &Guard{allow: al, resolver: c.Resolver, dialer: c.Dialer, lookupTimeout: c.LookupTimeout}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.dialer == nil {
		g.dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	}
	if g.lookupTimeout <= 0 {
		g.lookupTimeout = DefaultLookupTimeout
	}
	return g, nil
}

// ErrRefused is wrapped by every refusal of the guard, so that a caller can tell a
// destination the policy forbids (retrying will not help) from one that failed.
var ErrRefused = errors.New("destination refused")

// RefusedError is a destination the guard refused. Its message is meant for the user:
// it names the address and host, says why, and how to allow it.
type RefusedError struct {
	Host string     // the host as the request named it
	Addr netip.Addr // the refused address; not valid when the host or port was refused
	msg  string
}

func (e *RefusedError) Error() string        { return e.msg }
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// LookupError is a host that could not be resolved.
type LookupError struct {
	Host string
	Err  error // the resolver's error (a *net.DNSError, context.DeadlineExceeded, ...)
	msg  string
}

func (e *LookupError) Error() string { return "cannot resolve host " + e.Host + ": " + e.msg }
func (e *LookupError) Unwrap() error { return e.Err }

var errNoAddress = errors.New("no address")

func lookupError(host string, err error, timeout time.Duration) *LookupError {
	msg := "lookup failed"
	var de *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, context.Canceled):
		msg = "cancelled"
	case errors.As(err, &de) && de.IsNotFound:
		msg = "no such host"
	case errors.As(err, &de) && de.IsTimeout:
		msg = "no answer in time"
	case errors.As(err, &de):
		msg = de.Err
	case errors.Is(err, errNoAddress):
		msg = "no address"
	}
	return &LookupError{Host: host, Err: err, msg: msg}
}

type originKey struct{}

// DialContext connects to address (host:port) for http.Transport.DialContext. It
// resolves the host itself, refuses the connection if any of the addresses is refused
// (see the package doc), and then tries the checked addresses in order. The origin of the
// request, which an allowed origin is compared with, comes from Wrap; without it only
// CIDR and address entries can allow a destination.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var lookupNet string
	switch network {
	case "tcp":
		lookupNet = "ip"
	case "tcp4":
		lookupNet = "ip4"
	case "tcp6":
		lookupNet = "ip6"
	default:
		return nil, &RefusedError{msg: fmt.Sprintf("network %q is not allowed for outbound requests (only tcp)", network)}
	}
	rawHost, rawPort, err := net.SplitHostPort(address)
	if err != nil {
		return nil, &RefusedError{msg: fmt.Sprintf("destination %q is not host:port", address)}
	}
	port, err := parsePort(rawPort)
	if err != nil {
		return nil, &RefusedError{Host: rawHost, msg: fmt.Sprintf("destination host %s: %v", rawHost, err)}
	}
	host, err := canonicalHost(rawHost)
	if err != nil {
		return nil, &RefusedError{Host: rawHost, msg: fmt.Sprintf("destination host %q: %v", rawHost, err)}
	}

	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, g.lookupTimeout)
		found, err := g.resolver.LookupNetIP(lctx, lookupNet, host)
		cancel()
		if err == nil && len(found) == 0 {
			err = errNoAddress
		}
		if err != nil {
			return nil, lookupError(rawHost, err, g.lookupTimeout)
		}
		// A copy: the resolver's slice is not ours to change.
		addrs = make([]netip.Addr, len(found))
		for i, a := range found {
			addrs[i] = a.Unmap()
		}
	}

	o, _ := ctx.Value(originKey{}).(origin)
	byOrigin := o.host == host && o.port == port && g.allow.origins[o]
	for _, a := range addrs {
		if err := g.check(a, rawHost, byOrigin); err != nil {
			return nil, err
		}
	}

	var first error
	for _, a := range addrs {
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// check refuses a blocked address that neither the request's origin nor a CIDR allows.
func (g *Guard) check(a netip.Addr, host string, byOrigin bool) error {
	v := classify(a)
	if !v.blocked() || byOrigin || g.allow.permits(a, v.metadata) {
		return nil
	}
	for_ := ""
	if host != a.String() && host != a.WithZone("").String() {
		for_ = " (for host " + host + ")"
	}
	howTo := "add it to server.allowed_origins to allow it"
	if v.metadata {
		howTo = "only an entry naming this exact address in server.allowed_origins allows it"
	}
	return &RefusedError{Host: host, Addr: a, msg: fmt.Sprintf("destination %s%s is %s; %s", a, for_, v.reason, howTo)}
}

// permits reports whether a CIDR or address entry holds a. A metadata address must be
// named exactly: allowing 169.254.0.0/16 for a link-local device does not open the
// instance metadata service.
func (al allowList) permits(a netip.Addr, exactOnly bool) bool {
	a = a.Unmap().WithZone("")
	for _, p := range al.prefixes {
		if p.Contains(a) && (!exactOnly || p.Bits() == a.BitLen()) {
			return true
		}
	}
	return false
}

// Wrap returns a RoundTripper that gives each request's origin (scheme, host, port) to
// the guard's DialContext, which rt must use, so that allowed origins can be honoured. A
// connection is reused only for the same scheme and host:port, hence the same origin.
// An *http.Transport with a proxy is refused: see Transport.
func (g *Guard) Wrap(rt http.RoundTripper) http.RoundTripper {
	return &roundTripper{next: rt}
}

// Transport makes t dial through the guard — DialContext is the guard's, Proxy is nil
// (HTTP_PROXY and HTTPS_PROXY in the environment are not used), other dial hooks are
// cleared — and returns it wrapped by Wrap.
func (g *Guard) Transport(t *http.Transport) http.RoundTripper {
	t.Proxy = nil
	t.OnProxyConnectResponse = nil
	t.DialContext = g.DialContext
	t.DialTLSContext = nil
	t.Dial = nil    //nolint:staticcheck // cleared so that it cannot bypass the guard
	t.DialTLS = nil //nolint:staticcheck // cleared so that it cannot bypass the guard
	return g.Wrap(t)
}

type roundTripper struct {
	next http.RoundTripper
}

var errProxy = &RefusedError{msg: "outbound requests cannot go through a proxy while destinations are checked (the proxy, not hookpoint, would reach them)"}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if tr, ok := t.next.(*http.Transport); ok && tr.Proxy != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errProxy
	}
	if o, ok := requestOrigin(req); ok {
		req = req.WithContext(context.WithValue(req.Context(), originKey{}, o))
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the wrapped RoundTripper.
func (t *roundTripper) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func requestOrigin(req *http.Request) (origin, bool) {
	if req.URL == nil {
		return origin{}, false
	}
	scheme := req.URL.Scheme
	if scheme != "http" && scheme != "https" {
		return origin{}, false
	}
	host, err := canonicalHost(req.URL.Hostname())
	if err != nil {
		return origin{}, false
	}
	port := req.URL.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	if port, err = parsePort(port); err != nil {
		return origin{}, false
	}
	return origin{scheme: scheme, host: host, port: port}, true
}
