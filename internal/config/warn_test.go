package config_test

import (
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
)

// TestWarnings: hooks that can never run for the events hookpoint sends — a pattern in
// an adapter's namespace that matches none of its events, a status filter the matched
// events never carry — are warned about, with a suggestion, and the config still loads.
// Namespaces hookpoint does not know, and those of the server, are not warned about.
func TestWarnings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "misspelt adapter events",
			src: `hooks:
  - id: a
    on: [vzdump.backup-strat, autosnap.SnapCreatePre, vzdump.backup-start]
    exec: {command: /bin/true}
  - id: b
    on: jetbackup.backups.pre
    exec: {command: /bin/true}
  - id: c
    on: [vzdump.bakup-*]
    exec: {command: /bin/true}
`,
			want: []string{
				`c.yaml:3:10: hooks[0].on[0]: warning: "vzdump.backup-strat" matches no event vzdump sends; did you mean "vzdump.backup-start"?`,
				`c.yaml:3:31: hooks[0].on[1]: warning: "autosnap.SnapCreatePre" matches no event autosnap sends; did you mean "autosnap.snap-create-pre"?`,
				`c.yaml:6:9: hooks[1].on[0]: warning: "jetbackup.backups.pre" matches no event jetbackup sends; did you mean "jetbackup.backup.pre"?`,
				`c.yaml:9:10: hooks[2].on[0]: warning: "vzdump.bakup-*" matches no event vzdump sends (it sends vzdump.job-init, vzdump.job-start, vzdump.job-end, vzdump.job-abort, vzdump.backup-start, vzdump.backup-end, vzdump.backup-abort, vzdump.log-end, vzdump.pre-stop, vzdump.pre-restart, vzdump.post-restart)`,
			},
		},
		{
			name: "a status the events never carry",
			src: `hooks:
  - id: a
    on: backup.pre
    status: fail
    exec: {command: /bin/true}
  - id: b
    on: [vzdump.job-end, vzdump.job-abort]
    status: [fail]
    exec: {command: /bin/true}
  - id: c
    on: [backup.post, jetbackup.*.pre]
    status: [warning, cancelled]
    exec: {command: /bin/true}
`,
			want: []string{
				`c.yaml:3:9: hooks[0].on[0]: warning: backup.pre events carry no status, so with status: fail this hook never runs for them; for fail use backup.abort or backup.end`,
				`c.yaml:7:10: hooks[1].on[0]: warning: vzdump.job-end events carry no status, so with status: fail this hook never runs for them; for fail use vzdump.job-abort or vzdump.backup-abort`,
				`c.yaml:11:10: hooks[2].on[0]: warning: backup.post events carry only success, so with status: [warning, cancelled] this hook never runs for them; for warning or cancelled use backup.abort or backup.end`,
				`c.yaml:11:23: hooks[2].on[1]: warning: the events jetbackup.*.pre matches carry no status, so with status: [warning, cancelled] this hook never runs for them`,
			},
		},
		{
			name: "a lifecycle suffix in the wrong case",
			src:  "hooks:\n  - id: a\n    on: [backup.Pre]\n    exec: {command: /bin/true}\n",
			want: []string{
				`c.yaml:3:10: hooks[0].on[0]: warning: "backup.Pre" matches no event hookpoint run sends (event types are case-sensitive); did you mean "backup.pre"?`,
			},
		},
		{
			name: "nothing to say",
			src: `hooks:
  - id: a
    on: ["*", "*.end", "*.pre", backup.*, vzdump.*, jetbackup.backup.post, autosnap.snap-create-post]
    status: [fail]
    exec: {command: /bin/true}
  - id: b
    on: [xo.vm.snapshot.pre, virtfusion.server.create, zerobyte.backup.pre, hookpoint.hook.failing, server.create, app.deploy, backup]
    status: fail
    exec: {command: /bin/true}
  - id: c
    on: [backup.end, backup.abort, db.dump.end, vzdump.backup-abort]
    status: [fail, cancelled]
    exec: {command: /bin/true}
  - id: d
    on: [backup.pre, vzdump.job-end, autosnap.snap-create-pre]
    status: any
    exec: {command: /bin/true}
`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse("c.yaml", []byte(tc.src))
			if err != nil {
				t.Fatalf("warnings failed the config: %v", err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				if !w.Warning {
					t.Errorf("%s is not marked as a warning", w)
				}
				got = append(got, w.String())
			}
			wantLines(t, got, tc.want...)
		})
	}
}

// TestWarningsBesideErrors: Inspect returns the warnings of a config that has errors too,
// all in file order.
func TestWarningsBesideErrors(t *testing.T) {
	t.Parallel()
	src := "hooks:\n  - id: a\n    on: [vzdump.backup-strat]\n    mode: asink\n    exec: {command: /bin/true}\n"
	cfg, issues := config.InspectData("c.yaml", []byte(src))
	if cfg == nil {
		t.Fatal("no config")
	}
	var got []string
	for _, is := range issues {
		got = append(got, is.String())
	}
	wantLines(t, got,
		`c.yaml:3:10: hooks[0].on[0]: warning: "vzdump.backup-strat" matches no event vzdump sends; did you mean "vzdump.backup-start"?`,
		`c.yaml:4:5: hooks[0].mode: "asink" is not a mode: use sync or async; did you mean "async"?`)
	_, err := config.Parse("c.yaml", []byte(src))
	wantLines(t, issueLines(t, err), `c.yaml:4:5: hooks[0].mode: "asink" is not a mode: use sync or async; did you mean "async"?`)
}
