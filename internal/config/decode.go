package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/suggest"
)

// decoder reads a YAML document into the config's Go types, as the YAML library would,
// but reports every problem where it is written (line and column) and goes on past it: a
// value that does not fit is left at its zero value and its path remembered as broken,
// so that validation does not report it again as missing.
type decoder struct {
	file   string
	pos    posIndex
	broken map[string]bool
	issues []Issue
}

func (d *decoder) report(n *yaml.Node, field, msg string) {
	d.issues = append(d.issues, Issue{File: d.file, Line: n.Line, Column: n.Column, Field: field, Message: msg})
}

// fail reports the value at path as unfit.
func (d *decoder) fail(n *yaml.Node, path, msg string) {
	d.report(n, path, msg)
	d.broken[path] = true
}

var nodeReaderType = reflect.TypeOf((*nodeReader)(nil)).Elem()

// decode sets v from n along v's Go type, recording where each field is written.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if r, ok := v.Addr().Interface().(nodeReader); ok {
		d.index(n, path, v.Type())
		if e := r.readNode(n); e != nil {
			d.fail(e.node, path+e.sub, e.msg)
			d.broken[path] = true // the whole value is unusable
			v.Set(reflect.Zero(v.Type()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		elem := v.Type().Elem()
		if elem.Kind() == reflect.Struct && !reflect.PointerTo(elem).Implements(nodeReaderType) && n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected an object (name: value), got "+describe(n))
			return
		}
		p := reflect.New(elem)
		d.decode(n, p.Elem(), path)
		if !d.broken[path] {
			v.Set(p)
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected an object (name: value), got "+describe(n))
			return
		}
		d.object(n, v, path)
	case reflect.Slice:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "expected a list, got "+describe(n))
			return
		}
		list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.pos[p] = Position{c.Line, c.Column}
			if isNull(resolve(c)) && v.Type().Elem().Kind() != reflect.Pointer {
				d.fail(c, p, "a list item is empty (null); remove it or give it a value")
				continue
			}
			d.decode(c, list.Index(i), p)
		}
		v.Set(list)
	case reflect.Map:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected an object (name: value), got "+describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		d.pairs(n, path, func(k, val *yaml.Node) {
			p := join(path, k.Value)
			d.pos[p] = Position{k.Line, k.Column}
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, p)
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		})
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			d.fail(n, path, "expected a string, got "+describe(n))
		}
	case reflect.Int:
		if err := wholeNumber(n); err != nil {
			d.fail(n, path, err.Error())
		} else if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			d.fail(n, path, "expected a whole number, got "+describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			d.fail(n, path, "expected true or false, got "+describe(n))
		}
	default:
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(n, path, "this value does not fit here: "+describe(n))
		}
	}
}

// object decodes the mapping n into the struct v.
func (d *decoder) object(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	sort.Strings(names)
	d.pairs(n, path, func(k, val *yaml.Node) {
		i, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest.Closest(k.Value, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.report(k, path, fmt.Sprintf("%s (this object takes: %s)", msg, strings.Join(names, ", ")))
			return
		}
		p := join(path, k.Value)
		d.pos[p] = Position{k.Line, k.Column}
		delete(d.broken, p) // a key written here replaces a merged one
		f := v.Field(i)
		f.Set(reflect.Zero(f.Type()))
		d.decode(val, f, p)
	})
}

// pairs calls f for each key and value of the mapping n, in the order that makes the
// last call for a key the one that counts: the merged mappings (<<: *anchor) first,
// earlier ones of a list last, then the keys written in n. A key written twice in n, or a
// key that is not a string, is reported.
func (d *decoder) pairs(n *yaml.Node, path string, f func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if !isMergeKey(k) {
			continue
		}
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			merged = nil
			for j := len(v.Content) - 1; j >= 0; j-- {
				merged = append(merged, resolve(v.Content[j]))
			}
		}
		for _, m := range merged {
			if m.Kind != yaml.MappingNode {
				d.report(m, path, "<< merges an object, or a list of them, into this one: write <<: *name for an anchor &name on an object")
				continue
			}
			d.pairs(m, path, f)
		}
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if isMergeKey(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.report(k, path, "a key must be a name, not "+describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.fail(k, join(path, k.Value), twice(k.Value, first))
			continue
		}
		seen[k.Value] = k
		f(k, v)
	}
}

// index records where the items or keys within a value that reads itself are written, so
// that an issue about one of them (hooks[0].on[1], hooks[0].http.body.vm) points at it.
func (d *decoder) index(n *yaml.Node, path string, t reflect.Type) {
	switch {
	case t == reflect.TypeOf(Body{}):
		indexValue(n, path, d.pos)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			d.pos[fmt.Sprintf("%s[%d]", path, i)] = Position{c.Line, c.Column}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.ScalarNode:
		// A single item written without a list: hooks[0].on[0] is the value itself.
		d.pos[path+"[0]"] = Position{n.Line, n.Column}
	}
}

// indexValue records where the keys and items within n are written. Aliases are not
// followed: an anchor may contain itself.
func indexValue(n *yaml.Node, path string, pos posIndex) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := join(path, k.Value)
			pos[p] = Position{k.Line, k.Column}
			indexValue(n.Content[i+1], p, pos)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			pos[p] = Position{c.Line, c.Column}
			indexValue(c, p, pos)
		}
	}
}

// resolve follows an alias to the value its anchor names.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// isMergeKey reports whether k is the YAML merge key <<.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// describe names what a node holds, for messages: the value of a scalar, quoted when it
// is a string (and cut when long), "an object" or "a list".
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing (null)"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:37]) + "..."
	}
	if n.ShortTag() == "!!str" {
		return fmt.Sprintf("%q", v)
	}
	return v
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Pos returns where the field at path (or its nearest written parent) is in the file.
func (c *Config) Pos(path string) Position {
	for path != "" {
		if p, ok := c.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Position{}
}

// Written reports whether the field at path is written in the file.
func (c *Config) Written(path string) bool {
	_, ok := c.pos[path]
	return ok
}

// aliasIssue refuses a document whose aliases make it expand far beyond what is written
// (a few lines can otherwise stand for billions of values), or an anchor that contains
// itself.
func aliasIssue(file string, root *yaml.Node) (Issue, bool) {
	const done = -1
	size := map[*yaml.Node]int{} // expanded size; done-1 while being counted
	written := 0
	var cycle *yaml.Node
	var count func(n *yaml.Node) int
	count = func(n *yaml.Node) int {
		if s, ok := size[n]; ok {
			if s == done-1 {
				cycle = n
				return 0
			}
			return s
		}
		written++
		size[n] = done - 1
		total := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			total += count(n.Alias)
		}
		for _, c := range n.Content {
			total += count(c)
			if total > maxExpanded {
				total = maxExpanded + 1
			}
		}
		size[n] = total
		return total
	}
	total := count(root)
	if cycle != nil {
		name := cycle.Anchor
		return Issue{File: file, Line: cycle.Line, Column: cycle.Column, Message: fmt.Sprintf("the anchor &%s contains itself (through an alias *%s within it)", name, name)}, true
	}
	if total > maxExpanded && total > 4*written {
		return Issue{File: file, Message: fmt.Sprintf("the aliases of this file expand it to more than %d values (excessive aliasing)", maxExpanded)}, true
	}
	return Issue{}, false
}

// maxExpanded bounds the values a document may stand for through its aliases.
const maxExpanded = 100_000
