package jetbackup

import (
	"reflect"
	"strconv"
	"testing"
)

// Every code JetBackup's hook documentation lists, decoded.

func TestJobTypeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code int64
		want string
	}{
		{1, "accounts"},
		{2, "directories"},
		{3, "jb_config"},
		{0, "unknown"},
		{4, "unknown"},
		{100, "unknown"},
	} {
		t.Run(strconv.FormatInt(tc.code, 10), func(t *testing.T) {
			t.Parallel()
			if got := JobTypeName(tc.code); got != tc.want {
				t.Errorf("JobTypeName(%d) = %q, want %q", tc.code, got, tc.want)
			}
		})
	}
}

func TestContainsNames(t *testing.T) {
	t.Parallel()
	all := []string{"panel_config", "home_directory", "databases", "email", "cron_jobs", "domains", "certificates", "database_users", "ftp_accounts"}
	for _, tc := range []struct {
		v    int64
		want []string
	}{
		{1, []string{"panel_config"}},
		{2, []string{"home_directory"}},
		{4, []string{"databases"}},
		{8, []string{"email"}},
		{16, []string{"cron_jobs"}},
		{32, []string{"domains"}},
		{64, []string{"certificates"}},
		{128, []string{"database_users"}},
		{256, []string{"ftp_accounts"}},
		{FullAccount, all},
		{0, []string{}},
		{2 + 4 + 8, []string{"home_directory", "databases", "email"}},
		{512 + 1, []string{"panel_config"}}, // bits the documentation does not list are left out
		{1023, all},
	} {
		t.Run(strconv.FormatInt(tc.v, 10), func(t *testing.T) {
			t.Parallel()
			if got := ContainsNames(tc.v); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ContainsNames(%d) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
	if FullAccount != 1+2+4+8+16+32+64+128+256 {
		t.Errorf("FullAccount = %d, want 511", FullAccount)
	}
}

func TestStructureNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    int64
		want []string
	}{
		{1, []string{"incremental"}},
		{2, []string{"archived"}},
		{4, []string{"compressed"}},
		{1 + 4, []string{"incremental", "compressed"}},
		{7, []string{"incremental", "archived", "compressed"}},
		{0, []string{}},
		{8, []string{}},
	} {
		t.Run(strconv.FormatInt(tc.v, 10), func(t *testing.T) {
			t.Parallel()
			if got := StructureNames(tc.v); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("StructureNames(%d) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

func TestQueueStatusName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code int64
		want string
	}{
		{1, "pending"},
		{2, "processing"},
		{100, "completed"},
		{101, "partially_completed"},
		{102, "failed"},
		{103, "aborted"},
		{104, "never_finished"},
		{0, "unknown"},
		{3, "unknown"},
		{99, "unknown"},
		{105, "unknown"},
	} {
		t.Run(strconv.FormatInt(tc.code, 10), func(t *testing.T) {
			t.Parallel()
			if got := QueueStatusName(tc.code); got != tc.want {
				t.Errorf("QueueStatusName(%d) = %q, want %q", tc.code, got, tc.want)
			}
		})
	}
	if got, want := QueueStatusCodes(), []int64{1, 2, 100, 101, 102, 103, 104}; !reflect.DeepEqual(got, want) {
		t.Errorf("QueueStatusCodes() = %v, want %v", got, want)
	}
}
