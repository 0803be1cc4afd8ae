package autosnap

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

// environ is what cv4pve-autosnap's hook script sees for one phase: its own environment
// plus the CV4PVE_AUTOSNAP_* variables (guest phases fill the VM fields, job phases leave
// them empty, as AutoSnap does).
func environ(phase string, guest bool, state string, extra ...string) []string {
	env := []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"CV4PVE_AUTOSNAP_PHASE=" + phase,
		"CV4PVE_AUTOSNAP_LABEL=daily",
		"CV4PVE_AUTOSNAP_KEEP=7",
		"CV4PVE_AUTOSNAP_VMSTATE=0",
		"CV4PVE_AUTOSNAP_DURATION=1.234",
		"CV4PVE_AUTOSNAP_DEBUG=0",
		"CV4PVE_AUTOSNAP_DRY_RUN=0",
	}
	if state != "" {
		env = append(env, "CV4PVE_AUTOSNAP_STATE="+state)
	}
	if guest {
		env = append(env,
			"CV4PVE_AUTOSNAP_VMID=100",
			`CV4PVE_AUTOSNAP_VMNAME=web "prod"`,
			"CV4PVE_AUTOSNAP_VMTYPE=qemu",
			"CV4PVE_AUTOSNAP_SNAP_NAME=autodaily240501020000")
	} else {
		env = append(env, "CV4PVE_AUTOSNAP_VMID=", "CV4PVE_AUTOSNAP_VMNAME=", "CV4PVE_AUTOSNAP_VMTYPE=", "CV4PVE_AUTOSNAP_SNAP_NAME=")
	}
	return append(env, extra...)
}

func TestPhases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phase string
		guest bool
		gate  bool
		// status for CV4PVE_AUTOSNAP_STATE 1, 0 and unset
		st1, st0, stUnset string
	}{
		{"snap-job-start", false, false, "", "", ""},
		{"snap-job-end", false, false, event.StatusSuccess, event.StatusFail, event.StatusSuccess},
		{"snap-create-pre", true, true, "", "", ""},
		{"snap-create-post", true, false, event.StatusSuccess, event.StatusFail, event.StatusSuccess},
		{"snap-create-abort", true, false, event.StatusFail, event.StatusFail, event.StatusFail},
		{"clean-job-start", false, false, "", "", ""},
		{"clean-job-end", false, false, event.StatusSuccess, event.StatusFail, event.StatusSuccess},
		{"snap-remove-pre", true, true, "", "", ""},
		{"snap-remove-post", true, false, event.StatusSuccess, event.StatusFail, event.StatusSuccess},
		{"snap-remove-abort", true, false, event.StatusFail, event.StatusFail, event.StatusFail},
	} {
		for _, st := range []struct{ state, want string }{{"1", tc.st1}, {"0", tc.st0}, {"", tc.stUnset}} {
			t.Run(tc.phase+"/STATE="+st.state, func(t *testing.T) {
				t.Parallel()
				ev, err := Event("", environ(tc.phase, tc.guest, st.state))
				if err != nil {
					t.Fatal(err)
				}
				if ev.Type != "autosnap."+tc.phase || ev.Source != "cv4pve-autosnap" || ev.Gate != tc.gate || ev.Status != st.want {
					t.Errorf("type %q source %q gate %v status %q; want autosnap.%s cv4pve-autosnap %v %q",
						ev.Type, ev.Source, ev.Gate, ev.Status, tc.phase, tc.gate, st.want)
				}
				if err := ev.Validate(); err != nil {
					t.Errorf("the event does not validate: %v", err)
				}
				want := map[string]any{
					"phase": tc.phase, "label": "daily", "keep": "7", "vmstate": "0", "duration": "1.234",
					"state": st.state, "debug": "0", "dry_run": "0",
					"vmid": "", "vmname": "", "vmtype": "", "snap_name": "",
				}
				wantSubject := "daily"
				if tc.guest {
					want["vmid"], want["vmname"], want["vmtype"], want["snap_name"] = "100", `web "prod"`, "qemu", "autodaily240501020000"
					wantSubject = "100"
				}
				if !reflect.DeepEqual(ev.Data, want) {
					t.Errorf("data\n got %v\nwant %v", ev.Data, want)
				}
				if ev.Subject != wantSubject {
					t.Errorf("subject %q, want %q", ev.Subject, wantSubject)
				}
				if ev.Run.Job != "daily" || ev.Run.Kind != "autosnap" {
					t.Errorf("run %+v, want job daily, kind autosnap", ev.Run)
				}
			})
		}
	}
}

