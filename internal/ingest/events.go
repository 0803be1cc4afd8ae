package ingest

// KnownEvent is an event type a source makes, with the statuses it can carry ("" for
// none), for pickers such as the web UI's "send test event". XO and VirtFusion name
// their events after their own methods and events, so theirs are common examples, not a
// complete list.
type KnownEvent struct {
	Source   string
	Type     string
	Statuses []string
}

// KnownEvents lists examples of the events each source makes, by source name.
func KnownEvents() []KnownEvent {
	return []KnownEvent{
		{"xo", "xo.vm.snapshot.pre", []string{""}},
		{"xo", "xo.vm.snapshot.post", []string{"success", "fail"}},
		{"xo", "xo.backupNg.runJob.pre", []string{""}},
		{"xo", "xo.backupNg.runJob.post", []string{"success", "fail"}},
		{"xo", "xo.vm.start.post", []string{"success", "fail"}},
		{"virtfusion", "virtfusion.server.create", []string{"success", "fail", ""}},
		{"virtfusion", "virtfusion.server.boot", []string{"success", "fail", ""}},
		{"virtfusion", "virtfusion.server.delete", []string{"success", "fail", ""}},
		{"virtfusion", "virtfusion.system.backup.local", []string{"success", "fail", ""}},
		{"virtfusion", "virtfusion.user.modify", []string{"success", "fail", ""}},
		{"zerobyte", "zerobyte.backup.pre", []string{""}},
		{"zerobyte", "zerobyte.backup.post", []string{"success", "warning", "fail", "cancelled"}},
		{"generic", "backup.pre", []string{""}},
		{"generic", "backup.end", []string{"success", "warning", "fail", "cancelled"}},
	}
}
