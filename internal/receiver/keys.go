package receiver

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys of a hooks file are read the way webhook reads them. webhook turns the file
// (JSON or YAML) into a map, marshals it to JSON (keys sorted) and decodes that with
// encoding/json. So:
//   - a key matches a field whatever its case ("Trigger-Rule", "EXECUTE-COMMAND");
//   - the same key twice in one object: the later one counts;
//   - two spellings of one field in an object ("trigger-rule" and "Trigger-Rule") are
//     applied in sorted order, the later overriding the earlier, and objects meant
//     for the same rule or argument are merged, as encoding/json decodes into what is
//     already there;
//   - a key that matches no field is ignored.
//
// canonicalize rewrites a parsed file so that the YAML decoder sees exactly that: every
// key spelled as the field's name, each field once. Whatever webhook would ignore or
// override silently becomes a Warning.

// Warning is something in a hooks file that loads but is likely not what was meant.
type Warning struct {
	File string
	Line int    // 0 when unknown
	Hook string // the hook's id, or "hook N" before its id is known
	Msg  string
}

func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Line > 0 {
		fmt.Fprintf(&b, ": line %d", w.Line)
	}
	if w.Hook != "" {
		fmt.Fprintf(&b, ": %s", w.Hook)
	}
	return b.String() + ": " + w.Msg
}

// field is one key a hooks file may hold in an object.
type field struct {
	name string
	typ  reflect.Type
}

var fieldsCache = map[reflect.Type][]field{}

func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldsCache[t]; ok {
		return fs
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs = append(fs, field{name: name, typ: f.Type})
	}
	fieldsCache[t] = fs
	return fs
}

// init fills the cache for every object type of a hooks file, so that lookups never
// write to it (loads may run concurrently).
func init() {
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if _, done := fieldsCache[t]; done {
			return
		}
		for _, f := range fieldsOf(t) {
			walk(f.typ)
		}
	}
	walk(reflect.TypeOf(Hook{}))
}

// lookup finds the field a key means: its exact name first, then any name equal to it
// under Unicode case folding (encoding/json's rule).
func lookup(fs []field, key string) *field {
	for i := range fs {
		if fs[i].name == key {
			return &fs[i]
		}
	}
	for i := range fs {
		if strings.EqualFold(fs[i].name, key) {
			return &fs[i]
		}
	}
	return nil
}

// suggest names the field a key that matches none was probably meant for
// ("trigger_rule", "trigger rule" → "trigger-rule").
func suggest(fs []field, key string) string {
	k := strings.NewReplacer("_", "-", " ", "-").Replace(key)
	if f := lookup(fs, k); f != nil {
		return f.name
	}
	return ""
}

// objectNames names the objects of a hooks file in messages.
var objectNames = map[reflect.Type]string{
	reflect.TypeOf(Hook{}):      "hook",
	reflect.TypeOf(Rules{}):     "trigger rule",
	reflect.TypeOf(MatchRule{}): "match",
	reflect.TypeOf(Argument{}):  "argument",
	reflect.TypeOf(Header{}):    "response header",
}

type canonicalizer struct {
	file     string
	hook     string
	warnings []Warning
}

func (c *canonicalizer) warn(line int, format string, args ...any) {
	c.warnings = append(c.warnings, Warning{File: c.file, Line: line, Hook: c.hook, Msg: fmt.Sprintf(format, args...)})
}

// canonicalizeHooks rewrites the top-level list of hooks in place.
func canonicalizeHooks(file string, doc *yaml.Node) []Warning {
	c := &canonicalizer{file: file}
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.SequenceNode {
		return nil // the decoder reports it
	}
	hookType := reflect.TypeOf(Hook{})
	for i, h := range n.Content {
		c.hook = fmt.Sprintf("hook %d", i+1)
		if h.Kind == yaml.MappingNode {
			if id := idOf(h); id != "" {
				c.hook = fmt.Sprintf("hook %q", id)
			}
		}
		c.value(h, hookType)
	}
	sort.SliceStable(c.warnings, func(i, j int) bool { return c.warnings[i].Line < c.warnings[j].Line })
	return c.warnings
}

// idOf returns the id a hook's mapping will end up with, as webhook reads it.
func idOf(m *yaml.Node) string {
	id := ""
	for _, p := range orderedPairs(m) {
		if strings.EqualFold(p.key.Value, "id") && p.val.Kind == yaml.ScalarNode {
			id = p.val.Value
		}
	}
	return id
}

func (c *canonicalizer) value(n *yaml.Node, t reflect.Type) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			c.value(e, t.Elem())
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		c.object(n, t)
	}
}

type pair struct{ key, val *yaml.Node }

