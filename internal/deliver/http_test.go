package deliver_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/deliver"
)

func send(t *testing.T, yaml string) (deliver.Result, string) {
	t.Helper()
	r := rendered(t, yaml)
	h := deliver.NewHTTP()
	defer h.Close()
	return h.Send(context.Background(), r.HTTP, r.DeliveryID), r.DeliveryID
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", code)
	})
	tests := []struct {
		code    int
		expect  string
		outcome string
	}{
		{200, "", deliver.OK},
		{201, "", deliver.OK},
		{204, "", deliver.OK},
		{299, "", deliver.OK},
		{400, "", deliver.Failed},
		{401, "", deliver.Failed},
		{404, "", deliver.Failed},
		{410, "", deliver.Failed},
		{500, "", deliver.Failed},
		{503, "", deliver.Failed},
		{404, "[201, 404]", deliver.OK},
		{201, "[201, 404]", deliver.OK},
		{200, "[201, 404]", deliver.Failed},
		{202, "202", deliver.OK},
		{500, "500", deliver.OK},
	}
	for _, tt := range tests {
		exp := ""
		if tt.expect != "" {
			exp = ", expect: " + tt.expect
		}
		res, _ := send(t, fmt.Sprintf(`  - {id: h, on: ["*"], http: {url: "%s/%d"%s}}`, rc.URL, tt.code, exp))
		if res.Outcome != tt.outcome || res.Status != tt.code {
			t.Errorf("%d expect %s: outcome %s status %d (%s), want %s", tt.code, tt.expect, res.Outcome, res.Status, res.Error, tt.outcome)
		}
		if tt.outcome == deliver.Failed && !strings.Contains(res.Error, strconv.Itoa(tt.code)) {
			t.Errorf("%d: error %q does not name the status", tt.code, res.Error)
		}
		if code := strconv.Itoa(tt.code); tt.code != 204 && res.Excerpt != "answer "+code {
			t.Errorf("%d: excerpt %q", tt.code, res.Excerpt)
		}
		if res.Gone != (tt.code == 410) {
			t.Errorf("%d: Gone = %v", tt.code, res.Gone)
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, code := range []int{301, 302, 303, 307, 308} {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/start" {
				http.Redirect(w, r, "/elsewhere?x=1", code)
			}
		})
		res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`/start"}}`)
		if res.Outcome != deliver.Failed || res.Status != code {
			t.Errorf("%d: outcome %s status %d", code, res.Outcome, res.Status)
		}
		if res.Location != "/elsewhere?x=1" || !strings.Contains(res.Error, "/elsewhere?x=1") {
			t.Errorf("%d: Location %q error %q: the Location must be recorded", code, res.Location, res.Error)
		}
		reqs := rc.requests()
		if len(reqs) != 1 || reqs[0].Path != "/start" {
			t.Errorf("%d: the redirect was followed: %+v", code, reqs)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`", timeout: 200ms}}`)
	if res.Outcome != deliver.Timeout || res.Status != 0 {
		t.Errorf("outcome %s status %d error %q, want timeout", res.Outcome, res.Status, res.Error)
	}
	if !strings.Contains(res.Error, "200ms") {
		t.Errorf("error %q does not say which timeout", res.Error)
	}
}

func TestTimeoutWhileReadingHeadersOfSlowBody(t *testing.T) {
	t.Parallel()
	// The status arrives in time, the body never ends: the status is what counts.
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`", timeout: 1s}}`)
	if res.Status != 200 || !strings.HasPrefix(res.Excerpt, "partial") {
		t.Errorf("status %d excerpt %q", res.Status, res.Excerpt)
	}
	if res.Outcome == deliver.Failed {
		t.Errorf("outcome %s (%s): a 200 whose body is cut short is not a failed delivery", res.Outcome, res.Error)
	}
}

func TestExcerptBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	for _, size := range []int{1 << 20, deliver.MaxExcerpt, deliver.MaxExcerpt + 1, 10} {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(big[:size]))
		})
		res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`"}}`)
		if res.Outcome != deliver.OK {
			t.Fatalf("%d: %s %s", size, res.Outcome, res.Error)
		}
		want := big[:min(size, deliver.MaxExcerpt)]
		if size > deliver.MaxExcerpt {
			want += "...(truncated)"
		}
		if res.Excerpt != want {
			t.Errorf("size %d: excerpt of %d bytes (suffix %q), want %d bytes", size, len(res.Excerpt), res.Excerpt[max(0, len(res.Excerpt)-20):], len(want))
		}
	}
}

