// Package template renders the text/template fields of a hook with escaping chosen by
// where each value lands: a URL path segment, a query, a JSON string or value, an XML text
// or attribute, a form field, a header. Whatever the values, the output is well-formed for
// its kind, or rendering fails with an error before anything is sent.
//
// The escaping is decided while the template executes: every action is given a final
// escaping step that looks at the output written so far, so branches, loops and nested
// templates are escaped by the context they actually produce.
package template

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	ttemplate "text/template"
	"text/template/parse"
)

// Kind names the kind of text a template produces, which decides how values are escaped
// and how the result is checked.
type Kind int

const (
	// Text is free text: values are inserted as they are.
	Text Kind = iota
	// URL is an http or https URL.
	URL
	// Header is an HTTP header value: CR, LF and other control characters are refused.
	Header
	// JSON is a JSON document.
	JSON
	// XML is an XML document.
	XML
	// Form is an application/x-www-form-urlencoded body.
	Form
	// Arg is a command argument or environment value: NUL is refused.
	Arg
)

func (k Kind) String() string {
	switch k {
	case URL:
		return "url"
	case Header:
		return "header"
	case JSON:
		return "json"
	case XML:
		return "xml"
	case Form:
		return "form"
	case Arg:
		return "arg"
	}
	return "text"
}

const escapeFunc = "_hookpoint_escape"

// Template is a parsed template field. It is safe for concurrent use.
type Template struct {
	name     string
	src      string
	kind     Kind
	constant bool // no actions: the source is the output
	base     *ttemplate.Template
	refs     []Ref
	fast     program   // set when the template has the simple shape fast.go runs
	pool     sync.Pool // of *instance
}

// Ref is a reference to a secret source found in a template: env "NAME", file "PATH" or
// secret "NAME" with a constant argument.
type Ref struct {
	Func string // "env", "file" or "secret"
	Arg  string
}

// instance is a clone of the base template whose functions are bound to one execution
// at a time; instances are pooled so that executions do not clone the template.
type instance struct {
	t *ttemplate.Template
	b *binding
}

type binding struct {
	scope *Scope
	w     *ctxWriter
}

var escaperNoiseRE = regexp.MustCompile(`executing "[^"]*" at <` + escapeFunc + `>: (error calling ` + escapeFunc + `: )?`)

var placeholderRE = regexp.MustCompile(`%CV4PVE_AUTOSNAP_([A-Z0-9_]+)%`)

// Parse parses src as a template producing kind. The AutoSnap placeholders
// %CV4PVE_AUTOSNAP_NAME% are accepted and read .data.name (lower case).
func Parse(name, src string, kind Kind) (*Template, error) {
	t := &Template{name: name, src: src, kind: kind}
	text := placeholderRE.ReplaceAllStringFunc(src, func(m string) string {
		key := strings.ToLower(placeholderRE.FindStringSubmatch(m)[1])
		return `{{index .data "` + key + `"}}`
	})
	base, err := ttemplate.New(name).Option("missingkey=zero").Funcs(stubFuncs()).Parse(text)
	if err != nil {
		return nil, cleanErr(err)
	}
	t.fast = compileFast(base)
	t.constant = true
	for _, tt := range base.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			switch x := n.(type) {
			case *parse.ActionNode:
				t.constant = false
				if len(x.Pipe.Decl) == 0 {
					x.Pipe.Cmds = append(x.Pipe.Cmds, &parse.CommandNode{
						NodeType: parse.NodeCommand, Pos: x.Pos,
						Args: []parse.Node{parse.NewIdentifier(escapeFunc).SetTree(tt.Tree).SetPos(x.Pos)},
					})
				}
			case *parse.IfNode, *parse.RangeNode, *parse.WithNode, *parse.TemplateNode:
				t.constant = false
			case *parse.CommandNode:
				if len(x.Args) == 2 {
					id, ok1 := x.Args[0].(*parse.IdentifierNode)
					s, ok2 := x.Args[1].(*parse.StringNode)
					if ok1 && ok2 && (id.Ident == "env" || id.Ident == "file" || id.Ident == "secret") {
						t.refs = append(t.refs, Ref{Func: id.Ident, Arg: s.Text})
					}
				}
			}
		})
	}
	t.base = base
	if t.constant {
		// Without actions the output is the text outside comments and {{define}}
		// blocks; a constant must be well-formed on its own.
		var out bytes.Buffer
		if err := base.Execute(&out, nil); err != nil {
			return nil, cleanErr(err)
		}
		if err := check(kind, out.Bytes()); err != nil {
			return nil, err
		}
		// Render returns the source itself only when it is the output.
		t.constant = out.String() == src
	}
	return t, nil
}

