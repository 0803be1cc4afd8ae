package jetbackup

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/adapter"
	"github.com/hookpoint/hookpoint/internal/event"
)

func noEnv(string) string { return "" }

// Ids as JetBackup 5 writes them.
const (
	jobID   = "65f1c0de8b1a2c0012ab34cd"
	logID   = "6631a6a08b1a2c0012ab9f01"
	dest1   = "65f1c0de8b1a2c0012ab0001"
	dest2   = "65f1c0de8b1a2c0012ab0002"
	accID   = "65f1c0de8b1a2c0012ac0007"
	accLog  = "6631a6a08b1a2c0012ab9f02"
	started = "1714528800" // 2024-05-01T02:00:00Z
	ended   = "1714532400" // 2024-05-01T03:00:00Z
)

var allContains = []string{"panel_config", "home_directory", "databases", "email", "cron_jobs", "domains", "certificates", "database_users", "ftp_accounts"}

// TestEveryTypeAndPosition feeds each hook type and position the arguments JetBackup
// passes, in its documented order, and checks every data value.
func TestEveryTypeAndPosition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		gate    bool
		status  string
		subject string
		job     string
		env     map[string]string // SourceEnv
		data    map[string]any
	}{
		{
			name: "backup pre",
			args: []string{"backup", "pre", jobID, "Daily Accounts", "1", "511", "5", dest1 + "," + dest2, started, logID},
			gate: true, subject: "Daily Accounts", job: "Daily Accounts",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_JOB_NAME": "Daily Accounts", "JETBACKUP_JOB_TYPE": "1",
				"JETBACKUP_CONTAINS": "511", "JETBACKUP_STRUCTURE": "5", "JETBACKUP_DESTINATIONS": dest1 + "," + dest2,
				"JETBACKUP_START": started, "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "backup", "position": "pre", "job_id": jobID, "job_name": "Daily Accounts",
				"job_type": int64(1), "job_type_name": "accounts",
				"contains": int64(511), "contains_names": allContains, "full_account": true,
				"structure": int64(5), "structure_names": []string{"incremental", "compressed"},
				"destinations": dest1 + "," + dest2, "destination_ids": []string{dest1, dest2},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z",
				"log_id": logID,
			},
		},
		{
			name:   "backup post",
			args:   []string{"backup", "post", jobID, "Daily Accounts", "1", "511", "5", dest1 + "," + dest2, started, ended, "100", logID},
			status: event.StatusSuccess, subject: "Daily Accounts", job: "Daily Accounts",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_JOB_NAME": "Daily Accounts", "JETBACKUP_JOB_TYPE": "1",
				"JETBACKUP_CONTAINS": "511", "JETBACKUP_STRUCTURE": "5", "JETBACKUP_DESTINATIONS": dest1 + "," + dest2,
				"JETBACKUP_START": started, "JETBACKUP_END": ended, "JETBACKUP_QUEUE_STATUS": "100", "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "backup", "position": "post", "job_id": jobID, "job_name": "Daily Accounts",
				"job_type": int64(1), "job_type_name": "accounts",
				"contains": int64(511), "contains_names": allContains, "full_account": true,
				"structure": int64(5), "structure_names": []string{"incremental", "compressed"},
				"destinations": dest1 + "," + dest2, "destination_ids": []string{dest1, dest2},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z",
				"end_epoch": int64(1714532400), "end_time": "2024-05-01T03:00:00Z",
				"queue_status": "completed", "queue_status_code": int64(100),
				"log_id": logID,
			},
		},
		{
			name: "backup-account pre",
			args: []string{"backup-account", "pre", jobID, accID, "alice", accLog},
			gate: true, subject: "alice",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_ACCOUNT_USERNAME": "alice", "JETBACKUP_LOG_ID": accLog,
			},
			data: map[string]any{
				"hook_type": "backup-account", "position": "pre", "job_id": jobID,
				"account_id": accID, "account_username": "alice", "log_id": accLog,
			},
		},
		{
			name:   "backup-account post",
			args:   []string{"backup-account", "post", jobID, accID, "alice", "101", accLog},
			status: event.StatusWarning, subject: "alice",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_ACCOUNT_USERNAME": "alice",
				"JETBACKUP_QUEUE_STATUS": "101", "JETBACKUP_LOG_ID": accLog,
			},
			data: map[string]any{
				"hook_type": "backup-account", "position": "post", "job_id": jobID,
				"account_id": accID, "account_username": "alice",
				"queue_status": "partially_completed", "queue_status_code": int64(101), "log_id": accLog,
			},
		},
		{
			name: "clone pre",
			args: []string{"clone", "pre", jobID, "Clone to DR", "1", "6", dest1, started, logID},
			gate: true, subject: "Clone to DR", job: "Clone to DR",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_JOB_NAME": "Clone to DR", "JETBACKUP_JOB_TYPE": "1",
				"JETBACKUP_CONTAINS": "6", "JETBACKUP_DESTINATIONS": dest1, "JETBACKUP_START": started, "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "clone", "position": "pre", "job_id": jobID, "job_name": "Clone to DR",
				"job_type": int64(1), "job_type_name": "accounts",
				"contains": int64(6), "contains_names": []string{"home_directory", "databases"}, "full_account": false,
				"destinations": dest1, "destination_ids": []string{dest1},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z", "log_id": logID,
			},
		},
		{
			name:   "clone post",
			args:   []string{"clone", "post", jobID, "Clone to DR", "1", "6", dest1, started, ended, "102", logID},
			status: event.StatusFail, subject: "Clone to DR", job: "Clone to DR",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_JOB_NAME": "Clone to DR", "JETBACKUP_JOB_TYPE": "1",
				"JETBACKUP_CONTAINS": "6", "JETBACKUP_DESTINATIONS": dest1, "JETBACKUP_START": started,
				"JETBACKUP_END": ended, "JETBACKUP_QUEUE_STATUS": "102", "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "clone", "position": "post", "job_id": jobID, "job_name": "Clone to DR",
				"job_type": int64(1), "job_type_name": "accounts",
				"contains": int64(6), "contains_names": []string{"home_directory", "databases"}, "full_account": false,
				"destinations": dest1, "destination_ids": []string{dest1},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z",
				"end_epoch": int64(1714532400), "end_time": "2024-05-01T03:00:00Z",
				"queue_status": "failed", "queue_status_code": int64(102), "log_id": logID,
			},
		},
		{
			name: "clone-account pre",
			args: []string{"clone-account", "pre", jobID, accID, "bob", accLog},
			gate: true, subject: "bob",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_ACCOUNT_USERNAME": "bob", "JETBACKUP_LOG_ID": accLog,
			},
			data: map[string]any{
				"hook_type": "clone-account", "position": "pre", "job_id": jobID,
				"account_id": accID, "account_username": "bob", "log_id": accLog,
			},
		},
		{
			name:   "clone-account post",
			args:   []string{"clone-account", "post", jobID, accID, "bob", "103", accLog},
			status: event.StatusCancelled, subject: "bob",
			env: map[string]string{
				"JETBACKUP_JOB_ID": jobID, "JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_ACCOUNT_USERNAME": "bob",
				"JETBACKUP_QUEUE_STATUS": "103", "JETBACKUP_LOG_ID": accLog,
			},
			data: map[string]any{
				"hook_type": "clone-account", "position": "post", "job_id": jobID,
				"account_id": accID, "account_username": "bob",
				"queue_status": "aborted", "queue_status_code": int64(103), "log_id": accLog,
			},
		},
		{
			name: "restore pre",
			args: []string{"restore", "pre", "1", "12", accID, "alice", "homedir,db_alice_wp", started, logID},
			gate: true, subject: "alice",
			env: map[string]string{
				"JETBACKUP_JOB_TYPE": "1", "JETBACKUP_CONTAINS": "12", "JETBACKUP_ACCOUNT_ID": accID,
				"JETBACKUP_ACCOUNT_USERNAME": "alice", "JETBACKUP_ITEMS": "homedir,db_alice_wp", "JETBACKUP_START": started, "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "restore", "position": "pre",
				"job_type": int64(1), "job_type_name": "accounts",
				"contains": int64(12), "contains_names": []string{"databases", "email"}, "full_account": false,
				"account_id": accID, "account_username": "alice",
				"items": "homedir,db_alice_wp", "items_list": []string{"homedir", "db_alice_wp"},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z", "log_id": logID,
			},
		},
		{
			name:   "restore post",
			args:   []string{"restore", "post", "2", "0", "", "", "/home/shared, /etc/exim.conf", started, ended, "104", logID},
			status: event.StatusFail, subject: logID,
			env: map[string]string{
				"JETBACKUP_JOB_TYPE": "2", "JETBACKUP_CONTAINS": "0", "JETBACKUP_ACCOUNT_ID": "",
				"JETBACKUP_ACCOUNT_USERNAME": "", "JETBACKUP_ITEMS": "/home/shared, /etc/exim.conf", "JETBACKUP_START": started,
				"JETBACKUP_END": ended, "JETBACKUP_QUEUE_STATUS": "104", "JETBACKUP_LOG_ID": logID,
			},
			data: map[string]any{
				"hook_type": "restore", "position": "post",
				"job_type": int64(2), "job_type_name": "directories",
				"contains": int64(0), "contains_names": []string{}, "full_account": false,
				"account_id": "", "account_username": "",
				"items": "/home/shared, /etc/exim.conf", "items_list": []string{"/home/shared", "/etc/exim.conf"},
				"start_epoch": int64(1714528800), "start_time": "2024-05-01T02:00:00Z",
				"end_epoch": int64(1714532400), "end_time": "2024-05-01T03:00:00Z",
				"queue_status": "never_finished", "queue_status_code": int64(104), "log_id": logID,
			},
		},
		{
			name: "download pre",
			args: []string{"download", "pre", accID, logID},
			gate: true, subject: logID,
			env:  map[string]string{"JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_LOG_ID": logID},
			data: map[string]any{"hook_type": "download", "position": "pre", "account_id": accID, "log_id": logID},
		},
		{
			name: "download post",
			args: []string{"download", "post", accID, logID},
			// A download post carries no queue status: no event status either.
			subject: logID,
			env:     map[string]string{"JETBACKUP_ACCOUNT_ID": accID, "JETBACKUP_LOG_ID": logID},
			data:    map[string]any{"hook_type": "download", "position": "post", "account_id": accID, "log_id": logID},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.args, noEnv)
			if err != nil {
				t.Fatalf("Event(%q): %v", tc.args, err)
			}
			wantType := "jetbackup." + tc.args[0] + "." + tc.args[1]
			if ev.Type != wantType || ev.Source != "jetbackup" || ev.Gate != tc.gate || ev.Status != tc.status {
				t.Errorf("type %q source %q gate %v status %q; want %s jetbackup %v %q",
					ev.Type, ev.Source, ev.Gate, ev.Status, wantType, tc.gate, tc.status)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("the event does not validate: %v", err)
			}
			if !reflect.DeepEqual(ev.Data, tc.data) {
				t.Errorf("data\n got %s\nwant %s", js(ev.Data), js(tc.data))
			}
			if !maps.Equal(ev.SourceEnv, tc.env) {
				t.Errorf("SourceEnv\n got %v\nwant %v", ev.SourceEnv, tc.env)
			}
			if ev.Subject != tc.subject {
				t.Errorf("subject %q, want %q", ev.Subject, tc.subject)
			}
			if want := "jetbackup-" + tc.data["log_id"].(string); ev.Run.ID != want || ev.Run.Job != tc.job || ev.Run.Kind != "jetbackup" {
				t.Errorf("run %+v, want id %s, job %q, kind jetbackup", ev.Run, want, tc.job)
			}
		})
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Every type and position has a layout, and Usage names its arguments in order.
func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ typ, pos, want string }{
		{"backup", "pre", "jetbackup backup pre <job_id> <job_name> <job_type> <contains> <structure> <destinations> <start> <log_id>"},
		{"backup", "post", "jetbackup backup post <job_id> <job_name> <job_type> <contains> <structure> <destinations> <start> <end> <queue_status> <log_id>"},
		{"backup-account", "pre", "jetbackup backup-account pre <job_id> <account_id> <account_username> <log_id>"},
		{"backup-account", "post", "jetbackup backup-account post <job_id> <account_id> <account_username> <queue_status> <log_id>"},
		{"clone", "pre", "jetbackup clone pre <job_id> <job_name> <job_type> <contains> <destinations> <start> <log_id>"},
		{"clone", "post", "jetbackup clone post <job_id> <job_name> <job_type> <contains> <destinations> <start> <end> <queue_status> <log_id>"},
		{"clone-account", "pre", "jetbackup clone-account pre <job_id> <account_id> <account_username> <log_id>"},
		{"clone-account", "post", "jetbackup clone-account post <job_id> <account_id> <account_username> <queue_status> <log_id>"},
		{"restore", "pre", "jetbackup restore pre <job_type> <contains> [account_id] [account_username] <items> <start> <log_id>"},
		{"restore", "post", "jetbackup restore post <job_type> <contains> [account_id] [account_username] <items> <start> <end> <queue_status> <log_id>"},
		{"download", "pre", "jetbackup download pre [account_id] <log_id>"},
		{"download", "post", "jetbackup download post [account_id] <log_id>"},
	} {
		if got := Usage(tc.typ, tc.pos); got != tc.want {
			t.Errorf("Usage(%s, %s)\n got %s\nwant %s", tc.typ, tc.pos, got, tc.want)
		}
	}
	if want := []string{"backup", "backup-account", "clone", "clone-account", "restore", "download"}; !reflect.DeepEqual(Types, want) {
		t.Errorf("Types %q, want %q", Types, want)
	}
	for _, typ := range Types {
		if len(layouts[typ]) != 2 || layouts[typ]["pre"] == nil || layouts[typ]["post"] == nil {
			t.Errorf("type %s: want exactly a pre and a post layout", typ)
		}
	}
}

