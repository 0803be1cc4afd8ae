package template

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hookpoint/hookpoint/internal/jsonwrite"
)

// What hookpoint renders itself is masked exactly where secrets went (RenderView). Text
// that comes back from outside — a response body, a command's output, an error string —
// can only be searched: Mask looks for every secret in the encodings a receiver or a
// program is likely to echo it in, and for a secret URL or token also for its meaningful
// parts, since a default 404 page echoes the request path and a log line may show only
// the token in the query.

// MinMaskLen is the shortest secret that Mask looks for in text from outside: a shorter
// one would hide letters of ordinary words. `hookpoint check` warns about such secrets.
const MinMaskLen = 4

// SafeMaskLen is the length from which a secret is unlikely to match unrelated text;
// `hookpoint check` warns about secrets shorter than this.
const SafeMaskLen = 8

// minPartLen is the shortest part of a secret URL that is masked on its own.
const minPartLen = 6

// Mask returns text from outside hookpoint with every secret this scope read (and every
// value computed from one) hidden.
func (s *Scope) Mask(text string) string {
	if len(s.secrets) == 0 || text == "" {
		return text
	}
	if s.masker == nil {
		s.masker = cachedMasker(s.secrets)
	}
	return s.masker.mask(text)
}

// The renderings of a hook read the same secrets every time: their maskers are kept,
// a bounded number of them.
var (
	maskers      sync.Map // secrets joined by NUL -> *masker
	maskersCount atomic.Int64
)

const maxCachedMaskers = 256

func cachedMasker(secrets []string) *masker {
	key := strings.Join(secrets, "\x00")
	if m, ok := maskers.Load(key); ok {
		return m.(*masker)
	}
	m := newMasker(secrets)
	if maskersCount.Add(1) <= maxCachedMaskers {
		maskers.Store(key, m)
	}
	return m
}

type masker struct {
	forms []string // longest first
}

func newMasker(secrets []string) *masker {
	seen := map[string]bool{}
	var forms []string
	for _, sec := range secrets {
		for _, f := range secretForms(sec) {
			if len(f) >= MinMaskLen && !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	// Longest first, so that a secret containing another is masked whole.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return &masker{forms: forms}
}

func (m *masker) mask(text string) string {
	for _, f := range m.forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, Mask)
		}
	}
	return text
}

// secretForms lists what to look for: the secret's encodings, and those of its parts.
// Secrets are few and the same ones come back with every rendering, so the lists are
// kept.
func secretForms(s string) []string {
	if f, ok := formsCache.Load(s); ok {
		return f.([]string)
	}
	var forms []string
	if len(s) >= MinMaskLen {
		forms = encodings(s)
	}
	for _, p := range secretParts(s) {
		forms = append(forms, encodings(p)...)
	}
	if formsCached.Add(1) <= maxCachedSecrets {
		formsCache.Store(s, forms)
	}
	return forms
}

// encodings are the ways text is commonly echoed: as it is, percent-encoded (either
// case of hex digits), JSON-escaped (with or without HTML-safe escapes and escaped
// slashes), XML/HTML-escaped, base64 and hex.
func encodings(s string) []string {
	out := []string{s}
	add := func(f string) {
		if f != "" {
			out = append(out, f)
		}
	}
	for _, pe := range []string{url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20")} {
		add(pe)
		add(lowerPercent(pe))
	}
	if b, err := jsonwrite.Marshal(s); err == nil {
		in := string(b[1 : len(b)-1])
		add(in)
		add(strings.ReplaceAll(in, "/", `\/`))
	}
	if b, err := json.Marshal(s); err == nil {
		in := string(b[1 : len(b)-1])
		add(in)
		add(strings.ReplaceAll(in, "/", `\/`))
		// Echoed inside JSON again (a receiver that returns the request body as a JSON
		// string): escaped twice.
		if b2, err := json.Marshal(in); err == nil {
			add(string(b2[1 : len(b2)-1]))
		}
	}
	// ASCII-only JSON (Python's json.dumps, PHP's json_encode): \uXXXX for the rest.
	add(asciiJSON(s))
	add(xmlEscape(s))
	add(html.EscapeString(s))
	add(base64.StdEncoding.EncodeToString([]byte(s)))
	add(base64.URLEncoding.EncodeToString([]byte(s)))
	add(base64.RawStdEncoding.EncodeToString([]byte(s)))
	add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	add(hex.EncodeToString([]byte(s)))
	add(strings.ToUpper(hex.EncodeToString([]byte(s))))
	return out
}

// asciiJSON is the inside of s as a JSON string with every character beyond ASCII (and
// the characters JSON must escape) written as \uXXXX, in lower-case hex; "" when that is
// s's usual JSON form.
func asciiJSON(s string) string {
	var b strings.Builder
	changed := false
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
			changed = true
		default:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			changed = true
		}
	}
	if !changed {
		return ""
	}
	return b.String()
}

// lowerPercent returns s with the hex digits of its percent-escapes in lower case.
func lowerPercent(s string) string {
	if !strings.Contains(s, "%") {
		return ""
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// secretParts returns the parts of a secret that mean something on their own: of a URL,
// its user information and the path segments and query values that look like tokens
// (not "services" or "api", which would hide ordinary words in a response).
func secretParts(s string) []string {
	if !strings.Contains(s, "://") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil
	}
	var parts []string
	add := func(p string) {
		if tokenLike(p) {
			parts = append(parts, p)
		}
	}
	// A secret host (a per-customer subdomain, a token in the name) is shown by errors
	// such as "cannot resolve host ...".
	if h := u.Hostname(); tokenLike(strings.Split(h, ".")[0]) {
		parts = append(parts, h)
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok && len(p) >= MinMaskLen {
			parts = append(parts, p)
		} else if len(u.User.Username()) >= MinMaskLen {
			parts = append(parts, u.User.Username())
		}
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		add(seg)
		if dec, err := url.PathUnescape(seg); err == nil && dec != seg {
			add(dec)
		}
	}
	for _, vals := range u.Query() {
		for _, v := range vals {
			add(v)
		}
	}
	if u.Fragment != "" {
		add(u.Fragment)
	}
	return parts
}

// tokenLike reports whether p looks like an identifier or a key rather than a word.
func tokenLike(p string) bool {
	if len(p) < minPartLen {
		return false
	}
	if len(p) >= 16 {
		return true
	}
	var digit, upper, lower bool
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		}
	}
	return digit || (upper && lower)
}

// maxCachedSecrets bounds the cache of forms (rotated secrets add entries).
const maxCachedSecrets = 1024

var (
	formsCache  sync.Map // secret -> []string
	formsCached atomic.Int64
)