// MustParse is Parse for sources known to be valid; it panics on error.
func MustParse(name, src string, kind Kind) *Template {
	t, err := Parse(name, src, kind)
	if err != nil {
		panic(err)
	}
	return t
}

// Source returns the template text as written.
func (t *Template) Source() string { return t.src }

// Kind returns what the template produces.
func (t *Template) Kind() Kind { return t.kind }

// Constant reports whether the template has no actions.
func (t *Template) Constant() bool { return t.constant }

// Refs returns the env and file references with constant arguments, for checking that
// the secrets a config needs are present.
func (t *Template) Refs() []Ref { return t.refs }

func walk(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walk(c, f)
		}
	case *parse.ActionNode:
		walk(x.Pipe, f)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			walk(c, f)
		}
	case *parse.CommandNode:
		for _, a := range x.Args {
			walk(a, f)
		}
	case *parse.IfNode:
		walk(x.Pipe, f)
		walk(x.List, f)
		walk(x.ElseList, f)
	case *parse.RangeNode:
		walk(x.Pipe, f)
		walk(x.List, f)
		walk(x.ElseList, f)
	case *parse.WithNode:
		walk(x.Pipe, f)
		walk(x.List, f)
		walk(x.ElseList, f)
	case *parse.TemplateNode:
		walk(x.Pipe, f)
	case *parse.ChainNode:
		walk(x.Node, f)
	}
}

// Scope is one rendering of a hook: the data its templates see and the secrets they
// read, so that everything shown to people can be masked. A Scope is not safe for
// concurrent use.
type Scope struct {
	data      map[string]any
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
	// lookupSecret reads the stored secrets of a hook managed through the API; nil for
	// config-file hooks.
	lookupSecret func(string) (string, bool)
	noEnvFile    bool
	// secrets holds every secret read and every value computed from one.
	secrets   []string
	secretSet map[string]struct{}
	masker    *masker // for Mask, built when first needed after a change
}

// NewScope returns a scope over data, reading env and file secrets from the process
// environment and the file system.
func NewScope(data map[string]any) *Scope {
	return &Scope{data: data, lookupEnv: defaultLookupEnv, readFile: defaultReadFile}
}

// WithSecretSources replaces where env and file read from (tests, dry runs).
func (s *Scope) WithSecretSources(lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) *Scope {
	if lookupEnv != nil {
		s.lookupEnv = lookupEnv
	}
	if readFile != nil {
		s.readFile = readFile
	}
	return s
}

// WithStoredSecrets lets the secret function read the stored secrets of a hook managed
// through the server's API, and takes env and file away from it: they would read the
// server's own environment and files for whoever holds an API token.
func (s *Scope) WithStoredSecrets(lookup func(string) (string, bool)) *Scope {
	s.lookupSecret = lookup
	s.lookupEnv = func(string) (string, bool) { return "", false }
	s.readFile = func(string) ([]byte, error) { return nil, errNoServerFiles }
	s.noEnvFile = true
	return s
}

var errNoServerFiles = errors.New("hooks managed through the API cannot read the server's files")

// Uses reports whether the template calls the function name anywhere, in any form
// (name "ARG", "ARG" | name, name $var, within define, with, range...).
func (t *Template) Uses(name string) bool {
	found := false
	for _, tt := range t.base.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			if id, ok := n.(*parse.IdentifierNode); ok && id.Ident == name {
				found = true
			}
		})
	}
	return found
}