// The queue status of a post hook becomes the event's status.
func TestQueueStatusToEventStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, name, status string
	}{
		{"100", "completed", event.StatusSuccess},
		{"101", "partially_completed", event.StatusWarning},
		{"102", "failed", event.StatusFail},
		{"103", "aborted", event.StatusCancelled},
		{"104", "never_finished", event.StatusFail},
		{"1", "pending", event.StatusNone},
		{"2", "processing", event.StatusNone},
		{"999", "unknown", event.StatusNone},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{
				{"backup", "post", jobID, "Daily", "1", "511", "1", dest1, started, ended, tc.code, logID},
				{"backup-account", "post", jobID, accID, "alice", tc.code, accLog},
				{"clone", "post", jobID, "Clone", "1", "511", dest1, started, ended, tc.code, logID},
				{"clone-account", "post", jobID, accID, "alice", tc.code, accLog},
				{"restore", "post", "1", "511", accID, "alice", "homedir", started, ended, tc.code, logID},
			} {
				ev, err := Event(args, noEnv)
				if err != nil {
					t.Fatalf("%s post: %v", args[0], err)
				}
				if ev.Status != tc.status || ev.Data["queue_status"] != tc.name {
					t.Errorf("%s post, queue status %s: status %q, queue_status %v; want %q, %q",
						args[0], tc.code, ev.Status, ev.Data["queue_status"], tc.status, tc.name)
				}
			}
		})
	}
}

