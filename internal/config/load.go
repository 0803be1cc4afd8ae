package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/safefile"
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
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, &Error{Issues: []Issue{{File: path, Message: "cannot read the config file: " + safefile.Reason(err).Error()}}}
	}
	return Parse(path, data)
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads and validates a config from data; name is used in messages. YAML and JSON
// are both accepted (JSON is read as YAML 1.2 flow style).
func Parse(name string, data []byte) (*Config, error) {
	if name == "" {
		name = "config" // as Validate names a config built in code
	}
	fail := func(issues ...Issue) (*Config, error) { return nil, &Error{Issues: issues} }
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(yamlSafeJSON(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(Issue{File: name, Message: "the config file is empty; it needs at least a hooks: list"})
		}
		return fail(yamlIssue(name, err.Error()))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fail(Issue{File: name, Line: extra.Line, Message: "the file holds more than one YAML document"})
	} else if !errors.Is(err, io.EOF) {
		return fail(yamlIssue(name, err.Error()))
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
	ix := &indexer{pos: pos, seen: map[aliasUse]bool{}, report: func(p Position, field, msg string) {
		issues = append(issues, Issue{File: name, Line: p.Line, Column: p.Column, Field: field, Message: msg})
	}}
	ix.index(root, reflect.TypeOf(Config{}), "")
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
	bodyType        = reflect.TypeOf(Body{})
)

// indexer walks a document along the Go types it decodes into.
type indexer struct {
	pos    posIndex
	report func(Position, string, string)
	// seen holds the anchors already walked through an alias, per type: walking one again
	// would repeat the same checks, and a few lines of aliases to aliases could otherwise
	// make millions of nodes. Fields reached through a later alias fall back to the
	// alias's own position.
	seen map[aliasUse]bool
}

type aliasUse struct {
	n *yaml.Node
	t reflect.Type
}

// index walks node along the Go type t, records where every field is written and reports
// fields the type does not have.
func (ix *indexer) index(n *yaml.Node, t reflect.Type, path string) {
	pos, report := ix.pos, ix.report
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		use := aliasUse{n.Alias, t}
		if ix.seen[use] {
			return
		}
		ix.seen[use] = true
		n = n.Alias
	}
	if reflect.PointerTo(t).Implements(yamlUnmarshaler) {
		switch {
		case t == bodyType:
			indexValue(n, path, pos)
		case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
			// The items of on, status, expect, ... are where an issue about one points.
			for i, c := range n.Content {
				pos[fmt.Sprintf("%s[%d]", path, i)] = Position{c.Line, c.Column}
			}
		}
		return
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
		// Merge keys (<<: *anchor) first, so that the keys written here win, as they do
		// when decoding.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; isMergeKey(k) {
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						ix.index(m, t, path)
					}
				} else {
					ix.index(v, t, path)
				}
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isMergeKey(k) {
				continue
			}
			p := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				report(Position{k.Line, k.Column}, path, fmt.Sprintf("unknown field %q (this object takes: %s)", k.Value, strings.Join(names, ", ")))
				continue
			}
			pos[p] = Position{k.Line, k.Column}
			ix.index(v, ft, p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			pos[p] = Position{c.Line, c.Column}
			if c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && t.Elem().Kind() != reflect.Pointer {
				// The decoder would drop the item, shifting the ones after it.
				report(Position{c.Line, c.Column}, p, "a list item is empty (null); remove it or give it a value")
				continue
			}
			ix.index(c, t.Elem(), p)
		}
	case reflect.Int:
		if err := wholeNumber(n); err != nil {
			report(Position{n.Line, n.Column}, path, err.Error())
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

// indexValue records where the keys and items within a value that decodes itself (on,
// expect, body, ...) are written, so that an issue about one of them (hooks[0].on[1],
// hooks[0].http.body.vm) points at its line. Aliases are not followed: an anchor may
// contain itself.
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

// isMergeKey reports whether k is the YAML merge key <<, which the decoder expands.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
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
		if isWithin(path, deepest) {
			deepest = path // a child of the current one
			continue
		}
		if !isWithin(deepest, path) {
			return commonParent(deepest, path)
		}
	}
	return deepest
}

// isWithin reports whether path is parent or one of its descendants (hooks[0].on_failure
// is not within hooks[0].on).
func isWithin(path, parent string) bool {
	rest, ok := strings.CutPrefix(path, parent)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
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

// yamlSafeJSON returns a JSON document rewritten so that the YAML parser reads each string
// as JSON does: the parser knows neither the escape \/ nor surrogate pairs (\ud83d\ude00),
// rejects raw characters that JSON strings may hold (DEL, C1 controls) and folds NEL and
// the line and paragraph separators as line breaks. Lines stay where they were; columns
// after a rewrite on the same line shift. Anything that is not valid JSON is returned as
// it is.
func yamlSafeJSON(data []byte) []byte {
	const bom = "\xef\xbb\xbf"
	if !json.Valid(bytes.TrimPrefix(data, []byte(bom))) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && data[i+1] == '/':
			out = append(out, '/')
			i += 2
			continue
		case c == '\\' && data[i+1] == 'u' && isSurrogateEscape(data[i+2:i+6]):
			r, n := jsonSurrogates(data[i:])
			out = append(out, fmt.Sprintf("\\U%08X", r)...)
			i += n
			continue
		case c == '\\':
			out = append(out, data[i:i+2]...)
			i += 2
			continue
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(data[i:])
			if r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfffe || r == 0xffff || r == utf8.RuneError && n == 1 {
				if r == utf8.RuneError {
					r = 0xfffd
				}
				out = append(out, fmt.Sprintf("\\u%04X", r)...)
			} else {
				out = append(out, data[i:i+n]...)
			}
			i += n
			continue
		case c == 0x7f:
			out = append(out, `\u007F`...)
			i++
			continue
		}
		out = append(out, c)
		i++
	}
	return out
}

func isSurrogateEscape(hex []byte) bool {
	r := hexRune(hex)
	return r >= 0xd800 && r <= 0xdfff
}

// jsonSurrogates decodes the \uXXXX escape of a surrogate at the start of b, joined with
// the next one when the two make a pair; a lone surrogate becomes U+FFFD, as encoding/json
// decodes it. It returns the rune and the bytes read.
func jsonSurrogates(b []byte) (rune, int) {
	r := hexRune(b[2:6])
	if r <= 0xdbff && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo := hexRune(b[8:12]); lo >= 0xdc00 && lo <= 0xdfff {
			return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, 12
		}
	}
	return 0xfffd, 6
}

func hexRune(b []byte) rune {
	v, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(v)
}