// AddSecret marks v as secret: output made from it is masked in views, and Mask hides
// it (and its meaningful parts) in text that comes back from outside.
func (s *Scope) AddSecret(v string) {
	if v == "" {
		return
	}
	if _, ok := s.secretSet[v]; ok {
		return
	}
	if s.secretSet == nil {
		s.secretSet = make(map[string]struct{}, 4)
	}
	s.secretSet[v] = struct{}{}
	s.secrets = append(s.secrets, v)
	s.masker = nil
}

// isSecret reports whether v, as text, is a secret or was computed from one.
func (s *Scope) isSecret(v any) bool {
	if len(s.secrets) == 0 || v == nil {
		return false
	}
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case fmt.Stringer:
		text = x.String()
	default:
		return false // numbers, booleans, lists and objects come from data, not secrets
	}
	_, ok := s.secretSet[text]
	return ok
}

// HasSecrets reports whether any secret was read.
func (s *Scope) HasSecrets() bool { return len(s.secrets) > 0 }

// Secrets returns every secret read and every value computed from one.
func (s *Scope) Secrets() []string { return slices.Clone(s.secrets) }

// Mask is what stands in place of a secret in anything shown.
const Mask = "****"

// Render executes t in this scope and checks the result for t's kind.
func (s *Scope) Render(t *Template) (string, error) {
	if t.constant {
		return t.src, nil
	}
	w, err := s.render(t)
	if err != nil {
		return "", err
	}
	return w.buf.String(), nil
}

// RenderView is Render that also returns the view for people: the output with exactly
// the parts that came from secrets replaced by Mask.
func (s *Scope) RenderView(t *Template) (text, view string, err error) {
	if t.constant {
		return t.src, t.src, nil
	}
	w, err := s.render(t)
	if err != nil {
		return "", "", err
	}
	return w.buf.String(), w.view(), nil
}