// Every job type and structure code through a real invocation; a job type the
// documentation does not list is "unknown", not an error that would fail the job.
func TestCodesInEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		jobType, typeName string
		structure         string
		structureNames    []string
	}{
		{"1", "accounts", "1", []string{"incremental"}},
		{"2", "directories", "2", []string{"archived"}},
		{"3", "jb_config", "4", []string{"compressed"}},
		{"7", "unknown", "0", []string{}},
	} {
		t.Run(tc.jobType, func(t *testing.T) {
			t.Parallel()
			ev, err := Event([]string{"backup", "pre", jobID, "J", tc.jobType, "1", tc.structure, dest1, started, logID}, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data["job_type_name"] != tc.typeName || !reflect.DeepEqual(ev.Data["structure_names"], tc.structureNames) {
				t.Errorf("job_type_name %v structure_names %v; want %q %q", ev.Data["job_type_name"], ev.Data["structure_names"], tc.typeName, tc.structureNames)
			}
		})
	}
}

func TestLists(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{dest1, []string{dest1}},
		{"1,2,3", []string{"1", "2", "3"}},
		{" 1 , 2 ,,3, ", []string{"1", "2", "3"}},
		{"", []string{}},
		{",", []string{}},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			ev, err := Event([]string{"backup", "pre", jobID, "J", "1", "511", "1", tc.raw, started, logID}, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data["destinations"] != tc.raw || !reflect.DeepEqual(ev.Data["destination_ids"], tc.want) {
				t.Errorf("destinations %q destination_ids %q; want %q %q", ev.Data["destinations"], ev.Data["destination_ids"], tc.raw, tc.want)
			}
			ev, err = Event([]string{"restore", "pre", "2", "0", "", "", tc.raw, started, logID}, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data["items"] != tc.raw || !reflect.DeepEqual(ev.Data["items_list"], tc.want) {
				t.Errorf("items %q items_list %q; want %q %q", ev.Data["items"], ev.Data["items_list"], tc.raw, tc.want)
			}
		})
	}
}

