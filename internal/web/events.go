package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hookpoint/hookpoint/internal/catalog"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/ingest"
)

// eventGroup is a source's known event types, for the pickers of the test and preview
// forms: the adapters' (internal/catalog), the lifecycle of `hookpoint run`, the ingest
// sources' and the server's own.
type eventGroup struct {
	Source string
	Types  []eventType
}

type eventType struct {
	Type     string
	Statuses []string // "" for none
}

var eventGroups = func() []eventGroup {
	var out []eventGroup
	for _, src := range catalog.Sources {
		g := eventGroup{Source: src.Namespace}
		for _, e := range src.Events {
			g.Types = append(g.Types, eventType{e.Type, e.Statuses})
		}
		out = append(out, g)
	}
	run := eventGroup{Source: "hookpoint run (KIND backup)"}
	for _, p := range catalog.Lifecycle {
		run.Types = append(run.Types, eventType{"backup." + p.Suffix, p.Statuses})
	}
	out = append(out, run)
	bySource := map[string]*eventGroup{}
	var order []string
	for _, k := range ingest.KnownEvents() {
		g, ok := bySource[k.Source]
		if !ok {
			g = &eventGroup{Source: k.Source}
			bySource[k.Source] = g
			order = append(order, k.Source)
		}
		g.Types = append(g.Types, eventType{k.Type, k.Statuses})
	}
	for _, s := range order {
		out = append(out, *bySource[s])
	}
	out = append(out, eventGroup{Source: "hookpoint (the server's own)", Types: []eventType{
		{"hookpoint.hook.failing", []string{"fail"}},
		{"hookpoint.hook.recovered", []string{"success"}},
		{"hookpoint.hook.disabled", []string{"fail"}},
	}})
	return out
}()

// knownStatuses returns the statuses an event type can carry, if it is known.
func knownStatuses(typ string) []string {
	for _, g := range eventGroups {
		for _, t := range g.Types {
			if t.Type == typ {
				return t.Statuses
			}
		}
	}
	return nil
}

// sampleFor is the event a hook is previewed with when none is given: a known type its
// first pattern matches (or the pattern with * replaced), with a status it runs for.
func sampleFor(h *config.Hook) SampleEvent {
	ev := SampleEvent{Type: "backup.end", Status: "fail", Data: map[string]any{"vmid": "101", "host": "pve1"}}
	if h == nil || len(h.On) == 0 {
		return ev
	}
	ev.Type, ev.Status = "", ""
	for _, g := range eventGroups {
		for _, t := range g.Types {
			for _, p := range h.On {
				if ev.Type == "" && event.MatchType(p, t.Type) {
					ev.Type = t.Type
				}
			}
		}
	}
	if ev.Type == "" {
		ev.Type = strings.Trim(strings.ReplaceAll(h.On[0], "*", "test"), ".")
		if ev.Type == "" {
			ev.Type = "test"
		}
	}
	switch {
	case len(h.Status) > 0 && h.Status[0] != "any":
		ev.Status = h.Status[0]
	case !event.GateByName(ev.Type):
		if st := knownStatuses(ev.Type); len(st) > 0 {
			ev.Status = st[0]
		} else {
			ev.Status = "success"
		}
	}
	return ev
}

// parseData reads the variables of a sample event: a JSON object, or NAME=value lines
// (values are strings, as `hookpoint emit --var` takes them).
func parseData(text string) (map[string]any, error) {
	text = strings.TrimSpace(text)
	data := map[string]any{}
	if text == "" {
		return data, nil
	}
	if strings.HasPrefix(text, "{") {
		if err := json.Unmarshal([]byte(text), &data); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		return data, nil
	}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: write NAME=value (or a JSON object)", i+1)
		}
		data[k] = strings.TrimSpace(v)
	}
	return data, nil
}

// formatData writes variables back as the form shows them.
func formatData(data map[string]any) string {
	if len(data) == 0 {
		return ""
	}
	simple := true
	keys := make([]string, 0, len(data))
	for k, v := range data {
		keys = append(keys, k)
		s, ok := v.(string)
		if !ok || strings.ContainsAny(s, "\n") || strings.Contains(k, "=") {
			simple = false
		}
	}
	if !simple {
		b, _ := json.MarshalIndent(data, "", "  ")
		return string(b)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, data[k])
	}
	return b.String()
}
