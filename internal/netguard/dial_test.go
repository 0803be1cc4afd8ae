package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func dial(g *Guard, address string) error {
	c, err := g.DialContext(context.Background(), "tcp", address)
	if c != nil {
		c.Close()
	}
	return err
}

// TestDialRefusesBlockedAnswers makes a host name resolve to every kind of blocked
// address, alone and among public ones: nothing is dialled.
func TestDialRefusesBlockedAnswers(t *testing.T) {
	t.Parallel()
	var blocked []string
	for _, br := range append(append([]blockedRange{}, blocked4...), blocked6...) {
		blocked = append(blocked, br.prefix.Addr().String())
	}
	for _, e := range embeddings {
		blocked = append(blocked, e.form(netip.MustParseAddr("127.0.0.1")).String(), e.form(netip.MustParseAddr("10.0.0.5")).String())
	}
	for _, b := range blocked {
		for _, answer := range [][]string{{b}, {"93.184.216.34", b}, {b, "93.184.216.34"}, {"2606:4700::1", "8.8.8.8", b}} {
			res := newResolver().set("evil.test", addrs(answer...))
			d := &fakeDialer{}
			g := newGuard(t, Config{Resolver: res, Dialer: d})
			err := dial(g, "evil.test:443")
			a := netip.MustParseAddr(b).Unmap()
			var re *RefusedError
			if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || re.Addr != a || re.Host != "evil.test" {
				t.Errorf("evil.test -> %v: err = %v, want a refusal of %s", answer, err, a)
				continue
			}
			if !strings.HasPrefix(err.Error(), "destination "+a.String()+" (for host evil.test) is ") {
				t.Errorf("evil.test -> %v: message %q", answer, err)
			}
			if got := d.calls(); len(got) != 0 {
				t.Errorf("evil.test -> %v: dialled %v", answer, got)
			}
		}
	}
}

func TestDialMessages(t *testing.T) {
	t.Parallel()
	res := newResolver().
		set("x.internal", addrs("10.0.0.5")).
		set("meta.test", addrs("169.254.169.254")).
		set("v6.test", addrs("::ffff:127.0.0.1"))
	g := newGuard(t, Config{Resolver: res, Dialer: &fakeDialer{}, AllowedOrigins: []string{"169.254.0.0/16"}})
	tests := []struct{ address, want string }{
		{"x.internal:80", "destination 10.0.0.5 (for host x.internal) is in a private range (RFC 1918); add it to server.allowed_origins to allow it"},
		{"10.0.0.5:80", "destination 10.0.0.5 is in a private range (RFC 1918); add it to server.allowed_origins to allow it"},
		{"meta.test:80", "destination 169.254.169.254 (for host meta.test) is a cloud metadata address (AWS, GCP, Azure, OpenStack and others); only an entry naming this exact address in server.allowed_origins allows it"},
		{"v6.test:80", "destination 127.0.0.1 (for host v6.test) is a loopback address; add it to server.allowed_origins to allow it"},
		{"[::ffff:127.0.0.1]:80", "destination ::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1, which is a loopback address; add it to server.allowed_origins to allow it"},
		{"[64:ff9b::a00:5]:80", "destination 64:ff9b::a00:5 is a NAT64 form of 10.0.0.5, which is in a private range (RFC 1918); add it to server.allowed_origins to allow it"},
		{"x.internal:0", "destination host x.internal: port 0 is not allowed"},
		{"2130706433:80", `destination host "2130706433": an IPv4 address must be written in dotted-decimal form (a.b.c.d)`},
		{"nowhere.test:80", "cannot resolve host nowhere.test: no such host"},
	}
	for _, tt := range tests {
		if err := dial(g, tt.address); err == nil || err.Error() != tt.want {
			t.Errorf("dial %s:\n got %v\nwant %s", tt.address, err, tt.want)
		}
	}
}

// TestDialRebinding: the address checked is the address dialled. A DNS server that
// answers with a public address and then with 127.0.0.1 gets one question per dial, and
// the dialer is only ever given the checked IP address, never the name.
func TestDialRebinding(t *testing.T) {
	t.Parallel()
	res := newResolver().set("rebind.test", addrs("93.184.216.34"), addrs("127.0.0.1"))
	d := &fakeDialer{resolver: res}
	g := newGuard(t, Config{Resolver: res, Dialer: d})
	if err := dial(g, "rebind.test:80"); err != nil {
		t.Fatalf("first dial: %v", err)
	}
	if got, want := d.calls(), []string{"93.184.216.34:80"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("dialled %v, want %v", got, want)
	}
	if n := res.count("rebind.test"); n != 1 {
		t.Fatalf("%d lookups for one dial, want 1: the dialer resolved again", n)
	}
	// The second answer is checked like the first when a new connection is dialled.
	if err := dial(g, "rebind.test:80"); !errors.Is(err, ErrRefused) {
		t.Fatalf("second dial: %v, want refused", err)
	}
	if got := d.calls(); len(got) != 1 {
		t.Fatalf("dialled %v after the rebinding answer", got)
	}
}