func TestEpochs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ epoch, want string }{
		{"0", "1970-01-01T00:00:00Z"},
		{"1714528800", "2024-05-01T02:00:00Z"},
		{"1700000000", "2023-11-14T22:13:20Z"},
		{"4102444800", "2100-01-01T00:00:00Z"},
	} {
		t.Run(tc.epoch, func(t *testing.T) {
			t.Parallel()
			ev, err := Event([]string{"clone", "post", jobID, "J", "1", "511", dest1, tc.epoch, tc.epoch, "100", logID}, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data["start_time"] != tc.want || ev.Data["end_time"] != tc.want {
				t.Errorf("start_time %v end_time %v, want %s", ev.Data["start_time"], ev.Data["end_time"], tc.want)
			}
		})
	}
}

// Restores of directories and downloads of non-account backups have no account: JetBackup
// may pass the fields empty or leave them out, and both give the same event.
func TestAccountFieldsEmptyOrLeftOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		given, absent []string
	}{
		{"restore pre",
			[]string{"restore", "pre", "2", "0", "", "", "/home/shared", started, logID},
			[]string{"restore", "pre", "2", "0", "/home/shared", started, logID}},
		{"restore post",
			[]string{"restore", "post", "3", "0", "", "", "jbconfig", started, ended, "100", logID},
			[]string{"restore", "post", "3", "0", "jbconfig", started, ended, "100", logID}},
		{"download pre", []string{"download", "pre", "", logID}, []string{"download", "pre", logID}},
		{"download post", []string{"download", "post", "", logID}, []string{"download", "post", logID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := Event(tc.given, noEnv)
			if err != nil {
				t.Fatalf("fields given empty: %v", err)
			}
			b, err := Event(tc.absent, noEnv)
			if err != nil {
				t.Fatalf("fields left out: %v", err)
			}
			if !reflect.DeepEqual(a.Data, b.Data) || !maps.Equal(a.SourceEnv, b.SourceEnv) || a.Status != b.Status || a.Subject != b.Subject {
				t.Errorf("given empty and left out differ:\n%s %v %q\n%s %v %q", js(a.Data), a.SourceEnv, a.Status, js(b.Data), b.SourceEnv, b.Status)
			}
			if a.Data["account_id"] != "" {
				t.Errorf("account_id %v, want empty", a.Data["account_id"])
			}
			if _, ok := a.SourceEnv["JETBACKUP_ACCOUNT_ID"]; !ok {
				t.Error("JETBACKUP_ACCOUNT_ID is missing from the environment; it should be there, empty")
			}
			if a.Data["log_id"] != logID || a.Run.ID != "jetbackup-"+logID {
				t.Errorf("log_id %v run %q: the fields after the account shifted", a.Data["log_id"], a.Run.ID)
			}
		})
	}
}

