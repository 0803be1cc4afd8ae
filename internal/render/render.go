// Package render turns a hook and an event into exactly what will be sent or run: the
// HTTP request (method, URL, headers, body) or the command (argv, environment, stdin),
// with a masked view for people.
package render

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/template"
	"github.com/hookpoint/hookpoint/internal/version"
)

// Request is a rendered HTTP action.
type Request struct {
	Method  string
	URL     string
	Header  http.Header
	Body    []byte
	Timeout time.Duration
	Expect  []int
	// SigningKeys are the decoded Standard Webhooks keys; the signature is computed when
	// the request is sent, since it covers the attempt's timestamp.
	SigningKeys [][]byte
	TLS         *config.TLS
	// KeepChildren leaves what the command started in the background running after it
	// ends; otherwise its process group is killed then.
	KeepChildren bool
	// Mask hides the secrets of this rendering; deliver applies it to the response
	// excerpt before cutting it, so that no part of a secret is kept. Nil when the
	// rendering read no secret.
	Mask func(string) string
}

// Command is a rendered exec action.
type Command struct {
	Argv    []string // Argv[0] is the program
	Env     []string // the complete environment of the process
	Extra   []string // what hookpoint adds to the inherited environment, for display
	Stdin   []byte   // nil for none
	Dir     string
	Timeout time.Duration
	// MaxOutput bounds the output kept (deliver.MaxOutput when 0).
	MaxOutput int
	// KeepChildren leaves what the command started in the background running after it
	// ends; otherwise its process group is killed then.
	KeepChildren bool
	// StderrTail asks for the end of stderr to be kept apart from the combined output,
	// to be shown beside a failure. Hooks ask for it; the receiver, which answers with
	// the combined output in the order it came, does not.
	StderrTail bool
	// Mask hides the secrets of this rendering; deliver applies it to the output
	// excerpt before cutting it. Nil when the rendering read no secret.
	Mask func(string) string
}

// Rendered is one hook rendered for one event.
type Rendered struct {
	Hook       *config.Hook
	DeliveryID string
	HTTP       *Request
	Exec       *Command
	scope      *template.Scope
	view       view
}

// view is what people are shown of the rendering: the same request or command with
// exactly the parts that came from secrets replaced by template.Mask.
type view struct {
	url    string
	header http.Header
	body   string
	argv   []string
	extra  []string
}

// Options tunes rendering.
type Options struct {
	// LookupEnv and ReadFile replace where the env and file functions read secrets.
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
	// Environ is the environment exec hooks inherit; os.Environ() when nil.
	Environ []string
	// LookupSecret reads the hook's stored secrets (the template function secret);
	// nil for hooks of a config file.
	LookupSecret func(name string) (string, bool)
	// EventRoot is the event's part of the templates' root, when the caller renders
	// several hooks of one event; built here when nil.
	EventRoot *template.EventRoot
}

// Hook renders h for ev. deliveryID names this delivery (X-Hookpoint-Delivery and
// webhook-id); it stays the same across retries.
func Hook(h *config.Hook, ev *event.Event, deliveryID string, opts Options) (*Rendered, error) {
	root := opts.EventRoot
	if root == nil {
		root = template.EventData(ev)
	}
	scope := template.NewScope(root.ForHook(h.ID)).WithSecretSources(opts.LookupEnv, opts.ReadFile)
	if opts.LookupSecret != nil {
		scope.WithStoredSecrets(opts.LookupSecret)
	}
	r := &Rendered{Hook: h, DeliveryID: deliveryID, scope: scope}
	var err error
	switch {
	case h.HTTP != nil:
		r.HTTP, err = httpRequest(scope, h, ev, deliveryID, &r.view)
	case h.Exec != nil:
		r.Exec, err = command(scope, h, ev, opts, &r.view)
	default:
		err = errors.New("the hook has no action")
	}
	if err != nil {
		return nil, errors.New(scope.Mask(err.Error()))
	}
	if scope.HasSecrets() { // every secret has been read by now
		if r.HTTP != nil {
			r.HTTP.Mask = r.Mask
		}
		if r.Exec != nil {
			r.Exec.Mask = r.Mask
		}
	}
	return r, nil
}

