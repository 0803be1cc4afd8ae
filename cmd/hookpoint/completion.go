package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/adapter/autosnap"
	"github.com/hookpoint/hookpoint/internal/adapter/jetbackup"
	"github.com/hookpoint/hookpoint/internal/adapter/vzdump"
	"github.com/hookpoint/hookpoint/internal/match"
)

// Shell completion beyond flag names (cobra's `completion` command writes the scripts).

// knownTypes are the event types the adapters fire and `run` fires for a kind.
func knownTypes() []string {
	var out []string
	for _, p := range vzdump.Phases {
		out = append(out, "vzdump."+p.Name)
	}
	for _, p := range autosnap.Phases {
		out = append(out, "autosnap."+p)
	}
	for _, t := range jetbackup.Types {
		out = append(out, "jetbackup."+t+".pre", "jetbackup."+t+".post")
	}
	return out
}

// runPhases are the events of a `run` lifecycle, KIND.<phase>.
var runPhases = []string{"pre", "post", "abort", "end"}

// eventTypes returns the event types a config's hooks run for: every `on` pattern without
// a '*', the adapters' types that a pattern matches, and for a pattern KIND.* the events
// of a run of that kind. Without a config it returns the adapters' types.
func eventTypes(cfg *hookpoint.Config) []string {
	if cfg == nil {
		return knownTypes()
	}
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, h := range cfg.Hooks {
		for _, p := range h.On {
			if !strings.Contains(p, "*") {
				add(p)
				continue
			}
			if kind, ok := strings.CutSuffix(p, ".*"); ok && !strings.Contains(kind, "*") {
				for _, ph := range runPhases {
					add(kind + "." + ph)
				}
			}
			for _, t := range knownTypes() {
				if match.Pattern(p, t) {
					add(t)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// completeEventType completes the TYPE of emit and render from the config the command
// line names (or the default one).
func completeEventType(g *globalOptions) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var cfg *hookpoint.Config
		if path, err := g.configPath(); err == nil {
			if c, err := hookpoint.LoadConfig(path); err == nil {
				cfg = c
			}
		}
		return eventTypes(cfg), cobra.ShellCompDirectiveNoFileComp
	}
}
