package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// StringList is a list of strings that may be written as a single string.
type StringList []string

// UnmarshalYAML accepts a string or a list of strings.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*l = nil
			return nil
		}
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(StringList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a string", c.Line)}}
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a string or a list of strings", n.Line)}}
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
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, c := range items {
		if err := wholeNumber(c); err != nil {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", c.Line, err)}}
		}
	}
	if n.Kind == yaml.ScalarNode {
		var v int
		if err := n.Decode(&v); err != nil {
			return err
		}
		*l = IntList{v}
		return nil
	}
	var list []int
	if err := n.Decode(&list); err != nil {
		return err
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
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as 10s", n.Line)}}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
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
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: body must be a string (a template) or an object", n.Line)}}
		}
		b.Template = n.Value
		return nil
	case yaml.MappingNode, yaml.SequenceNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		b.Structured = normalize(v)
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: body must be a string (a template) or an object", n.Line)}}
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