func TestPhasesListIsComplete(t *testing.T) {
	t.Parallel()
	want := []string{"snap-job-start", "snap-job-end", "snap-create-pre", "snap-create-post", "snap-create-abort",
		"clean-job-start", "clean-job-end", "snap-remove-pre", "snap-remove-post", "snap-remove-abort"}
	if !reflect.DeepEqual(Phases, want) {
		t.Errorf("Phases %q, want %q", Phases, want)
	}
	wantVars := []string{"PHASE", "VMID", "VMNAME", "VMTYPE", "LABEL", "KEEP", "SNAP_NAME", "VMSTATE", "DURATION", "STATE"}
	if !reflect.DeepEqual(Vars, wantVars) {
		t.Errorf("Vars %q, want the documented %q", Vars, wantVars)
	}
}

// Data and SourceEnv hold every CV4PVE_AUTOSNAP_ variable, documented or not, and nothing
// else from the environment; documented ones that are unset are there, empty.
func TestDataAndSourceEnv(t *testing.T) {
	t.Parallel()
	env := []string{
		"PATH=/usr/bin", "HOME=/root", "NOT_AN_ASSIGNMENT", "CV4PVE_OTHER=x",
		"CV4PVE_AUTOSNAP_PHASE=snap-create-post",
		"CV4PVE_AUTOSNAP_VMID=101",
		"CV4PVE_AUTOSNAP_VMNAME=db=primary", // '=' in a value stays
		"CV4PVE_AUTOSNAP_FUTURE_THING=42",
	}
	ev, err := Event("", env)
	if err != nil {
		t.Fatal(err)
	}
	wantData := map[string]any{
		"phase": "snap-create-post", "vmid": "101", "vmname": "db=primary", "future_thing": "42",
		"vmtype": "", "label": "", "keep": "", "snap_name": "", "vmstate": "", "duration": "", "state": "",
	}
	if !reflect.DeepEqual(ev.Data, wantData) {
		t.Errorf("data\n got %v\nwant %v", ev.Data, wantData)
	}
	wantEnv := map[string]string{
		"CV4PVE_AUTOSNAP_PHASE": "snap-create-post", "CV4PVE_AUTOSNAP_VMID": "101",
		"CV4PVE_AUTOSNAP_VMNAME": "db=primary", "CV4PVE_AUTOSNAP_FUTURE_THING": "42",
	}
	if !maps.Equal(ev.SourceEnv, wantEnv) {
		t.Errorf("SourceEnv\n got %v\nwant %v", ev.SourceEnv, wantEnv)
	}
	// The exec environment carries them under AutoSnap's names and hookpoint's.
	all := strings.Join(ev.Env(), "\n") + "\n"
	for _, want := range []string{"CV4PVE_AUTOSNAP_VMID=101", "HOOKPOINT_DATA_VMID=101", "HOOKPOINT_DATA_FUTURE_THING=42", "HOOKPOINT_EVENT=autosnap.snap-create-post"} {
		if !strings.Contains(all, want+"\n") {
			t.Errorf("exec environment lacks %s:\n%s", want, all)
		}
	}
	if ev.Subject != "101" || ev.Run.Job != "" {
		t.Errorf("subject %q, run %+v", ev.Subject, ev.Run)
	}
}

