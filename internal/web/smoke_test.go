package web_test

import (
	"fmt"
	"net/url"
	"os"
	"testing"
)

func TestSmokeDebug(t *testing.T) {
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{config: fmt.Sprintf(`
hooks:
  - {id: from-file, on: ["backup.*"], http: {url: "%s/file", auth: {type: bearer, token: "literal-file-token"}}}
`, rc.URL)})
	c := e.signIn(adminToken)
	e.api("POST", "/v1/events", map[string]any{"type": "backup.end", "status": "fail", "data": map[string]any{"vmid": 1}})
	for _, p := range []string{"/", "/ui/hooks", "/ui/hooks/from-file", "/ui/hooks/_new", "/ui/deliveries", "/ui/hooks/from-file/test", "/ui/overview/live", "/ui/deliveries/rows"} {
		pg := c.get(p)
		os.WriteFile("/tmp/webdbg/"+url.PathEscape(p)+".html", []byte(pg.body), 0o644)
		if pg.status != 200 {
			t.Errorf("%s: %d\n%s", p, pg.status, pg.body)
		}
	}
	pg := c.post("/ui/hooks", url.Values{"id": {"x"}, "on": {"backup.end"}, "action": {"http"}, "http.url": {"notaurl"}, "do": {"save"}})
	os.WriteFile("/tmp/webdbg/invalid.html", []byte(pg.body), 0o644)
	t.Logf("invalid: %d", pg.status)
}
