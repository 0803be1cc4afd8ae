package ingest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

const vfToken = "vf-T0ken/with+base64=chars"

// vfHeader is the header set VirtFusion sends for one event, as its documentation lists
// it, with authentication enabled on the webhook.
func vfHeader(hook, created, hookEvent, evName, status string) http.Header {
	return header(
		"X-VirtFusion-Hook", hook,
		"X-VirtFusion-Created", created,
		"X-VirtFusion-Hook-Event", hookEvent,
		"X-VirtFusion-Event", evName,
		"X-VirtFusion-Event-Status", status,
		"User-Agent", "VirtFusion-Hookshot/57HE28D3RT",
		"Content-Type", "application/json",
		"Accept", "application/json",
		"Authorization", "Bearer "+base64.StdEncoding.EncodeToString([]byte(vfToken)),
	)
}

func TestVirtFusionAuthenticate(t *testing.T) {
	t.Parallel()
	encoded := base64.StdEncoding.EncodeToString([]byte(vfToken))
	for _, tc := range []struct {
		name       string
		configured string
		auth       []string // Authorization values sent
		want       string   // "" when accepted
	}{
		{"base64 of the token", vfToken, []string{"Bearer " + encoded}, ""},
		{"scheme in lower case", vfToken, []string{"bearer " + encoded}, ""},
		{"no token configured refuses everything", "", []string{"Bearer " + encoded}, "no token is configured"},
		{"no Authorization header", vfToken, nil, "no Authorization header"},
		{"the raw token, not base64", vfToken, []string{"Bearer " + vfToken}, "not base64"},
		{"base64 of another token", vfToken, []string{"Bearer " + base64.StdEncoding.EncodeToString([]byte("another"))}, "does not match"},
		// A raw token that happens to be valid base64 decodes to something else.
		{"a raw token that is valid base64", "abcd1234", []string{"Bearer abcd1234"}, "does not match"},
		{"base64 without its padding", "tok3n-x", []string{"Bearer dG9rM24teA"}, "not base64"},
		{"URL-safe base64", "\xfb\xff", []string{"Bearer -_8="}, "not base64"},
		{"Basic credentials", vfToken, []string{"Basic " + encoded}, "not a Bearer credential"},
		{"scheme only", vfToken, []string{"Bearer"}, "empty"},
		{"scheme and a space", vfToken, []string{"Bearer "}, "empty"},
		{"empty", vfToken, []string{""}, "not a Bearer credential"},
		{"sent twice", vfToken, []string{"Bearer " + encoded, "Bearer " + encoded}, "more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := vfHeader("3", "2023-04-07T07:18:15.316192Z", "1841", "server.create", "success")
			h.Del("Authorization")
			for _, v := range tc.auth {
				h.Add("Authorization", v)
			}
			r := &Request{Header: h, Body: payload(t, "virtfusion/server-create-success.json")}
			err := VirtFusion{}.Authenticate(r, Config{Token: tc.configured})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			unauthorizedErr(t, err, tc.want, vfToken, encoded, tc.configured)
		})
	}
}

func TestVirtFusionParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		file    string
		header  http.Header
		typ     string
		status  string
		run     string
		subject string
		check   func(t *testing.T, d map[string]any)
	}{
		{"server.create success", "virtfusion/server-create-success.json",
			vfHeader("3", "2023-04-07T07:18:15.316192Z", "1841", "server.create", "success"),
			"virtfusion.server.create", event.StatusSuccess, "1841", "c2ee9c72-6245-4f11-a0ae-e6c847110ff1",
			func(t *testing.T, d map[string]any) {
				want := map[string]any{
					"event": "server.create", "event_status": "success", "hook_id": "3", "hook_event_id": "1841",
					"created": "2023-04-07T07:18:15.316192Z", "control_domain": "cp.example.net",
					"control_name": "Example Cloud", "control_support_link": "https://example.net/support",
				}
				for k, v := range want {
					if d[k] != v {
						t.Errorf("data.%s %#v, want %#v", k, d[k], v)
					}
				}
				server := d["server"].(map[string]any)
				if server["id"] != json.Number("499") || server["name"] != "My Server 1" || server["hostname"] != nil {
					t.Errorf("server %v", server)
				}
				if d["allocation"] != false || dataJSON(t, d["errors"]) != "[]" || d["args"] == nil {
					t.Errorf("data %v", d)
				}
			}},
		{"server.boot fail", "virtfusion/server-boot-fail.json",
			vfHeader("3", "2023-04-07T07:20:01.002311Z", "1842", "server.boot", "fail"),
			"virtfusion.server.boot", event.StatusFail, "1842", "c2ee9c72-6245-4f11-a0ae-e6c847110ff1",
			func(t *testing.T, d map[string]any) {
				if dataJSON(t, d["errors"]) != `["hypervisor did not respond"]` {
					t.Errorf("errors %v", d["errors"])
				}
			}},
		{"user.create, ids as text", "virtfusion/user-create.json",
			vfHeader("4", "2023-04-07T08:00:00.000000Z", "1900", "user.create", "success"),
			"virtfusion.user.create", event.StatusSuccess, "1900", "", nil},
		// The event name as VirtFusion's table spells it, and PHP's [] for empty data.
		{"sserver.disk.trim with data []", "virtfusion/disk-trim.json",
			vfHeader("3", "2023-04-07T09:00:00.000000Z", "1901", "sserver.disk.trim", "success"),
			"virtfusion.sserver.disk.trim", event.StatusSuccess, "1901", "", nil},
		{"no X-VirtFusion headers: the body says it all", "virtfusion/server-boot-fail.json",
			header("Content-Type", "application/json"),
			"virtfusion.server.boot", event.StatusFail, "1842", "c2ee9c72-6245-4f11-a0ae-e6c847110ff1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := parse(t, VirtFusion{}, &Request{Header: tc.header, Body: payload(t, tc.file)})
			if ev.Type != tc.typ || ev.Gate || ev.Status != tc.status || ev.Subject != tc.subject {
				t.Errorf("type %q gate %v status %q subject %q, want %q false %q %q", ev.Type, ev.Gate, ev.Status, ev.Subject, tc.typ, tc.status, tc.subject)
			}
			if ev.Run.ID != tc.run || ev.Run.Kind != "virtfusion" {
				t.Errorf("run %+v, want id %q", ev.Run, tc.run)
			}
			if tc.check != nil {
				tc.check(t, ev.Data)
			}
		})
	}
}

