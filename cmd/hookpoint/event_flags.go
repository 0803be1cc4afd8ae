package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/safefile"
)

// maxDataFile bounds --data input.
const maxDataFile = 4 << 20

// eventOptions are the flags that describe an event.
type eventOptions struct {
	Vars    []string
	Data    string
	Status  string
	Gate    bool
	RunID   string
	Job     string
	Kind    string
	Subject string
	Source  string

	gateFlag *pflag.Flag // --gate, to tell whether it was given
}

// AddFlags registers the flags of an event. oneEvent adds --status and --gate, which
// emit and render take; run sets them itself for each event of its lifecycle.
func (o *eventOptions) AddFlags(fs *pflag.FlagSet, oneEvent bool) {
	fs.StringArrayVar(&o.Vars, "var", nil, "event data variable `key=value` (repeatable; wins over --data)")
	fs.StringVar(&o.Data, "data", "", "event data as a JSON object: inline, @FILE, or @- for stdin")
	if oneEvent {
		fs.StringVar(&o.Status, "status", "", "event status: success, warning, fail or cancelled")
		fs.BoolVar(&o.Gate, "gate", false, "the event is a gate: a failing hook aborts it (default: true when TYPE ends in .pre; --gate=false to fire one as a notification)")
		o.gateFlag = fs.Lookup("gate")
	}
	fs.StringVar(&o.RunID, "run-id", os.Getenv("HOOKPOINT_RUN_ID"), "run id correlating the events of one job run (env HOOKPOINT_RUN_ID; generated when empty)")
	fs.StringVar(&o.Subject, "subject", "", "event subject (what the event is about)")
	fs.StringVar(&o.Source, "source", event.DefaultSource, "event source")
}

// data parses --data and --var into the event's data map. Reading stdin (@-) ends
// when ctx is cancelled.
func (o *eventOptions) data(ctx context.Context) (map[string]any, error) {
	data := map[string]any{}
	if o.Data != "" {
		raw := []byte(o.Data)
		if name, ok := strings.CutPrefix(o.Data, "@"); ok {
			var err error
			if name == "-" {
				raw, err = readStdin(ctx, maxDataFile)
			} else {
				raw, err = safefile.ReadFile(name, maxDataFile)
			}
			if err != nil {
				return nil, usageErr("--data: %v", err)
			}
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, usageErr("--data: not valid JSON: %v", err)
		}
		switch x := v.(type) {
		case map[string]any:
			data = x
		case nil: // null: no data
		default:
			return nil, usageErr(`--data: write a JSON object such as {"vmid": 101}, not %s`, jsonKind(x))
		}
	}
	for _, kv := range o.Vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErr("--var %q: write key=value", kv)
		}
		data[k] = v
	}
	return data, nil
}

// jsonKind names what a JSON value is, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	}
	return "that"
}

// readStdin reads at most limit bytes of stdin, giving up when ctx is cancelled (stdin
// may be a pipe or terminal that never ends).
func readStdin(ctx context.Context, limit int64) ([]byte, error) {
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, limit+1))
		done <- read{b, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && int64(len(r.b)) > limit {
			r.err = fmt.Errorf("stdin: larger than the limit of %d bytes", limit)
		}
		return r.b, r.err
	case <-ctx.Done():
		return nil, errors.New("stdin: cancelled while reading")
	}
}

// build returns the event of type typ described by the flags.
func (o *eventOptions) build(ctx context.Context, typ string) (*hookpoint.Event, error) {
	data, err := o.data(ctx)
	if err != nil {
		return nil, err
	}
	ev := hookpoint.NewEvent(typ)
	ev.Data, ev.Status, ev.Gate, ev.Subject, ev.Source = data, o.Status, o.Gate, o.Subject, o.Source
	if o.gateFlag != nil && !o.gateFlag.Changed {
		ev.Gate = event.GateByName(typ)
	}
	ev.Run = hookpoint.Run{ID: o.RunID, Job: o.Job, Kind: o.Kind}
	if ev.Run.ID == "" {
		ev.Run.ID = event.NewID("run")
	}
	if err := ev.Validate(); err != nil {
		return nil, usageErr("%v", err)
	}
	return ev, nil
}

func oneType(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageErr("expected exactly one event TYPE, got %d argument(s)", len(args))
	}
	return args[0], nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func outputFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVarP(p, "output", "o", "text", "output format: text or json")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return usageErr("--output %q: use text or json", o)
	}
	return nil
}

// oneEventOptions are the flags of the commands that take one event TYPE (emit, render).
type oneEventOptions struct {
	Event  eventOptions
	Output string
}

func (o *oneEventOptions) AddFlags(fs *pflag.FlagSet) {
	o.Event.AddFlags(fs, true)
	fs.StringVar(&o.Event.Job, "job", "", "job name (.run.job)")
	fs.StringVar(&o.Event.Kind, "kind", "", "job kind (.run.kind)")
	outputFlag(fs, &o.Output)
}
