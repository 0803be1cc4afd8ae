package vzdump

import (
	"errors"
	"maps"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/event"
)

// mapEnv is an environment for Event.
func mapEnv(m map[string]string) adapter.Env { return func(k string) string { return m[k] } }

// guestEnv is what vzdump sets for a guest phase of a backup to a directory storage.
var guestEnv = map[string]string{
	"VMTYPE":   "qemu",
	"DUMPDIR":  "/var/lib/vz/dump",
	"STOREID":  "local",
	"HOSTNAME": "web01",
	"TARGET":   "/var/lib/vz/dump/vzdump-qemu-100-2024_05_01-02_00_02.vma.zst",
	"LOGFILE":  "/var/lib/vz/dump/vzdump-qemu-100-2024_05_01-02_00_02.log",
}

// jobEnv is what vzdump sets for a job phase.
var jobEnv = map[string]string{"DUMPDIR": "/var/lib/vz/dump", "STOREID": "local"}

func TestPhases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phase  string
		guest  bool
		gate   bool
		status string
	}{
		{"job-init", false, true, ""},
		{"job-start", false, true, ""},
		{"job-end", false, false, event.StatusNone},
		{"job-abort", false, false, event.StatusFail},
		{"backup-start", true, true, ""},
		{"backup-end", true, false, event.StatusSuccess},
		{"backup-abort", true, false, event.StatusFail},
		{"log-end", true, false, ""},
		{"pre-stop", true, true, ""},
		{"pre-restart", true, false, ""},
		{"post-restart", true, false, ""},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			t.Parallel()
			args, env := []string{tc.phase}, jobEnv
			if tc.guest {
				args, env = []string{tc.phase, "snapshot", "100"}, guestEnv
			}
			ev, err := Event(args, mapEnv(env))
			if err != nil {
				t.Fatalf("Event(%q): %v", args, err)
			}
			if ev.Type != "vzdump."+tc.phase || ev.Source != "vzdump" || ev.Gate != tc.gate || ev.Status != tc.status {
				t.Errorf("type %q source %q gate %v status %q; want vzdump.%s vzdump %v %q",
					ev.Type, ev.Source, ev.Gate, ev.Status, tc.phase, tc.gate, tc.status)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("the event does not validate: %v", err)
			}
			want := map[string]any{"phase": tc.phase, "vmtype": "", "dumpdir": "/var/lib/vz/dump", "storeid": "local", "hostname": "", "target": "", "logfile": ""}
			wantSubject := "job"
			if tc.guest {
				want["mode"], want["vmid"] = "snapshot", "100"
				want["vmtype"], want["hostname"] = "qemu", "web01"
				want["target"], want["logfile"] = guestEnv["TARGET"], guestEnv["LOGFILE"]
				wantSubject = "100"
			}
			if !reflect.DeepEqual(ev.Data, want) {
				t.Errorf("data\n got %v\nwant %v", ev.Data, want)
			}
			if ev.Subject != wantSubject {
				t.Errorf("subject %q, want %q", ev.Subject, wantSubject)
			}
			if !maps.Equal(ev.SourceEnv, env) {
				t.Errorf("SourceEnv %v, want vzdump's own variables %v", ev.SourceEnv, env)
			}
			if ev.Run.Job != "vzdump" || ev.Run.Kind != "vzdump" || ev.Run.ID == "" {
				t.Errorf("run %+v", ev.Run)
			}
		})
	}
}

func TestPhasesListIsComplete(t *testing.T) {
	t.Parallel()
	var got []string
	for _, p := range Phases {
		got = append(got, p.Name)
	}
	want := []string{"job-init", "job-start", "job-end", "job-abort", "backup-start", "backup-end",
		"backup-abort", "log-end", "pre-stop", "pre-restart", "post-restart"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Phases %q, want the eleven phases vzdump calls, %q", got, want)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"snapshot", "suspend", "stop"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ev, err := Event([]string{"backup-start", mode, "101"}, mapEnv(nil))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data["mode"] != mode || ev.Data["vmid"] != "101" || ev.Subject != "101" {
				t.Errorf("data %v subject %q", ev.Data, ev.Subject)
			}
		})
	}
}

