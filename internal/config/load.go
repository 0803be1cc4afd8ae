package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a config file.
const MaxFileSize = 8 << 20

// Issue is one problem found in a config, with where it is.
type Issue struct {
	File    string
	Line    int
	Column  int
	Field   string // path such as hooks[0].http.method
	Message string
}

func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
		if i.Column > 0 {
			fmt.Fprintf(&b, ":%d", i.Column)
		}
	}
	b.WriteString(": ")
	if i.Field != "" {
		b.WriteString(i.Field + ": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Error is every problem found in a config.
type Error struct {
	Issues []Issue
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// Position is a place in a config file.
type Position struct{ Line, Column int }

// posIndex maps field paths (hooks[0].http.url) to where they are written.
type posIndex map[string]Position

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Issues: []Issue{{File: path, Message: "cannot read the config file: " + unwrapPathErr(err).Error()}}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{Issues: []Issue{{File: path, Message: "cannot read the config file: " + err.Error()}}}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Issues: []Issue{{File: path, Message: fmt.Sprintf("the config file is larger than %d bytes", MaxFileSize)}}}
	}
	return Parse(path, data)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads and validates a config from data; name is used in messages. YAML and JSON
// are both accepted (JSON is read as YAML 1.2 flow style).
func Parse(name string, data []byte) (*Config, error) {
	fail := func(issues ...Issue) (*Config, error) { return nil, &Error{Issues: issues} }
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(Issue{File: name, Message: "the config file is empty; it needs at least a hooks: list"})
		}
		return fail(yamlIssue(name, err.Error()))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fail(Issue{File: name, Line: extra.Line, Message: "the file holds more than one YAML document"})
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return fail(Issue{File: name, Line: root.Line, Column: root.Column, Message: "the config must be a mapping with a hooks: list"})
	}
	pos := posIndex{}
	var issues []Issue
	index(root, reflect.TypeOf(Config{}), "", pos, func(p Position, field, msg string) {
		issues = append(issues, Issue{File: name, Line: p.Line, Column: p.Column, Field: field, Message: msg})
	})
	if len(issues) > 0 {
		return fail(issues...)
	}
	cfg := &Config{}
	if err := root.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				is := yamlIssue(name, e)
				is.Field = pos.fieldAt(is.Line)
				issues = append(issues, is)
			}
			return fail(issues...)
		}
		return fail(yamlIssue(name, err.Error()))
	}
	cfg.File, cfg.pos = name, pos
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func yamlIssue(file, msg string) Issue {
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Issue{File: file, Line: line, Message: m[2]}
	}
	return Issue{File: file, Message: strings.TrimPrefix(msg, "yaml: ")}
}

var (
	yamlUnmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// index walks node along the Go type t, records where every field is written and reports
// fields the type does not have.
func index(n *yaml.Node, t reflect.Type, path string, pos posIndex, report func(Position, string, string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(yamlUnmarshaler) {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		sort.Strings(names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				report(Position{k.Line, k.Column}, path, fmt.Sprintf("unknown field %q (this object takes: %s)", k.Value, strings.Join(names, ", ")))
				continue
			}
			pos[p] = Position{k.Line, k.Column}
			index(v, ft, p, pos, report)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			pos[p] = Position{c.Line, c.Column}
			index(c, t.Elem(), p, pos, report)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			pos[join(path, k.Value)] = Position{k.Line, k.Column}
		}
	}
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

// fieldAt returns the field path written on line: the deepest one, or, when several
// fields share the line (flow style), the path they have in common.
func (p posIndex) fieldAt(line int) string {
	var on []string
	for path, at := range p {
		if at.Line == line {
			on = append(on, path)
		}
	}
	if len(on) == 0 {
		return ""
	}
	sort.Strings(on)
	deepest := on[0]
	for _, path := range on[1:] {
		if strings.HasPrefix(path, deepest) {
			deepest = path // a child of the current one
			continue
		}
		if !strings.HasPrefix(deepest, path) {
			return commonParent(deepest, path)
		}
	}
	return deepest
}

func commonParent(a, b string) string {
	for !strings.HasPrefix(b, a+".") && !strings.HasPrefix(b, a+"[") && a != "" {
		i := strings.LastIndexAny(a, ".[")
		if i < 0 {
			return ""
		}
		a = a[:i]
	}
	return a
}
