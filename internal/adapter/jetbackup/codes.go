package jetbackup

import "sort"

// Job types (also the backup type of restore hooks).
var jobTypes = map[int64]string{1: "accounts", 2: "directories", 3: "jb_config"}

// Bits of "contains".
var containsBits = []struct {
	bit  int64
	name string
}{
	{1, "panel_config"}, {2, "home_directory"}, {4, "databases"}, {8, "email"}, {16, "cron_jobs"},
	{32, "domains"}, {64, "certificates"}, {128, "database_users"}, {256, "ftp_accounts"},
}

// FullAccount is the contains value with every bit set.
const FullAccount = 511

// Bits of "structure".
var structureBits = []struct {
	bit  int64
	name string
}{
	{1, "incremental"}, {2, "archived"}, {4, "compressed"},
}

// Queue object statuses.
var queueStatuses = map[int64]string{
	1: "pending", 2: "processing", 100: "completed", 101: "partially_completed",
	102: "failed", 103: "aborted", 104: "never_finished",
}

// JobTypeName names a job type code; codes the documentation does not list (it lists none
// for clone jobs) are "unknown", as queue statuses are, so that a new code never stops a job.
func JobTypeName(code int64) string {
	if n, ok := jobTypes[code]; ok {
		return n
	}
	return "unknown"
}

// ContainsNames lists the names of the bits set in a contains value, in bit order;
// unknown bits are ignored.
func ContainsNames(v int64) []string {
	out := []string{}
	for _, b := range containsBits {
		if v&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

// StructureNames lists the names of the bits set in a structure value.
func StructureNames(v int64) []string {
	out := []string{}
	for _, b := range structureBits {
		if v&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

// QueueStatusName names a queue status code; unknown codes are "unknown".
func QueueStatusName(code int64) string {
	if n, ok := queueStatuses[code]; ok {
		return n
	}
	return "unknown"
}

// QueueStatusCodes lists the known codes in order, for documentation and tests.
func QueueStatusCodes() []int64 {
	codes := make([]int64, 0, len(queueStatuses))
	for c := range queueStatuses {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	return codes
}
