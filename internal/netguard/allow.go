package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// origin is a scheme, host and port, as an allow entry names it and as a request's URL
// gives it. host is lower case, an IP address in its canonical form, without brackets.
type origin struct {
	scheme, host, port string
}

func (o origin) String() string {
	h := o.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return o.scheme + "://" + h + ":" + o.port
}

// allowList is the parsed allowed_origins.
type allowList struct {
	origins  map[origin]bool
	prefixes []netip.Prefix
}

// EntryError is an allowed_origins entry that cannot be used.
type EntryError struct {
	Index  int
	Entry  string
	Reason string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("allowed_origins[%d] %q: %s", e.Index, e.Entry, e.Reason)
}

func parseAllowList(entries []string) (allowList, error) {
	al := allowList{origins: map[origin]bool{}}
	for i, s := range entries {
		o, p, err := parseEntry(s)
		if err != nil {
			return allowList{}, &EntryError{Index: i, Entry: s, Reason: err.Error()}
		}
		if o.host != "" {
			al.origins[o] = true
		} else {
			al.prefixes = append(al.prefixes, p)
		}
	}
	return al, nil
}

// ValidateEntry reports whether s can be used as an allowed_origins entry, so that a
// configuration can be checked before the server starts.
func ValidateEntry(s string) error {
	_, _, err := parseEntry(s)
	return err
}

// parseEntry reads one entry: an origin (scheme://host[:port]), a CIDR or an IP address.
func parseEntry(s string) (origin, netip.Prefix, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return origin{}, netip.Prefix{}, errors.New("empty")
	case strings.Contains(s, "://"):
		o, err := parseOrigin(s)
		return o, netip.Prefix{}, err
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return origin{}, netip.Prefix{}, errors.New("not a CIDR (such as 10.0.0.0/8 or fd00::/8) nor an origin (such as https://hooks.internal)")
		}
		if p.Addr().Zone() != "" {
			return origin{}, netip.Prefix{}, errors.New("a CIDR cannot have an IPv6 zone")
		}
		if p != p.Masked() {
			return origin{}, netip.Prefix{}, fmt.Errorf("has address bits beyond the prefix length: write %s (or %s for one address)",
				p.Masked(), netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Addresses are checked in their IPv4 form, so is the prefix.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return origin{}, p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if isNonStandardIPv4(s) {
			return origin{}, netip.Prefix{}, errors.New("an IPv4 address must be written in dotted-decimal form (a.b.c.d)")
		}
		return origin{}, netip.Prefix{}, errors.New("not an origin (scheme://host[:port], such as https://hooks.internal), a CIDR (such as 10.0.0.0/8) or an IP address")
	}
	if a.Zone() != "" {
		return origin{}, netip.Prefix{}, errors.New("an address cannot have an IPv6 zone")
	}
	a = a.Unmap()
	return origin{}, netip.PrefixFrom(a, a.BitLen()), nil
}

func parseOrigin(s string) (origin, error) {
	u, err := url.Parse(s)
	if err != nil {
		return origin{}, errors.New("not a valid origin (scheme://host[:port])")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return origin{}, errors.New("the scheme of an origin must be http or https")
	}
	switch {
	case u.Opaque != "" || u.Host == "":
		return origin{}, errors.New("an origin needs a host: scheme://host[:port]")
	case u.User != nil:
		return origin{}, errors.New("an origin cannot hold a user name or password")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return origin{}, errors.New("an origin is scheme://host[:port] only, without a path, query or fragment")
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return origin{}, err
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	port, err = parsePort(port)
	if err != nil {
		return origin{}, err
	}
	return origin{scheme: scheme, host: host, port: port}, nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// parsePort accepts a decimal port from 1 to 65535 and returns it in canonical form
// (without leading zeros).
func parsePort(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	if n == 0 {
		return "", errors.New("port 0 is not allowed")
	}
	return strconv.FormatUint(n, 10), nil
}

// canonicalHost puts a host in the form origins are compared in: an IP address in its
// canonical text, a name in lower case. Names that a resolver could take for an IPv4
// address in another notation (2130706433, 0x7f.1, 0177.0.0.1, 127.1) are refused.
func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", errors.New("the host is empty")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", errors.New("an address with an IPv6 zone is not allowed")
		}
		return a.String(), nil
	}
	if isNonStandardIPv4(h) {
		return "", errors.New("an IPv4 address must be written in dotted-decimal form (a.b.c.d)")
	}
	return strings.ToLower(h), nil
}

// isNonStandardIPv4 reports whether a host that is not a canonical IP address ends in a
// number, as the WHATWG URL standard puts it: browsers, curl and C resolvers
// (inet_aton) read such a host as an IPv4 address ("2130706433", "0x7f.1" and
// "0177.0.0.1" are all 127.0.0.1), while Go hands it to DNS. No real host name has a
// numeric last label, so the guard refuses these rather than guess how they resolve.
func isNonStandardIPv4(h string) bool {
	h = strings.TrimSuffix(h, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	digits := last
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		digits = last[2:]
		for _, c := range digits {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
