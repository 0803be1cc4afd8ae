package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

// fixture is a server with a hook made through the API (h, failing, with a failed
// delivery), a hook of the config file (f), and their receiver.
type fixture struct {
	e          *env
	rc         *receiver
	deliveryID string
}

func newFixture(t *testing.T, o envOptions) *fixture {
	t.Helper()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	o.config = fmt.Sprintf(`
hooks:
  - {id: f, on: ["file.*"], http: {url: "%s/f"}}
`, rc.URL)
	e := newEnv(t, o)
	if st, m := e.api("POST", "/v1/hooks", map[string]any{"id": "h", "on": []string{"x.*"}, "mode": "async",
		"retry": map[string]any{"max_attempts": 1}, "http": map[string]any{"url": rc.URL + "/h"}}); st != 201 {
		t.Fatalf("hook: %d %v", st, m)
	}
	if st, m := e.api("POST", "/v1/events", map[string]any{"type": "x.y"}); st != 200 {
		t.Fatalf("event: %d %v", st, m)
	}
	f := &fixture{e: e, rc: rc}
	waitFor(t, "the failed delivery", func() bool {
		ds, _ := e.store.ListDeliveries(context.Background(), store.DeliveryFilter{HookID: "h", Status: []string{store.DeliveryFailed}})
		if len(ds) == 1 {
			f.deliveryID = ds[0].ID
		}
		return len(ds) == 1
	})
	return f
}

// changes are every form post that changes something, with valid fields (and, for two
// steps, the confirmation).
func (f *fixture) changes() []struct {
	path string
	form url.Values
} {
	return []struct {
		path string
		form url.Values
	}{
		{"/ui/hooks", url.Values{"id": {"new"}, "on": {"a.b"}, "action": {"http"}, "http.url": {f.rc.URL}, "enabled": {"on"}}},
		{"/ui/hooks/h", url.Values{"on": {"changed.*"}, "action": {"http"}, "http.url": {f.rc.URL}, "enabled": {"on"}}},
		{"/ui/hooks/h/disable", nil},
		{"/ui/hooks/f/disable", nil},
		{"/ui/hooks/h/delete", url.Values{"confirm": {"h"}}},
		{"/ui/hooks/h/test", url.Values{"sample.type": {"x.test"}}},
		{"/ui/hooks/h/recover", url.Values{"since": {"24h"}, "confirm": {"yes"}}},
		{"/ui/deliveries/" + f.deliveryID + "/retry", nil},
		{"/ui/hooks/_preview", url.Values{"on": {"a.b"}, "action": {"http"}, "http.url": {f.rc.URL}}},
	}
}

// unchanged fails unless the fixture is as it was made.
func (f *fixture) unchanged(t *testing.T, after string) {
	t.Helper()
	ctx := context.Background()
	hooks, _ := f.e.store.ListHooks(ctx)
	if len(hooks) != 2 {
		t.Fatalf("after %s: %d hooks, want f and h", after, len(hooks))
	}
	for _, h := range hooks {
		if !h.Enabled || h.Version != 1 {
			t.Errorf("after %s: hook %s enabled %v version %d", after, h.ID, h.Enabled, h.Version)
		}
	}
	d, err := f.e.store.GetDelivery(ctx, f.deliveryID)
	if err != nil || d.Status != store.DeliveryFailed || d.Attempts != 1 {
		t.Errorf("after %s: delivery %+v %v", after, d, err)
	}
	if f.rc.count() != 1 {
		t.Errorf("after %s: the receiver got %d requests, want the first attempt's 1", after, f.rc.count())
	}
}

