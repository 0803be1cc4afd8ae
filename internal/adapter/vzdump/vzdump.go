// Package vzdump makes events from Proxmox VE vzdump hook-script invocations:
// `<phase> [<mode> <vmid>]` with VMTYPE, DUMPDIR, STOREID, HOSTNAME, TARGET and LOGFILE in
// the environment.
package vzdump

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/event"
)

// Phase describes one vzdump phase.
type Phase struct {
	Name string
	// Guest phases are called with mode and vmid; job phases with nothing.
	Guest bool
	// Gate phases stop the guest or job when the hook script fails.
	Gate bool
	// Status of the event.
	Status string
}

// Phases are every phase vzdump calls a hook script with.
var Phases = []Phase{
	{Name: "job-init", Gate: true},
	{Name: "job-start", Gate: true},
	{Name: "job-end"}, // also after failed guests: vzdump says nothing of how it went
	{Name: "job-abort", Status: event.StatusFail},
	{Name: "backup-start", Guest: true, Gate: true},
	{Name: "backup-end", Guest: true, Status: event.StatusSuccess},
	{Name: "backup-abort", Guest: true, Status: event.StatusFail},
	{Name: "log-end", Guest: true},
	{Name: "pre-stop", Guest: true, Gate: true},
	{Name: "pre-restart", Guest: true},
	{Name: "post-restart", Guest: true},
}

// Modes vzdump backs up in.
var Modes = []string{"snapshot", "suspend", "stop"}

// EnvVars are the variables vzdump sets for its hook script, passed on to exec hooks.
var EnvVars = []string{"VMTYPE", "DUMPDIR", "STOREID", "HOSTNAME", "TARGET", "LOGFILE"}

// Events lists the event types this adapter makes, one per phase, with the status each
// carries.
func Events() []adapter.EventSpec {
	out := make([]adapter.EventSpec, len(Phases))
	for i, p := range Phases {
		out[i] = adapter.EventSpec{Type: "vzdump." + p.Name, Statuses: []string{p.Status}}
	}
	return out
}

func lookup(name string) (Phase, bool) {
	for _, p := range Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

func names() string {
	n := make([]string, len(Phases))
	for i, p := range Phases {
		n[i] = p.Name
	}
	return strings.Join(n, ", ")
}

// Event returns the event for one invocation. Bad invocations give an
// *adapter.UsageError. A phase it does not know (one a newer vzdump added) gives the
// event of that phase, a notification with what could be read, and an *adapter.Unknown.
func Event(args []string, env adapter.Env) (*event.Event, error) {
	if len(args) == 0 {
		return nil, adapter.Usagef("vzdump: expected <phase> [<mode> <vmid>]; phases: %s", names())
	}
	p, ok := lookup(args[0])
	if !ok {
		return unknown(args, env)
	}
	ev := event.New("vzdump." + p.Name)
	ev.Source, ev.Gate, ev.Status = "vzdump", p.Gate, p.Status
	ev.Data["phase"] = p.Name
	if p.Guest {
		if len(args) != 3 {
			return nil, adapter.Usagef("vzdump: phase %s expects <mode> <vmid>, got %d argument(s)", p.Name, len(args)-1)
		}
		mode, vmid := args[1], args[2]
		if !slices.Contains(Modes, mode) {
			return nil, adapter.Usagef("vzdump: mode %q is not one of %s", mode, strings.Join(Modes, ", "))
		}
		if _, err := adapter.Uint("vzdump: vmid", vmid); err != nil {
			return nil, err
		}
		ev.Data["mode"], ev.Data["vmid"] = mode, vmid
		ev.Subject = vmid
	} else {
		if len(args) != 1 {
			return nil, adapter.Usagef("vzdump: phase %s takes no further arguments, got %d", p.Name, len(args)-1)
		}
		ev.Subject = "job"
	}
	withEnv(ev, env)
	return ev, nil
}

// withEnv adds vzdump's variables and the run.
func withEnv(ev *event.Event, env adapter.Env) {
	ev.SourceEnv = map[string]string{}
	for _, name := range EnvVars {
		v := env(name)
		ev.Data[strings.ToLower(name)] = v
		if v != "" {
			ev.SourceEnv[name] = v
		}
	}
	ev.Run = event.Run{ID: adapter.RunID(env, "vzdump", ev.ID), Job: "vzdump", Kind: "vzdump"}
}

// unknown makes the event of a phase this version does not know: not a gate, no status;
// <mode> <vmid> are read as such when they look like them, other arguments are kept as
// they came in data.args.
func unknown(args []string, env adapter.Env) (*event.Event, error) {
	phase, rest := args[0], args[1:]
	if err := adapter.Token("vzdump: phase", phase); err != nil {
		return nil, err
	}
	ev := event.New("vzdump." + phase)
	ev.Source = "vzdump"
	ev.Data["phase"] = phase
	ev.Subject = "job"
	_, vmidErr := adapter.Uint("vmid", safeIndex(rest, 1))
	switch {
	case len(rest) == 2 && slices.Contains(Modes, rest[0]) && vmidErr == nil:
		ev.Data["mode"], ev.Data["vmid"] = rest[0], rest[1]
		ev.Subject = rest[1]
	case len(rest) > 0:
		ev.Data["args"] = slices.Clone(rest)
	}
	withEnv(ev, env)
	return ev, &adapter.Unknown{Msg: fmt.Sprintf("vzdump: unknown phase %q (this version knows %s): fired %s as a notification with what it could read",
		phase, names(), ev.Type)}
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