// vzdump sets only the variables that have a value (PBS storages have no DUMPDIR, job
// phases no VMTYPE): data keeps every key, empty, and SourceEnv only what was set.
func TestUnsetVariables(t *testing.T) {
	t.Parallel()
	ev, err := Event([]string{"job-init"}, mapEnv(map[string]string{"STOREID": "pbs1"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"vmtype", "dumpdir", "hostname", "target", "logfile"} {
		if v, ok := ev.Data[k]; !ok || v != "" {
			t.Errorf("data[%q] = %#v, %v; want present and empty", k, v, ok)
		}
	}
	if ev.Data["storeid"] != "pbs1" {
		t.Errorf("storeid %v", ev.Data["storeid"])
	}
	if want := map[string]string{"STOREID": "pbs1"}; !maps.Equal(ev.SourceEnv, want) {
		t.Errorf("SourceEnv %v, want %v", ev.SourceEnv, want)
	}
}

func TestBadInvocations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the message
	}{
		{"no arguments", nil, []string{"expected <phase> [<mode> <vmid>]", "job-init", "post-restart"}},
		{"phase with a space", []string{"backup begin", "snapshot", "100"}, []string{`phase "backup begin": must be letters, digits`}},
		{"phase with a slash", []string{"../backup"}, []string{`phase "../backup"`}},
		{"empty phase", []string{""}, []string{`phase ""`}},
		{"guest phase without mode and vmid", []string{"backup-start"}, []string{"backup-start expects <mode> <vmid>", "got 0"}},
		{"guest phase without vmid", []string{"backup-end", "snapshot"}, []string{"backup-end expects <mode> <vmid>", "got 1"}},
		{"guest phase with an extra argument", []string{"log-end", "snapshot", "100", "x"}, []string{"log-end expects <mode> <vmid>", "got 3"}},
		{"unknown mode", []string{"backup-start", "live", "100"}, []string{`mode "live"`, "snapshot, suspend, stop"}},
		{"mode and vmid swapped", []string{"backup-start", "100", "snapshot"}, []string{`mode "100"`}},
		{"non-numeric vmid", []string{"pre-stop", "stop", "web01"}, []string{"vmid must be a non-negative whole number", `"web01"`}},
		{"negative vmid", []string{"pre-stop", "stop", "-1"}, []string{"vmid must be a non-negative whole number", `"-1"`}},
		{"empty vmid", []string{"backup-abort", "stop", ""}, []string{"vmid must be a non-negative whole number", `""`}},
		{"job phase with arguments", []string{"job-start", "snapshot", "100"}, []string{"job-start takes no further arguments", "got 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.args, mapEnv(guestEnv))
			var ue *adapter.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Event(%q) = %v, %v; want a *adapter.UsageError", tc.args, ev, err)
			}
			if ev != nil {
				t.Errorf("an event came back with the error: %+v", ev)
			}
			if !strings.HasPrefix(ue.Msg, "vzdump") {
				t.Errorf("message %q does not name the adapter", ue.Msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(ue.Msg, w) {
					t.Errorf("message %q, want it to say %q", ue.Msg, w)
				}
			}
		})
	}
}

func TestRunID(t *testing.T) {
	t.Parallel()
	t.Run("HOOKPOINT_RUN_ID wins", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"HOOKPOINT_RUN_ID": "run-42", "STOREID": "local"}
		ev, err := Event([]string{"job-start"}, mapEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Run.ID != "run-42" {
			t.Errorf("run id %q, want run-42", ev.Run.ID)
		}
		if _, ok := ev.SourceEnv["HOOKPOINT_RUN_ID"]; ok {
			t.Error("HOOKPOINT_RUN_ID is not one of vzdump's variables")
		}
	})
	t.Run("same for every phase from one vzdump process", func(t *testing.T) {
		t.Parallel()
		start, err := Event([]string{"job-start"}, mapEnv(jobEnv))
		if err != nil {
			t.Fatal(err)
		}
		guest, err := Event([]string{"backup-end", "stop", "100"}, mapEnv(guestEnv))
		if err != nil {
			t.Fatal(err)
		}
		if start.Run.ID != guest.Run.ID {
			t.Errorf("run ids %q and %q differ", start.Run.ID, guest.Run.ID)
		}
		if start.ID == guest.ID {
			t.Error("two events share an event id")
		}
		want := "vzdump-" + strconv.Itoa(os.Getppid()) + "-"
		if os.Getppid() <= 1 {
			want = "vzdump-evt_"
		}
		if !strings.HasPrefix(start.Run.ID, want) {
			t.Errorf("run id %q, want it to start with %q", start.Run.ID, want)
		}
	})
}

// A phase this version does not know (a newer vzdump's) fires vzdump.<phase> as a
// notification with what could be read, and says so.
func TestUnknownPhase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		data    map[string]any
		subject string
	}{
		{"job phase", []string{"job-verify"}, map[string]any{}, "job"},
		{"guest phase", []string{"backup-verify", "snapshot", "100"}, map[string]any{"mode": "snapshot", "vmid": "100"}, "100"},
		{"other arguments", []string{"backup-verify", "x", "y", "z"}, map[string]any{"args": []string{"x", "y", "z"}}, "job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.args, mapEnv(guestEnv))
			var unk *adapter.Unknown
			if !errors.As(err, &unk) || ev == nil {
				t.Fatalf("Event(%q) = %v, %v; want an event and an *adapter.Unknown", tc.args, ev, err)
			}
			if ev.Type != "vzdump."+tc.args[0] || ev.Gate || ev.Status != "" || ev.Subject != tc.subject {
				t.Errorf("event %s gate %v status %q subject %q", ev.Type, ev.Gate, ev.Status, ev.Subject)
			}
			want := maps.Clone(tc.data)
			want["phase"] = tc.args[0]
			for k, v := range guestEnv {
				want[strings.ToLower(k)] = v
			}
			if !reflect.DeepEqual(ev.Data, want) {
				t.Errorf("data\n got %v\nwant %v", ev.Data, want)
			}
			if ev.SourceEnv["STOREID"] != "local" || ev.Run.Kind != "vzdump" {
				t.Errorf("source env %v run %+v", ev.SourceEnv, ev.Run)
			}
			for _, w := range []string{"vzdump: unknown phase", tc.args[0], "job-init", "notification"} {
				if !strings.Contains(unk.Msg, w) {
					t.Errorf("message %q, want it to say %q", unk.Msg, w)
				}
			}
		})
	}
}
