package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Hooks made through the API: validated as a config file's, secrets stored encrypted and
// never shown, versions counted; file hooks are read-only.
func TestHooksThroughTheAPI(t *testing.T) { onEachDriver(t, testHooksThroughTheAPI) }

func testHooksThroughTheAPI(t *testing.T, db string) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf(`
hooks:
  - {id: from-file, on: ["x.*"], http: {url: "%s/file"}}
`, rc.URL)})
	const token, urlSecret, signing = "tok-Secret-7f3a9c1", "path-Secret-b42", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	created := want(t, e.admin("POST", "/v1/hooks", map[string]any{
		"id": "api-hook", "description": "made through the API", "on": []string{"app.*"}, "mode": "async",
		"http": map[string]any{
			"url":  rc.URL + `/{{ secret "path" }}/{{ .data.v }}`,
			"auth": map[string]any{"type": "bearer", "token": token},
			"sign": map[string]any{"secret": signing},
		},
		"secrets": map[string]any{"path": urlSecret},
	}), 201)
	body := string(created.body)
	for _, s := range []string{token, urlSecret, strings.TrimPrefix(signing, "whsec_")} {
		if strings.Contains(body, s) {
			t.Errorf("the answer shows a secret: %s", body)
		}
	}
	h := created.json(t)
	if h["managed_by"] != "api" || h["version"].(float64) != 1 || fmt.Sprint(h["secrets_set"]) != "[auth.token path sign.secret.0]" ||
		h["http"].(map[string]any)["auth"].(map[string]any)["token"] != `{{ secret "auth.token" }}` || created.header.Get("Location") != "/v1/hooks/api-hook" {
		t.Errorf("created %s", body)
	}
	want(t, e.admin("POST", "/v1/hooks", map[string]any{"id": "api-hook", "on": []string{"a"}, "http": map[string]any{"url": "https://x.example"}}), 409)

	// The database holds no secret in plain text.
	raw, err := e.store.GetSecrets(context.Background(), "api-hook")
	if err != nil || len(raw) != 3 {
		t.Fatalf("stored secrets %v %v", raw, err)
	}
	for _, s := range raw {
		if strings.Contains(string(s.Ciphertext), token) || strings.Contains(string(s.Ciphertext), urlSecret) {
			t.Errorf("secret %s stored in plain text", s.Name)
		}
	}
	stored, _ := e.store.GetHook(context.Background(), "api-hook")
	if strings.Contains(string(stored.Def), token) || strings.Contains(string(stored.Def), urlSecret) {
		t.Errorf("the stored definition holds a secret: %s", stored.Def)
	}

	// It fires with its secrets, and the delivery log shows them masked.
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "app.start", "data": map[string]any{"v": "x"}}), 200)
	waitFor(t, "the delivery", func() bool { return rc.count() == 1 })
	req, _ := rc.request(0)
	if req.URL.Path != "/"+urlSecret+"/x" || req.Header.Get("Authorization") != "Bearer "+token || req.Header.Get("Webhook-Signature") == "" {
		t.Errorf("sent %s %v", req.URL, req.Header)
	}
	ds := want(t, e.admin("GET", "/v1/deliveries?hook_id=api-hook", nil), 200).json(t)["deliveries"].([]any)
	id := ds[0].(map[string]any)["id"].(string)
	waitFor(t, "the attempt", func() bool { d, _ := e.delivery(id); return d["status"] == "succeeded" })
	a := want(t, e.admin("GET", "/v1/deliveries/"+id, nil), 200)
	if strings.Contains(string(a.body), token) || strings.Contains(string(a.body), urlSecret) || !strings.Contains(string(a.body), "****") {
		t.Errorf("the delivery shows a secret or nothing masked: %s", a.body)
	}

	// PUT replaces it: a new version, the secrets not sent again kept.
	put := want(t, e.admin("PUT", "/v1/hooks/api-hook", map[string]any{
		"on": []string{"app.*"}, "mode": "async", "managed_by": "api", "version": 1,
		"http": map[string]any{"url": rc.URL + `/{{ secret "path" }}/v2`, "auth": map[string]any{"type": "bearer", "token": `{{ secret "auth.token" }}`}},
	}), 200).json(t)
	if put["version"].(float64) != 2 || fmt.Sprint(put["secrets_set"]) != "[auth.token path]" {
		t.Errorf("after PUT %v", put)
	}
	want(t, e.admin("PUT", "/v1/hooks/api-hook", map[string]any{"id": "other", "on": []string{"a"}, "http": map[string]any{"url": "https://x.example"}}), 400)

	// The config file's hook is listed, read-only.
	list := want(t, e.admin("GET", "/v1/hooks", nil), 200).json(t)["hooks"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["managed_by"] != "file" || list[1].(map[string]any)["file"] != "hookpoint.yaml" {
		t.Errorf("hooks %v", list)
	}
	a = want(t, e.admin("PUT", "/v1/hooks/from-file", map[string]any{"on": []string{"y"}, "http": map[string]any{"url": "https://x.example"}}), 409)
	if a.apiError(t)["code"] != "managed_by_file" {
		t.Errorf("%s", a.body)
	}
	want(t, e.admin("DELETE", "/v1/hooks/from-file", nil), 409)

	// Disable and enable (file hooks too); delete.
	off := want(t, e.admin("POST", "/v1/hooks/from-file/disable", nil), 200).json(t)
	if off["enabled"] != false || off["disabled_reason"] == "" {
		t.Errorf("disabled %v", off)
	}
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "x.y"}), 200)
	if rc.count() != 1 {
		t.Errorf("a disabled hook fired")
	}
	want(t, e.admin("POST", "/v1/hooks/from-file/enable", nil), 200)
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "x.y"}), 200)
	if rc.count() != 2 {
		t.Errorf("the re-enabled hook did not fire: %d", rc.count())
	}
	want(t, e.admin("DELETE", "/v1/hooks/api-hook", nil), 204)
	want(t, e.admin("GET", "/v1/hooks/api-hook", nil), 404)
	if s, _ := e.store.GetSecrets(context.Background(), "api-hook"); len(s) != 0 {
		t.Errorf("the secrets of a deleted hook are kept: %v", s)
	}
}

// POST /v1/hooks/{id}/test sends one attempt for a sample event and shows the request
// (masked) and the response.
func TestHookTest(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(418)
		fmt.Fprint(w, "short and stout")
	})
	e := newEnv(t, envOptions{})
	want(t, e.admin("POST", "/v1/hooks", map[string]any{"id": "t", "on": []string{"backup.*"},
		"http": map[string]any{"url": rc.URL + "/t?vm={{ .data.vmid }}", "auth": map[string]any{"type": "bearer", "token": "s3cret-token"}}}), 201)
	a := want(t, e.admin("POST", "/v1/hooks/t/test", map[string]any{"type": "backup.end", "status": "fail", "data": map[string]any{"vmid": 7}}), 200)
	m := a.json(t)
	res, reqv := m["result"].(map[string]any), m["request"].(map[string]any)
	if res["status"].(float64) != 418 || res["response"] != "short and stout" || res["outcome"] != "failed" || !strings.HasSuffix(reqv["url"].(string), "/t?vm=7") {
		t.Errorf("test answer %s", a.body)
	}
	if strings.Contains(string(a.body), "s3cret-token") {
		t.Errorf("the test answer shows the token: %s", a.body)
	}
	if d := want(t, e.admin("GET", "/v1/deliveries?hook_id=t", nil), 200).json(t)["deliveries"].([]any); len(d) != 0 {
		t.Errorf("a test was stored as a delivery: %v", d)
	}
}