func (s *Scope) render(t *Template) (*ctxWriter, error) {
	if t.fast != nil {
		w, handled, err := s.runFast(t, t.fast)
		if handled {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			return w, nil
		}
	}
	inst, _ := t.pool.Get().(*instance)
	if inst == nil {
		clone, err := t.base.Clone()
		if err != nil {
			return nil, err
		}
		b := &binding{}
		clone.Funcs(boundFuncs(b))
		inst = &instance{t: clone, b: b}
	}
	w := &ctxWriter{kind: t.kind}
	inst.b.scope, inst.b.w = s, w
	err := inst.t.Execute(w, s.data)
	inst.b.scope, inst.b.w = nil, nil
	t.pool.Put(inst)
	if err != nil {
		return nil, cleanErr(err)
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	return w, nil
}

// cleanErr strips text/template's "template: " prefix and the internal escaper's name,
// and says an error of execution in words: the action that failed, then what went wrong,
// without the template's name (the caller names the field), its position or Go types.
func cleanErr(err error) error {
	var ee ttemplate.ExecError
	msg := err.Error()
	if !errors.As(err, &ee) {
		return errors.New(escaperNoiseRE.ReplaceAllString(strings.TrimPrefix(msg, "template: "), ""))
	}
	msg = strings.TrimPrefix(ee.Err.Error(), "template: ")
	msg = escaperNoiseRE.ReplaceAllString(msg, "")
	msg = strings.ReplaceAll(msg, " | "+escapeFunc, "")
	msg = execPlaceRE.ReplaceAllString(msg, "$1")
	node, what, fn := "", msg, ""
	if m := execAtRE.FindStringSubmatch(msg); m != nil {
		node, what = m[1], m[2]
	}
	if m := callingRE.FindStringSubmatch(what); m != nil {
		fn, what = m[1], m[2]
		if strings.HasPrefix(node, fn+" ") && strings.HasPrefix(what, node) {
			return errors.New(what) // the function's own error names it: env "X": ...
		}
	}
	said := false
	for _, r := range execWords {
		if m := r.re.FindStringSubmatch(what); m != nil {
			what, said = r.say(node, fn, m), true
			break
		}
	}
	if !said && fn != "" && !strings.HasPrefix(what, fn+" ") {
		what = fn + ": " + what
	}
	if node == "" {
		return errors.New(what)
	}
	if !strings.HasPrefix(node, "{{") {
		node = "{{" + node + "}}"
	}
	return errors.New(node + ": " + what)
}

var (
	// execPlaceRE is the place text/template puts first: name:line:column.
	execPlaceRE = regexp.MustCompile(`^(?s).*?:\d+:\d+: (executing ")`)
	execAtRE    = regexp.MustCompile(`^(?s)executing "[^"]*" at <(.*?)>: (.*)$`)
	callingRE   = regexp.MustCompile(`^(?s)error calling (\S+): (.*)$`)
)

// execWords says text/template's errors of execution in words. say gets the action, the
// function whose call failed (or "") and the submatches.
var execWords = []struct {
	re  *regexp.Regexp
	say func(node, fn string, m []string) string
}{
	{regexp.MustCompile(`^nil pointer evaluating .*\.(\w+)$`), func(node, _ string, m []string) string {
		if before, ok := fieldBefore(node, m[1]); ok {
			return fmt.Sprintf("%s has no value, so .%s cannot be read", before, m[1])
		}
		return fmt.Sprintf("the value has none, so .%s cannot be read", m[1])
	}},
	{regexp.MustCompile(`^can't evaluate field (\w+) in type .*$`), func(node, _ string, m []string) string {
		if before, ok := fieldBefore(node, m[1]); ok {
			return fmt.Sprintf("%s is not an object, so .%s cannot be read", before, m[1])
		}
		return fmt.Sprintf("the value is not an object, so .%s cannot be read", m[1])
	}},
	{regexp.MustCompile(`^len of (?:type (.*)|nil pointer)$`), func(_, _ string, m []string) string {
		if m[1] == "" {
			return "a value that is not set has no length"
		}
		return goTypeWords(m[1]) + " has no length"
	}},
	{regexp.MustCompile(`^incompatible types for comparison: (.*) and (.*)$`), func(_, _ string, m []string) string {
		return fmt.Sprintf("cannot compare %s with %s", goTypeWords(m[1]), goTypeWords(m[2]))
	}},
	{regexp.MustCompile(`^non-comparable type .*: (.*)$`), func(_, _ string, m []string) string {
		return goTypeWords(m[1]) + " cannot be compared"
	}},
	{regexp.MustCompile(`^non-function (.*) of type .*$`), func(_, _ string, m []string) string { return m[1] + " is not a function" }},
	{regexp.MustCompile(`^call of nil$`), func(_, _ string, _ []string) string { return "there is nothing to call" }},
	{regexp.MustCompile(`^wrong type for value; expected (.*); got (.*)$`), func(_, _ string, m []string) string {
		return fmt.Sprintf("expected %s, got %s", bare(goTypeWords(m[1])), goTypeWords(m[2]))
	}},
	{regexp.MustCompile(`^expected (string|integer|float|bool); found (.*)$`), func(_, _ string, m []string) string {
		return fmt.Sprintf("expected %s, found %s", bare(goTypeWords(m[1])), m[2])
	}},
	{regexp.MustCompile(`^\w+ is not a method but has arguments$`), func(node, _ string, _ []string) string { return node + " takes no arguments" }},
	{regexp.MustCompile(`^wrong number of args for (\S+): want (at least )?(\d+) got (\d+)$`), func(_, _ string, m []string) string {
		s := "s"
		if m[3] == "1" {
			s = ""
		}
		return fmt.Sprintf("%s takes %s%s argument%s, got %s", m[1], m[2], m[3], s, m[4])
	}},
}

// fieldBefore returns the part of a field chain (.data.x.y) before .field.
func fieldBefore(node, field string) (string, bool) {
	i := strings.Index(node+".", "."+field+".")
	if i <= 0 || strings.ContainsAny(node[:i], " ()") {
		return "", false
	}
	return node[:i], true
}

// goTypeWords says a Go type of a template value in words.
func goTypeWords(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"), t == "integer":
		return "a number"
	}
	return "a value"
}

