// Package web is the web UI of `hookpoint serve`: server-rendered pages (html/template,
// one template per page plus a layout, embedded with go:embed), a little hand-written
// JavaScript that enhances them (local times, live lists, the live preview), and no
// front-end build step.
//
// Pages read and change everything through a Service, which the server implements with
// the code of its API handlers: the same validation, the same store. Sign-in takes an
// API token; the session is a random id in an HttpOnly, SameSite=Strict cookie (Secure
// over TLS) that names a server-side session held in memory, with a CSRF token checked
// on every POST. A read token sees everything and can change nothing: every change is
// refused server-side for it, whatever the page shows. docs/ui.md describes the pages.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookpoint/hookpoint/internal/token"
)

// Options configure the UI.
type Options struct {
	Service Service
	Logger  *slog.Logger
	Now     func() time.Time
	// SessionIdle ends a session not used for this long (default 12h); SessionMax ends
	// any session this long after sign-in (default 7 days).
	SessionIdle time.Duration
	SessionMax  time.Duration
	// PollInterval is how often live lists ask for news (default 2s).
	PollInterval time.Duration
}

// UI serves the pages.
type UI struct {
	svc      Service
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	pages    *pages
	poll     time.Duration
	mux      *http.ServeMux
}

// New builds the UI.
func New(o Options) *UI {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 12 * time.Hour
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 7 * 24 * time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	u := &UI{svc: o.Service, log: o.Logger, now: o.Now, poll: o.PollInterval,
		sessions: newSessions(o.Now, o.SessionIdle, o.SessionMax), pages: loadPages()}
	u.mux = u.routes()
	return u
}

// access is what a route needs: nothing (sign-in, assets), a session of any scope
// that may use the UI, or an admin session.
type access int

const (
	public access = iota
	reader
	admin
)

// routes is the UI's table. Every POST checks the CSRF token; admin routes refuse read
// sessions.
func (u *UI) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		access  access
		h       handler
	}{
		{"GET /{$}", reader, u.overview},
		{"GET /ui/overview/live", reader, u.overviewLive},
		{"GET /ui/static/{file}", public, u.static},
		{"GET /ui/signin", public, u.signinPage},
		{"POST /ui/signin", public, u.signin},
		{"POST /ui/signout", reader, u.signout},

		{"GET /ui/hooks", reader, u.hooksPage},
		{"GET /ui/hooks/_new", admin, u.newHookPage},
		{"POST /ui/hooks", admin, u.createHook},
		{"POST /ui/hooks/_preview", admin, u.previewDraft},
		{"GET /ui/hooks/{id}", reader, u.hookPage},
		{"GET /ui/hooks/{id}/edit", admin, u.editHookPage},
		{"POST /ui/hooks/{id}", admin, u.updateHook},
		{"POST /ui/hooks/{id}/enable", admin, u.enableHook},
		{"POST /ui/hooks/{id}/disable", admin, u.disableHook},
		{"GET /ui/hooks/{id}/delete", admin, u.deleteHookPage},
		{"POST /ui/hooks/{id}/delete", admin, u.deleteHook},
		{"GET /ui/hooks/{id}/test", reader, u.testPage},
		{"POST /ui/hooks/{id}/test", admin, u.sendTest},
		{"POST /ui/hooks/{id}/recover", admin, u.recoverHook},

		{"GET /ui/deliveries", reader, u.deliveriesPage},
		{"GET /ui/deliveries/rows", reader, u.deliveryRows},
		{"GET /ui/deliveries/{id}", reader, u.deliveryPage},
		{"GET /ui/deliveries/{id}/live", reader, u.deliveryLive},
		{"POST /ui/deliveries/{id}/retry", admin, u.retryDelivery},
	} {
		mux.Handle(rt.pattern, u.wrap(rt.access, rt.h))
	}
	mux.Handle("/ui/", u.wrap(public, func(w http.ResponseWriter, r *http.Request) error {
		return errNotFoundPage
	}))
	return mux
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No inline script or style anywhere: the policy allows only the UI's own files.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

// handler is a page: it writes its answer, or returns the error to show.
type handler func(w http.ResponseWriter, r *http.Request) error

type ctxKey struct{}

// sessionOf returns the request's session (nil on public routes without one).
func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

// wrap checks the session, the scope and, on POST, the CSRF token, then runs h and
// shows its error.
func (u *UI) wrap(a access, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Browsers say where a request comes from; a form posted from another site
			// is refused before anything else (the CSRF token would refuse it too).
			if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
				u.fail(w, r, Errorf(http.StatusForbidden, "a form of another site cannot post here"))
				return
			}
		}
		s := u.sessions.fromRequest(r)
		if s != nil && s.principal.TokenID != "" && s.needsCheck(u.now()) {
			ok, err := u.svc.TokenActive(r.Context(), s.principal.TokenID)
			switch {
			case err != nil:
				u.log.Warn("web: the session's token could not be checked", "err", err)
			case !ok:
				u.sessions.end(s.id)
				s = nil
			default:
				s.checked(u.now())
			}
		}
		if a != public && s == nil {
			if r.Method == http.MethodGet && r.Header.Get("X-Hookpoint-Fragment") == "" {
				http.Redirect(w, r, "/ui/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, Errorf(http.StatusUnauthorized, "your session has ended; sign in again"))
			return
		}
		if s != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
		}
		if r.Method == http.MethodPost && a != public {
			if err := r.ParseForm(); err != nil {
				u.fail(w, r, Errorf(http.StatusBadRequest, "the form could not be read"))
				return
			}
			if !s.validCSRF(csrfOf(r)) {
				u.fail(w, r, Errorf(http.StatusForbidden, "the form has expired or did not come from this page (its CSRF token is missing or wrong); reload the page and try again"))
				return
			}
		}
		if a == admin && s.principal.Scope != token.Admin {
			u.fail(w, r, Errorf(http.StatusForbidden, "your token has the %s scope: it can look at everything but change nothing; sign in with an admin token to make changes", s.principal.Scope))
			return
		}
		if err := h(w, r); err != nil {
			u.fail(w, r, err)
		}
	})
}

var errNotFoundPage = &Error{Status: http.StatusNotFound, Message: "there is no such page"}

// fail shows an error page (or, for fragments, a short text).
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, ErrNotFound):
		e = &Error{Status: http.StatusNotFound, Message: "not found: it may have been deleted"}
	default:
		if r.Context().Err() != nil {
			return
		}
		u.log.Error("web: page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Message: "the server could not answer; its log says why"}
	}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	msg := e.Error()
	if r.Header.Get("X-Hookpoint-Fragment") != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(e.Status)
		_, _ = w.Write([]byte(msg))
		return
	}
	u.render(w, r, e.Status, "error", "Error", "", map[string]any{"Status": e.Status, "StatusText": http.StatusText(e.Status), "Message": msg})
}
