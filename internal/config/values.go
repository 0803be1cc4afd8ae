package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// StringList is a list of strings that may be written as a single string.
type StringList []string

// nodeError is a value that does not fit its Go type: the node at fault, where within
// the value it is (such as "[1]"), and why.
type nodeError struct {
	node *yaml.Node
	sub  string
	msg  string
}

func (e *nodeError) Error() string { return fmt.Sprintf("line %d: %s", e.node.Line, e.msg) }

// typeError is e as the YAML library's decoder takes it, to go on past it (the receiver's
// hooks files decode Duration that way).
func (e *nodeError) typeError() error { return &yaml.TypeError{Errors: []string{e.Error()}} }

// nodeReader is a type that reads itself from a YAML node and names the node at fault.
type nodeReader interface {
	readNode(n *yaml.Node) *nodeError
}

var (
	_ nodeReader = (*StringList)(nil)
	_ nodeReader = (*IntList)(nil)
	_ nodeReader = (*Duration)(nil)
	_ nodeReader = (*Rate)(nil)
	_ nodeReader = (*Body)(nil)
)

// UnmarshalYAML accepts a string or a list of strings.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if e := l.readNode(n); e != nil {
		return e.typeError()
	}
	return nil
}

func (l *StringList) readNode(n *yaml.Node) *nodeError {
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			*l = nil
			return nil
		}
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(StringList, 0, len(n.Content))
		for i, c := range n.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode || isNull(c) {
				return &nodeError{c, fmt.Sprintf("[%d]", i), "expected a string"}
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return &nodeError{n, "", "expected a string or a list of strings"}
}

// UnmarshalJSON accepts a string or a list of strings; null leaves the list as it is.
func (l *StringList) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = StringList{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("expected a string or a list of strings")
	}
	*l = list
	return nil
}

// IntList is a list of integers that may be written as a single integer.
type IntList []int

// UnmarshalYAML accepts an integer or a list of integers.
func (l *IntList) UnmarshalYAML(n *yaml.Node) error {
	if e := l.readNode(n); e != nil {
		return e.typeError()
	}
	return nil
}

func (l *IntList) readNode(n *yaml.Node) *nodeError {
	items, sub := []*yaml.Node{n}, func(int) string { return "" }
	switch n.Kind {
	case yaml.SequenceNode:
		items, sub = n.Content, func(i int) string { return fmt.Sprintf("[%d]", i) }
	case yaml.ScalarNode:
		if isNull(n) {
			*l = nil
			return nil
		}
	default:
		return &nodeError{n, "", "expected a whole number or a list of them"}
	}
	list := make(IntList, 0, len(items))
	for i, c := range items {
		c = resolve(c)
		if err := wholeNumber(c); err != nil {
			return &nodeError{c, sub(i), err.Error()}
		}
		var v int
		if c.Kind != yaml.ScalarNode || isNull(c) || c.Decode(&v) != nil {
			return &nodeError{c, sub(i), "expected a whole number, got " + describe(c)}
		}
		list = append(list, v)
	}
	*l = list
	return nil
}

// UnmarshalJSON accepts an integer or a list of integers; null leaves the list as it is.
func (l *IntList) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var v int
	if err := json.Unmarshal(b, &v); err == nil {
		*l = IntList{v}
		return nil
	}
	var list []int
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("expected an integer or a list of integers")
	}
	*l = list
	return nil
}

// wholeNumber refuses a float with a fraction where an integer is expected: the YAML
// decoder would silently cut 1.5 to 1.
func wholeNumber(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
		return nil
	}
	if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f != math.Trunc(f) {
		return fmt.Errorf("%s is not a whole number", n.Value)
	}
	return nil
}

// Duration is a time.Duration written as "10s", "5m", "1h30m", or as a number of seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func parseDuration(s string) (Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		// NaN, infinities and values past ~292 years have no time.Duration.
		if ns := n * float64(time.Second); ns >= math.MinInt64 && ns < math.MaxInt64 {
			return Duration(ns), nil
		}
		return 0, fmt.Errorf("%q is not a duration (write 10s, 5m, 1h30m or a number of seconds)", s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write 10s, 5m, 1h30m or a number of seconds)", s)
	}
	return Duration(v), nil
}

// UnmarshalYAML accepts a duration string or a number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if e := d.readNode(n); e != nil {
		return e.typeError()
	}
	return nil
}

func (d *Duration) readNode(n *yaml.Node) *nodeError {
	if n.Kind != yaml.ScalarNode {
		return &nodeError{n, "", "expected a duration such as 10s"}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &nodeError{n, "", err.Error()}
	}
	*d = v
	return nil
}