// bare drops the article of a word from goTypeWords.
func bare(w string) string {
	w, _ = strings.CutPrefix(w, "a ")
	w, _ = strings.CutPrefix(w, "an ")
	return w
}

// ctxWriter collects the output and knows, for the output so far, in which context the
// next value lands. The context is computed lazily, only when an action asks for it.
// It also records which bytes came from values (spans), so that the finished output can
// be checked for structure the values made, and shown with the secret parts masked.
type ctxWriter struct {
	kind  Kind
	buf   bytes.Buffer
	lex   lexer
	spans []span
	// pending is the span the next Write fills (when hasPending): text/template prints
	// an action's value, which the escaper has just produced, in one Write.
	pending    span
	hasPending bool
	// spanBuf backs spans for the usual few actions, without an allocation.
	spanBuf [8]span
}

// span is a stretch of output that one action's value produced.
type span struct {
	start, end int
	st         state // where the value landed
	secret     bool  // the value is a secret or was computed from one
}

// MaxOutput bounds what one template may produce.
const MaxOutput = 16 << 20

var errTooLarge = fmt.Errorf("the rendered value is larger than %d bytes", MaxOutput)

func (w *ctxWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxOutput {
		return 0, errTooLarge
	}
	if w.hasPending {
		sp := w.pending
		w.hasPending = false
		sp.start, sp.end = w.buf.Len(), w.buf.Len()+len(p)
		w.addSpan(sp)
	}
	return w.buf.Write(p)
}

func (w *ctxWriter) writeString(s string) error {
	if w.buf.Len()+len(s) > MaxOutput {
		return errTooLarge
	}
	w.buf.WriteString(s)
	return nil
}

// writeValue writes the escaped text of a value as its own span.
func (w *ctxWriter) writeValue(s string, sp span) error {
	if w.buf.Len()+len(s) > MaxOutput {
		return errTooLarge
	}
	sp.start, sp.end = w.buf.Len(), w.buf.Len()+len(s)
	w.addSpan(sp)
	w.buf.WriteString(s)
	return nil
}

func (w *ctxWriter) addSpan(sp span) {
	if w.spans == nil {
		w.spans = w.spanBuf[:0]
	}
	w.spans = append(w.spans, sp)
}

// context scans the output written since the last call and returns the current state.
func (w *ctxWriter) context() state {
	b := w.buf.Bytes()
	w.lex.scan(w.kind, b)
	return w.lex.st
}

// finish checks the whole output: well-formed for its kind, and no structure made by
// values.
func (w *ctxWriter) finish() error {
	out := w.buf.Bytes()
	if err := check(w.kind, out); err != nil {
		return err
	}
	return checkStructure(w.kind, out, w.spans)
}

// view returns the output with every secret span replaced by Mask (adjacent ones by one).
func (w *ctxWriter) view() string {
	out := w.buf.Bytes()
	var b strings.Builder
	last, masked, hasSecret := 0, false, false
	for _, sp := range w.spans {
		if !sp.secret || sp.end == sp.start {
			continue
		}
		hasSecret = true
		if sp.st == stJSONValue && out[sp.start] == '"' && out[sp.end-1] == '"' {
			// A whole JSON string: the view stays valid JSON.
			b.Write(out[last:sp.start])
			b.WriteString(`"` + Mask + `"`)
			last, masked = sp.end, false
			continue
		}
		if sp.start == last && masked {
			last = sp.end
			continue
		}
		b.Write(out[last:sp.start])
		b.WriteString(Mask)
		last, masked = sp.end, true
	}
	if !hasSecret {
		return string(out)
	}
	b.Write(out[last:])
	return b.String()
}

// errf builds a rendering error that names the kind of text being produced.
func errf(k Kind, format string, args ...any) error {
	return fmt.Errorf("%s: %s", k, fmt.Sprintf(format, args...))
}
