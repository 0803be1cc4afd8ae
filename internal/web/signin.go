package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/hookpoint/hookpoint/internal/token"
)

type signinData struct {
	Next      string
	Error     string
	Signin    string // the sign-in form's CSRF token
	SignedOut bool
}

func (u *UI) signinPage(w http.ResponseWriter, r *http.Request) error {
	if sessionOf(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	u.showSignin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
	return nil
}

func (u *UI) showSignin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	csrf := randomToken()
	setCookie(w, r, signinCookie, csrf, 0)
	u.render(w, r, status, "signin", "Sign in", "", signinData{Next: safeNext(next), Error: msg, Signin: csrf,
		SignedOut: r.URL.Query().Get("signed_out") != ""})
}

// signin checks the form's CSRF token against its cookie (double submit: a page of
// another site can neither read the cookie nor, with SameSite=Strict, send it), then the
// token, and starts a session. Emit tokens cannot sign in: they send events, nothing
// more.
func (u *UI) signin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return Errorf(http.StatusBadRequest, "the form could not be read")
	}
	next := r.PostFormValue("next")
	c, err := r.Cookie(signinCookie)
	got := r.PostFormValue("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) != 1 {
		u.showSignin(w, r, http.StatusForbidden, next, "The sign-in form expired or did not come from this page. Try again.")
		return nil
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" {
		u.showSignin(w, r, http.StatusBadRequest, next, "Paste a token: the admin token the server printed on first start (hookpoint.token), or one made with hookpoint token create.")
		return nil
	}
	p, err := u.svc.Authenticate(r.Context(), tok)
	switch {
	case errors.Is(err, ErrBadToken):
		u.log.Warn("web: sign-in refused", "remote", r.RemoteAddr)
		u.showSignin(w, r, http.StatusUnauthorized, next, "This token is not valid (or was revoked).")
		return nil
	case err != nil:
		return err
	case p.Scope == token.Emit:
		u.showSignin(w, r, http.StatusForbidden, next, "This is an emit token: it can send events, not use the UI. Sign in with an admin token, or a read token to look without changing anything.")
		return nil
	}
	if old := u.sessions.fromRequest(r); old != nil {
		u.sessions.end(old.id)
	}
	value, _ := u.sessions.start(p)
	setCookie(w, r, sessionCookie, value, u.sessions.max)
	setCookie(w, r, signinCookie, "", -1)
	u.log.Info("web: signed in", "scope", string(p.Scope), "token", p.TokenID, "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request) error {
	if s := sessionOf(r); s != nil {
		u.sessions.end(s.id)
	}
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/ui/signin?signed_out=1", http.StatusSeeOther)
	return nil
}
