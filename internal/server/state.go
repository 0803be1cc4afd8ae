package server

import (
	"context"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/store"
)

// Events the server emits about its hooks, so that other hooks can alert on them.
const (
	EventHookFailing   = "hookpoint.hook.failing"
	EventHookRecovered = "hookpoint.hook.recovered"
	EventHookDisabled  = "hookpoint.hook.disabled"
)

func (s *Server) autoDisableAfter() time.Duration {
	if d := s.serverConfig().AutoDisableAfter.D(); d > 0 {
		return d
	}
	return config.DefaultAutoDisableAfter
}

// hookStateChanged updates the hook in the snapshot and emits the events of the change:
// failing when it starts failing, recovered when it succeeds again, disabled when it is
// disabled (by 410 Gone or the auto-disable span).
func (s *Server) hookStateChanged(ctx context.Context, hookID string, before, after store.HookState) {
	s.hooks.updateState(hookID, after)
	var types []string
	switch {
	case before.FailingSince == nil && after.FailingSince != nil:
		types = append(types, EventHookFailing)
	case before.FailingSince != nil && after.FailingSince == nil:
		types = append(types, EventHookRecovered)
	}
	if before.Enabled && !after.Enabled {
		types = append(types, EventHookDisabled)
	}
	for _, typ := range types {
		ev := event.New(typ)
		ev.Source, ev.Subject = "hookpoint", hookID
		ev.Status = event.StatusFail
		if typ == EventHookRecovered {
			ev.Status = event.StatusSuccess
		}
		ev.Data = map[string]any{"hook_id": hookID, "reason": after.DisabledReason, "last_outcome": after.LastOutcome}
		if after.FailingSince != nil {
			ev.Data["failing_since"] = after.FailingSince.UTC().Format(time.RFC3339)
		}
		if after.LastSuccessAt != nil {
			ev.Data["last_success_at"] = after.LastSuccessAt.UTC().Format(time.RFC3339)
		}
		s.log.Warn("hook state", "event_type", typ, "hook_id", hookID, "reason", after.DisabledReason)
		// Its own event, with its own hooks: not on the caller's (a worker's) time.
		s.background(func(ctx context.Context) {
			if _, err := s.process(ctx, ev, "server", ""); err != nil {
				s.log.Error("hook state event not stored", "event_type", typ, "hook_id", hookID, "err", err)
			}
		})
	}
}

// background runs f on the server's own context, waited for by Stop.
func (s *Server) background(f func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		f(ctx)
	}()
}