// Mask hides every secret this rendering read in text that comes back from outside (a
// response, a command's output, an error).
func (r *Rendered) Mask(s string) string { return r.scope.Mask(s) }

// Target is the URL or program, with secrets masked, for journals and logs.
func (r *Rendered) Target() string {
	switch {
	case r.HTTP != nil:
		return r.HTTP.Method + " " + r.view.url
	case r.Exec != nil:
		return r.view.argv[0]
	}
	return ""
}

func render(scope *template.Scope, t *template.Template) (string, error) {
	if t == nil {
		return "", nil
	}
	out, err := scope.Render(t)
	if err != nil {
		return "", fieldless(t, err)
	}
	return out, nil
}

// renderView renders t and its view; a nil template renders as empty.
func renderView(scope *template.Scope, t *template.Template) (string, string, error) {
	if t == nil {
		return "", "", nil
	}
	text, view, err := scope.RenderView(t)
	if err != nil {
		return "", "", fieldless(t, err)
	}
	return text, view, nil
}

// fieldless returns a rendering error without what the template package may put in front
// of it: the template's name (the config path of the field, which the caller names
// itself) and the kind of text (url: ...), so that a message names its field once.
func fieldless(t *template.Template, err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // "<name>: <error>"
	}
	return errors.New(strings.TrimPrefix(err.Error(), t.Kind().String()+": "))
}

// masked is the view of a value that is secret as a whole.
const masked = template.Mask

// contentTypes are the defaults per body type.
var contentTypes = map[string]string{
	config.BodyJSON: "application/json",
	config.BodyXML:  "application/xml; charset=utf-8",
	config.BodyText: "text/plain; charset=utf-8",
	config.BodyForm: "application/x-www-form-urlencoded",
}

