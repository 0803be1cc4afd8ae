package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/token"
)

// No page and no fragment ever holds a secret: not the secrets set through the form
// (a token, a password, a signing secret, a named secret), not a config file's literal
// credentials (a token, a URL's password, an Authorization-like header), not a value
// read with env, not what derives from them (Basic credentials), not when a receiver
// echoes them back, not when a form comes back with errors, for admin and read
// sessions alike.
func TestSecretsNeverShown(t *testing.T) {
	const (
		envSecret     = "envSecret-2b2b2b"
		fileToken     = "file-Literal-Token-9a8b7c"
		urlPass       = "urlPass-77e1Q"
		headerSecret  = "hdr-Secret-4d4d9e"
		uiToken       = "ui-Token-5e5e5e"
		uiPassword    = "ui-Passw0rd-abcdef"
		pathSecret    = "pathSecret-31f0e2"
		whsecKey      = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		draftSecret   = "draftSecret-0f0f0f"
		typedToken    = "typed-Token-777777"
		typedSecret   = "typed-Secret-888888"
		replacedToken = "replaced-Token-999999"
	)
	t.Setenv("HP_WEB_TEST_SECRET", envSecret)
	secrets := []string{envSecret, fileToken, urlPass, headerSecret, uiToken, uiPassword, pathSecret, whsecKey, draftSecret,
		typedToken, typedSecret, replacedToken,
		base64.StdEncoding.EncodeToString([]byte("backup:" + uiPassword)),
		base64.StdEncoding.EncodeToString([]byte("user:" + urlPass))}

	// The receiver echoes what it got: a response excerpt must not show it either.
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "got %s %s auth=%q env=%q", r.Method, r.URL.String(), r.Header.Get("Authorization"), r.Header.Get("X-Env"))
	})
	u, _ := url.Parse(rc.URL)
	e := newEnv(t, envOptions{config: fmt.Sprintf(`
hooks:
  - id: file-url-creds
    on: ["s.*"]
    http:
      url: "http://user:%s@%s/file"
      headers: {X-Api-Token: "%s"}
  - id: file-token
    on: ["s.*"]
    mode: async
    http:
      url: "%s/file2"
      headers: {X-Env: '{{ env "HP_WEB_TEST_SECRET" }}'}
      auth: {type: bearer, token: "%s"}
`, urlPass, u.Host, headerSecret, rc.URL, fileToken)})
	admin := e.signIn(adminToken)
	admin.get("/ui/hooks/_new")

	// Hooks made with the form.
	want(t, admin.post("/ui/hooks", url.Values{
		"id": {"ui-bearer"}, "on": {"s.*"}, "enabled": {"on"}, "action": {"http"},
		"http.url":        {rc.URL + `/ui/{{ secret "path" }}`},
		"http.auth.type":  {"bearer"},
		"http.auth.token": {uiToken},
		"http.sign":       {"on"}, "http.sign.secret": {"whsec_" + whsecKey},
		"new_secret.name": {"path", ""}, "new_secret.value": {pathSecret, ""},
	}), 200)
	want(t, admin.post("/ui/hooks", url.Values{
		"id": {"ui-basic"}, "on": {"s.*"}, "enabled": {"on"}, "mode": {"async"}, "action": {"http"},
		"http.url": {rc.URL + "/basic"}, "http.auth.type": {"basic"}, "http.auth.username": {"backup"}, "http.auth.password": {uiPassword},
	}), 200)
	// A form that comes back with errors does not show what was typed in secrets.
	p := admin.post("/ui/hooks", url.Values{
		"id": {"bad"}, "on": {"s.*"}, "action": {"http"}, "http.url": {"nope"}, "http.auth.type": {"bearer"},
		"http.auth.token": {typedToken}, "new_secret.name": {"x"}, "new_secret.value": {typedSecret},
	})
	if p.status != http.StatusBadRequest {
		t.Fatalf("an invalid hook: %d", p.status)
	}
	pages := map[string]string{"the form shown again with errors": p.body}
	// An edit that replaces the token.
	admin.get("/ui/hooks/ui-basic/edit")
	want(t, admin.post("/ui/hooks/ui-basic", url.Values{"on": {"s.*"}, "enabled": {"on"}, "mode": {"async"}, "action": {"http"},
		"http.url": {rc.URL + "/basic"}, "http.auth.type": {"basic"}, "http.auth.username": {"backup"}}), 200)

	// Every hook fires, sync and async.
	if st, m := e.api("POST", "/v1/events", map[string]any{"type": "s.one", "data": map[string]any{"k": "v"}}); st != 200 {
		t.Fatalf("event: %d %v", st, m)
	}
	waitFor(t, "every delivery", func() bool {
		ds, _ := e.store.ListDeliveries(context.Background(), store.DeliveryFilter{Status: []string{store.DeliverySucceeded}})
		return len(ds) == 4
	})
	if got := rc.count(); got != 4 {
		t.Fatalf("the receiver got %d requests, want 4", got)
	}
	// The secrets reached the receiver: masking them is not the same as losing them.
	saw := map[string]bool{}
	for i := range 4 {
		rc.mu.Lock()
		r := rc.reqs[i]
		rc.mu.Unlock()
		saw[r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Env")+" "+r.Header.Get("X-Api-Token")] = true
	}
	for _, w := range []string{"/ui/" + pathSecret + " Bearer " + uiToken, "Bearer " + fileToken + " " + envSecret, "Basic " + secrets[12], headerSecret} {
		found := false
		for k := range saw {
			found = found || strings.Contains(k, w)
		}
		if !found {
			t.Errorf("no request carried %q: %v", w, saw)
		}
	}

	read, _ := e.newToken(token.Read)
	reader := e.signIn(read)
	ds, _ := e.store.ListDeliveries(context.Background(), store.DeliveryFilter{})
	hooks := []string{"file-url-creds", "file-token", "ui-bearer", "ui-basic"}
	for _, who := range []struct {
		name string
		c    *client
	}{{"admin", admin}, {"read", reader}} {
		c := who.c
		paths := []string{"/", "/ui/hooks", "/ui/deliveries"}
		fragments := []string{"/ui/overview/live", "/ui/deliveries/rows"}
		for _, h := range hooks {
			paths = append(paths, "/ui/hooks/"+h, "/ui/hooks/"+h+"/test", "/ui/hooks/"+h+"?sample.type=s.two&sample.data=a%3Db")
			if who.name == "admin" {
				paths = append(paths, "/ui/hooks/"+h+"/delete")
				if strings.HasPrefix(h, "ui-") {
					paths = append(paths, "/ui/hooks/"+h+"/edit")
				}
			}
		}
		for _, d := range ds {
			paths = append(paths, "/ui/deliveries/"+d.ID)
			fragments = append(fragments, "/ui/deliveries/"+d.ID+"/live")
		}
		for _, path := range paths {
			pages[who.name+" GET "+path] = want(t, c.get(path), 200).body
		}
		for _, path := range fragments {
			pages[who.name+" fragment "+path] = want(t, c.fragment(path), 200).body
		}
		if who.name == "admin" {
			for _, h := range hooks {
				c.get("/ui/hooks/" + h + "/test")
				p := want(t, c.post("/ui/hooks/"+h+"/test", url.Values{"sample.type": {"s.test"}}), 200)
				if !strings.Contains(p.body, "got ") {
					t.Errorf("the test of %s shows no response", h)
				}
				pages["admin test of "+h] = p.body
				pages["admin recover of "+h] = want(t, c.post("/ui/hooks/"+h+"/recover", url.Values{"since": {"1h"}}), 200).body
			}
			// The live preview of a draft, with a secret typed in it and the stored ones.
			p := want(t, c.post("/ui/hooks/_preview", url.Values{"editing": {"ui-bearer"}, "on": {"s.*"}, "action": {"http"},
				"http.url":        {rc.URL + `/ui/{{ secret "path" }}/{{ secret "draft" }}`},
				"http.auth.type":  {"bearer"},
				"http.sign":       {"on"},
				"new_secret.name": {"draft"}, "new_secret.value": {draftSecret}}), 200)
			if !strings.Contains(p.body, "/ui/****/****") || !strings.Contains(p.body, "Bearer ****") {
				t.Errorf("the draft's preview: %s", clipBody(p.body))
			}
			pages["admin draft preview"] = p.body
			p = want(t, c.post("/ui/hooks/ui-bearer", url.Values{"on": {"s.*"}, "action": {"http"}, "do": {"preview"},
				"http.url": {rc.URL + "/x"}, "http.auth.type": {"bearer"}, "http.auth.token": {replacedToken}}), 200)
			pages["admin form preview"] = p.body
		}
	}
	// The API shows the config file's hooks without their literal credentials too.
	req, _ := http.NewRequest("GET", e.url+"/v1/hooks", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pages["GET /v1/hooks"] = string(b)

	for name, body := range pages {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				i := strings.Index(body, s)
				t.Errorf("%s shows the secret %q: …%s…", name, s, body[max(0, i-200):min(len(body), i+100)])
			}
		}
	}
	if len(pages) < 60 {
		t.Errorf("only %d pages were looked at", len(pages))
	}
	// What the pages say instead.
	if body := pages["admin GET /ui/hooks/ui-bearer"]; !strings.Contains(body, "token set") || !strings.Contains(body, "<code>path</code>") || !strings.Contains(body, "1 secret(s) set") {
		t.Errorf("the hook page does not say which secrets are set")
	}
	if body := pages["admin GET /ui/hooks/file-url-creds"]; !strings.Contains(body, "user:****@") || !strings.Contains(body, "X-Api-Token: ****") {
		t.Errorf("the file hook's page: %s", clipBody(body))
	}
	// The stored token was kept by the edit that did not retype it, and replaced by one
	// that did.
	admin.get("/ui/hooks/ui-bearer/edit")
	want(t, admin.post("/ui/hooks/ui-bearer", url.Values{"on": {"s.*"}, "enabled": {"on"}, "action": {"http"}, "description": {"edited"},
		"http.url": {rc.URL + `/ui/{{ secret "path" }}`}, "http.auth.type": {"bearer"}, "http.sign": {"on"}}), 200)
	e.api("POST", "/v1/hooks/ui-bearer/test", map[string]any{"type": "s.kept"})
	if r, _ := rc.last(); r.Header.Get("Authorization") != "Bearer "+uiToken || r.URL.Path != "/ui/"+pathSecret || r.Header.Get("Webhook-Signature") == "" {
		t.Errorf("after an edit that kept the secrets: %s %v", r.URL, r.Header)
	}
	admin.get("/ui/hooks/ui-bearer/edit")
	want(t, admin.post("/ui/hooks/ui-bearer", url.Values{"on": {"s.*"}, "enabled": {"on"}, "action": {"http"},
		"http.url": {rc.URL + `/ui/{{ secret "path" }}`}, "http.auth.type": {"bearer"}, "http.auth.token": {replacedToken}}), 200)
	// A URL's password and an Authorization-like header, written literally in a hook
	// made here, are shown masked in its form and kept when the form comes back unchanged.
	const apiURLPass, apiHeader = "apiUrlPass-5151", "apiHeader-6262"
	want(t, admin.post("/ui/hooks", url.Values{"id": {"ui-literal"}, "on": {"l.*"}, "enabled": {"on"}, "action": {"http"},
		"http.url": {"http://user:" + apiURLPass + "@" + u.Host + "/lit"}, "http.headers": {"X-Service-Token: " + apiHeader}}), 200)
	edit := want(t, admin.get("/ui/hooks/ui-literal/edit"), 200)
	if strings.Contains(edit.body, apiURLPass) || strings.Contains(edit.body, apiHeader) || !strings.Contains(edit.body, "user:****@") {
		t.Errorf("the form of a hook with literal credentials shows them")
	}
	form := formOf(t, edit.body)
	form.Set("description", "edited")
	form.Set("do", "save")
	want(t, admin.post("/ui/hooks/ui-literal", form), 200)
	e.api("POST", "/v1/hooks/ui-literal/test", map[string]any{"type": "l.x"})
	if r, _ := rc.last(); r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("user:"+apiURLPass)) || r.Header.Get("X-Service-Token") != apiHeader {
		t.Errorf("after an edit that kept the masked values: %v", r.Header)
	}
	e.api("POST", "/v1/hooks/ui-bearer/test", map[string]any{"type": "s.replaced"})
	if r, _ := rc.last(); r.Header.Get("Authorization") != "Bearer "+replacedToken || r.Header.Get("Webhook-Signature") != "" {
		t.Errorf("after an edit that replaced the token and dropped signing: %v", r.Header)
	}
}
