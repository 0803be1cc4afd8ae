package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entry  string
		origin origin
		prefix string
	}{
		{"http://host.docker.internal:9000", origin{"http", "host.docker.internal", "9000"}, ""},
		{"https://hooks.internal", origin{"https", "hooks.internal", "443"}, ""},
		{"http://hooks.internal/", origin{"http", "hooks.internal", "80"}, ""},
		{"HTTPS://Hooks.Internal:08443", origin{"https", "hooks.internal", "8443"}, ""},
		{"http://127.0.0.1:9000", origin{"http", "127.0.0.1", "9000"}, ""},
		{"http://[FD00::0001]:9000", origin{"http", "fd00::1", "9000"}, ""},
		{" 10.0.0.0/8 ", origin{}, "10.0.0.0/8"},
		{"fd00::/8", origin{}, "fd00::/8"},
		{"10.1.2.3", origin{}, "10.1.2.3/32"},
		{"fd00::5", origin{}, "fd00::5/128"},
		{"::ffff:10.0.0.0/104", origin{}, "10.0.0.0/8"},
		{"::ffff:10.0.0.1", origin{}, "10.0.0.1/32"},
	}
	for _, tt := range tests {
		o, p, err := parseEntry(tt.entry)
		if err != nil {
			t.Errorf("parseEntry(%q): %v", tt.entry, err)
			continue
		}
		if o != tt.origin {
			t.Errorf("parseEntry(%q) origin = %+v, want %+v", tt.entry, o, tt.origin)
		}
		if tt.prefix != "" && p != netip.MustParsePrefix(tt.prefix) {
			t.Errorf("parseEntry(%q) prefix = %s, want %s", tt.entry, p, tt.prefix)
		}
	}
}

func TestParseEntryRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct{ entry, want string }{
		{"", "empty"},
		{"hooks.internal:9000", "not an origin (scheme://host[:port], such as https://hooks.internal), a CIDR (such as 10.0.0.0/8) or an IP address"},
		{"ftp://hooks.internal", "the scheme of an origin must be http or https"},
		{"http://", "an origin needs a host: scheme://host[:port]"},
		{"http://user:pw@hooks.internal", "an origin cannot hold a user name or password"},
		{"http://hooks.internal/path", "an origin is scheme://host[:port] only, without a path, query or fragment"},
		{"http://hooks.internal?x=1", "an origin is scheme://host[:port] only, without a path, query or fragment"},
		{"http://hooks.internal:0", "port 0 is not allowed"},
		{"http://hooks.internal:65536", `port "65536" is not a number from 1 to 65535`},
		{"http://2130706433:9000", "an IPv4 address must be written in dotted-decimal form (a.b.c.d)"},
		{"http://[fe80::1%25eth0]:80", "an address with an IPv6 zone is not allowed"},
		{"10.0.0.1/8", "has address bits beyond the prefix length: write 10.0.0.0/8 (or 10.0.0.1/32 for one address)"},
		{"10.0.0.0/33", "not a CIDR (such as 10.0.0.0/8 or fd00::/8) nor an origin (such as https://hooks.internal)"},
		{"0x7f.1", "an IPv4 address must be written in dotted-decimal form (a.b.c.d)"},
		{"fe80::1%eth0", "an address cannot have an IPv6 zone"},
	}
	for _, tt := range tests {
		err := ValidateEntry(tt.entry)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ValidateEntry(%q) = %v, want %q", tt.entry, err, tt.want)
		}
	}
	_, err := New(Config{AllowedOrigins: []string{"10.0.0.0/8", "hooks.internal"}})
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Index != 1 || err.Error() != `allowed_origins[1] "hooks.internal": not an origin (scheme://host[:port], such as https://hooks.internal), a CIDR (such as 10.0.0.0/8) or an IP address` {
		t.Errorf("New with a bad entry: %v", err)
	}
}

func TestIsNonStandardIPv4(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"2130706433":    true,
		"0x7f.1":        true,
		"0x7f000001":    true,
		"0177.0.0.1":    true,
		"017700000001":  true,
		"127.1":         true,
		"127.0.1":       true,
		"1.2.3.4.":      true,
		"foo.0x10":      true,
		"0x":            true,
		"example.com":   false,
		"1.example.com": false,
		"host-1":        false,
		"0xg":           false,
		"localhost":     false,
		"123.abc":       false,
	} {
		if got := isNonStandardIPv4(h); got != want {
			t.Errorf("isNonStandardIPv4(%q) = %v, want %v", h, got, want)
		}
	}
}
