// Package jetbackup makes events from JetBackup hook-script invocations:
// `<type> <pre|post> ARGS...`, with the positional arguments JetBackup passes for each
// hook type and position, decoded into readable values beside the raw ones.
package jetbackup

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/event"
)

type kind int

const (
	text      kind = iota // required text
	optText               // text that only some jobs have (account fields of restores and downloads)
	jobType               // 1 accounts, 2 directories, 3 jb_config
	contains              // bit flags
	structure             // bit flags
	list                  // comma-separated values
	epoch                 // seconds since 1970
	queue                 // queue object status
)

type field struct {
	name string
	kind kind
}

// Layouts are the positional arguments of every hook type and position, as JetBackup's
// documentation lists them.
var layouts = map[string]map[string][]field{
	"backup": {
		"pre":  {{"job_id", text}, {"job_name", text}, {"job_type", jobType}, {"contains", contains}, {"structure", structure}, {"destinations", list}, {"start", epoch}, {"log_id", text}},
		"post": {{"job_id", text}, {"job_name", text}, {"job_type", jobType}, {"contains", contains}, {"structure", structure}, {"destinations", list}, {"start", epoch}, {"end", epoch}, {"queue_status", queue}, {"log_id", text}},
	},
	"backup-account": {
		"pre":  {{"job_id", text}, {"account_id", text}, {"account_username", text}, {"log_id", text}},
		"post": {{"job_id", text}, {"account_id", text}, {"account_username", text}, {"queue_status", queue}, {"log_id", text}},
	},
	"clone": {
		"pre":  {{"job_id", text}, {"job_name", text}, {"job_type", jobType}, {"contains", contains}, {"destinations", list}, {"start", epoch}, {"log_id", text}},
		"post": {{"job_id", text}, {"job_name", text}, {"job_type", jobType}, {"contains", contains}, {"destinations", list}, {"start", epoch}, {"end", epoch}, {"queue_status", queue}, {"log_id", text}},
	},
	"clone-account": {
		"pre":  {{"job_id", text}, {"account_id", text}, {"account_username", text}, {"log_id", text}},
		"post": {{"job_id", text}, {"account_id", text}, {"account_username", text}, {"queue_status", queue}, {"log_id", text}},
	},
	"restore": {
		"pre":  {{"job_type", jobType}, {"contains", contains}, {"account_id", optText}, {"account_username", optText}, {"items", list}, {"start", epoch}, {"log_id", text}},
		"post": {{"job_type", jobType}, {"contains", contains}, {"account_id", optText}, {"account_username", optText}, {"items", list}, {"start", epoch}, {"end", epoch}, {"queue_status", queue}, {"log_id", text}},
	},
	"download": {
		"pre":  {{"account_id", optText}, {"log_id", text}},
		"post": {{"account_id", optText}, {"log_id", text}},
	},
}

// Types lists the hook types in documentation order.
var Types = []string{"backup", "backup-account", "clone", "clone-account", "restore", "download"}

// Positions are the two points of a job a hook script is called at.
var Positions = []string{"pre", "post"}

// Events lists the event types this adapter makes, jetbackup.<type>.<position>, with
// every status each can carry: pre events none, post events the status of every queue
// status, and none for a queue status the documentation does not list.
func Events() []adapter.EventSpec {
	var out []adapter.EventSpec
	for _, typ := range Types {
		for _, pos := range Positions {
			e := adapter.EventSpec{Type: "jetbackup." + typ + "." + pos}
			if pos == "post" {
				for _, code := range QueueStatusCodes() {
					e.AddStatus(eventStatus(QueueStatusName(code)))
				}
			}
			e.AddStatus(eventStatus(QueueStatusName(-1)))
			out = append(out, e)
		}
	}
	return out
}

// Usage returns the expected arguments of a type and position, for messages.
func Usage(typ, pos string) string {
	fs := layouts[typ][pos]
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = "<" + f.name + ">"
		if f.kind == optText {
			names[i] = "[" + f.name + "]"
		}
	}
	return "jetbackup " + typ + " " + pos + " " + strings.Join(names, " ")
}