func TestNetworkErrorHidesURL(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "http://`+addr+`/path-with-secret-xyz?token=secret-xyz"}}`)
	if res.Outcome != deliver.Failed || res.Status != 0 || res.Error == "" {
		t.Errorf("outcome %s status %d error %q", res.Outcome, res.Status, res.Error)
	}
	if strings.Contains(res.Error, "secret-xyz") {
		t.Errorf("the error repeats the URL, which may hold a secret: %q", res.Error)
	}
}

func TestRetryAfterAndGone(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "/503":
			w.Header().Set("Retry-After", date)
			w.WriteHeader(503)
		case "/500":
			w.Header().Set("Retry-After", "7") // only 429 and 503 ask for a wait
			w.WriteHeader(500)
		case "/bad":
			w.Header().Set("Retry-After", "soon")
			w.WriteHeader(429)
		case "/410":
			w.WriteHeader(410)
		}
	})
	check := func(path string, wantMin, wantMax time.Duration, gone bool) {
		t.Helper()
		res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+path+`"}}`)
		if res.RetryAfter < wantMin || res.RetryAfter > wantMax || res.Gone != gone || res.OK() {
			t.Errorf("%s: RetryAfter %s (want %s..%s) Gone %v outcome %s", path, res.RetryAfter, wantMin, wantMax, res.Gone, res.Outcome)
		}
	}
	check("/429", 7*time.Second, 7*time.Second, false)
	check("/503", 80*time.Second, 91*time.Second, false)
	check("/500", 0, 0, false)
	check("/bad", 0, 0, false)
	check("/410", 0, 0, true)
}

func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("tls ok")) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	ca := writeCA(t, srv)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	_ = os.WriteFile(empty, []byte("not a certificate"), 0o600)

	tests := []struct {
		name, tls string
		ok        bool
		errHas    string
	}{
		{"ca_file", `, tls: {ca_file: "` + ca + `"}`, true, ""},
		{"system roots only", ``, false, "certificate"},
		{"insecure_skip_verify", `, tls: {insecure_skip_verify: true}`, true, ""},
		{"ca_file without a certificate", `, tls: {ca_file: "` + empty + `"}`, false, "no PEM certificate"},
		{"missing ca_file", `, tls: {ca_file: "/nonexistent/ca.pem"}`, false, "ca_file"},
	}
	for _, tt := range tests {
		res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+srv.URL+`"`+tt.tls+`}}`)
		if res.OK() != tt.ok || !strings.Contains(res.Error, tt.errHas) {
			t.Errorf("%s: outcome %s error %q", tt.name, res.Outcome, res.Error)
		}
		if tt.ok && res.Excerpt != "tls ok" {
			t.Errorf("%s: excerpt %q", tt.name, res.Excerpt)
		}
	}
}

func TestSigning(t *testing.T) {
	t.Parallel()
	k1, k2 := []byte("first-key-0123456789"), []byte("second-key-0123456789")
	s1, s2 := "whsec_"+base64.StdEncoding.EncodeToString(k1), "whsec_"+base64.StdEncoding.EncodeToString(k2)
	rc := newReceiver(t, nil)
	r := rendered(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`", sign: {secret: ["`+s1+`", "`+s2+`"]}}}`)
	h := deliver.NewHTTP()
	defer h.Close()
	h.Now = func() time.Time { return time.Unix(1_700_000_123, 0) }
	for range 2 {
		if res := h.Send(context.Background(), r.HTTP, r.DeliveryID); !res.OK() {
			t.Fatalf("%s %s", res.Outcome, res.Error)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, q := range reqs {
		id, ts := q.Header.Get("webhook-id"), q.Header.Get("webhook-timestamp")
		if id != r.DeliveryID || id != q.Header.Get("X-Hookpoint-Delivery") {
			t.Errorf("webhook-id %q, delivery %q, X-Hookpoint-Delivery %q", id, r.DeliveryID, q.Header.Get("X-Hookpoint-Delivery"))
		}
		if ts != "1700000123" {
			t.Errorf("webhook-timestamp %q, want the injected clock", ts)
		}
		var want []string
		for _, k := range [][]byte{k1, k2} {
			m := hmac.New(sha256.New, k)
			m.Write([]byte(id + "." + ts + "."))
			m.Write(q.Body)
			want = append(want, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
		}
		if got := q.Header.Get("webhook-signature"); got != strings.Join(want, " ") {
			t.Errorf("webhook-signature %q, want %q", got, strings.Join(want, " "))
		}
	}
}

func TestHostHeader(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`", headers: {Host: virtual.example}}}`)
	if !res.OK() {
		t.Fatal(res.Error)
	}
	if reqs := rc.requests(); reqs[0].Host != "virtual.example" || reqs[0].Header.Get("Host") != "" {
		t.Errorf("Host %q, header %q", reqs[0].Host, reqs[0].Header.Get("Host"))
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	r := rendered(t, `  - {id: h, on: ["*"], http: {url: "`+rc.URL+`", timeout: 1m}}`)
	h := deliver.NewHTTP()
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(rc.requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res := h.Send(ctx, r.HTTP, r.DeliveryID)
	if res.OK() || res.Outcome == deliver.Timeout {
		t.Errorf("a cancelled send: outcome %s error %q, want failed", res.Outcome, res.Error)
	}
}
