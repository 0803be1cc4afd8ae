package netguard

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// fakeResolver answers from a table. A host with several answers gives them in turn,
// the last one for ever: a rebinding DNS server.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	err     map[string]error
	calls   map[string]int
}

func newResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}, err: map[string]error{}, calls: map[string]int{}}
}

// set makes host resolve to addrs, then (for a later lookup) to the next list.
func (r *fakeResolver) set(host string, answers ...[]netip.Addr) *fakeResolver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[host] = answers
	return r
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.calls[host]
	r.calls[host]++
	if err, ok := r.err[host]; ok {
		if err == nil { // blocks until the lookup's deadline
			r.mu.Unlock()
			<-ctx.Done()
			r.mu.Lock()
			return nil, ctx.Err()
		}
		return nil, err
	}
	as, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "192.0.2.53:53", IsNotFound: true}
	}
	// As net.Resolver does, IPv4 answers come IPv4-mapped.
	var out []netip.Addr
	for _, a := range as[min(n, len(as)-1)] {
		if a.Is4() {
			a = netip.AddrFrom16(a.As16())
		}
		switch {
		case network == "ip4" && !a.Unmap().Is4(), network == "ip6" && a.Unmap().Is4():
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

// fakeDialer records what it is asked to dial. If it is given a name, it resolves it
// with its own resolver, as net.Dialer would: a test can see a second lookup happen.
type fakeDialer struct {
	mu       sync.Mutex
	resolver *fakeResolver
	fail     map[string]bool // addresses that refuse the connection
	dialed   []string
}

func (d *fakeDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, address)
	fail := d.fail[address]
	d.mu.Unlock()
	host, _, _ := net.SplitHostPort(address)
	if _, err := netip.ParseAddr(host); err != nil && d.resolver != nil {
		d.resolver.LookupNetIP(ctx, "ip", host) //nolint:errcheck // only the lookup counts
	}
	if fail {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errConnRefused}
	}
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, nil
}

func (d *fakeDialer) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

type connRefused struct{}

func (connRefused) Error() string { return "connection refused" }

var errConnRefused = connRefused{}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func newGuard(t testing.TB, c Config) *Guard {
	t.Helper()
	g, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}
