package receiver

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	ttemplate "text/template"
)

// getenvMarker stands for every getenv result in a second rendering of a -template
// hooks file, to tell which values came from the environment. Letters only, so that it
// survives JSON and YAML alike.
const getenvMarker = "HOOKPOINTGETENVMARKERq7z"

// parseTemplate renders a -template hooks file with getenv, as webhook does, and parses
// the result. A getenv of an unset or empty variable is a warning; a value match whose
// value came from the environment and is empty refuses its hook (it would compare a
// request's parameter against "").
func parseTemplate(path string, data []byte, o LoadOptions) ([]*Hook, []Warning, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var warnings []Warning
	warned := map[string]bool{}
	real, err := renderTemplate(path, data, func(name string) string {
		v := getenv(name)
		if v == "" && !warned[name] {
			warned[name] = true
			warnings = append(warnings, Warning{File: path, Line: getenvLine(data, name),
				Msg: fmt.Sprintf("getenv %q: the variable is unset or empty, so the template writes an empty string there", name)})
		}
		return v
	})
	if err != nil {
		return nil, warnings, err
	}
	// Which value matches came from getenv: render again with the marker for every
	// variable. Should that rendering not line up with the real one (a template that
	// branches on a variable), every empty value match counts as coming from getenv.
	var marked [][]bool
	if text, err := renderTemplate(path, data, func(string) string { return getenvMarker }); err == nil {
		if hooks, _, _ := parse(path, text, nil); hooks != nil {
			for _, h := range hooks {
				var leaves []bool
				if h != nil && h.TriggerRule != nil {
					h.TriggerRule.valueMatches(func(m *MatchRule) { leaves = append(leaves, strings.Contains(m.Value, getenvMarker)) })
				}
				marked = append(marked, leaves)
			}
		}
	}
	hooks, w, err := parse(path, real, func(hooks []*Hook) {
		for i, h := range hooks {
			if h == nil || h.TriggerRule == nil {
				continue
			}
			j := 0
			h.TriggerRule.valueMatches(func(m *MatchRule) {
				m.templated = len(marked) != len(hooks) || j >= len(marked[i]) || marked[i][j]
				j++
			})
		}
	})
	return hooks, append(warnings, w...), err
}

func renderTemplate(path string, data []byte, getenv func(string) string) ([]byte, error) {
	t, err := ttemplate.New(path).Funcs(ttemplate.FuncMap{"getenv": getenv}).Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: template: %w", path, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		return nil, fmt.Errorf("%s: template: %w", path, err)
	}
	return buf.Bytes(), nil
}

// getenvLine finds the first line of the template that reads name with getenv (0 when
// it is not written plainly).
func getenvLine(data []byte, name string) int {
	re := regexp.MustCompile(`getenv\s+(?:"` + regexp.QuoteMeta(name) + `"|` + "`" + regexp.QuoteMeta(name) + "`)")
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return bytes.Count(data[:loc[0]], []byte("\n")) + 1
}

// valueMatches calls f for every value match of the rule, depth first in order.
func (r *Rules) valueMatches(f func(*MatchRule)) {
	switch {
	case r.Match != nil:
		if r.Match.Type == MatchValue {
			f(r.Match)
		}
	case r.Not != nil:
		r.Not.valueMatches(f)
	}
	for i := range r.And {
		r.And[i].valueMatches(f)
	}
	for i := range r.Or {
		r.Or[i].valueMatches(f)
	}
}
