package netguard

import (
	"fmt"
	"net/netip"
)

// verdict is what the guard knows about one address outside the allow list.
type verdict struct {
	// reason completes "destination X is ...": "in a private range (RFC 1918)". Empty for
	// an address that may be reached without being allowed.
	reason string
	// metadata is set for a cloud metadata address (or a form that embeds one): only an
	// allow entry naming exactly that address permits it, never a wider CIDR.
	metadata bool
}

func (v verdict) blocked() bool { return v.reason != "" }

type blockedRange struct {
	prefix   netip.Prefix
	reason   string
	metadata bool
}

func r(cidr, reason string) blockedRange {
	return blockedRange{prefix: netip.MustParsePrefix(cidr), reason: reason}
}

func meta(addr, cloud string) blockedRange {
	a := netip.MustParseAddr(addr)
	return blockedRange{prefix: netip.PrefixFrom(a, a.BitLen()), reason: "a cloud metadata address (" + cloud + ")", metadata: true}
}

const (
	rfc1918   = "in a private range (RFC 1918)"
	loopback  = "a loopback address"
	linkLocal = "a link-local address"
	multicast = "a multicast address"
	docs      = "in a documentation range"
)

// blocked4 lists the IPv4 ranges refused unless allowed; the first match names the
// reason, so the exact addresses come before the ranges that hold them.
var blocked4 = []blockedRange{
	meta("169.254.169.254", "AWS, GCP, Azure, OpenStack and others"),
	meta("169.254.170.2", "AWS ECS task metadata"),
	meta("100.100.100.200", "Alibaba Cloud"),
	meta("168.63.129.16", "Azure WireServer"),
	r("255.255.255.255/32", "the broadcast address"),
	r("0.0.0.0/32", "the unspecified address"),
	r("0.0.0.0/8", `in 0.0.0.0/8 ("this network"), which reaches this host`),
	r("127.0.0.0/8", loopback),
	r("10.0.0.0/8", rfc1918),
	r("172.16.0.0/12", rfc1918),
	r("192.168.0.0/16", rfc1918),
	r("100.64.0.0/10", "in the carrier-grade NAT range (RFC 6598)"),
	r("169.254.0.0/16", linkLocal),
	r("192.0.0.0/24", "in the IETF protocol assignments range (RFC 6890)"),
	r("192.0.2.0/24", docs+" (RFC 5737)"),
	r("198.51.100.0/24", docs+" (RFC 5737)"),
	r("203.0.113.0/24", docs+" (RFC 5737)"),
	r("198.18.0.0/15", "in the benchmarking range (RFC 2544)"),
	r("224.0.0.0/4", multicast),
	r("240.0.0.0/4", "in the reserved range 240.0.0.0/4"),
}

// blocked6 lists the IPv6 ranges refused unless allowed. The forms that embed an IPv4
// address (mapped, compatible, NAT64, 6to4, Teredo) are handled by classify first.
var blocked6 = []blockedRange{
	meta("fd00:ec2::254", "AWS"),
	r("::/128", "the unspecified address"),
	r("::1/128", loopback),
	r("64:ff9b:1::/48", "in the local-use NAT64 range (RFC 8215)"),
	r("100::/64", "in the discard-only range (RFC 6666)"),
	r("2001:2::/48", "in the benchmarking range (RFC 5180)"),
	r("2001:db8::/32", docs+" (RFC 3849)"),
	r("3fff::/20", docs+" (RFC 9637)"),
	r("fc00::/7", "a unique local address (fc00::/7)"),
	r("fe80::/10", linkLocal),
	r("fec0::/10", "a site-local address (fec0::/10, deprecated)"),
	r("ff00::/8", multicast),
}

var (
	compat4 = netip.MustParsePrefix("::/96")
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	teredo  = netip.MustParsePrefix("2001::/32")
)

// classify tells whether a may be reached without an allow entry. IPv6 addresses that
// embed an IPv4 address are judged by the embedded address too, since that is where the
// packets end up (through the kernel, a NAT64 gateway or a tunnel relay).
func classify(a netip.Addr) verdict {
	a = a.WithZone("")
	if a.Is4In6() {
		return embedded(a.Unmap(), "an IPv4-mapped form of")
	}
	if a.Is4() {
		return match(a, blocked4)
	}
	if v := match(a, blocked6); v.blocked() {
		return v
	}
	b := a.As16()
	switch {
	case compat4.Contains(a):
		// Deprecated since RFC 4291 and never a legitimate DNS answer: refused whatever
		// it embeds, with the embedded address's reason when it has one.
		v4 := netip.AddrFrom4([4]byte(b[12:16]))
		if v := embedded(v4, "an IPv4-compatible form of"); v.blocked() {
			return v
		}
		return verdict{reason: "a deprecated IPv4-compatible address (::/96)"}
	case nat64.Contains(a):
		return embedded(netip.AddrFrom4([4]byte(b[12:16])), "a NAT64 form of")
	case sixTo4.Contains(a):
		return embedded(netip.AddrFrom4([4]byte(b[2:6])), "a 6to4 form of")
	case teredo.Contains(a):
		// Teredo carries the server's IPv4 address in bits 32-63 and the client's,
		// inverted, in the last 32 bits.
		if v := embedded(netip.AddrFrom4([4]byte(b[4:8])), "a Teredo address with server"); v.blocked() {
			return v
		}
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return embedded(netip.AddrFrom4(client), "a Teredo address with client")
	}
	return verdict{}
}

func embedded(v4 netip.Addr, form string) verdict {
	v := match(v4, blocked4)
	if v.blocked() {
		v.reason = fmt.Sprintf("%s %s, which is %s", form, v4, v.reason)
	}
	return v
}

func match(a netip.Addr, ranges []blockedRange) verdict {
	for _, br := range ranges {
		if br.prefix.Contains(a) {
			return verdict{reason: br.reason, metadata: br.metadata}
		}
	}
	return verdict{}
}