// Event returns the event for one invocation: args are what follows `hookpoint
// jetbackup`. Bad invocations give an *adapter.UsageError. A hook type it does not know
// (one a newer JetBackup added) gives the event of that type, a notification with the
// arguments as they came in data.args, and an *adapter.Unknown.
func Event(args []string, env adapter.Env) (*event.Event, error) {
	if len(args) < 2 {
		return nil, adapter.Usagef("jetbackup: expected <type> <pre|post> ARGS...; types: %s", strings.Join(Types, ", "))
	}
	typ, pos, rest := args[0], args[1], args[2:]
	byPos, ok := layouts[typ]
	if !ok {
		return unknown(typ, pos, rest, env)
	}
	fields, ok := byPos[pos]
	if !ok {
		return nil, adapter.Usagef("jetbackup: position %q is neither pre nor post", pos)
	}
	rest, err := fillOptional(fields, rest)
	if err != nil {
		return nil, adapter.Usagef("jetbackup %s %s: %v; expected: %s", typ, pos, err, Usage(typ, pos))
	}
	ev := event.New("jetbackup." + typ + "." + pos)
	ev.Source, ev.Gate = "jetbackup", pos == "pre"
	ev.Data["hook_type"], ev.Data["position"] = typ, pos
	ev.SourceEnv = map[string]string{}
	for i, f := range fields {
		v := rest[i]
		ev.SourceEnv["JETBACKUP_"+event.EnvName(f.name)] = v
		if err := decode(ev.Data, f, v); err != nil {
			return nil, adapter.Usagef("jetbackup %s %s: argument %d (%s): %v; expected: %s", typ, pos, i+1, f.name, err, Usage(typ, pos))
		}
	}
	if pos == "post" {
		ev.Status = eventStatus(ev.Data["queue_status"])
	}
	for _, k := range []string{"job_name", "account_username", "log_id"} {
		if s, _ := ev.Data[k].(string); s != "" {
			ev.Subject = s
			break
		}
	}
	runID := env("HOOKPOINT_RUN_ID")
	if runID == "" {
		// The log id names one task's run: pre and post of a job share it.
		runID = "jetbackup-" + ev.Data["log_id"].(string)
	}
	job, _ := ev.Data["job_name"].(string)
	ev.Run = event.Run{ID: runID, Job: job, Kind: "jetbackup"}
	return ev, nil
}

// unknown makes the event of a hook type this version does not know.
func unknown(typ, pos string, args []string, env adapter.Env) (*event.Event, error) {
	if err := adapter.Token("jetbackup: hook type", typ); err != nil {
		return nil, err
	}
	if err := adapter.Token("jetbackup: position", pos); err != nil {
		return nil, err
	}
	ev := event.New("jetbackup." + typ + "." + pos)
	ev.Source = "jetbackup"
	ev.Data["hook_type"], ev.Data["position"], ev.Data["args"] = typ, pos, slices.Clone(args)
	ev.SourceEnv = map[string]string{}
	for i, v := range args {
		ev.SourceEnv["JETBACKUP_ARG_"+strconv.Itoa(i+1)] = v
	}
	ev.Run = event.Run{ID: adapter.RunID(env, "jetbackup", ev.ID), Kind: "jetbackup"}
	return ev, &adapter.Unknown{Msg: fmt.Sprintf("jetbackup: unknown hook type %q (this version knows %s): fired %s as a notification with the arguments in data.args",
		typ, strings.Join(Types, ", "), ev.Type)}
}

// fillOptional checks the argument count. Account fields that only account jobs have may
// be left out altogether; they are then filled in as empty.
func fillOptional(fields []field, args []string) ([]string, error) {
	if len(args) == len(fields) {
		return args, nil
	}
	optional := 0
	for _, f := range fields {
		if f.kind == optText {
			optional++
		}
	}
	if optional > 0 && len(args) == len(fields)-optional {
		out := make([]string, 0, len(fields))
		j := 0
		for _, f := range fields {
			if f.kind == optText {
				out = append(out, "")
				continue
			}
			out = append(out, args[j])
			j++
		}
		return out, nil
	}
	if len(args) < len(fields) {
		return nil, adapter.Usagef("too few arguments: got %d, want %d", len(args), len(fields))
	}
	return nil, adapter.Usagef("too many arguments: got %d, want %d", len(args), len(fields))
}

func decode(data map[string]any, f field, v string) error {
	switch f.kind {
	case text:
		if v == "" {
			return adapter.Usagef("must not be empty")
		}
		data[f.name] = v
	case optText:
		data[f.name] = v
	case jobType:
		n, err := adapter.Uint(f.name, v)
		if err != nil {
			return err
		}
		data[f.name], data[f.name+"_name"] = n, JobTypeName(n)
	case contains:
		n, err := adapter.Uint(f.name, v)
		if err != nil {
			return err
		}
		data[f.name], data["contains_names"], data["full_account"] = n, ContainsNames(n), n&FullAccount == FullAccount
	case structure:
		n, err := adapter.Uint(f.name, v)
		if err != nil {
			return err
		}
		data[f.name], data["structure_names"] = n, StructureNames(n)
	case list:
		items := []string{}
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				items = append(items, x)
			}
		}
		data[f.name] = v
		if f.name == "destinations" {
			data["destination_ids"] = items
		} else {
			data[f.name+"_list"] = items
		}
	case epoch:
		n, err := adapter.Uint(f.name, v)
		if err != nil {
			return err
		}
		data[f.name+"_epoch"], data[f.name+"_time"] = n, time.Unix(n, 0).UTC().Format(time.RFC3339)
	case queue:
		n, err := adapter.Uint(f.name, v)
		if err != nil {
			return err
		}
		data[f.name+"_code"], data[f.name] = n, QueueStatusName(n)
	}
	return nil
}

// eventStatus maps a queue status name to the event's status.
func eventStatus(v any) string {
	switch v {
	case "completed":
		return event.StatusSuccess
	case "partially_completed":
		return event.StatusWarning
	case "failed", "never_finished":
		return event.StatusFail
	case "aborted":
		return event.StatusCancelled
	}
	return event.StatusNone
}