// The headers alone name the event when the body leaves it out; a status other than
// success or fail leaves the event's status empty and is kept in the data.
func TestVirtFusionHeadersAndOtherStatuses(t *testing.T) {
	t.Parallel()
	h := vfHeader("3", "2023-04-07T07:18:15.316192Z", "77", "server.restart", "pending")
	ev := parse(t, VirtFusion{}, &Request{Header: h, Body: []byte(`{"data":{"server":{"id":12}}}`)})
	if ev.Type != "virtfusion.server.restart" || ev.Status != "" || ev.Data["event_status"] != "pending" {
		t.Errorf("type %q status %q data %v", ev.Type, ev.Status, ev.Data)
	}
	if ev.Subject != "12" || ev.Run.ID != "77" || ev.Data["created"] != "2023-04-07T07:18:15.316192Z" {
		t.Errorf("subject %q run %q created %v", ev.Subject, ev.Run.ID, ev.Data["created"])
	}
}

func TestVirtFusionParseErrors(t *testing.T) {
	t.Parallel()
	create := string(payload(t, "virtfusion/server-create-success.json"))
	good := func() http.Header {
		return vfHeader("3", "2023-04-07T07:18:15.316192Z", "1841", "server.create", "success")
	}
	with := func(name, value string) http.Header {
		h := good()
		h.Set(name, value)
		return h
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		field  string
		want   string
	}{
		{"event names disagree", with("X-VirtFusion-Event", "server.destroy"), create,
			"X-VirtFusion-Event", `says "server.destroy" but the body's event is "server.create"`},
		{"statuses disagree", with("X-VirtFusion-Event-Status", "fail"), create,
			"X-VirtFusion-Event-Status", `says "fail" but the body's eventStatus is "success"`},
		{"hook event ids disagree", with("X-VirtFusion-Hook-Event", "1840"), create,
			"X-VirtFusion-Hook-Event", `says "1840" but the body's hookEventId is "1841"`},
		{"hook ids disagree", with("X-VirtFusion-Hook", "4"), create,
			"X-VirtFusion-Hook", `says "4" but the body's hookId is "3"`},
		{"no event anywhere", header("Content-Type", "application/json"), `{"eventStatus":"success","data":{}}`,
			"event", "neither is there"},
		{"event header sent twice", func() http.Header { h := good(); h.Add("X-VirtFusion-Event", "server.create"); return h }(), create,
			"X-VirtFusion-Event", "sent more than once"},
		{"event name with a slash", header(), `{"event":"server/create","data":{}}`, "event", "only letters, digits"},
		{"event a number", header(), `{"event":7,"data":{}}`, "event", "expected text, got a number"},
		{"data text", header(), `{"event":"server.create","data":"none"}`, "data", "expected an object, got text"},
		{"data a non-empty list", header(), `{"event":"server.create","data":[1]}`, "data", "expected an object, got a list"},
		{"hookEventId an object", header(), `{"event":"server.create","hookEventId":{"id":1}}`, "hookEventId", "expected text or a number, got an object"},
		{"controlName a number", header(), `{"event":"server.create","controlName":5}`, "controlName", "expected text, got a number"},
		{"a key twice in data", header(), `{"event":"server.create","data":{"server":false,"server":{}}}`, "data.server", "given more than once"},
		{"malformed", good(), "{\n  \"event\": \"server.create\",\n  \"data\": {\"errors\": [}\n}", "", "malformed JSON at line 3, column 23 (byte 52)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseError(t, VirtFusion{}, &Request{Header: tc.header, Body: []byte(tc.body)}, tc.field, tc.want)
		})
	}
}