// orderedPairs returns a mapping's pairs in the order webhook applies them: the same
// key twice keeps the later value (a map), then keys sorted (JSON marshalling of that
// map). YAML merge keys ("<<") come first, untouched.
func orderedPairs(m *yaml.Node) []pair {
	var merges []pair
	byKey := map[string]int{}
	var ps []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		p := pair{m.Content[i], m.Content[i+1]}
		if p.key.Kind == yaml.ScalarNode && p.key.Value == "<<" && p.key.Tag != "!!str" {
			merges = append(merges, p)
			continue
		}
		if j, dup := byKey[p.key.Value]; dup {
			ps[j] = p
			continue
		}
		byKey[p.key.Value] = len(ps)
		ps = append(ps, p)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].key.Value < ps[j].key.Value })
	return append(merges, ps...)
}

// object rewrites the mapping n meant for a struct of type t.
func (c *canonicalizer) object(n *yaml.Node, t reflect.Type) {
	// Warn about repeated keys before orderedPairs folds them.
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if prev, dup := first[k.Value]; dup {
			c.warn(k.Line, "key %q is given again (first on line %d); the later one counts, as with webhook", k.Value, prev.Line)
		}
		first[k.Value] = k
	}
	n.Content = c.layers([]*yaml.Node{n}, t, false)
}

// layers returns the canonical content of one struct of type t decoded from each
// mapping in turn, as encoding/json decodes objects into the same value: a later field
// overrides an earlier one, except that objects meant for a struct are merged.
//
// Within objects being merged (merging), two spellings of a field are expected and not
// warned about again.
func (c *canonicalizer) layers(maps []*yaml.Node, t reflect.Type, merging bool) []*yaml.Node {
	fs := fieldsOf(t)
	what := objectNames[t]
	type entry struct {
		key  *yaml.Node
		vals []*yaml.Node // more than one: mappings to merge
		f    *field
	}
	var out []*entry
	byName := map[string]*entry{}
	var merges []pair
	for _, m := range maps {
		for _, p := range orderedPairs(resolve(m)) {
			if p.key.Value == "<<" && p.key.Tag != "!!str" {
				merges = append(merges, p)
				continue
			}
			f := lookup(fs, p.key.Value)
			if f == nil {
				if s := suggest(fs, p.key.Value); s != "" {
					c.warn(p.key.Line, "%s key %q is not understood and is ignored (did you mean %q?)", what, p.key.Value, s)
				} else {
					c.warn(p.key.Line, "%s key %q is not understood and is ignored", what, p.key.Value)
				}
				continue
			}
			e, dup := byName[f.name]
			if !dup {
				e = &entry{key: p.key, vals: []*yaml.Node{p.val}, f: f}
				byName[f.name] = e
				out = append(out, e)
				continue
			}
			// Two spellings of one field: applied in sorted order, as webhook does.
			last := resolve(e.vals[len(e.vals)-1])
			warn := c.warn
			if merging {
				warn = func(int, string, ...any) {}
			}
			switch {
			case isNull(p.val) && !nullable(f.typ):
				warn(p.key.Line, "keys %q (line %d) and %q both set %q; null changes nothing, the value of %q counts, as with webhook",
					e.key.Value, e.key.Line, p.key.Value, f.name, e.key.Value)
				continue
			case resolve(p.val).Kind == yaml.MappingNode && last.Kind == yaml.MappingNode && structLike(f.typ):
				warn(p.key.Line, "keys %q (line %d) and %q both set %q; their contents are merged, %q winning where both say something, as with webhook",
					e.key.Value, e.key.Line, p.key.Value, f.name, p.key.Value)
				e.vals = append(e.vals, p.val)
			default:
				warn(p.key.Line, "keys %q (line %d) and %q both set %q; %q counts",
					e.key.Value, e.key.Line, p.key.Value, f.name, p.key.Value)
				e.vals = []*yaml.Node{p.val}
			}
			e.key = p.key
		}
	}
	content := make([]*yaml.Node, 0, 2*(len(out)+len(merges)))
	for _, p := range merges {
		content = append(content, p.key, p.val)
	}
	for _, e := range out {
		k := *e.key
		k.Value = e.f.name
		val := e.vals[0]
		if len(e.vals) > 1 {
			st := e.f.typ
			for st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			first := resolve(val)
			val = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: first.Line, Column: first.Column}
			val.Content = c.layers(e.vals, st, true)
		} else {
			c.value(val, e.f.typ)
		}
		content = append(content, &k, val)
	}
	return content
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// nullable reports whether encoding/json lets null change a value of type t (it sets
// pointers and slices to nil and leaves everything else as it was).
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}

func structLike(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}