// A form post without the session's CSRF token, or with another session's, or from
// another site, is refused, and changes nothing.
func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, envOptions{})
	c := f.e.signIn(adminToken)
	other := f.e.signIn(adminToken)
	c.get("/")
	own := c.csrf
	for _, ch := range f.changes() {
		for _, bad := range []struct {
			name   string
			token  string
			header http.Header
		}{
			{"no token", "", nil},
			{"another session's token", other.csrf, nil},
			{"a cross-site post", own, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		} {
			form := url.Values{}
			for k, v := range ch.form {
				form[k] = v
			}
			if bad.token != "" {
				form.Set("csrf", bad.token)
			}
			p := c.postRaw(ch.path, form, bad.header)
			if p.status != http.StatusForbidden {
				t.Errorf("POST %s with %s: %d, want 403", ch.path, bad.name, p.status)
			}
			f.unchanged(t, "POST "+ch.path+" with "+bad.name)
		}
	}
	// Sign-out needs the token too.
	if p := c.postRaw("/ui/signout", url.Values{}, nil); p.status != http.StatusForbidden {
		t.Errorf("sign-out without the token: %d", p.status)
	}
	want(t, c.get("/ui/hooks"), 200)

	// The sign-in form carries its own token (double submit with a cookie).
	fresh := f.e.client()
	p := fresh.postRaw("/ui/signin", url.Values{"token": {adminToken}}, nil)
	if p.status != http.StatusForbidden || strings.Contains(p.body, "Sign out") {
		t.Errorf("sign-in without the form's token: %d", p.status)
	}
	fresh.get("/ui/signin")
	p = fresh.postRaw("/ui/signin", url.Values{"token": {adminToken}, "csrf": {"forged"}}, nil)
	if p.status != http.StatusForbidden {
		t.Errorf("sign-in with a forged token: %d", p.status)
	}
	if p := fresh.get("/ui/hooks"); !strings.Contains(p.url, "/ui/signin") {
		t.Errorf("a refused sign-in gave a session: %s", p.url)
	}

	// With the token in the form (or the header the page's script sends), it works.
	want(t, c.post("/ui/hooks/h/disable", nil), 200)
	req, _ := http.NewRequest("POST", f.e.url+"/ui/hooks/_preview", strings.NewReader(url.Values{"on": {"x.y"}, "action": {"http"}, "http.url": {f.rc.URL + "/p"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", own)
	req.Header.Set("X-Hookpoint-Fragment", "1")
	if p := c.do(req); p.status != 200 || !strings.Contains(p.body, "/p") {
		t.Errorf("preview with the header token: %d %s", p.status, clipBody(p.body))
	}
}

// A read token sees every page and can change nothing: every change is refused by the
// server, whatever the page shows.
func TestReadScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t, envOptions{})
	read, _ := f.e.newToken(token.Read)
	c := f.e.signIn(read)
	for _, path := range []string{"/", "/ui/overview/live", "/ui/hooks", "/ui/hooks/h", "/ui/hooks/f", "/ui/hooks/h/test",
		"/ui/deliveries", "/ui/deliveries/rows", "/ui/deliveries/" + f.deliveryID, "/ui/deliveries/" + f.deliveryID + "/live",
		"/ui/hooks/h?sample.type=x.other&sample.data=a%3D1"} {
		p := want(t, c.get(path), 200)
		for _, admin := range []string{"/disable\"", "/enable\"", "/retry\"", "/recover\"", "id=\"new-hook\"", "/edit\"", "/delete\""} {
			if strings.Contains(p.body, admin) {
				t.Errorf("%s offers a read session %s", path, admin)
			}
		}
	}
	if p := c.get("/ui/hooks/h/test"); !strings.Contains(p.body, "disabled") || !strings.Contains(p.body, "read scope") {
		t.Errorf("the test page does not say a read token cannot send")
	}
	for _, path := range []string{"/ui/hooks/_new", "/ui/hooks/h/edit", "/ui/hooks/h/delete"} {
		if p := c.get(path); p.status != http.StatusForbidden || !strings.Contains(p.body, "read scope") {
			t.Errorf("GET %s with a read session: %d", path, p.status)
		}
	}
	for _, ch := range f.changes() {
		p := c.post(ch.path, ch.form)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "change nothing") {
			t.Errorf("POST %s with a read session and a valid CSRF token: %d", ch.path, p.status)
		}
		f.unchanged(t, "a read session's POST "+ch.path)
	}
	// It can sign out.
	c.get("/")
	if p := c.post("/ui/signout", nil); !strings.Contains(p.url, "/ui/signin") {
		t.Errorf("sign-out: %s", p.url)
	}
}

func setCookie(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	for _, line := range p.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c
		}
	}
	return nil
}