func TestPhaseFlagOverridesEnvironment(t *testing.T) {
	t.Parallel()
	ev, err := Event("snap-job-end", environ("snap-job-start", false, "1"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != "autosnap.snap-job-end" || ev.Data["phase"] != "snap-job-end" || ev.Status != event.StatusSuccess {
		t.Errorf("type %q phase %v status %q; want the --phase one", ev.Type, ev.Data["phase"], ev.Status)
	}
	// Without any variable but the phase, job phases still make an event.
	ev, err = Event("clean-job-start", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Subject != "" || ev.Gate || ev.Status != "" {
		t.Errorf("subject %q gate %v status %q", ev.Subject, ev.Gate, ev.Status)
	}
}

func TestBadInvocations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		phase string
		env   []string
		want  []string
	}{
		{"no phase", "", []string{"PATH=/usr/bin"}, []string{"CV4PVE_AUTOSNAP_PHASE is not set", "hook script", "snap-job-start", "snap-remove-abort"}},
		{"empty phase variable", "", []string{"CV4PVE_AUTOSNAP_PHASE="}, []string{"CV4PVE_AUTOSNAP_PHASE is not set"}},
		{"phase with a space", "", environ("snap create", true, "1"), []string{`phase "snap create": must be letters, digits`}},
		{"--phase with a slash", "snap/create", environ("snap-create-pre", true, "1"), []string{`phase "snap/create"`}},
		{"phase with a dot", "", environ("snap.create", true, "1"), []string{`phase "snap.create"`}},
		{"guest phase without VMID", "", environ("snap-create-pre", false, "1"), []string{"snap-create-pre needs CV4PVE_AUTOSNAP_VMID"}},
		{"remove phase without VMID", "", environ("snap-remove-post", false, "1"), []string{"snap-remove-post needs CV4PVE_AUTOSNAP_VMID"}},
		{"non-numeric VMID", "", environ("snap-create-post", true, "1", "CV4PVE_AUTOSNAP_VMID=web01"), []string{"CV4PVE_AUTOSNAP_VMID must be a non-negative whole number", `"web01"`}},
		{"negative KEEP", "", environ("snap-job-start", false, "1", "CV4PVE_AUTOSNAP_KEEP=-1"), []string{"CV4PVE_AUTOSNAP_KEEP must be a non-negative whole number", `"-1"`}},
		{"non-numeric VMSTATE", "", environ("snap-create-pre", true, "1", "CV4PVE_AUTOSNAP_VMSTATE=true"), []string{"CV4PVE_AUTOSNAP_VMSTATE must be a non-negative whole number", `"true"`}},
		{"non-numeric STATE", "", environ("snap-job-end", false, "ok"), []string{"CV4PVE_AUTOSNAP_STATE must be a non-negative whole number", `"ok"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.phase, tc.env)
			var ue *adapter.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Event = %v, %v; want a *adapter.UsageError", ev, err)
			}
			if ev != nil {
				t.Errorf("an event came back with the error: %+v", ev)
			}
			if !strings.HasPrefix(ue.Msg, "autosnap: ") {
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
		ev, err := Event("", environ("snap-job-start", false, "1", "HOOKPOINT_RUN_ID=snap-2024-05-01"))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Run.ID != "snap-2024-05-01" {
			t.Errorf("run id %q", ev.Run.ID)
		}
		if _, ok := ev.Data["hookpoint_run_id"]; ok {
			t.Error("HOOKPOINT_RUN_ID became data")
		}
	})
	t.Run("same for every phase from one AutoSnap process", func(t *testing.T) {
		t.Parallel()
		a, err := Event("", environ("snap-job-start", false, "1"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Event("", environ("snap-create-post", true, "1"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Run.ID != b.Run.ID {
			t.Errorf("run ids %q and %q differ", a.Run.ID, b.Run.ID)
		}
		want := "autosnap-" + strconv.Itoa(os.Getppid()) + "-"
		if os.Getppid() <= 1 {
			want = "autosnap-evt_"
		}
		if !strings.HasPrefix(a.Run.ID, want) {
			t.Errorf("run id %q, want it to start with %q", a.Run.ID, want)
		}
	})
}

// A phase this version does not know (a newer AutoSnap's) fires as a notification with
// the variables, and says so; the VMID a known guest phase needs is not required.
func TestUnknownPhase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, phase string
		env         []string
		status      string
	}{
		{"from the variable", "", environ("snap-verify-pre", false, ""), event.StatusNone},
		{"from --phase", "snap-verify-post", environ("snap-create-pre", true, "0"), event.StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.phase, tc.env)
			var unk *adapter.Unknown
			if !errors.As(err, &unk) || ev == nil {
				t.Fatalf("Event = %v, %v; want an event and an *adapter.Unknown", ev, err)
			}
			phase := tc.phase
			if phase == "" {
				phase = "snap-verify-pre"
			}
			if ev.Type != "autosnap."+phase || ev.Gate || ev.Status != tc.status || ev.Data["phase"] != phase || ev.Data["label"] != "daily" {
				t.Errorf("event %s gate %v status %q data %v; want autosnap.%s, a notification with the variables", ev.Type, ev.Gate, ev.Status, ev.Data, phase)
			}
			if err := ev.Validate(); err != nil {
				t.Error(err)
			}
			for _, w := range []string{"autosnap: unknown phase", phase, "snap-job-start", "notification"} {
				if !strings.Contains(unk.Msg, w) {
					t.Errorf("message %q, want it to say %q", unk.Msg, w)
				}
			}
		})
	}
}