func TestDialTriesCheckedAddressesInOrder(t *testing.T) {
	t.Parallel()
	res := newResolver().set("multi.test", addrs("2606:4700::1", "93.184.216.34", "8.8.8.8"))
	d := &fakeDialer{fail: map[string]bool{"[2606:4700::1]:443": true}}
	g := newGuard(t, Config{Resolver: res, Dialer: d})
	if err := dial(g, "multi.test:443"); err != nil {
		t.Fatal(err)
	}
	if got, want := d.calls(), []string{"[2606:4700::1]:443", "93.184.216.34:443"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("dialled %v, want %v", got, want)
	}
	// All fail: the first error is returned, as net.Dialer does.
	d = &fakeDialer{fail: map[string]bool{"[2606:4700::1]:443": true, "93.184.216.34:443": true, "8.8.8.8:443": true}}
	g = newGuard(t, Config{Resolver: res, Dialer: d})
	err := dial(g, "multi.test:443")
	var oe *net.OpError
	if !errors.As(err, &oe) || len(d.calls()) != 3 || errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v after %v", err, d.calls())
	}
}

func TestDialNetworkFamily(t *testing.T) {
	t.Parallel()
	res := newResolver().set("dual.test", addrs("2606:4700::1", "93.184.216.34"))
	d := &fakeDialer{}
	g := newGuard(t, Config{Resolver: res, Dialer: d})
	c, err := g.DialContext(context.Background(), "tcp4", "dual.test:80")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := d.calls(); !reflect.DeepEqual(got, []string{"93.184.216.34:80"}) {
		t.Fatalf("tcp4 dialled %v", got)
	}
	for _, network := range []string{"udp", "unix", "ip4:icmp"} {
		if _, err := g.DialContext(context.Background(), network, "dual.test:80"); !errors.Is(err, ErrRefused) {
			t.Errorf("network %s: %v, want refused", network, err)
		}
	}
}

func TestDialAllowedByCIDR(t *testing.T) {
	t.Parallel()
	res := newResolver().
		set("db.internal", addrs("10.1.2.3")).
		set("mixed.internal", addrs("10.1.2.3", "192.168.0.9")).
		set("ula.internal", addrs("fd00::7")).
		set("meta.internal", addrs("169.254.169.254")).
		set("ll.internal", addrs("169.254.1.1"))
	tests := []struct {
		allow   []string
		address string
		ok      bool
	}{
		{nil, "db.internal:80", false},
		{[]string{"10.0.0.0/8"}, "db.internal:80", true},
		{[]string{"10.0.0.0/8"}, "10.9.9.9:1234", true},
		{[]string{"10.0.0.0/8"}, "[::ffff:10.9.9.9]:1234", true},
		{[]string{"10.0.0.0/8"}, "mixed.internal:80", false}, // 192.168.0.9 is not allowed
		{[]string{"10.0.0.0/8", "192.168.0.9"}, "mixed.internal:80", true},
		{[]string{"10.1.2.3"}, "db.internal:80", true},
		{[]string{"10.1.2.4"}, "db.internal:80", false},
		{[]string{"fd00::/8"}, "ula.internal:80", true},
		{[]string{"fd00::/8"}, "db.internal:80", false},
		// A CIDR matches the address as dialled, not an IPv4 address embedded in it.
		{[]string{"10.0.0.0/8"}, "[64:ff9b::a01:203]:80", false},
		// Metadata addresses need an exact entry.
		{[]string{"169.254.0.0/16"}, "ll.internal:80", true},
		{[]string{"169.254.0.0/16"}, "meta.internal:80", false},
		{[]string{"0.0.0.0/0"}, "meta.internal:80", false},
		{[]string{"169.254.169.254"}, "meta.internal:80", true},
		{[]string{"169.254.169.254/32"}, "meta.internal:80", true},
		// An origin entry does nothing without the request's origin (see Wrap).
		{[]string{"http://db.internal:80"}, "db.internal:80", false},
	}
	for _, tt := range tests {
		g := newGuard(t, Config{Resolver: res, Dialer: &fakeDialer{}, AllowedOrigins: tt.allow})
		err := dial(g, tt.address)
		if tt.ok != (err == nil) {
			t.Errorf("allow %v, dial %s: err = %v", tt.allow, tt.address, err)
		}
	}
}