// Sessions: the cookie's attributes, tokens that cannot sign in, sign-out, expiry and
// revocation.
func TestSessions(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	e := newEnv(t, envOptions{now: clk.now})

	// Without a session every page sends to the sign-in, and back after it.
	c := e.client().noRedirects()
	p := c.get("/ui/deliveries?status=failed")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/signin?next=%2Fui%2Fdeliveries%3Fstatus%3Dfailed" {
		t.Fatalf("without a session: %d %s", p.status, p.header.Get("Location"))
	}
	if p := c.fragment("/ui/deliveries/rows"); p.status != http.StatusUnauthorized {
		t.Errorf("a fragment without a session: %d", p.status)
	}
	c.get("/ui/signin")
	p = c.post("/ui/signin", url.Values{"token": {adminToken}, "next": {"/ui/deliveries?status=failed"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/deliveries?status=failed" {
		t.Fatalf("sign-in: %d %s", p.status, p.header.Get("Location"))
	}
	ck := setCookie(t, p, "hookpoint_session")
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" || len(ck.Value) < 40 {
		t.Fatalf("the session cookie: %+v", ck)
	}
	// Over TLS (or behind a proxy that says so) it is Secure.
	tlsSrv := httptest.NewTLSServer(e.srv.Handler())
	t.Cleanup(tlsSrv.Close)
	for _, viaProxy := range []bool{false, true} {
		tc := e.client().noRedirects()
		base := tlsSrv.URL
		tc.http.Transport = tlsSrv.Client().Transport
		var hdr http.Header
		if viaProxy {
			base, tc.http.Transport, hdr = e.url, nil, http.Header{"X-Forwarded-Proto": {"https"}}
		}
		req, _ := http.NewRequest("GET", base+"/ui/signin", nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		pg := tc.do(req)
		if sc := setCookie(t, pg, "hookpoint_signin"); sc == nil || !sc.Secure || !sc.HttpOnly {
			t.Errorf("the sign-in cookie over TLS (proxy %v): %+v", viaProxy, sc)
		}
		form := url.Values{"token": {adminToken}, "csrf": {tc.csrf}}
		req, _ = http.NewRequest("POST", base+"/ui/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.AddCookie(setCookie(t, pg, "hookpoint_signin"))
		pg = tc.do(req)
		if sc := setCookie(t, pg, "hookpoint_session"); sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
			t.Errorf("the session cookie over TLS (proxy %v): %d %+v", viaProxy, pg.status, sc)
		}
	}

	// A sign-in never sends elsewhere.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		c2 := e.client().noRedirects()
		c2.get("/ui/signin")
		if p := c2.post("/ui/signin", url.Values{"token": {adminToken}, "next": {next}}); p.header.Get("Location") != "/" {
			t.Errorf("next %q sends to %q", next, p.header.Get("Location"))
		}
	}

	// Bad and emit tokens do not sign in.
	emit, _ := e.newToken(token.Emit)
	for _, bad := range []struct {
		tok    string
		status int
		says   string
	}{
		{"nope", http.StatusUnauthorized, "not valid"},
		{"hp_read_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", http.StatusUnauthorized, "not valid"},
		{emit, http.StatusForbidden, "emit token"},
		{"", http.StatusBadRequest, "Paste a token"},
	} {
		c3 := e.client().noRedirects()
		c3.get("/ui/signin")
		p := c3.post("/ui/signin", url.Values{"token": {bad.tok}})
		if p.status != bad.status || !strings.Contains(p.body, bad.says) || setCookie(t, p, "hookpoint_session") != nil {
			t.Errorf("sign-in with %q: %d, want %d saying %q", bad.tok, p.status, bad.status, bad.says)
		}
	}

	// Sign-out ends the session on the server: the old cookie is worth nothing.
	s := e.signIn(adminToken)
	old := s.http.Jar.Cookies(mustURL(t, e.url))
	s.post("/ui/signout", nil)
	replay := e.client().noRedirects()
	replay.http.Jar.SetCookies(mustURL(t, e.url), old)
	if p := replay.get("/ui/hooks"); p.status != http.StatusSeeOther {
		t.Errorf("the cookie of a signed-out session still works: %d", p.status)
	}

	// Idle sessions expire; so does any session after its maximum age.
	idle := e.signIn(adminToken)
	clk.advance(13 * time.Hour)
	if p := idle.get("/ui/hooks"); !strings.Contains(p.url, "/ui/signin") {
		t.Errorf("a session idle for 13h still works")
	}

	// A revoked token's sessions end (checked every 30 seconds).
	read, tk := e.newToken(token.Read)
	rs := e.signIn(read)
	if st, _ := e.api("DELETE", "/v1/tokens/"+tk.ID, nil); st != 204 {
		t.Fatal("revoke failed")
	}
	want(t, rs.get("/ui/hooks"), 200) // not checked yet
	clk.advance(31 * time.Second)
	if p := rs.get("/ui/hooks"); !strings.Contains(p.url, "/ui/signin") {
		t.Errorf("the session of a revoked token still works")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The UI is at / and /ui/; the API's routes and its JSON 404 and 405 answers stay.
func TestRoutesBesideTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client().noRedirects()
	for _, tc := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", http.StatusSeeOther, ""},
		{"GET", "/ui/hooks", http.StatusSeeOther, ""},
		{"GET", "/ui/nothing-here", http.StatusNotFound, "text/html"},
		{"GET", "/ui/static/app.js", http.StatusOK, "text/javascript"},
		{"GET", "/ui/static/style.css", http.StatusOK, "text/css"},
		{"GET", "/ui/static/nope.js", http.StatusNotFound, "text/html"},
		{"GET", "/healthz", http.StatusOK, "application/json"},
		{"GET", "/readyz", http.StatusOK, "application/json"},
		{"GET", "/metrics", http.StatusUnauthorized, "application/json"},
		{"GET", "/v1/nothing", http.StatusNotFound, "application/json"},
		{"GET", "/v1/hooks", http.StatusUnauthorized, "application/json"},
		{"DELETE", "/v1/events", http.StatusMethodNotAllowed, "application/json"},
		{"GET", "/favicon.ico", http.StatusNotFound, "application/json"},
		{"POST", "/", http.StatusNotFound, "application/json"},
	} {
		req, _ := http.NewRequest(tc.method, e.url+tc.path, nil)
		p := c.do(req)
		if p.status != tc.status || !strings.HasPrefix(p.header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, p.status, p.header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
	s := e.signIn(adminToken)
	p := want(t, s.get("/"), 200)
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers of a page: %v", p.header)
	}
}
