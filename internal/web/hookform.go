package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookpoint/hookpoint/internal/config"
)

func itoa(n int) string          { return strconv.Itoa(n) }
func atoi(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

func (u *UI) newForm(cur *Hook, values url.Values) *hookForm {
	f := &hookForm{New: cur == nil, Hook: cur, Values: values, Groups: eventGroups, Statuses: allStatuses}
	if cur != nil {
		f.ID = cur.ID
		for _, n := range cur.SecretsSet {
			if !strings.HasPrefix(n, "auth.") && !strings.HasPrefix(n, "sign.secret.") {
				f.Named = append(f.Named, n)
			}
		}
	}
	return f
}

func (u *UI) newHookPage(w http.ResponseWriter, r *http.Request) error {
	v := url.Values{"enabled": {"on"}, "action": {"http"}, "http.method": {"POST"}}
	setSample(v, sampleFor(nil))
	f := u.newForm(nil, v)
	u.render(w, r, http.StatusOK, "hookform", "New hook", "hooks", f)
	return nil
}

// editable returns the hook of the path, refusing hooks of the config file.
func (u *UI) editable(r *http.Request) (*Hook, error) {
	h, err := u.svc.Hook(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if h.ReadOnly() {
		return nil, Errorf(http.StatusConflict, "hook %s is managed by the config file %s: change it there (it can still be disabled and enabled here)", h.ID, h.File)
	}
	return h, nil
}

func (u *UI) editHookPage(w http.ResponseWriter, r *http.Request) error {
	h, err := u.editable(r)
	if err != nil {
		return err
	}
	v := valuesOf(h)
	setSample(v, sampleFor(h.Def))
	f := u.newForm(h, v)
	u.render(w, r, http.StatusOK, "hookform", "Edit hook "+h.ID, "hooks", f)
	return nil
}

func (u *UI) createHook(w http.ResponseWriter, r *http.Request) error { return u.saveHook(w, r, nil) }

func (u *UI) updateHook(w http.ResponseWriter, r *http.Request) error {
	h, err := u.editable(r)
	if err != nil {
		return err
	}
	return u.saveHook(w, r, h)
}

// saveHook validates and saves the form, or shows it again with each error beside
// its field. A press of "Preview" shows the preview instead of saving.
func (u *UI) saveHook(w http.ResponseWriter, r *http.Request, cur *Hook) error {
	ctx := r.Context()
	f := u.newForm(cur, r.PostForm)
	in, ferrs := hookInput(r.PostForm, cur)
	id := ""
	if cur != nil {
		id = cur.ID
	}
	title := "New hook"
	if cur != nil {
		title = "Edit hook " + cur.ID
	}
	if r.PostFormValue("do") == "preview" {
		u.preview(r, f, id, in, ferrs)
		u.render(w, r, http.StatusOK, "hookform", title, "hooks", f)
		return nil
	}
	if len(ferrs) > 0 {
		f.addErrors(ferrs)
		u.render(w, r, http.StatusBadRequest, "hookform", title, "hooks", f)
		return nil
	}
	h, err := u.svc.SaveHook(ctx, id, in)
	var e *Error
	if errors.As(err, &e) {
		if len(e.Fields) > 0 {
			f.addErrors(e.Fields)
		} else {
			f.addErrors([]FieldError{{Message: e.Message}})
		}
		u.render(w, r, e.Status, "hookform", title, "hooks", f)
		return nil
	}
	if err != nil {
		return err
	}
	msg := "Hook " + h.ID + " was created."
	if cur != nil {
		msg = "Hook " + h.ID + " was saved (version " + itoa(h.Version) + ")."
	}
	u.redirect(w, r, "/ui/hooks/"+url.PathEscape(h.ID), "ok", msg)
	return nil
}

// preview renders the form's hook for its sample event into f.
func (u *UI) preview(r *http.Request, f *hookForm, id string, in HookInput, ferrs []FieldError) {
	var def *config.Hook
	if f.Hook != nil {
		def = f.Hook.Def
	}
	sample, serrs := sampleOf(r.PostForm, def)
	ferrs = append(ferrs, serrs...)
	if len(ferrs) > 0 {
		f.addErrors(ferrs)
		f.PreviewError = "Correct the fields marked above to see the preview."
		return
	}
	p, err := u.svc.PreviewHook(r.Context(), id, &in, sample)
	var e *Error
	switch {
	case errors.As(err, &e):
		f.addErrors(e.Fields)
		f.PreviewError = e.Message
		if f.PreviewError == "" {
			f.PreviewError = "The hook is not valid yet: see the fields marked."
		}
	case err != nil:
		u.log.Error("web: preview failed", "err", err)
		f.PreviewError = "The preview could not be made; the server's log says why."
	default:
		f.Preview = p
	}
}

// previewDraft is the live preview of the form: the form's fields posted by the page's
// script as it changes, answered with the preview's HTML.
func (u *UI) previewDraft(w http.ResponseWriter, r *http.Request) error {
	var cur *Hook
	if id := r.PostFormValue("editing"); id != "" {
		h, err := u.svc.Hook(r.Context(), id)
		if err != nil {
			return err
		}
		if !h.ReadOnly() {
			cur = h
		}
	}
	f := u.newForm(cur, r.PostForm)
	in, ferrs := hookInput(r.PostForm, cur)
	id := ""
	if cur != nil {
		id = cur.ID
	}
	u.preview(r, f, id, in, ferrs)
	u.fragment(w, r, "hookform", "preview", f)
	return nil
}
