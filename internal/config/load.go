package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
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
	// Warning marks what does not stop the config from loading but is probably not
	// what was meant, such as a hook that can never run.
	Warning bool
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
	if i.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Error is every problem found in a config that stops it from loading (warnings are in
// Config.Warnings, or from Inspect).
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
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readFile reads the config file at path, a regular file of at most MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, &Error{Issues: []Issue{{File: path, Message: "cannot read the config file: " + safefile.Reason(err).Error()}}}
	}
	return data, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads and validates a config from data; name is used in messages. A name ending
// in .json is read as strict JSON; anything else as YAML, which JSON is a part of. On
// success the config's Warnings hold what is probably not meant.
func Parse(name string, data []byte) (*Config, error) {
	cfg, issues := InspectData(name, data)
	var errs, warnings []Issue
	for _, is := range issues {
		if is.Warning {
			warnings = append(warnings, is)
		} else {
			errs = append(errs, is)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Issues: errs}
	}
	cfg.Warnings = warnings
	return cfg, nil
}

// Inspect reads the config file at path as Load does and returns every issue, errors and
// warnings, in file order, with the config as far as it could be read. The config is nil
// when the file could not be read or parsed at all; otherwise it holds every hook, and
// those an error names (by its Field, hooks[N]...) are not fit to run. It is for
// commands that report problems, such as hookpoint check.
func Inspect(path string) (*Config, []Issue) {
	data, err := readFile(path)
	var ce *Error
	if errors.As(err, &ce) {
		return nil, ce.Issues
	}
	return InspectData(path, data)
}

// InspectData is Inspect for a config already read; name is used in messages.
func InspectData(name string, data []byte) (*Config, []Issue) {
	if name == "" {
		name = "config" // as Validate names a config built in code
	}
	one := func(is Issue) (*Config, []Issue) { return nil, []Issue{is} }
	if isJSONName(name) {
		if is, bad := jsonIssue(name, data); bad {
			return one(is)
		}
	}
	safe := yamlSafeJSON(data)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(safe))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return one(Issue{File: name, Message: "the config file is empty; it needs at least a hooks: list"})
		}
		return one(syntaxIssue(name, safe, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return one(Issue{File: name, Line: extra.Line, Column: extra.Column, Message: "the file holds more than one YAML document"})
	} else if !errors.Is(err, io.EOF) {
		return one(syntaxIssue(name, safe, err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return one(Issue{File: name, Line: root.Line, Column: root.Column, Message: "the config must be a mapping with a hooks: list"})
	}
	if is, bad := aliasIssue(name, root); bad {
		return one(is)
	}
	d := &decoder{file: name, pos: posIndex{}, broken: map[string]bool{}}
	cfg := &Config{}
	d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	cfg.File, cfg.pos = name, d.pos
	issues := append(d.issues, cfg.validate(d.broken)...)
	issues = append(issues, cfg.warnings(d.broken)...)
	return cfg, sortIssues(issues)
}

// sortIssues puts issues in file order, dropping repeats (an anchor merged twice has its
// problems found twice).
func sortIssues(issues []Issue) []Issue {
	sort.SliceStable(issues, func(a, b int) bool {
		if issues[a].Line != issues[b].Line {
			return issues[a].Line < issues[b].Line
		}
		return issues[a].Column < issues[b].Column
	})
	return slices.Compact(issues)
}

func isJSONName(name string) bool { return strings.EqualFold(filepath.Ext(name), ".json") }

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