func httpRequest(scope *template.Scope, h *config.Hook, ev *event.Event, deliveryID string, v *view) (*Request, error) {
	a, ct := h.HTTP, h.HTTP.Compiled
	if ct == nil {
		return nil, errors.New("the hook was not validated")
	}
	req := &Request{Method: a.Method, Header: make(http.Header, 12+len(ct.HeaderNames)), Timeout: a.Timeout.D(), Expect: a.Expect, TLS: a.TLS}
	if req.Timeout == 0 {
		req.Timeout = config.DefaultHTTPTimeout
	}
	u, uv, err := renderView(scope, ct.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	req.URL, v.url = u, uv

	// The fixed headers share one backing array (their keys are already canonical).
	fixed := [...]string{version.UserAgent(), ev.Type, ev.ID, h.ID, deliveryID, ev.Status, ev.Run.ID}
	vals := fixed[:]
	for i, k := range [...]string{"User-Agent", "X-Hookpoint-Event", "X-Hookpoint-Event-Id", "X-Hookpoint-Hook", "X-Hookpoint-Delivery", "X-Hookpoint-Status", "X-Hookpoint-Run"} {
		if vals[i] != "" {
			req.Header[k] = vals[i : i+1 : i+1]
		}
	}
	v.header = http.Header{}
	urlCredentials(scope, req, v)

	if a.BodyType != config.BodyNone {
		body, bodyView, err := renderBody(scope, a, ct, ev)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		req.Body, v.body = body, bodyView
		req.Header.Set("Content-Type", contentTypes[a.BodyType])
	}
	for _, name := range ct.HeaderNames {
		hv, hview, err := renderView(scope, ct.Headers[name])
		if err != nil {
			return nil, fmt.Errorf("headers.%s: %w", name, err)
		}
		req.Header.Set(name, hv)
		v.header.Set(name, hview)
	}
	if a.Auth != nil {
		if err := applyAuth(scope, a.Auth, ct, req, v); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	// Every header not set from a template or auth is shown as it is sent.
	for name, vals := range req.Header {
		if _, ok := v.header[name]; !ok {
			v.header[name] = vals
		}
	}
	for i, t := range ct.Secrets {
		s, err := render(scope, t)
		if err != nil {
			return nil, fmt.Errorf("sign.secret[%d]: %w", i, err)
		}
		scope.AddSecret(s)
		scope.AddSecret(strings.TrimPrefix(s, "whsec_"))
		key, err := config.DecodeSigningSecret(s)
		if err != nil {
			return nil, fmt.Errorf("sign.secret[%d]: %w", i, err)
		}
		req.SigningKeys = append(req.SigningKeys, key)
	}
	return req, nil
}

// renderBody returns the body and its view.
func renderBody(scope *template.Scope, a *config.HTTP, ct *config.HTTPTemplates, ev *event.Event) ([]byte, string, error) {
	switch {
	case ct.Body != nil:
		s, view, err := renderView(scope, ct.Body)
		return []byte(s), view, err
	case ct.Tree != nil:
		v, tv, differs, err := renderTree(scope, ct.Tree)
		if err != nil {
			return nil, "", err
		}
		if a.BodyType == config.BodyForm {
			form, formView := url.Values{}, url.Values{}
			for k, x := range v.(map[string]any) {
				form.Set(k, event.Stringify(x))
				formView.Set(k, event.Stringify(tv.(map[string]any)[k]))
			}
			// The view is encoded like the body, then the masks are made readable.
			return []byte(form.Encode()), strings.ReplaceAll(formView.Encode(), url.QueryEscape(masked), masked), nil
		}
		body, err := appendTree(make([]byte, 0, 256), v)
		if err != nil || !differs {
			return body, string(body), err
		}
		view, err := appendTree(make([]byte, 0, 256), tv)
		return body, string(view), err
	default:
		b, err := ev.CloudEvent()
		return b, string(b), err
	}
}

// renderTree renders the templates of a structured body, returning the rendered tree,
// its view and whether they differ (the view is the tree itself when no secret went in).
func renderTree(scope *template.Scope, v any) (any, any, bool, error) {
	switch x := v.(type) {
	case *template.Template:
		out, view, err := renderView(scope, x)
		return out, view, out != view, err
	case map[string]any:
		out := make(map[string]any, len(x))
		var view map[string]any
		for k, c := range x {
			r, rv, d, err := renderTree(scope, c)
			if err != nil {
				return nil, nil, false, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
			if d && view == nil {
				view = make(map[string]any, len(x))
			}
			if view != nil {
				view[k] = rv
			}
		}
		if view == nil {
			return out, out, false, nil
		}
		for k, r := range out { // leaves rendered before the first difference
			if _, ok := view[k]; !ok {
				view[k] = r
			}
		}
		return out, view, true, nil
	case []any:
		out, view := make([]any, len(x)), make([]any, len(x))
		differs := false
		for i, c := range x {
			r, rv, d, err := renderTree(scope, c)
			if err != nil {
				return nil, nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i], view[i], differs = r, rv, differs || d
		}
		if !differs {
			return out, out, false, nil
		}
		return out, view, true, nil
	}
	return v, v, false, nil
}

// urlCredentials turns credentials in the URL (https://user:pass@host/) into Basic auth,
// as curl and http.Client do (an http.Transport alone would drop them), takes them out of
// the URL and marks them secret. An auth: block or an Authorization header still wins.
func urlCredentials(scope *template.Scope, req *Request, v *view) {
	if !strings.Contains(req.URL, "@") {
		return
	}
	pu, err := url.Parse(req.URL)
	if err != nil || pu.User == nil {
		return
	}
	user := pu.User.Username()
	pass, hasPass := pu.User.Password()
	if hasPass {
		scope.AddSecret(pass)
	} else {
		scope.AddSecret(user) // https://TOKEN@host/
	}
	enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	scope.AddSecret(enc)
	req.Header.Set("Authorization", "Basic "+enc)
	v.header.Set("Authorization", "Basic "+masked)
	req.URL, v.url = cutUserinfo(req.URL), cutUserinfo(v.url)
}

// cutUserinfo cuts "user:pass@" out of a URL's text rather than re-encode the whole URL.
func cutUserinfo(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		return scheme + "://" + rest[at+1:]
	}
	return u
}

func applyAuth(scope *template.Scope, a *config.Auth, ct *config.HTTPTemplates, req *Request, v *view) error {
	secret := func(t *template.Template, field string) (string, error) {
		s, err := render(scope, t)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return "", fmt.Errorf("%s contains a line break or NUL", field)
		}
		scope.AddSecret(s)
		return s, nil
	}
	switch a.Type {
	case config.AuthBasic:
		user, err := render(scope, ct.Username)
		if err != nil {
			return fmt.Errorf("username: %w", err)
		}
		if strings.ContainsAny(user, ":\r\n\x00") {
			return errors.New("username contains ':' or a line break")
		}
		pass, err := secret(ct.Password, "password")
		if err != nil {
			return err
		}
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		scope.AddSecret(enc)
		req.Header.Set("Authorization", "Basic "+enc)
		v.header.Set("Authorization", "Basic "+masked)
	case config.AuthBearer:
		tok, err := secret(ct.Token, "token")
		if err != nil {
			return err
		}
		if a.Base64 {
			tok = base64.StdEncoding.EncodeToString([]byte(tok))
			scope.AddSecret(tok)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		v.header.Set("Authorization", "Bearer "+masked)
	case config.AuthAPIKey:
		tok, err := secret(ct.Token, "token")
		if err != nil {
			return err
		}
		if a.Header != "" {
			req.Header.Set(a.Header, tok)
			v.header.Set(a.Header, masked)
			return nil
		}
		req.URL = addQuery(req.URL, a.Query, url.QueryEscape(tok))
		v.url = addQuery(v.url, a.Query, masked)
	}
	return nil
}

// addQuery adds name=escaped to the query of u, before any fragment.
func addQuery(u, name, escaped string) string {
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(name) + "=" + escaped + frag
}

func command(scope *template.Scope, h *config.Hook, ev *event.Event, opts Options, v *view) (*Command, error) {
	a, ct := h.Exec, h.Exec.Compiled
	if ct == nil {
		return nil, errors.New("the hook was not validated")
	}
	cmd := &Command{Dir: a.Workdir, Timeout: a.Timeout.D(), KeepChildren: a.KeepChildren, StderrTail: true}
	if cmd.Timeout == 0 {
		cmd.Timeout = config.DefaultExecTimeout
	}
	if a.Shell {
		cmd.Argv = []string{"/bin/sh", "-c", a.Command, "hookpoint-" + h.ID}
		v.argv = cmd.Argv
	} else {
		cmd.Argv, v.argv = []string{a.Command}, []string{a.Command}
		for i, t := range ct.Args {
			s, sv, err := renderView(scope, t)
			if err != nil {
				return nil, fmt.Errorf("args[%d]: %w", i, err)
			}
			cmd.Argv, v.argv = append(cmd.Argv, s), append(v.argv, sv)
		}
	}
	extra := append(ev.Env(), "HOOKPOINT_HOOK="+h.ID)
	v.extra = slices.Clone(extra)
	for _, name := range ct.EnvNames {
		s, sv, err := renderView(scope, ct.Env[name])
		if err != nil {
			return nil, fmt.Errorf("env.%s: %w", name, err)
		}
		extra = append(extra, name+"="+s)
		v.extra = append(v.extra, name+"="+sv)
	}
	for _, kv := range extra {
		if strings.IndexByte(kv, 0) >= 0 {
			name, _, _ := strings.Cut(kv, "=")
			return nil, fmt.Errorf("environment variable %s contains a NUL byte", name)
		}
	}
	cmd.Extra = extra
	base := opts.Environ
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = mergeEnv(base, extra)
	if a.Stdin == "json" {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		cmd.Stdin = b
	}
	return cmd, nil
}

// mergeEnv returns base with extra appended, dropping base entries that extra replaces.
func mergeEnv(base, extra []string) []string {
	names := make(map[string]bool, len(extra))
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		names[name] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !names[name] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}
