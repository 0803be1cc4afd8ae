package config

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/suggest"
	"github.com/hookpoint/hookpoint/internal/template"
)

var (
	hookIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	patternRE   = regexp.MustCompile(`^[A-Za-z0-9._*-]+$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	headerKeyRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// Statuses a hook's status filter may name; "any" matches all.
var filterStatuses = []string{"any", event.StatusSuccess, event.StatusWarning, event.StatusFail, event.StatusCancelled}

// Limits on values.
const (
	MaxTimeout     = 24 * time.Hour
	MaxAttemptsCap = 100
)

type validator struct {
	c      *Config
	issues []Issue
	// broken holds the paths of values that could not be read (reported already): a
	// problem within one is not reported again.
	broken map[string]bool
}

// isBroken reports whether the value at path, or one it is within, could not be read.
func (v *validator) isBroken(path string) bool {
	for path != "" {
		if v.broken[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return false
}

func (v *validator) errf(path, format string, args ...any) {
	if v.isBroken(path) {
		return
	}
	p := v.c.Pos(path)
	file := v.c.File
	if file == "" {
		file = "config"
	}
	field := path
	v.issues = append(v.issues, Issue{File: file, Line: p.Line, Column: p.Column, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Validate checks every hook and compiles its templates. It is called by Load and Parse;
// call it yourself on a Config built in code.
func (c *Config) Validate() error {
	if issues := c.validate(nil); len(issues) > 0 {
		return &Error{Issues: sortIssues(issues)}
	}
	return nil
}

// validate checks every hook and compiles its templates; problems within the broken
// paths have been reported already.
func (c *Config) validate(broken map[string]bool) []Issue {
	v := &validator{c: c, broken: broken}
	seen := map[string]string{}
	for i, h := range c.Hooks {
		p := fmt.Sprintf("hooks[%d]", i)
		if h == nil {
			v.errf(p, "a hook must be an object")
			continue
		}
		if h.ID == "" {
			if !v.isBroken(p + ".id") {
				v.errf(p, "id is required")
			}
		} else if !hookIDRE.MatchString(h.ID) {
			v.errf(p+".id", "%q is not a valid id: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit", h.ID)
		} else if prev, ok := seen[h.ID]; ok {
			v.errf(p+".id", "duplicate id %q (first used by %s)", h.ID, prev)
		} else {
			seen[h.ID] = p
		}
		v.hook(p, h)
	}
	if c.Server != nil {
		v.server("server", c.Server)
	}
	return v.issues
}

// server checks the settings of hookpoint serve and compiles the ingest secrets.
func (v *validator) server(p string, s *Server) {
	if s.DB != "" && !strings.HasPrefix(s.DB, "sqlite://") && !strings.HasPrefix(s.DB, "postgres://") && !strings.HasPrefix(s.DB, "postgresql://") {
		v.errf(p+".db", "%q is not a database: use sqlite://FILE or postgres://USER@HOST/DB", s.DB)
	}
	if s.Retention < 0 {
		v.errf(p+".retention", "must be longer than zero")
	}
	if s.AutoDisableAfter < 0 {
		v.errf(p+".auto_disable_after", "must be longer than zero")
	}
	if s.LogFormat != "" && s.LogFormat != "text" && s.LogFormat != "json" {
		v.errf(p+".log_format", "%q is not a log format: use text or json%s", s.LogFormat, didYouMean(s.LogFormat, []string{"text", "json"}))
	}
	st := &ServerTemplates{Ingest: map[string]*template.Template{}}
	secret := func(source, field, src string) {
		path := p + ".ingest." + source + "." + field
		if src == "" {
			v.errf(path, "%s is required: read it with env or file, such as '{{ env \"%s_SECRET\" }}'", field, strings.ToUpper(source))
			return
		}
		t := v.tmpl(path, src, template.Text)
		if t == nil {
			return
		}
		if len(t.Refs()) == 0 {
			v.errf(path, "a secret must not be written in the config file: read it with env or file")
			return
		}
		st.Ingest[source] = t
	}
	if in := s.Ingest; in != nil {
		if in.XO != nil {
			secret("xo", "secret", in.XO.Secret)
		}
		if in.VirtFusion != nil {
			secret("virtfusion", "token", in.VirtFusion.Token)
		}
		if in.Zerobyte != nil {
			secret("zerobyte", "secret", in.Zerobyte.Secret)
			if h := in.Zerobyte.Header; h != "" && !headerKeyRE.MatchString(h) {
				v.errf(p+".ingest.zerobyte.header", "%q is not a header name", h)
			}
		}
	}
	s.Compiled = st
}

func (v *validator) hook(p string, h *Hook) {
	if len(h.On) == 0 {
		v.errf(p+".on", "on is required: list the event types (patterns with *) this hook runs for")
	}
	for i, pat := range h.On {
		if !patternRE.MatchString(pat) {
			v.errf(fmt.Sprintf("%s.on[%d]", p, i), "%q is not a valid event pattern: use letters, digits, '.', '_', '-' and '*' for any run of characters", pat)
		}
	}
	for i, s := range h.Status {
		if !slices.Contains(filterStatuses, s) {
			v.errf(fmt.Sprintf("%s.status[%d]", p, i), "%q is not a status: use any, success, warning, fail or cancelled%s", s, didYouMean(s, filterStatuses))
		} else if s == "any" && len(h.Status) > 1 {
			v.errf(fmt.Sprintf("%s.status[%d]", p, i), "any matches every status; list it alone")
		}
	}
	if h.OnFailure != "" && !slices.Contains([]string{OnFailureAbort, OnFailureWarn, OnFailureIgnore}, h.OnFailure) {
		v.errf(p+".on_failure", "%q is not a failure policy: use abort, warn or ignore%s", h.OnFailure, didYouMean(h.OnFailure, []string{OnFailureAbort, OnFailureWarn, OnFailureIgnore}))
	}
	if h.Mode != "" && h.Mode != ModeSync && h.Mode != ModeAsync {
		v.errf(p+".mode", "%q is not a mode: use sync or async%s", h.Mode, didYouMean(h.Mode, []string{ModeSync, ModeAsync}))
	}
	if h.MaxInFlight < 0 || h.MaxInFlight > 10000 {
		v.errf(p+".max_in_flight", "must be from 1 to 10000 (0 or unset: %d)", DefaultMaxInFlight)
	}
	if (h.MaxInFlight != 0 || h.Rate != nil) && h.Mode != ModeAsync && !v.isBroken(p+".mode") {
		field := p + ".max_in_flight"
		if h.MaxInFlight == 0 {
			field = p + ".rate"
		}
		v.errf(field, "max_in_flight and rate apply to async hooks only; set mode: async or remove them")
	}
	if h.Retry != nil {
		switch {
		case h.Mode != ModeAsync && v.isBroken(p+".mode"):
		case h.Mode != ModeAsync:
			v.errf(p+".retry", "retry applies to async hooks only; set mode: async or remove retry")
		case h.Retry.MaxAttempts < 0 || h.Retry.MaxAttempts > MaxAttemptsCap:
			v.errf(p+".retry.max_attempts", "must be from 1 to %d (0 or unset: the default)", MaxAttemptsCap)
		}
		for i, d := range h.Retry.Schedule {
			if d <= 0 {
				v.errf(fmt.Sprintf("%s.retry.schedule[%d]", p, i), "a wait must be longer than zero")
			}
		}
	}
	switch {
	case h.HTTP != nil && h.Exec != nil:
		v.errf(p, "a hook has exactly one action: http or exec, not both")
	case h.HTTP != nil:
		v.http(p+".http", h.HTTP)
	case h.Exec != nil:
		v.exec(p+".exec", h.Exec)
	case v.isBroken(p+".http") || v.isBroken(p+".exec"):
	default:
		v.errf(p, "an action is required: add http: or exec:")
	}
}

// didYouMean suggests the option word is a slip of, as the end of a message.
func didYouMean(word string, options []string) string {
	if s := suggest.Closest(word, options); s != "" && s != word {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

func (v *validator) tmpl(path, src string, kind template.Kind) *template.Template {
	t, err := template.Parse(path, src, kind)
	if err != nil {
		// The field is named already: not again as the template's name, nor as the kind of
		// text (url: ...).
		msg := strings.TrimPrefix(err.Error(), kind.String()+": ")
		if rest, ok := strings.CutPrefix(msg, path+":"); ok {
			if line, tail, ok := strings.Cut(rest, ": "); ok {
				msg = fmt.Sprintf("template error on line %s of the value: %s", line, tail)
			}
		}
		v.errf(path, "%s", msg)
		return nil
	}
	return t
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// bodyKinds maps body types to the template kind of a string body.
var bodyKinds = map[string]template.Kind{BodyJSON: template.JSON, BodyXML: template.XML, BodyText: template.Text, BodyForm: template.Form}

// forbiddenHeaders are set by hookpoint from the request itself.
var forbiddenHeaders = []string{"Content-Length", "Transfer-Encoding", "Connection", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

func (v *validator) http(p string, a *HTTP) {
	ct := &HTTPTemplates{Headers: map[string]*template.Template{}}
	if a.URL == "" {
		v.errf(p+".url", "url is required")
	} else {
		ct.URL = v.tmpl(p+".url", a.URL, template.URL)
	}
	if a.Method == "" {
		a.Method = http.MethodPost
	}
	a.Method = strings.ToUpper(a.Method)
	if !slices.Contains(methods, a.Method) {
		v.errf(p+".method", "%q is not a supported method: use GET, POST, PUT, PATCH or DELETE%s", a.Method, didYouMean(a.Method, methods))
	}
	if a.BodyType == "" {
		switch {
		case a.Method == http.MethodGet || a.Method == http.MethodDelete && a.Body == nil:
			a.BodyType = BodyNone
		default:
			a.BodyType = BodyJSON
		}
	}
	switch a.BodyType {
	case BodyNone:
		if a.Body != nil {
			v.errf(p+".body", "body_type none sends no body; remove body or set body_type")
		}
	case BodyJSON, BodyXML, BodyText, BodyForm:
		if a.Body == nil && a.BodyType != BodyJSON {
			v.errf(p+".body", "body_type %s needs a body (only json has a default: the event)", a.BodyType)
		}
		if a.Method == http.MethodGet {
			v.errf(p+".body_type", "GET requests carry no body; use body_type none or another method")
		}
		if a.Body != nil && a.Body.IsStructured() {
			ct.Tree = v.tree(p+".body", a.Body.Structured, a.BodyType)
		} else if a.Body != nil {
			ct.Body = v.tmpl(p+".body", a.Body.Template, bodyKinds[a.BodyType])
		}
	default:
		v.errf(p+".body_type", "%q is not a body type: use none, json, xml, text or form%s", a.BodyType, didYouMean(a.BodyType, []string{BodyNone, BodyJSON, BodyXML, BodyText, BodyForm}))
	}
	names := make([]string, 0, len(a.Headers))
	for name, val := range a.Headers {
		hp := p + ".headers." + name
		if !headerKeyRE.MatchString(name) {
			v.errf(hp, "%q is not a valid header name", name)
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if slices.Contains(forbiddenHeaders, canon) {
			v.errf(hp, "the %s header is set by hookpoint and cannot be configured", canon)
			continue
		}
		if _, dup := ct.Headers[canon]; dup {
			v.errf(hp, "header %s is given twice (names are case-insensitive)", canon)
			continue
		}
		if t := v.tmpl(hp, val, template.Header); t != nil {
			ct.Headers[canon] = t
			names = append(names, canon)
		}
	}
	sort.Strings(names)
	ct.HeaderNames = names
	if a.Auth != nil {
		v.auth(p+".auth", a.Auth, ct)
	}
	if a.Timeout < 0 || a.Timeout.D() > MaxTimeout {
		v.errf(p+".timeout", "must be between 0 and %s", MaxTimeout)
	}
	if a.TLS != nil && (a.TLS.CertFile == "") != (a.TLS.KeyFile == "") {
		v.errf(p+".tls", "cert_file and key_file go together")
	}
	if a.Sign != nil {
		if len(a.Sign.Secret) == 0 {
			v.errf(p+".sign.secret", "at least one secret (whsec_...) is required")
		}
		for i, s := range a.Sign.Secret {
			sp := fmt.Sprintf("%s.sign.secret[%d]", p, i)
			t := v.tmpl(sp, s, template.Text)
			if t == nil {
				continue
			}
			if t.Constant() {
				if _, err := DecodeSigningSecret(s); err != nil {
					v.errf(sp, "%v", err)
				}
			}
			ct.Secrets = append(ct.Secrets, t)
		}
	}
	for i, code := range a.Expect {
		if code < 100 || code > 599 {
			v.errf(fmt.Sprintf("%s.expect[%d]", p, i), "%d is not an HTTP status code", code)
		} else if code >= 300 && code < 400 {
			v.errf(fmt.Sprintf("%s.expect[%d]", p, i), "redirects are never followed nor counted as success")
		}
	}
	a.Compiled = ct
}

// tree compiles the string leaves of a structured body.
func (v *validator) tree(p string, val any, bodyType string) any {
	switch bodyType {
	case BodyJSON:
	case BodyForm:
		m, ok := val.(map[string]any)
		if !ok {
			v.errf(p, "a form body must be an object of field names to values")
			return nil
		}
		for k, e := range m {
			switch e.(type) {
			case map[string]any, []any:
				v.errf(p+"."+k, "form values must be strings, numbers or booleans")
			}
		}
	default:
		v.errf(p, "a structured body needs body_type json or form; write %s bodies as a string", bodyType)
		return nil
	}
	var walk func(string, any) any
	walk = func(path string, x any) any {
		switch e := x.(type) {
		case map[string]any:
			out := make(map[string]any, len(e))
			for k, c := range e {
				out[k] = walk(path+"."+k, c)
			}
			return out
		case []any:
			out := make([]any, len(e))
			for i, c := range e {
				out[i] = walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
			return out
		case string:
			if t := v.tmpl(path, e, template.Text); t != nil {
				return t
			}
			return e
		case float64:
			if math.IsNaN(e) || math.IsInf(e, 0) {
				v.errf(path, "%v is not a number JSON can carry", e)
			}
		}
		return x
	}
	return walk(p, val)
}

func (v *validator) auth(p string, a *Auth, ct *HTTPTemplates) {
	used := map[string]bool{"username": a.Username != "", "password": a.Password != "", "token": a.Token != "", "base64": a.Base64, "header": a.Header != "", "query": a.Query != ""}
	allowed := map[string][]string{
		AuthNone:   {},
		AuthBasic:  {"username", "password"},
		AuthBearer: {"token", "base64"},
		AuthAPIKey: {"token", "header", "query"},
	}
	fields, ok := allowed[a.Type]
	if !ok {
		v.errf(p+".type", "%q is not an auth type: use none, basic, bearer or api_key%s", a.Type, didYouMean(a.Type, []string{AuthNone, AuthBasic, AuthBearer, AuthAPIKey}))
		return
	}
	for _, f := range []string{"username", "password", "token", "base64", "header", "query"} {
		if used[f] && !slices.Contains(fields, f) {
			v.errf(p+"."+f, "%s does not apply to auth type %s", f, a.Type)
		}
	}
	switch a.Type {
	case AuthBasic:
		if a.Username == "" {
			v.errf(p+".username", "basic auth needs a username")
		}
		ct.Username = v.tmpl(p+".username", a.Username, template.Text)
		ct.Password = v.tmpl(p+".password", a.Password, template.Text)
	case AuthBearer, AuthAPIKey:
		if a.Token == "" {
			v.errf(p+".token", "%s auth needs a token", a.Type)
		}
		ct.Token = v.tmpl(p+".token", a.Token, template.Text)
		if a.Type == AuthAPIKey {
			if (a.Header == "") == (a.Query == "") {
				v.errf(p, "api_key auth sends the key in a header or a query parameter: set exactly one of header and query")
			} else if a.Header != "" && !headerKeyRE.MatchString(a.Header) {
				v.errf(p+".header", "%q is not a valid header name", a.Header)
			}
		}
	}
}

func (v *validator) exec(p string, a *Exec) {
	ct := &ExecTemplates{Env: map[string]*template.Template{}}
	switch {
	case a.Command == "":
		v.errf(p+".command", "command is required")
	case strings.Contains(a.Command, "{{") || strings.Contains(a.Command, "%CV4PVE_AUTOSNAP_"):
		v.errf(p+".command", "the command is fixed text; pass event values in args or env")
	case strings.IndexByte(a.Command, 0) >= 0:
		v.errf(p+".command", "the command contains a NUL byte")
	}
	if a.Shell && len(a.Args) > 0 {
		v.errf(p+".args", "with shell: true the script is fixed and event values reach it only as environment variables; use env instead of args")
	}
	for i, arg := range a.Args {
		if t := v.tmpl(fmt.Sprintf("%s.args[%d]", p, i), arg, template.Arg); t != nil {
			ct.Args = append(ct.Args, t)
		}
	}
	for name, val := range a.Env {
		ep := p + ".env." + name
		if !envNameRE.MatchString(name) {
			v.errf(ep, "%q is not a valid environment variable name", name)
			continue
		}
		if t := v.tmpl(ep, val, template.Arg); t != nil {
			ct.Env[name] = t
			ct.EnvNames = append(ct.EnvNames, name)
		}
	}
	sort.Strings(ct.EnvNames)
	if a.Stdin != "" && a.Stdin != "none" && a.Stdin != "json" {
		v.errf(p+".stdin", "%q is not a stdin mode: use none or json%s", a.Stdin, didYouMean(a.Stdin, []string{"none", "json"}))
	}
	if a.Timeout < 0 || a.Timeout.D() > MaxTimeout {
		v.errf(p+".timeout", "must be between 0 and %s", MaxTimeout)
	}
	a.Compiled = ct
}

// DecodeSigningSecret returns the key of a Standard Webhooks secret "whsec_<base64>".
func DecodeSigningSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, fmt.Errorf("a signing secret starts with whsec_ followed by base64")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the signing secret after whsec_ is not valid base64")
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("the signing secret is too short: it needs at least 16 bytes of key (24 base64 characters)")
	}
	return key, nil
}
