package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/render"
)

// The hook form has a field for every field of a hook (docs/configuration.md), named
// by its path in the API's JSON (http.auth.token), so that the API's validation errors,
// which name the field at fault, land beside it. The form is turned into the JSON the
// API takes and validated by the server exactly as POST /v1/hooks validates it.
//
// Secrets are write-only: their inputs are always empty. Left empty, the stored value
// is kept; typed, it replaces it.

// formFields are the form's fields with their labels (for the list of errors).
var formFields = []struct{ Name, Label string }{
	{"id", "ID"}, {"description", "Description"}, {"enabled", "Enabled"}, {"order", "Order"},
	{"on", "Events (on)"}, {"status", "Statuses"}, {"on_failure", "On failure"}, {"mode", "Mode"},
	{"retry", "Retry"}, {"retry.max_attempts", "Maximum attempts"}, {"retry.schedule", "Retry schedule"},
	{"max_in_flight", "Maximum in flight"}, {"rate", "Rate"}, {"action", "Action"},
	{"http", "HTTP request"}, {"http.url", "URL"}, {"http.method", "Method"}, {"http.body_type", "Body type"},
	{"http.body", "Body"}, {"http.headers", "Headers"}, {"http.auth", "Authentication"},
	{"http.auth.type", "Authentication type"}, {"http.auth.username", "User name"}, {"http.auth.password", "Password"},
	{"http.auth.token", "Token"}, {"http.auth.base64", "Base64"}, {"http.auth.header", "API key header"},
	{"http.auth.query", "API key query parameter"}, {"http.timeout", "Timeout"}, {"http.tls", "TLS"},
	{"http.tls.insecure_skip_verify", "Skip certificate verification"}, {"http.tls.ca_file", "CA file"},
	{"http.tls.cert_file", "Client certificate file"}, {"http.tls.key_file", "Client key file"},
	{"http.sign", "Signing"}, {"http.sign.secret", "Signing secrets"}, {"http.expect", "Expected statuses"},
	{"exec", "Command"}, {"exec.command", "Command"}, {"exec.args", "Arguments"}, {"exec.env", "Environment"},
	{"exec.stdin", "Standard input"}, {"exec.workdir", "Working directory"}, {"exec.timeout", "Timeout"},
	{"exec.shell", "Shell"}, {"exec.keep_children", "Keep children"},
	{"secrets", "Secrets"},
	{"sample.type", "Sample event type"}, {"sample.status", "Sample status"}, {"sample.subject", "Sample subject"},
	{"sample.data", "Sample variables"},
}

var fieldLabels = func() map[string]string {
	m := map[string]string{}
	for _, f := range formFields {
		m[f.Name] = f.Label
	}
	return m
}()

var indexRE = regexp.MustCompile(`\[[^\]]*\]`)

