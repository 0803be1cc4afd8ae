package queue

import (
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
)

type hookMap map[string]*config.Hook

func (m hookMap) Hook(id string) (*config.Hook, int, bool) {
	h, ok := m[id]
	return h, 1, ok
}

func TestJobTimeout(t *testing.T) {
	hooks := hookMap{
		"http":          {ID: "http", HTTP: &config.HTTP{URL: "https://example.com/"}},
		"http-10s":      {ID: "http-10s", HTTP: &config.HTTP{URL: "https://example.com/", Timeout: config.Duration(10 * time.Second)}},
		"exec":          {ID: "exec", Exec: &config.Exec{Command: "/bin/true"}},
		"exec-1h":       {ID: "exec-1h", Exec: &config.Exec{Command: "/bin/true", Timeout: config.Duration(time.Hour)}},
		"":              {ID: "", HTTP: &config.HTTP{URL: "https://example.com/"}}, // never looked up
		"no-action-yet": {ID: "no-action-yet"},
	}
	pg := &Queue{opts: Options{Hooks: hooks}, timeouts: true}
	for id, want := range map[string]time.Duration{
		"http":          config.DefaultHTTPTimeout + AttemptGrace,
		"http-10s":      10*time.Second + AttemptGrace,
		"exec":          config.DefaultExecTimeout + AttemptGrace,
		"exec-1h":       time.Hour + AttemptGrace,
		"unknown":       config.DefaultExecTimeout + AttemptGrace, // a hook this node does not know
		"":              config.DefaultExecTimeout + AttemptGrace, // a job made before Args.HookID
		"no-action-yet": config.DefaultExecTimeout + AttemptGrace,
	} {
		if got := pg.jobTimeout(id); got != want {
			t.Errorf("PostgreSQL: job timeout of hook %q: %s, want %s", id, got, want)
		}
	}
	sqlite := &Queue{opts: Options{Hooks: hooks}}
	if got := sqlite.jobTimeout("http"); got != -1 {
		t.Errorf("SQLite: job timeout %s, want none (-1)", got)
	}
}
