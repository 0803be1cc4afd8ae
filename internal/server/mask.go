package server

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/template"
)

// A hook's definition as shown to people (the web UI, and the API for the config file's
// hooks) never holds a credential: hooks made through the API keep theirs as stored
// secrets already ({{ secret "auth.token" }}), but a config file may write them
// literally, and a URL's password or an Authorization header are literal in both. Those
// values are shown as template.Mask; a masked value sent back unchanged keeps the
// stored one (unmaskDef).

// oneAction is a value that is a single template action ({{ env "TOKEN" }}): a
// reference to a secret, not a secret.
var oneAction = regexp.MustCompile(`^\s*\{\{[^{}]*\}\}\s*$`)

// urlPassword finds the password of a URL's user information.
var urlPassword = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^/@:?#]*):([^/@?#]*)@`)

// maskSecretValue masks a value of a field that holds a secret, unless it is a
// reference.
func maskSecretValue(v string) string {
	if v == "" || oneAction.MatchString(v) {
		return v
	}
	return template.Mask
}

// maskURL masks the password of a URL's user information.
func maskURL(u string) string {
	m := urlPassword.FindStringSubmatchIndex(u)
	if m == nil || m[5] == m[4] || oneAction.MatchString(u[m[4]:m[5]]) {
		return u
	}
	return u[:m[4]] + template.Mask + u[m[5]:]
}

// sensitiveName reports whether a header or environment variable name usually carries
// a credential.
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "credential", "private"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func maskMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if sensitiveName(k) {
			v = maskSecretValue(v)
		}
		out[k] = v
	}
	return out
}

// maskedHook returns a copy of h with its literal credentials masked and without its
// compiled templates (which hold the literal text).
func maskedHook(h *config.Hook) *config.Hook {
	c := *h
	if h.HTTP != nil {
		hc := *h.HTTP
		hc.Compiled = nil
		hc.URL = maskURL(hc.URL)
		hc.Headers = maskMap(hc.Headers)
		if hc.Auth != nil {
			a := *hc.Auth
			a.Password, a.Token = maskSecretValue(a.Password), maskSecretValue(a.Token)
			hc.Auth = &a
		}
		if hc.Sign != nil {
			sg := config.Sign{Secret: make(config.StringList, len(hc.Sign.Secret))}
			for i, v := range hc.Sign.Secret {
				sg.Secret[i] = maskSecretValue(v)
			}
			hc.Sign = &sg
		}
		c.HTTP = &hc
	}
	if h.Exec != nil {
		ec := *h.Exec
		ec.Compiled = nil
		ec.Env = maskMap(ec.Env)
		c.Exec = &ec
	}
	return &c
}

// unmaskDef puts back, in a definition sent to replace cur, every value that is the
// masked form of cur's value in the same place: what a form showed masked and was sent
// back unchanged.
func unmaskDef(def map[string]json.RawMessage, cur *config.Hook) {
	if cur == nil || cur.HTTP == nil && cur.Exec == nil {
		return
	}
	masked := maskedHook(cur)
	// keep returns the current value when v is its masked form.
	keep := func(v any, masked, current string) any {
		if s, ok := v.(string); ok && masked != current && s == masked {
			return current
		}
		return v
	}
	keepMap := func(v any, masked, current map[string]string) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, val := range m {
			if cv, ok := current[k]; ok {
				m[k] = keep(val, masked[k], cv)
			}
		}
		return m
	}
	edit := func(key string, fn func(m map[string]any)) {
		raw, ok := def[key]
		if !ok {
			return
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || m == nil {
			return
		}
		fn(m)
		def[key], _ = json.Marshal(m)
	}
	if cur.HTTP != nil {
		edit("http", func(h map[string]any) {
			if v, ok := h["url"]; ok {
				h["url"] = keep(v, masked.HTTP.URL, cur.HTTP.URL)
			}
			if _, ok := h["headers"]; ok {
				h["headers"] = keepMap(h["headers"], masked.HTTP.Headers, cur.HTTP.Headers)
			}
			if a, ok := h["auth"].(map[string]any); ok && cur.HTTP.Auth != nil {
				for _, f := range []struct {
					name            string
					masked, current string
				}{
					{"password", masked.HTTP.Auth.Password, cur.HTTP.Auth.Password},
					{"token", masked.HTTP.Auth.Token, cur.HTTP.Auth.Token},
				} {
					if v, ok := a[f.name]; ok {
						a[f.name] = keep(v, f.masked, f.current)
					}
				}
			}
			if sg, ok := h["sign"].(map[string]any); ok && cur.HTTP.Sign != nil {
				switch list := sg["secret"].(type) {
				case []any:
					for i := range list {
						if i < len(cur.HTTP.Sign.Secret) {
							list[i] = keep(list[i], masked.HTTP.Sign.Secret[i], cur.HTTP.Sign.Secret[i])
						}
					}
				case string:
					if len(cur.HTTP.Sign.Secret) > 0 {
						sg["secret"] = keep(list, masked.HTTP.Sign.Secret[0], cur.HTTP.Sign.Secret[0])
					}
				}
			}
		})
	}
	if cur.Exec != nil {
		edit("exec", func(e map[string]any) {
			if _, ok := e["env"]; ok {
				e["env"] = keepMap(e["env"], masked.Exec.Env, cur.Exec.Env)
			}
		})
	}
}