// formField is the form field an API field path is shown beside ("" for the form as a
// whole): http.headers.X-Vm is beside http.headers, on[1] beside on.
func formField(apiField string) string {
	f := indexRE.ReplaceAllString(apiField, "")
	if strings.HasPrefix(f, "secrets") {
		return "secrets"
	}
	for f != "" {
		if _, ok := fieldLabels[f]; ok {
			return f
		}
		i := strings.LastIndexByte(f, '.')
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return ""
}

// hookForm is the form page's data.
type hookForm struct {
	New     bool
	ID      string
	Values  url.Values
	Errors  map[string][]string
	Summary []FieldError // every error, with the field's label
	Hook    *Hook        // the hook edited (nil for a new one)
	Preview *render.Preview
	// PreviewError is why the preview could not be made.
	PreviewError string
	Groups       []eventGroup
	Statuses     []string
	Named        []string // the stored secrets of the secrets section
}

// V returns a field's value.
func (f *hookForm) V(name string) string { return f.Values.Get(name) }

// Checked reports whether a checkbox is on (or a multi-valued field holds v).
func (f *hookForm) Checked(name, v string) bool {
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// Err returns the errors of a field.
func (f *hookForm) Err(name string) []string { return f.Errors[name] }

// Set says whether a secret field has a stored value, in words (never the value).
func (f *hookForm) Set(name string) string {
	if f.Hook == nil || f.Hook.Def == nil || f.Hook.Def.HTTP == nil {
		return ""
	}
	h := f.Hook.Def.HTTP
	var v string
	switch name {
	case "http.auth.password", "http.auth.token":
		if h.Auth == nil {
			return ""
		}
		v = h.Auth.Password
		if name == "http.auth.token" {
			v = h.Auth.Token
		}
	case "http.sign.secret":
		if h.Sign == nil || len(h.Sign.Secret) == 0 {
			return ""
		}
		return fmt.Sprintf("%d signing secret(s) set, stored encrypted. Leave this empty to keep them; type new ones to replace them all.", len(h.Sign.Secret))
	}
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(v, `{{ secret "auth.`):
		return "A value is set, stored encrypted. Leave this empty to keep it; type a new value to replace it."
	case strings.Contains(v, "****"):
		return "A value is set. Leave this empty to keep it; type a new value to replace it."
	}
	return "Set to the template " + v + ". Leave this empty to keep it."
}

// addErrors places validation errors beside their fields.
func (f *hookForm) addErrors(errs []FieldError) {
	if f.Errors == nil {
		f.Errors = map[string][]string{}
	}
	for _, e := range errs {
		field := formField(e.Field)
		f.Errors[field] = append(f.Errors[field], e.Message)
		label := fieldLabels[field]
		if label == "" {
			label = "Hook"
		}
		f.Summary = append(f.Summary, FieldError{Field: field, Message: label + ": " + e.Message})
	}
}

// valuesOf fills the form from a hook (secret fields stay empty).
func valuesOf(h *Hook) url.Values {
	v := url.Values{}
	d := h.Def
	v.Set("id", d.ID)
	v.Set("description", d.Description)
	if d.IsEnabled() {
		v.Set("enabled", "on")
	}
	if d.Order != 0 {
		v.Set("order", strconv.Itoa(d.Order))
	}
	v.Set("on", strings.Join(d.On, ", "))
	for _, s := range d.Status {
		if s != "any" {
			v.Add("status", s)
		}
	}
	v.Set("on_failure", d.OnFailure)
	v.Set("mode", d.Mode)
	if d.Retry != nil {
		if d.Retry.MaxAttempts != 0 {
			v.Set("retry.max_attempts", strconv.Itoa(d.Retry.MaxAttempts))
		}
		var sched []string
		for _, s := range d.Retry.Schedule {
			sched = append(sched, shortDur(s.D()))
		}
		v.Set("retry.schedule", strings.Join(sched, ", "))
	}
	if d.MaxInFlight != 0 {
		v.Set("max_in_flight", strconv.Itoa(d.MaxInFlight))
	}
	if d.Rate != nil {
		v.Set("rate", d.Rate.String())
	}
	switch {
	case d.Exec != nil:
		e := d.Exec
		v.Set("action", "exec")
		v.Set("exec.command", e.Command)
		v.Set("exec.args", strings.Join(e.Args, "\n"))
		v.Set("exec.env", pairs(e.Env, "="))
		v.Set("exec.stdin", e.Stdin)
		v.Set("exec.workdir", e.Workdir)
		if e.Timeout != 0 {
			v.Set("exec.timeout", shortDur(e.Timeout.D()))
		}
		if e.Shell {
			v.Set("exec.shell", "on")
		}
		if e.KeepChildren {
			v.Set("exec.keep_children", "on")
		}
	case d.HTTP != nil:
		x := d.HTTP
		v.Set("action", "http")
		v.Set("http.url", x.URL)
		v.Set("http.method", x.Method)
		v.Set("http.body_type", x.BodyType)
		if x.Body != nil {
			if x.Body.IsStructured() {
				b, _ := json.MarshalIndent(x.Body.Structured, "", "  ")
				v.Set("http.body", string(b))
				v.Set("http.body_structured", "on")
			} else {
				v.Set("http.body", x.Body.Template)
			}
		}
		v.Set("http.headers", pairs(x.Headers, ": "))
		if x.Auth != nil {
			v.Set("http.auth.type", x.Auth.Type)
			v.Set("http.auth.username", x.Auth.Username)
			if x.Auth.Base64 {
				v.Set("http.auth.base64", "on")
			}
			v.Set("http.auth.header", x.Auth.Header)
			v.Set("http.auth.query", x.Auth.Query)
		}
		if x.Timeout != 0 {
			v.Set("http.timeout", shortDur(x.Timeout.D()))
		}
		if x.TLS != nil {
			if x.TLS.InsecureSkipVerify {
				v.Set("http.tls.insecure_skip_verify", "on")
			}
			v.Set("http.tls.ca_file", x.TLS.CAFile)
			v.Set("http.tls.cert_file", x.TLS.CertFile)
			v.Set("http.tls.key_file", x.TLS.KeyFile)
		}
		if x.Sign != nil {
			v.Set("http.sign", "on")
		}
		var exp []string
		for _, c := range x.Expect {
			exp = append(exp, strconv.Itoa(c))
		}
		v.Set("http.expect", strings.Join(exp, ", "))
	}
	return v
}

// shortDur writes a duration as people do: 1m, not 1m0s.
func shortDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func pairs(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + sep + m[k] + "\n")
	}
	return b.String()
}

