package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/store"
)

// target is a hook's action as one line: the method and URL (secrets masked or as
// references), or the command.
func target(h *config.Hook) string {
	switch {
	case h == nil:
		return ""
	case h.HTTP != nil:
		m := h.HTTP.Method
		if m == "" {
			m = "POST"
		}
		return strings.ToUpper(m) + " " + h.HTTP.URL
	case h.Exec != nil:
		return strings.Join(append([]string{h.Exec.Command}, h.Exec.Args...), " ")
	}
	return ""
}

type hookRow struct {
	*Hook
	Target string
}

type hooksData struct {
	Q, State, Managed string
	Rows              []hookRow
	Total             int
	Now               time.Time
}

func (u *UI) hooksPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := hooksData{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Managed: q.Get("managed"), Now: u.now()}
	hooks, err := u.svc.Hooks(r.Context())
	if err != nil {
		return err
	}
	d.Total = len(hooks)
	needle := strings.ToLower(d.Q)
	for _, h := range hooks {
		row := hookRow{Hook: h, Target: target(h.Def)}
		switch d.State {
		case "enabled":
			if !h.Enabled {
				continue
			}
		case "disabled":
			if h.Enabled {
				continue
			}
		case "failing":
			if h.FailingSince == nil {
				continue
			}
		}
		if d.Managed != "" && h.ManagedBy != d.Managed {
			continue
		}
		if needle != "" {
			hay := strings.ToLower(strings.Join([]string{h.ID, h.Def.Description, strings.Join(h.Def.On, " "), row.Target}, " "))
			if !strings.Contains(hay, needle) {
				continue
			}
		}
		d.Rows = append(d.Rows, row)
	}
	u.render(w, r, http.StatusOK, "hooks", "Hooks", "hooks", d)
	return nil
}

type hookData struct {
	Hook       *Hook
	Target     string
	Now        time.Time
	Sample     SampleEvent
	SampleData string
	Preview    *render.Preview
	PreviewErr string
	Groups     []eventGroup
	Statuses   []string
	Recent     []*store.Delivery
	// RecoverSince is the default of the recover form: a day ago.
	RecoverSince time.Time
}

func (u *UI) hookPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	h, err := u.svc.Hook(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := hookData{Hook: h, Target: target(h.Def), Now: u.now(), Groups: eventGroups, Statuses: allStatuses,
		RecoverSince: u.now().Add(-24 * time.Hour)}
	sample, ferrs := sampleOf(r.URL.Query(), h.Def)
	d.Sample = sample
	d.SampleData = formatData(sample.Data)
	if len(ferrs) > 0 {
		d.PreviewErr = ferrs[0].Message
	} else {
		d.Preview, err = u.svc.PreviewHook(ctx, h.ID, nil, sample)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				return err
			}
			d.PreviewErr = e.Error()
		}
	}
	if d.Recent, err = u.svc.Deliveries(ctx, store.DeliveryFilter{HookID: h.ID, Limit: 10}); err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "hook", "Hook "+h.ID, "hooks", d)
	return nil
}

var allStatuses = []string{"success", "warning", "fail", "cancelled"}

// redirect answers a POST with a message for the next page (post/redirect/get).
func (u *UI) redirect(w http.ResponseWriter, r *http.Request, to, kind, msg string) {
	if s := sessionOf(r); s != nil && msg != "" {
		s.addFlash(kind, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// back is where a form asked to return to, on this site, or def.
func back(r *http.Request, def string) string {
	if b := r.PostFormValue("back"); b != "" {
		return safeNext(b)
	}
	return def
}

func (u *UI) setEnabled(w http.ResponseWriter, r *http.Request, on bool) error {
	id := r.PathValue("id")
	if _, err := u.svc.SetHookEnabled(r.Context(), id, on); err != nil {
		return err
	}
	msg := "Hook " + id + " is disabled: it runs for no event until it is enabled again."
	if on {
		msg = "Hook " + id + " is enabled."
	}
	u.redirect(w, r, back(r, "/ui/hooks/"+url.PathEscape(id)), "ok", msg)
	return nil
}

func (u *UI) enableHook(w http.ResponseWriter, r *http.Request) error {
	return u.setEnabled(w, r, true)
}
func (u *UI) disableHook(w http.ResponseWriter, r *http.Request) error {
	return u.setEnabled(w, r, false)
}

func (u *UI) deleteHookPage(w http.ResponseWriter, r *http.Request) error {
	h, err := u.svc.Hook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "delete", "Delete hook "+h.ID, "hooks", map[string]any{"Hook": h, "Target": target(h.Def)})
	return nil
}

func (u *UI) deleteHook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != id {
		return Errorf(http.StatusBadRequest, "the deletion was not confirmed")
	}
	if err := u.svc.DeleteHook(r.Context(), id); err != nil {
		return err
	}
	u.redirect(w, r, "/ui/hooks", "ok", "Hook "+id+" was deleted with its secrets; its pending deliveries are cancelled.")
	return nil
}

// recoverHook is in two steps: the first says how many failed deliveries would be sent
// again and asks for confirmation, the second (confirm=yes) sends them.
func (u *UI) recoverHook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	h, err := u.svc.Hook(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	since, err := parseLocalTime(r.PostFormValue("since"), r.PostFormValue("tz"), u.now())
	if err != nil || since.IsZero() {
		u.redirect(w, r, "/ui/hooks/"+url.PathEscape(h.ID), "error", "Recover: write the time from which failed deliveries are sent again.")
		return nil
	}
	if r.PostFormValue("confirm") == "yes" {
		n, err := u.svc.RecoverHook(ctx, h.ID, since)
		if err != nil {
			return err
		}
		u.redirect(w, r, "/ui/deliveries?hook_id="+url.QueryEscape(h.ID), "ok",
			pluralize(n, "failed delivery", "failed deliveries")+" of hook "+h.ID+" queued again.")
		return nil
	}
	n, err := u.svc.CountFailed(ctx, h.ID, since)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "recover", "Recover hook "+h.ID, "hooks", map[string]any{
		"Hook": h, "Since": since, "SinceValue": since.UTC().Format(time.RFC3339), "Count": n,
		"Label": pluralize(n, "failed delivery", "failed deliveries"),
	})
	return nil
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// parseLocalTime reads a time from a form: RFC 3339, a duration before now (2h), or
// the browser's datetime-local (2026-11-30T02:00) in the zone whose offset the page's
// script put in tz (minutes west of UTC, as JavaScript's getTimezoneOffset); UTC when
// there is no script.
func parseLocalTime(v, tz string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			if off, err := atoi(tz); err == nil && off > -24*60 && off < 24*60 {
				t = t.Add(time.Duration(off) * time.Minute)
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("write a time as 2026-11-30T02:00 or a duration before now (2h)")
}
