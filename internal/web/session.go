package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Sessions are held in memory: one server, one set of sessions, lost on restart (people
// sign in again). The cookie holds only a random id; the map is keyed by its SHA-256,
// so that neither a lookup's timing nor a dump of memory gives a usable id.

const (
	sessionCookie = "hookpoint_session"
	// signinCookie carries the sign-in form's CSRF token (double submit): there is no
	// session yet to hold it.
	signinCookie = "hookpoint_signin"
	// tokenCheckEvery is how often a session's token is checked for revocation.
	tokenCheckEvery = 30 * time.Second
	// maxSessions bounds memory; the least recently used session goes first.
	maxSessions = 10000
)

type session struct {
	id        string // the map key: hex SHA-256 of the cookie's value
	principal Principal
	csrf      string
	created   time.Time

	mu       sync.Mutex
	lastSeen time.Time
	checkAt  time.Time
	flash    []flash
}

// flash is a message shown once, on the next page (after a redirect).
type flash struct {
	Kind    string // "ok" or "error"
	Message string
}

type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	now  func() time.Time
	idle time.Duration
	max  time.Duration
}

func newSessions(now func() time.Time, idle, max time.Duration) *sessions {
	return &sessions{byID: map[string]*session{}, now: now, idle: idle, max: max}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

func keyOf(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// start makes a session and returns the cookie's value.
func (ss *sessions) start(p Principal) (string, *session) {
	now := ss.now()
	value := randomToken()
	s := &session{id: keyOf(value), principal: p, csrf: randomToken(), created: now, lastSeen: now, checkAt: now.Add(tokenCheckEvery)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweep(now)
	if len(ss.byID) >= maxSessions {
		var oldest *session
		for _, o := range ss.byID {
			if oldest == nil || o.seen().Before(oldest.seen()) {
				oldest = o
			}
		}
		delete(ss.byID, oldest.id)
	}
	ss.byID[s.id] = s
	return value, s
}

// sweep drops expired sessions (under ss.mu).
func (ss *sessions) sweep(now time.Time) {
	for id, s := range ss.byID {
		if ss.expired(s, now) {
			delete(ss.byID, id)
		}
	}
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen()) > ss.idle || now.Sub(s.created) > ss.max
}

// fromRequest returns the live session the request's cookie names, or nil.
func (ss *sessions) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	id := keyOf(c.Value)
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil
	}
	if ss.expired(s, now) {
		delete(ss.byID, id)
		return nil
	}
	// Polling fragments keep a page current; they do not keep a session alive.
	if r.Header.Get("X-Hookpoint-Fragment") == "" {
		s.mu.Lock()
		s.lastSeen = now
		s.mu.Unlock()
	}
	return s
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	delete(ss.byID, id)
	ss.mu.Unlock()
}

func (s *session) seen() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeen
}

func (s *session) needsCheck(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.checkAt)
}

func (s *session) checked(now time.Time) {
	s.mu.Lock()
	s.checkAt = now.Add(tokenCheckEvery)
	s.mu.Unlock()
}

func (s *session) validCSRF(got string) bool {
	return s != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

func (s *session) addFlash(kind, msg string) {
	s.mu.Lock()
	s.flash = append(s.flash, flash{kind, msg})
	s.mu.Unlock()
}

func (s *session) takeFlash() []flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}

// csrfOf reads the CSRF token of a POST: the form's csrf field, or the X-CSRF-Token
// header of the UI's own fetches.
func csrfOf(r *http.Request) string {
	if v := r.Header.Get("X-CSRF-Token"); v != "" {
		return v
	}
	return r.PostFormValue("csrf")
}

// secure reports whether the browser reached the server over TLS: directly, or
// through a proxy that says so (trusting that header can only add Secure).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a sign-in's return address on this site: a path, never another host.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