// splitList reads a list written with commas, spaces or one item a line.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// number is a number when the text is one, else the text (which the validation then
// reports as not a number, beside its field).
func number(s string) any {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// hookInput turns the form into the API's hook and the secrets to store. cur is the
// hook edited (nil for a new one): its secret fields left empty are kept.
func hookInput(v url.Values, cur *Hook) (HookInput, []FieldError) {
	var errs []FieldError
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	on := func(name string) bool { return v.Get(name) != "" }
	def := map[string]any{}
	setStr := func(m map[string]any, key, name string) {
		if s := get(name); s != "" {
			m[key] = s
		}
	}
	setNum := func(m map[string]any, key, name string) {
		if s := get(name); s != "" {
			m[key] = number(s)
		}
	}
	if cur == nil {
		setStr(def, "id", "id")
	}
	setStr(def, "description", "description")
	if !on("enabled") {
		def["enabled"] = false
	}
	setNum(def, "order", "order")
	if l := splitList(v.Get("on")); len(l) > 0 {
		def["on"] = l
	}
	if st := v["status"]; len(st) > 0 {
		def["status"] = st
	}
	setStr(def, "on_failure", "on_failure")
	setStr(def, "mode", "mode")
	retry := map[string]any{}
	setNum(retry, "max_attempts", "retry.max_attempts")
	if l := splitList(v.Get("retry.schedule")); len(l) > 0 {
		retry["schedule"] = l
	}
	if len(retry) > 0 {
		def["retry"] = retry
	}
	setNum(def, "max_in_flight", "max_in_flight")
	setStr(def, "rate", "rate")

	var curHTTP *config.HTTP
	if cur != nil && cur.Def != nil {
		curHTTP = cur.Def.HTTP
	}
	switch get("action") {
	case "exec":
		e := map[string]any{}
		// The command is fixed text: kept as written.
		if c := v.Get("exec.command"); strings.TrimSpace(c) != "" {
			e["command"] = strings.TrimRight(c, "\r\n")
		}
		var args []string
		for _, a := range strings.Split(v.Get("exec.args"), "\n") {
			if a = strings.TrimRight(a, "\r"); a != "" {
				args = append(args, a)
			}
		}
		if len(args) > 0 {
			e["args"] = args
		}
		env, err := parsePairs(v.Get("exec.env"), "=", "exec.env", "NAME=value")
		if err != nil {
			errs = append(errs, *err)
		} else if len(env) > 0 {
			e["env"] = env
		}
		setStr(e, "stdin", "exec.stdin")
		setStr(e, "workdir", "exec.workdir")
		setStr(e, "timeout", "exec.timeout")
		if on("exec.shell") {
			e["shell"] = true
		}
		if on("exec.keep_children") {
			e["keep_children"] = true
		}
		def["exec"] = e
	default:
		h := map[string]any{}
		setStr(h, "url", "http.url")
		setStr(h, "method", "http.method")
		setStr(h, "body_type", "http.body_type")
		if body := v.Get("http.body"); strings.TrimSpace(body) != "" {
			if on("http.body_structured") {
				var tree any
				if err := json.Unmarshal([]byte(body), &tree); err != nil {
					errs = append(errs, FieldError{"http.body", "a structured body is a JSON object or list: " + err.Error()})
				} else {
					h["body"] = tree
				}
			} else {
				h["body"] = body
			}
		}
		headers, err := parsePairs(v.Get("http.headers"), ":", "http.headers", "Name: value")
		if err != nil {
			errs = append(errs, *err)
		} else if len(headers) > 0 {
			h["headers"] = headers
		}
		if typ := get("http.auth.type"); typ != "" {
			a := map[string]any{"type": typ}
			setStr(a, "username", "http.auth.username")
			if on("http.auth.base64") {
				a["base64"] = true
			}
			setStr(a, "header", "http.auth.header")
			setStr(a, "query", "http.auth.query")
			// Secrets: typed, they replace; empty, the current one is kept where it
			// still applies to the type.
			for _, f := range []struct {
				name, key string
				types     []string
			}{
				{"http.auth.password", "password", []string{"basic"}},
				{"http.auth.token", "token", []string{"bearer", "api_key"}},
			} {
				if s := v.Get(f.name); s != "" {
					a[f.key] = s
					continue
				}
				if curHTTP != nil && curHTTP.Auth != nil && contains(f.types, typ) {
					cv := curHTTP.Auth.Password
					if f.key == "token" {
						cv = curHTTP.Auth.Token
					}
					if cv != "" {
						a[f.key] = cv
					}
				}
			}
			h["auth"] = a
		}
		setStr(h, "timeout", "http.timeout")
		tls := map[string]any{}
		if on("http.tls.insecure_skip_verify") {
			tls["insecure_skip_verify"] = true
		}
		setStr(tls, "ca_file", "http.tls.ca_file")
		setStr(tls, "cert_file", "http.tls.cert_file")
		setStr(tls, "key_file", "http.tls.key_file")
		if len(tls) > 0 {
			h["tls"] = tls
		}
		if on("http.sign") {
			var secrets []string
			for _, s := range strings.Split(v.Get("http.sign.secret"), "\n") {
				if s = strings.TrimSpace(s); s != "" {
					secrets = append(secrets, s)
				}
			}
			if len(secrets) == 0 && curHTTP != nil && curHTTP.Sign != nil {
				secrets = curHTTP.Sign.Secret
			}
			h["sign"] = map[string]any{"secret": secrets}
		}
		if l := splitList(v.Get("http.expect")); len(l) > 0 {
			exp := make([]any, len(l))
			for i, s := range l {
				exp[i] = number(s)
			}
			h["expect"] = exp
		}
		def["http"] = h
	}

	secrets := map[string]string{}
	for name, vals := range v {
		if n, ok := strings.CutPrefix(name, "secret."); ok && len(vals) > 0 && vals[0] != "" {
			secrets[n] = vals[0]
		}
	}
	names, values := v["new_secret.name"], v["new_secret.value"]
	for i, n := range names {
		n = strings.TrimSpace(n)
		val := ""
		if i < len(values) {
			val = values[i]
		}
		switch {
		case n == "" && val == "":
		case n == "":
			errs = append(errs, FieldError{"secrets", "a new secret needs a name"})
		case val == "":
			errs = append(errs, FieldError{"secrets", fmt.Sprintf("the new secret %q needs a value", n)})
		default:
			secrets[n] = val
		}
	}
	raw, err := json.Marshal(def)
	if err != nil {
		errs = append(errs, FieldError{"", "the form could not be encoded"})
	}
	return HookInput{Def: raw, Secrets: secrets}, errs
}

// parsePairs reads "name<sep>value" lines.
func parsePairs(text, sep, field, shape string) (map[string]string, *FieldError) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, val, ok := strings.Cut(line, sep)
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &FieldError{field, fmt.Sprintf("line %d: write %s, one a line", i+1, shape)}
		}
		out[k] = strings.TrimSpace(val)
	}
	return out, nil
}

// sampleOf reads the sample event of a form.
func sampleOf(v url.Values, h *config.Hook) (SampleEvent, []FieldError) {
	ev := sampleFor(h)
	if !v.Has("sample.type") {
		return ev, nil
	}
	ev = SampleEvent{Type: strings.TrimSpace(v.Get("sample.type")), Status: v.Get("sample.status"), Subject: v.Get("sample.subject")}
	if o := strings.TrimSpace(v.Get("sample.type_other")); o != "" {
		ev.Type = o
	}
	data, err := parseData(v.Get("sample.data"))
	if err != nil {
		return ev, []FieldError{{"sample.data", err.Error()}}
	}
	ev.Data = data
	return ev, nil
}

// setSample shows a sample event in the form's fields.
func setSample(v url.Values, ev SampleEvent) {
	v.Set("sample.type", ev.Type)
	v.Set("sample.status", ev.Status)
	v.Set("sample.subject", ev.Subject)
	v.Set("sample.data", formatData(ev.Data))
}