// UnmarshalJSON accepts a duration string or a number of seconds; null leaves the
// duration as it is.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// isJSONNull reports whether b is the JSON literal null, which encoding/json hands to
// UnmarshalJSON and which, by its convention, changes nothing.
func isJSONNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// MarshalJSON writes the duration as a string such as "10s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// MarshalYAML writes the duration as a string such as "10s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Body is an HTTP body: a template, or (for JSON and form bodies) a structured value
// whose string leaves are templates.
type Body struct {
	Template   string // the template, when the body was written as a string
	Structured any    // maps, lists and scalars, when it was written as an object or list
}

// IsStructured reports whether the body was written as an object or a list.
func (b *Body) IsStructured() bool { return b.Structured != nil }

// UnmarshalYAML accepts a string or an object or list.
func (b *Body) UnmarshalYAML(n *yaml.Node) error {
	if e := b.readNode(n); e != nil {
		return e.typeError()
	}
	return nil
}

func (b *Body) readNode(n *yaml.Node) *nodeError {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" {
			return &nodeError{n, "", "body must be a string (a template) or an object"}
		}
		b.Template = n.Value
		return nil
	case yaml.MappingNode, yaml.SequenceNode:
		if e := duplicateKeys(n, ""); e != nil {
			return e
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return &nodeError{n, "", strings.TrimPrefix(yamlLineRE.ReplaceAllString(err.Error(), "$2"), "yaml: ")}
		}
		b.Structured = normalize(v)
		return nil
	}
	return &nodeError{n, "", "body must be a string (a template) or an object"}
}

// duplicateKeys finds a key written twice in one mapping within n (aliases are not
// followed: an anchor is checked where it is written).
func duplicateKeys(n *yaml.Node, path string) *nodeError {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if isMergeKey(k) {
				continue
			}
			if first, ok := seen[k.Value]; ok && k.Kind == yaml.ScalarNode {
				return &nodeError{k, path + "." + k.Value, twice(k.Value, first)}
			}
			seen[k.Value] = k
			if e := duplicateKeys(n.Content[i+1], path+"."+k.Value); e != nil {
				return e
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if e := duplicateKeys(c, fmt.Sprintf("%s[%d]", path, i)); e != nil {
				return e
			}
		}
	}
	return nil
}

// twice says that key is written again after first.
func twice(key string, first *yaml.Node) string {
	return fmt.Sprintf("%q is written twice in this object (first on line %d)", key, first.Line)
}

// UnmarshalJSON accepts a string or an object or list.
func (b *Body) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		b.Template = x
	case map[string]any, []any:
		b.Structured = x
	default:
		return fmt.Errorf("body must be a string (a template) or an object")
	}
	return nil
}

// MarshalJSON writes the body as it was given.
func (b Body) MarshalJSON() ([]byte, error) {
	if b.Structured != nil {
		return json.Marshal(b.Structured)
	}
	return json.Marshal(b.Template)
}

// MarshalYAML writes the body as it was given.
func (b Body) MarshalYAML() (any, error) {
	if b.Structured != nil {
		return b.Structured, nil
	}
	return b.Template, nil
}

// normalize turns YAML's map[any]any into map[string]any so the value can be written as
// JSON.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// Rate is a number of events per second, minute or hour, written "50/s", "600/m" or
// "1000/h".
type Rate struct {
	N   int
	Per time.Duration
}

// PerSecond returns the rate as events per second.
func (r Rate) PerSecond() float64 { return float64(r.N) / r.Per.Seconds() }

func (r Rate) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	return fmt.Sprintf("%d/%s", r.N, unit)
}

func parseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	per := map[string]time.Duration{"s": time.Second, "sec": time.Second, "second": time.Second,
		"m": time.Minute, "min": time.Minute, "minute": time.Minute, "h": time.Hour, "hour": time.Hour}[strings.TrimSpace(unit)]
	if !ok || err != nil || per == 0 || n < 1 || n > 1_000_000 {
		return Rate{}, fmt.Errorf("%q is not a rate: write a whole number from 1 to 1000000 per s, m or h, such as 50/s or 600/m", s)
	}
	return Rate{N: n, Per: per}, nil
}

// UnmarshalYAML accepts "N/s", "N/m" or "N/h".
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if e := r.readNode(n); e != nil {
		return e.typeError()
	}
	return nil
}

func (r *Rate) readNode(n *yaml.Node) *nodeError {
	if n.Kind != yaml.ScalarNode {
		return &nodeError{n, "", "expected a rate such as 50/s"}
	}
	v, err := parseRate(n.Value)
	if err != nil {
		return &nodeError{n, "", err.Error()}
	}
	*r = v
	return nil
}

// UnmarshalJSON accepts "N/s", "N/m" or "N/h"; null leaves the rate as it is.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a rate such as \"50/s\"")
	}
	v, err := parseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalJSON writes the rate as "N/unit".
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// MarshalYAML writes the rate as "N/unit".
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }
