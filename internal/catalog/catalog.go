// Package catalog knows the events hookpoint itself sends — the phases of the adapters
// (vzdump, autosnap, jetbackup) and the lifecycle of `hookpoint run` — and the statuses
// each carries, so that a config can be checked for hooks that can never run.
//
// The adapters' events come from the adapter packages themselves. Events of any other
// source (emit, the API, the server's ingest of Xen Orchestra, VirtFusion and Zerobyte)
// are unknown here, and nothing is said about them.
package catalog

import (
	"slices"
	"strings"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/adapter/autosnap"
	"github.com/hookpoint/hookpoint/internal/adapter/jetbackup"
	"github.com/hookpoint/hookpoint/internal/adapter/vzdump"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/suggest"
)

// Source is a namespace (the first segment of an event type) whose events an adapter
// makes.
type Source struct {
	Namespace string
	Events    []adapter.EventSpec
}

// Sources are the adapters' namespaces.
var Sources = []Source{
	{"vzdump", vzdump.Events()},
	{"autosnap", autosnap.Events()},
	{"jetbackup", jetbackup.Events()},
}

// ServerNamespaces are the namespaces of events the server makes or ingests (docs/server.md):
// their types and statuses are not known here, and patterns in them are not checked.
var ServerNamespaces = []string{"xo", "virtfusion", "zerobyte", "hookpoint"}

// Phase is one event of the lifecycle of `hookpoint run`, sent as KIND.<Suffix>.
type Phase struct {
	Suffix   string
	Statuses []string
}

// Lifecycle is what `hookpoint run` sends for a job of kind KIND (docs/cli.md): KIND.pre
// before the command, KIND.post after it succeeded or KIND.abort when it did not, and
// KIND.end last, with the final status.
var Lifecycle = []Phase{
	{"pre", []string{event.StatusNone}},
	{"post", []string{event.StatusSuccess}},
	{"abort", []string{event.StatusFail, event.StatusCancelled}},
	{"end", []string{event.StatusSuccess, event.StatusWarning, event.StatusFail, event.StatusCancelled}},
}

// RunSource names the lifecycle of `hookpoint run` in Analysis.Source.
const RunSource = "hookpoint run"

// Analysis is what is known of the events an `on` pattern matches.
type Analysis struct {
	// Source is the adapter namespace the pattern is confined to ("vzdump"), or RunSource
	// when NoEvent is set for a lifecycle event; empty otherwise.
	Source string
	// NoEvent is set when the pattern is confined to a source hookpoint knows and matches
	// none of the events it sends.
	NoEvent bool
	// Suggestion is, with NoEvent, the event type the pattern was probably meant to be.
	Suggestion string
	// Statuses are every status the matched events can carry (event.StatusNone for
	// none). They are complete only when Known is set.
	Statuses []string
	// Known is set when every event the pattern can match is one hookpoint knows, so
	// that Statuses are all the statuses those events can carry.
	Known bool
}

// Analyze tells what is known of the events pattern matches.
func Analyze(pattern string) Analysis {
	a := Analysis{Known: true}
	prefix, _, hasStar := strings.Cut(pattern, "*")
	ns, fixed := namespaceOf(pattern, prefix, hasStar)
	if fixed {
		if src, ok := source(ns); ok {
			a.Source = ns
			for _, e := range src.Events {
				if event.MatchType(pattern, e.Type) {
					a.add(e.Statuses)
				}
			}
			if len(a.Statuses) == 0 {
				a.NoEvent, a.Known = true, false
				if !hasStar {
					a.Suggestion = closest(pattern, src.Events)
				}
			}
			return a
		}
		if slices.Contains(ServerNamespaces, ns) {
			a.Known = false
			return a
		}
	} else {
		for _, src := range Sources {
			for _, e := range src.Events {
				if event.MatchType(pattern, e.Type) {
					a.add(e.Statuses)
				}
			}
		}
		for _, ns := range ServerNamespaces {
			if strings.HasPrefix(ns, prefix) {
				a.Known = false
			}
		}
	}
	a.lifecycle(pattern, hasStar)
	return a
}

// namespaceOf returns the namespace of the types pattern can match, when the pattern
// fixes it.
func namespaceOf(pattern, prefix string, hasStar bool) (string, bool) {
	if !hasStar {
		ns, _, _ := strings.Cut(pattern, ".")
		return ns, true
	}
	if ns, _, ok := strings.Cut(prefix, "."); ok {
		return ns, true
	}
	return "", false
}

// EventTypes lists the event types the adapter of namespace ns sends.
func EventTypes(ns string) []string {
	src, _ := source(ns)
	out := make([]string, len(src.Events))
	for i, e := range src.Events {
		out[i] = e.Type
	}
	return out
}

func source(ns string) (Source, bool) {
	for _, s := range Sources {
		if s.Namespace == ns {
			return s, true
		}
	}
	return Source{}, false
}

// lifecycle adds what the pattern can match outside the adapters' and the server's
// namespaces: the lifecycle events of `hookpoint run`, whose last segment says which
// they are, and events of unknown statuses.
func (a *Analysis) lifecycle(pattern string, hasStar bool) {
	if !hasStar {
		i := strings.LastIndexByte(pattern, '.')
		if i < 0 { // a one-segment type is no lifecycle event
			a.Known = false
			return
		}
		last := pattern[i+1:]
		if p, ok := phase(last); ok {
			a.add(p.Statuses)
			return
		}
		a.Known = false
		for _, p := range Lifecycle {
			if strings.EqualFold(p.Suffix, last) {
				a.Source, a.NoEvent, a.Suggestion = RunSource, true, pattern[:i+1]+p.Suffix
			}
		}
		return
	}
	tail := pattern[strings.LastIndexByte(pattern, '*')+1:]
	if i := strings.LastIndexByte(tail, '.'); i >= 0 {
		// The matched types end in tail: their last segment is what follows its dot.
		if p, ok := phase(tail[i+1:]); ok {
			a.add(p.Statuses)
		} else {
			a.Known = false
		}
		return
	}
	// The last segment ends in tail, the star filling the rest of it: any phase whose
	// suffix ends so, and other segments.
	for _, p := range Lifecycle {
		if strings.HasSuffix(p.Suffix, tail) {
			a.add(p.Statuses)
		}
	}
	a.Known = false
}

func phase(suffix string) (Phase, bool) {
	for _, p := range Lifecycle {
		if p.Suffix == suffix {
			return p, true
		}
	}
	return Phase{}, false
}

func (a *Analysis) add(statuses []string) {
	for _, s := range statuses {
		if !slices.Contains(a.Statuses, s) {
			a.Statuses = append(a.Statuses, s)
		}
	}
}

// Carrying returns the events of the same source as typ, an event type hookpoint
// knows, that can carry one of statuses: the adapter's events by likeness to typ, or the
// other lifecycle events of the same kind. At most three are returned.
func Carrying(typ string, statuses []string) []string {
	carries := func(have []string) bool {
		for _, s := range statuses {
			if slices.Contains(have, s) {
				return true
			}
		}
		return false
	}
	ns, _, _ := strings.Cut(typ, ".")
	var out []string
	if src, ok := source(ns); ok {
		var cands []adapter.EventSpec
		for _, e := range src.Events {
			if e.Type != typ && carries(e.Statuses) {
				cands = append(cands, e)
			}
		}
		slices.SortStableFunc(cands, func(x, y adapter.EventSpec) int {
			n := suggest.Normalize
			return suggest.Distance(n(typ), n(x.Type)) - suggest.Distance(n(typ), n(y.Type))
		})
		for _, e := range cands {
			out = append(out, e.Type)
		}
	} else if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		for _, p := range Lifecycle {
			if carries(p.Statuses) {
				out = append(out, typ[:i+1]+p.Suffix)
			}
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// closest returns the event type that typ is a slip of (a letter or two off, another
// case, other separators), or "".
func closest(typ string, events []adapter.EventSpec) string {
	ns, rest, _ := strings.Cut(typ, ".")
	phases := make([]string, len(events))
	for i, e := range events {
		_, phases[i], _ = strings.Cut(e.Type, ".")
	}
	if p := suggest.Closest(rest, phases); p != "" {
		return ns + "." + p
	}
	return ""
}

// SourceEnvName reports whether name is one of the variables an adapter passes on to
// exec hooks under its tool's own name: vzdump's (VMTYPE, DUMPDIR, ...),
// CV4PVE_AUTOSNAP_* and JETBACKUP_*. The server takes no other from a client: a
// variable such as BASH_ENV, LD_PRELOAD or PATH would run code in its exec hooks.
func SourceEnvName(name string) bool {
	if slices.Contains(vzdump.EnvVars, name) {
		return true
	}
	for _, prefix := range []string{"CV4PVE_AUTOSNAP_", "JETBACKUP_"} {
		rest, ok := strings.CutPrefix(name, prefix)
		if ok && rest != "" && strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
			return true
		}
	}
	return false
}