func TestBadInvocations(t *testing.T) {
	t.Parallel()
	backupPre := "expected: jetbackup backup pre <job_id> <job_name> <job_type> <contains> <structure> <destinations> <start> <log_id>"
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no arguments", nil, []string{"expected <type> <pre|post> ARGS...", "types: backup, backup-account, clone, clone-account, restore, download"}},
		{"type only", []string{"backup"}, []string{"expected <type> <pre|post> ARGS..."}},
		{"type with a slash", []string{"snap/shot", "pre", "1"}, []string{`hook type "snap/shot": must be letters, digits`}},
		{"unknown type, position with a space", []string{"snapshot", "p re", "1"}, []string{`position "p re"`}},
		{"unknown position", []string{"backup", "during", jobID}, []string{`position "during" is neither pre nor post`}},
		{"position in capitals", []string{"backup", "PRE", jobID}, []string{`position "PRE" is neither pre nor post`}},
		{"no arguments after the position", []string{"backup", "pre"}, []string{"too few arguments: got 0, want 8", backupPre}},
		{"too few", []string{"backup", "pre", jobID, "Daily", "1", "511", "5", dest1, started}, []string{"too few arguments: got 7, want 8", backupPre}},
		{"too many", []string{"backup", "pre", jobID, "Daily", "1", "511", "5", dest1, started, logID, "x"}, []string{"too many arguments: got 9, want 8", backupPre}},
		{"post with pre arguments", []string{"backup", "post", jobID, "Daily", "1", "511", "5", dest1, started, logID}, []string{"too few arguments: got 8, want 10", "jetbackup backup post <job_id>"}},
		{"restore with one account field", []string{"restore", "pre", "1", "511", accID, "homedir", started, logID}, []string{"too few arguments: got 6, want 7", "[account_id] [account_username]"}},
		{"download with nothing", []string{"download", "pre"}, []string{"too few arguments: got 0, want 2", "jetbackup download pre [account_id] <log_id>"}},
		{"non-numeric job type", []string{"backup", "pre", jobID, "Daily", "accounts", "511", "5", dest1, started, logID}, []string{"argument 3 (job_type)", `job_type must be a non-negative whole number, got "accounts"`, backupPre}},
		{"non-numeric contains", []string{"backup", "pre", jobID, "Daily", "1", "all", "5", dest1, started, logID}, []string{"argument 4 (contains)", `"all"`}},
		{"negative structure", []string{"backup", "pre", jobID, "Daily", "1", "511", "-4", dest1, started, logID}, []string{"argument 5 (structure)", `"-4"`}},
		{"date instead of epoch", []string{"backup", "pre", jobID, "Daily", "1", "511", "5", dest1, "2024-05-01", logID}, []string{"argument 7 (start)", `"2024-05-01"`}},
		{"empty end", []string{"clone", "post", jobID, "Clone", "1", "511", dest1, started, "", "100", logID}, []string{"argument 7 (end)", `""`}},
		{"queue status by name", []string{"backup-account", "post", jobID, accID, "alice", "completed", accLog}, []string{"argument 4 (queue_status)", `"completed"`, "jetbackup backup-account post <job_id> <account_id> <account_username> <queue_status> <log_id>"}},
		{"empty job id", []string{"backup-account", "pre", "", accID, "alice", accLog}, []string{"argument 1 (job_id): must not be empty"}},
		{"empty log id", []string{"download", "post", accID, ""}, []string{"argument 2 (log_id): must not be empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Event(tc.args, noEnv)
			var ue *adapter.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Event(%q) = %v, %v; want a *adapter.UsageError", tc.args, ev, err)
			}
			if ev != nil {
				t.Errorf("an event came back with the error: %+v", ev)
			}
			if !strings.HasPrefix(ue.Msg, "jetbackup") {
				t.Errorf("message %q does not name the adapter", ue.Msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(ue.Msg, w) {
					t.Errorf("message %q\nwant it to say %q", ue.Msg, w)
				}
			}
		})
	}
}

