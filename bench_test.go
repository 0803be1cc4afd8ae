package hookpoint_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/journal"
)

// BenchmarkSyncHTTPHook compares firing one sync HTTP hook (templated JSON body, Standard
// Webhooks signature, journal record) with a bare net/http POST of a body of the same
// size to the same loopback receiver, in the same run. The goal is hookpoint/bare <= 1.5.
//
//	go test -run '^$' -bench SyncHTTPHook -benchmem -count 5 .
func BenchmarkSyncHTTPHook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	cfg, err := hookpoint.ParseConfig("bench.yaml", []byte(`
hooks:
  - id: notify
    on: ["backup.*"]
    http:
      url: "`+srv.URL+`/hook/{{ .data.vmid }}?label={{ .data.label }}"
      headers: {X-Job: "{{ .run.job }}"}
      body: {vm: "{{ .data.vmname }}", vmid: "{{ .data.vmid }}", label: "{{ .data.label }}", run: "{{ .run.id }}", status: "{{ .event.status }}"}
      sign: {secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
`))
	if err != nil {
		b.Fatal(err)
	}
	newEvent := func() *hookpoint.Event {
		ev := hookpoint.NewEvent("backup.post")
		ev.Status = "success"
		ev.Run = hookpoint.Run{ID: "run_01", Job: "nightly", Kind: "backup"}
		ev.Data = map[string]any{"vmid": "101", "vmname": `db "primary" <prod>`, "label": "daily & weekly"}
		return ev
	}
	body := []byte(`{"label":"daily & weekly","run":"run_01","status":"success","vm":"db \"primary\" <prod>","vmid":"101"}`)

	bareClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer bareClient.CloseIdleConnections()
	bare := func(b *testing.B) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/hook/101?label=daily+%26+weekly", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := bareClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	// The same request hookpoint sends, headers and a per-request signature included,
	// built by hand: what is left between this and hookpoint is the engine's own work.
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	sameRequest := func(b *testing.B) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/hook/101?label=daily+%26+weekly", bytes.NewReader(body))
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "hookpoint/0.1.0-dev")
		h.Set("X-Job", "nightly")
		h.Set("X-Hookpoint-Event", "backup.post")
		h.Set("X-Hookpoint-Event-Id", "evt_01M82D0XSAKTPZCEJ53TJ62SDS")
		h.Set("X-Hookpoint-Hook", "notify")
		h.Set("X-Hookpoint-Delivery", "msg_01M82D0XSBNSCRNPJE8S3C001A")
		h.Set("X-Hookpoint-Status", "success")
		h.Set("X-Hookpoint-Run", "run_01")
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("msg_01M82D0XSBNSCRNPJE8S3C001A." + ts + "."))
		mac.Write(body)
		h.Set("Webhook-Id", "msg_01M82D0XSBNSCRNPJE8S3C001A")
		h.Set("Webhook-Timestamp", ts)
		h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		resp, err := bareClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	eng := hookpoint.New(cfg, hookpoint.Options{Recorder: &journal.Writer{W: io.Discard}})
	defer eng.Close()
	fire := func(b *testing.B) {
		out, err := eng.Fire(context.Background(), newEvent())
		if err != nil {
			b.Fatal(err)
		}
		if out.Results[0].Outcome != hookpoint.OutcomeOK {
			b.Fatal(out.Results[0].Error)
		}
	}

	for _, c := range []struct {
		name string
		fn   func(*testing.B)
	}{{"bare", bare}, {"bare-same-request", sameRequest}, {"hookpoint", fire}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.fn(b)
			}
		})
	}
	// The three one after another in each iteration, each timed, so that they share
	// the machine's state (other load, CPU frequency): the ratios to report. ns/op is
	// the three together.
	b.Run("interleaved", func(b *testing.B) {
		var tBare, tSame, tHook time.Duration
		for b.Loop() {
			t0 := time.Now()
			bare(b)
			t1 := time.Now()
			sameRequest(b)
			t2 := time.Now()
			fire(b)
			t3 := time.Now()
			tBare, tSame, tHook = tBare+t1.Sub(t0), tSame+t2.Sub(t1), tHook+t3.Sub(t2)
		}
		n := float64(b.N)
		b.ReportMetric(float64(tBare.Nanoseconds())/n, "bare-ns/op")
		b.ReportMetric(float64(tHook.Nanoseconds())/n, "hookpoint-ns/op")
		b.ReportMetric(tHook.Seconds()/tBare.Seconds(), "hookpoint/bare")
		b.ReportMetric(tHook.Seconds()/tSame.Seconds(), "hookpoint/same-request")
	})
}