func TestDialByOrigin(t *testing.T) {
	t.Parallel()
	res := newResolver().
		set("host.docker.internal", addrs("172.17.0.1")).
		set("other.internal", addrs("172.17.0.1"))
	g := newGuard(t, Config{Resolver: res, Dialer: &fakeDialer{}, AllowedOrigins: []string{"http://host.docker.internal:9000", "https://169.254.169.254"}})
	tests := []struct {
		origin  origin
		address string
		ok      bool
	}{
		{origin{"http", "host.docker.internal", "9000"}, "host.docker.internal:9000", true},
		{origin{"http", "host.docker.internal", "9000"}, "HOST.docker.internal:9000", true},
		{origin{"https", "host.docker.internal", "9000"}, "host.docker.internal:9000", false},
		{origin{"http", "host.docker.internal", "9001"}, "host.docker.internal:9001", false},
		{origin{"http", "other.internal", "9000"}, "other.internal:9000", false},
		// The dial must be for the origin itself: a proxy or another address is checked
		// on its own.
		{origin{"http", "host.docker.internal", "9000"}, "other.internal:9000", false},
		{origin{"http", "host.docker.internal", "9000"}, "host.docker.internal:3128", false},
		{origin{"https", "169.254.169.254", "443"}, "169.254.169.254:443", true},
		{origin{"http", "169.254.169.254", "80"}, "169.254.169.254:80", false},
	}
	for _, tt := range tests {
		ctx := context.WithValue(context.Background(), originKey{}, tt.origin)
		c, err := g.DialContext(ctx, "tcp", tt.address)
		if c != nil {
			c.Close()
		}
		if tt.ok != (err == nil) {
			t.Errorf("origin %s, dial %s: err = %v", tt.origin, tt.address, err)
		}
	}
}

// TestDialNumericHosts: hosts that C resolvers, browsers and curl read as IPv4 addresses
// in other notations are refused before any lookup, whatever DNS would say.
func TestDialNumericHosts(t *testing.T) {
	t.Parallel()
	hosts := []string{"2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "017700000001", "127.1", "127.0.1", "127.0.0.1.", "0", "0x0"}
	res := newResolver()
	for _, h := range hosts {
		res.set(h, addrs("127.0.0.1")) // as inet_aton would read them
	}
	d := &fakeDialer{}
	g := newGuard(t, Config{Resolver: res, Dialer: d, AllowedOrigins: []string{"http://localhost:80"}})
	for _, h := range hosts {
		if err := dial(g, net.JoinHostPort(h, "80")); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", h, err)
		}
		if n := res.count(h); n != 0 {
			t.Errorf("%s was looked up", h)
		}
	}
	if len(d.calls()) != 0 {
		t.Errorf("dialled %v", d.calls())
	}
}

func TestDialPorts(t *testing.T) {
	t.Parallel()
	res := newResolver().set("pub.test", addrs("93.184.216.34"))
	d := &fakeDialer{}
	g := newGuard(t, Config{Resolver: res, Dialer: d})
	for _, address := range []string{"pub.test:0", "pub.test:00", "pub.test:65536", "pub.test:-1", "pub.test:http", "pub.test:", "pub.test", "93.184.216.34:0"} {
		if err := dial(g, address); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", address, err)
		}
	}
	if err := dial(g, "pub.test:065535"); err != nil {
		t.Errorf("pub.test:065535: %v", err)
	}
	if got := d.calls(); !reflect.DeepEqual(got, []string{"93.184.216.34:65535"}) {
		t.Errorf("dialled %v", got)
	}
}

func TestDialLookupFailures(t *testing.T) {
	t.Parallel()
	res := newResolver().set("empty.test", nil)
	res.err["slow.test"] = nil // never answers
	res.err["servfail.test"] = &net.DNSError{Err: "server misbehaving", Name: "servfail.test", Server: "10.0.0.53:53", IsTemporary: true}
	g := newGuard(t, Config{Resolver: res, Dialer: &fakeDialer{}, LookupTimeout: 20 * time.Millisecond})
	tests := []struct{ address, want string }{
		{"nowhere.test:80", "cannot resolve host nowhere.test: no such host"},
		{"empty.test:80", "cannot resolve host empty.test: no address"},
		{"slow.test:80", "cannot resolve host slow.test: no answer within 20ms"},
		{"servfail.test:80", "cannot resolve host servfail.test: server misbehaving"},
	}
	for _, tt := range tests {
		err := dial(g, tt.address)
		var le *LookupError
		if !errors.As(err, &le) || err.Error() != tt.want || errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want %q", tt.address, err, tt.want)
		}
	}
	if err := dial(g, "slow.test:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a lookup timeout does not wrap context.DeadlineExceeded: %v", err)
	}
}

// BenchmarkDialOverhead measures what the guard adds to a dial: the lookup (answered
// from memory), the checks and the origin comparison, with a dialer that does nothing.
func BenchmarkDialOverhead(b *testing.B) {
	res := newResolver().set("pub.test", addrs("93.184.216.34", "2606:4700::1"))
	g := newGuard(b, Config{Resolver: res, Dialer: nopDialer{}, AllowedOrigins: []string{"10.0.0.0/8", "https://hooks.internal"}})
	ctx := context.WithValue(context.Background(), originKey{}, origin{"https", "pub.test", "443"})
	b.Run("name", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.DialContext(ctx, "tcp", "pub.test:443"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("literal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.DialContext(ctx, "tcp", "10.1.2.3:443"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type nopDialer struct{}

func (nopDialer) DialContext(context.Context, string, string) (net.Conn, error) { return nil, nil }
