package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

// The forms of IPv6 address that embed an IPv4 address.
func mapped(v4 netip.Addr) netip.Addr { return netip.AddrFrom16(v4.As16()) }

func compat(v4 netip.Addr) netip.Addr {
	var b [16]byte
	copy(b[12:], v4.AsSlice())
	return netip.AddrFrom16(b)
}

func nat64Of(v4 netip.Addr) netip.Addr {
	b := netip.MustParseAddr("64:ff9b::").As16()
	copy(b[12:], v4.AsSlice())
	return netip.AddrFrom16(b)
}

func sixTo4Of(v4 netip.Addr) netip.Addr {
	b := netip.MustParseAddr("2002::1").As16()
	copy(b[2:6], v4.AsSlice())
	return netip.AddrFrom16(b)
}

var public4 = netip.MustParseAddr("8.8.8.8")

func teredoServer(v4 netip.Addr) netip.Addr { return teredoOf(v4, public4) }
func teredoClient(v4 netip.Addr) netip.Addr { return teredoOf(public4, v4) }

func teredoOf(server, client netip.Addr) netip.Addr {
	b := netip.MustParseAddr("2001::").As16()
	copy(b[4:8], server.AsSlice())
	c := client.As4()
	for i := range c {
		b[12+i] = ^c[i]
	}
	return netip.AddrFrom16(b)
}

