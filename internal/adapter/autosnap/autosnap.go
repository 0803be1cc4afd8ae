// Package autosnap makes events from cv4pve-autosnap hook-script invocations, which pass
// everything in CV4PVE_AUTOSNAP_* environment variables.
package autosnap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/event"
)

// Prefix of every variable AutoSnap sets.
const Prefix = "CV4PVE_AUTOSNAP_"

// Vars are the variables AutoSnap documents, without the prefix. The data key of each is
// its lower-case name (VMNAME -> vmname, SNAP_NAME -> snap_name), which is also what the
// %CV4PVE_AUTOSNAP_NAME% placeholders read.
var Vars = []string{"PHASE", "VMID", "VMNAME", "VMTYPE", "LABEL", "KEEP", "SNAP_NAME", "VMSTATE", "DURATION", "STATE"}

// Phases are the ten phases of an AutoSnap run.
var Phases = []string{
	"snap-job-start", "snap-job-end", "snap-create-pre", "snap-create-post", "snap-create-abort",
	"clean-job-start", "clean-job-end", "snap-remove-pre", "snap-remove-post", "snap-remove-abort",
}

// Event returns the event for the phase in environ (NAME=VALUE pairs, as os.Environ
// gives them); every CV4PVE_AUTOSNAP_ variable in it, documented or not, becomes data.
// phase overrides CV4PVE_AUTOSNAP_PHASE when not empty. Bad invocations give an
// *adapter.UsageError. A phase it does not know (one a newer AutoSnap added) gives the
// event of that phase, a notification, and an *adapter.Unknown.
func Event(phase string, environ []string) (*event.Event, error) {
	all := map[string]string{}
	vars := map[string]string{}
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		all[name] = v
		if strings.HasPrefix(name, Prefix) {
			vars[name] = v
		}
	}
	env := func(name string) string { return all[name] }
	if phase == "" {
		phase = env(Prefix + "PHASE")
	}
	if phase == "" {
		return nil, adapter.Usagef("autosnap: %sPHASE is not set; run hookpoint autosnap as cv4pve-autosnap's hook script (phases: %s)", Prefix, strings.Join(Phases, ", "))
	}
	known := slices.Contains(Phases, phase)
	if !known {
		if err := adapter.Token("autosnap: phase", phase); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"VMID", "KEEP", "VMSTATE", "STATE"} {
		if v := env(Prefix + name); v != "" {
			if _, err := adapter.Uint("autosnap: "+Prefix+name, v); err != nil {
				return nil, err
			}
		}
	}
	if known && (strings.HasPrefix(phase, "snap-create") || strings.HasPrefix(phase, "snap-remove")) {
		if env(Prefix+"VMID") == "" {
			return nil, adapter.Usagef("autosnap: phase %s needs %sVMID", phase, Prefix)
		}
	}
	ev := event.New("autosnap." + phase)
	ev.Source = "cv4pve-autosnap"
	ev.Gate = known && strings.HasSuffix(phase, "-pre")
	ev.Status = status(phase, env(Prefix+"STATE"))
	ev.SourceEnv = vars
	for name, v := range vars {
		ev.Data[strings.ToLower(strings.TrimPrefix(name, Prefix))] = v
	}
	for _, name := range Vars { // documented ones are always there, empty when unset
		key := strings.ToLower(name)
		if _, ok := ev.Data[key]; !ok {
			ev.Data[key] = ""
		}
	}
	ev.Data["phase"] = phase
	ev.Subject = env(Prefix + "VMID")
	if ev.Subject == "" {
		ev.Subject = env(Prefix + "LABEL")
	}
	ev.Run = event.Run{ID: adapter.RunID(env, "autosnap", ev.ID), Job: env(Prefix + "LABEL"), Kind: "autosnap"}
	if !known {
		return ev, &adapter.Unknown{Msg: fmt.Sprintf("autosnap: unknown phase %q (this version knows %s): fired %s as a notification with the CV4PVE_AUTOSNAP_* variables",
			phase, strings.Join(Phases, ", "), ev.Type)}
	}
	return ev, nil
}

// Events lists the event types this adapter makes, one per phase, with every status the
// phase can carry: the rule of status applied to each value CV4PVE_AUTOSNAP_STATE can
// take (unset, 0 and 1).
func Events() []adapter.EventSpec {
	out := make([]adapter.EventSpec, len(Phases))
	for i, phase := range Phases {
		out[i].Type = "autosnap." + phase
		for _, state := range []string{"", "0", "1"} {
			out[i].AddStatus(status(phase, state))
		}
	}
	return out
}

// status: aborts fail; post and end phases follow CV4PVE_AUTOSNAP_STATE (1 succeeded,
// 0 failed) and succeed when it is not given; pre and start phases have none.
func status(phase, state string) string {
	switch {
	case strings.HasSuffix(phase, "-abort"):
		return event.StatusFail
	case strings.HasSuffix(phase, "-post"), strings.HasSuffix(phase, "-end"):
		if state == "0" {
			return event.StatusFail
		}
		return event.StatusSuccess
	}
	return event.StatusNone
}