func TestRunID(t *testing.T) {
	t.Parallel()
	env := func(name string) string {
		if name == "HOOKPOINT_RUN_ID" {
			return "nightly-42"
		}
		return ""
	}
	ev, err := Event([]string{"backup-account", "pre", jobID, accID, "alice", accLog}, env)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Run.ID != "nightly-42" {
		t.Errorf("run id %q, want HOOKPOINT_RUN_ID", ev.Run.ID)
	}
	// Without it, the log id: pre and post of one task share it.
	pre, err := Event([]string{"backup", "pre", jobID, "Daily", "1", "511", "5", dest1, started, logID}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	post, err := Event([]string{"backup", "post", jobID, "Daily", "1", "511", "5", dest1, started, ended, "100", logID}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Run.ID != "jetbackup-"+logID || post.Run.ID != pre.Run.ID {
		t.Errorf("run ids %q and %q, want both jetbackup-%s", pre.Run.ID, post.Run.ID, logID)
	}
}

// A hook type this version does not know (a newer JetBackup's) fires as a notification
// with the arguments as they came, and says so.
func TestUnknownType(t *testing.T) {
	t.Parallel()
	ev, err := Event([]string{"snapshot", "pre", jobID, "Nightly snap", logID}, noEnv)
	var unk *adapter.Unknown
	if !errors.As(err, &unk) || ev == nil {
		t.Fatalf("Event = %v, %v; want an event and an *adapter.Unknown", ev, err)
	}
	if ev.Type != "jetbackup.snapshot.pre" || ev.Gate || ev.Status != event.StatusNone {
		t.Errorf("event %s gate %v status %q, want jetbackup.snapshot.pre, a notification", ev.Type, ev.Gate, ev.Status)
	}
	if !reflect.DeepEqual(ev.Data["args"], []string{jobID, "Nightly snap", logID}) || ev.Data["hook_type"] != "snapshot" || ev.Data["position"] != "pre" {
		t.Errorf("data %v, want the raw arguments, type and position", ev.Data)
	}
	if ev.SourceEnv["JETBACKUP_ARG_2"] != "Nightly snap" {
		t.Errorf("source env %v, want JETBACKUP_ARG_<n>", ev.SourceEnv)
	}
	for _, w := range []string{`unknown hook type "snapshot"`, "backup, backup-account", "notification"} {
		if !strings.Contains(unk.Msg, w) {
			t.Errorf("message %q, want it to say %q", unk.Msg, w)
		}
	}
}