var embeddings = []struct {
	name string
	form func(netip.Addr) netip.Addr
	says string
}{
	{"mapped", mapped, "an IPv4-mapped form of"},
	{"compatible", compat, "an IPv4-compatible form of"},
	{"NAT64", nat64Of, "a NAT64 form of"},
	{"6to4", sixTo4Of, "a 6to4 form of"},
	{"Teredo server", teredoServer, "a Teredo address with server"},
	{"Teredo client", teredoClient, "a Teredo address with client"},
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestEveryRangeIsBlocked checks the first and last address of every blocked range, and
// every IPv6 form of every blocked IPv4 range.
func TestEveryRangeIsBlocked(t *testing.T) {
	t.Parallel()
	for _, br := range append(append([]blockedRange{}, blocked4...), blocked6...) {
		for _, a := range []netip.Addr{br.prefix.Addr(), lastAddr(br.prefix)} {
			v := classify(a)
			if !v.blocked() {
				t.Errorf("%s (in %s) is not blocked", a, br.prefix)
				continue
			}
			if v.metadata != br.metadata && br.prefix.IsSingleIP() {
				t.Errorf("%s: metadata = %v", a, v.metadata)
			}
		}
	}
	for _, br := range blocked4 {
		for _, e := range embeddings {
			for _, v4 := range []netip.Addr{br.prefix.Addr(), lastAddr(br.prefix)} {
				a := e.form(v4)
				v := classify(a)
				if own := match(a, blocked6); own.blocked() {
					// :: and ::1 are IPv4-compatible forms of 0.0.0.0 and 0.0.0.1,
					// and blocked for what they are first.
					if !v.blocked() {
						t.Errorf("%s is not blocked", a)
					}
					continue
				}
				if !v.blocked() || !strings.Contains(v.reason, e.says+" "+v4.String()) {
					t.Errorf("%s (%s of %s): verdict %+v, want blocked as %q", a, e.name, v4, v, e.says)
				}
				if br.metadata && !v.metadata {
					t.Errorf("%s (%s of metadata %s) is not marked metadata", a, e.name, v4)
				}
			}
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		reason string // "" for an address that needs no allow entry
		meta   bool
	}{
		{"127.0.0.1", "a loopback address", false},
		{"127.255.255.254", "a loopback address", false},
		{"::1", "a loopback address", false},
		{"0.0.0.0", "the unspecified address", false},
		{"0.1.2.3", `in 0.0.0.0/8 ("this network"), which reaches this host`, false},
		{"::", "the unspecified address", false},
		{"10.0.0.5", "in a private range (RFC 1918)", false},
		{"172.16.0.1", "in a private range (RFC 1918)", false},
		{"172.31.255.255", "in a private range (RFC 1918)", false},
		{"192.168.1.1", "in a private range (RFC 1918)", false},
		{"169.254.1.1", "a link-local address", false},
		{"fe80::1", "a link-local address", false},
		{"febf::1", "a link-local address", false},
		{"100.64.0.1", "in the carrier-grade NAT range (RFC 6598)", false},
		{"100.127.255.255", "in the carrier-grade NAT range (RFC 6598)", false},
		{"fc00::1", "a unique local address (fc00::/7)", false},
		{"fd12:3456::1", "a unique local address (fc00::/7)", false},
		{"224.0.0.1", "a multicast address", false},
		{"239.255.255.250", "a multicast address", false},
		{"ff02::1", "a multicast address", false},
		{"255.255.255.255", "the broadcast address", false},
		{"240.0.0.1", "in the reserved range 240.0.0.0/4", false},
		{"169.254.169.254", "a cloud metadata address (AWS, GCP, Azure, OpenStack and others)", true},
		{"169.254.170.2", "a cloud metadata address (AWS ECS task metadata)", true},
		{"fd00:ec2::254", "a cloud metadata address (AWS)", true},
		{"100.100.100.200", "a cloud metadata address (Alibaba Cloud)", true},
		{"168.63.129.16", "a cloud metadata address (Azure WireServer)", true},
		{"198.18.0.1", "in the benchmarking range (RFC 2544)", false},
		{"198.19.255.255", "in the benchmarking range (RFC 2544)", false},
		{"192.0.2.1", "in a documentation range (RFC 5737)", false},
		{"198.51.100.7", "in a documentation range (RFC 5737)", false},
		{"203.0.113.9", "in a documentation range (RFC 5737)", false},
		{"2001:db8::1", "in a documentation range (RFC 3849)", false},
		{"192.0.0.8", "in the IETF protocol assignments range (RFC 6890)", false},
		{"fec0::1", "a site-local address (fec0::/10, deprecated)", false},
		{"100::1", "in the discard-only range (RFC 6666)", false},
		{"64:ff9b:1::a00:5", "in the local-use NAT64 range (RFC 8215)", false},
		// IPv4 inside IPv6.
		{"::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, which is a loopback address", false},
		{"::ffff:169.254.169.254", "an IPv4-mapped form of 169.254.169.254, which is a cloud metadata address (AWS, GCP, Azure, OpenStack and others)", true},
		{"::127.0.0.1", "an IPv4-compatible form of 127.0.0.1, which is a loopback address", false},
		{"::10.0.0.1", "an IPv4-compatible form of 10.0.0.1, which is in a private range (RFC 1918)", false},
		{"::8.8.8.8", "a deprecated IPv4-compatible address (::/96)", false},
		{"64:ff9b::127.0.0.1", "a NAT64 form of 127.0.0.1, which is a loopback address", false},
		{"64:ff9b::a9fe:a9fe", "a NAT64 form of 169.254.169.254, which is a cloud metadata address (AWS, GCP, Azure, OpenStack and others)", true},
		{"2002:7f00:1::", "a 6to4 form of 127.0.0.1, which is a loopback address", false},
		{"2002:c0a8:101::1", "a 6to4 form of 192.168.1.1, which is in a private range (RFC 1918)", false},
		{"2001:0:7f00:1::", "a Teredo address with server 127.0.0.1, which is a loopback address", false},
		{"2001:0:808:808::80ff:fffe", "a Teredo address with client 127.0.0.1, which is a loopback address", false},
		// RFC 4380's example: client 192.0.2.45 (documentation) behind server 65.54.227.120.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo address with client 192.0.2.45, which is in a documentation range (RFC 5737)", false},
		// Zones are ignored for the check.
		{"fe80::1%eth0", "a link-local address", false},
		// Public, including the edges of blocked ranges and public embeddings.
		{"8.8.8.8", "", false},
		{"1.1.1.1", "", false},
		{"9.255.255.255", "", false},
		{"11.0.0.0", "", false},
		{"172.15.255.255", "", false},
		{"172.32.0.0", "", false},
		{"192.167.255.255", "", false},
		{"192.169.0.0", "", false},
		{"100.63.255.255", "", false},
		{"100.128.0.0", "", false},
		{"198.17.255.255", "", false},
		{"198.20.0.0", "", false},
		{"223.255.255.255", "", false},
		{"169.253.255.255", "", false},
		{"2606:4700:4700::1111", "", false},
		{"2a00:1450:4001::200e", "", false},
		{"64:ff9b::8.8.8.8", "", false},
		{"2002:808:808::1", "", false},
		{"2001:0:808:808::f7f7:f7f7", "", false},
		{"fbff:ffff::1", "", false},
		{"fe00::1", "", false},
		{"::ffff:8.8.8.8", "", false},
	}
	for _, tt := range tests {
		v := classify(netip.MustParseAddr(tt.addr))
		if v.reason != tt.reason || v.metadata != tt.meta {
			t.Errorf("classify(%s) = %q (metadata %v), want %q (metadata %v)", tt.addr, v.reason, v.metadata, tt.reason, tt.meta)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	as := addrs("8.8.8.8", "2606:4700:4700::1111", "10.0.0.5", "2001:0:808:808::f7f7:f7f7")
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range as {
			classify(a)
		}
	}
}
