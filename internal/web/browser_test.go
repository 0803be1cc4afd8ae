package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hookpoint/hookpoint/internal/store"
)

// Browser tests drive Debian's Chromium through the UI as an operator would. One
// browser serves the whole suite; each test gets its own browser context (cookies of
// its own) and tab. They skip when /usr/bin/chromium is missing, and fail instead under
// HOOKPOINT_TEST_STRICT=1 (CI, where .ci/run installs it). HOOKPOINT_UPDATE_SCREENSHOTS=1
// writes the screenshots under docs/img/ that the README shows.

const chromiumPath = "/usr/bin/chromium"

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if migrated.path != "" {
		_ = os.RemoveAll(filepath.Dir(migrated.path))
	}
	os.Exit(code)
}

// chromium returns the suite's browser, started at the first call.
func chromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("HOOKPOINT_TEST_STRICT") == "1" {
			t.Fatalf("%s is missing and HOOKPOINT_TEST_STRICT=1: install Debian's chromium package (apt-get install chromium; .ci/run does)", chromiumPath)
		}
		t.Skipf("%s is missing: the browser tests need Debian's chromium package (apt-get install chromium)", chromiumPath)
	}
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "hookpoint-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(chromiumPath),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
			// Without these Chromium keeps calling the (closed) network.
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-default-apps", true),
			chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
			chromedp.Flag("force-color-profile", "srgb"),
			chromedp.Flag("password-store", "basic"),
		)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() {
			cancelCtx()
			cancelAlloc()
			_ = os.RemoveAll(dir)
		}
		browser.err = chromedp.Do(ctx) // starts it
	})
	if browser.err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, browser.err)
	}
	return browser.ctx
}

// tab is one browser tab on a test's server.
type tab struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(chromium(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, e: e}
	// Times must be shown in the browser's zone, not the server's UTC.
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.EmulateViewport(1280, 900))
	return b
}

// do runs actions, each within 20 seconds; a failure says where the page was.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(err)
	}
}

func (b *tab) fail(err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : ""`))
	if shot, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
		p := filepath.Join(b.t.TempDir(), "failure.png")
		_ = os.WriteFile(p, shot, 0o644)
	}
	b.t.Fatalf("browser: %v\nat %s\n%s", err, loc, clipBody(body))
}

func (b *tab) open(path string) {
	b.t.Helper()
	if os.Getenv("HOOKPOINT_TEST_TRACE") != "" {
		b.t.Logf("%s open %s", time.Now().Format("15:04:05.000"), path)
	}
	b.do(chromedp.Navigate(b.e.url + path))
}

// text is the visible text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail(err)
	}
	return s
}

// eval runs JavaScript and returns its result.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fail(err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true, across navigations (which
// destroy the page's JavaScript context while they happen).
func (b *tab) waitJS(what, js string) {
	b.t.Helper()
	if os.Getenv("HOOKPOINT_TEST_TRACE") != "" {
		start := time.Now()
		defer func() {
			b.t.Logf("%s waited %s for %s", time.Now().Format("15:04:05.000"), time.Since(start).Round(time.Millisecond), what)
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+js+`); } catch (e) { return false; } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.fail(fmt.Errorf("timed out waiting for %s (last error %v)", what, last))
}

// waitText waits until the element sel matches holds text.
func (b *tab) waitText(sel, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%q in %s", text, sel), fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q); })()`, sel, text))
}

// waitPage waits for a page whose h1 holds text (after a navigation).
func (b *tab) waitPage(h1 string) { b.t.Helper(); b.waitText("h1", h1) }

// screenshot writes docs/img/NAME.png, the whole page, when
// HOOKPOINT_UPDATE_SCREENSHOTS=1.
func (b *tab) screenshot(name string) { b.t.Helper(); b.shoot(name, chromedp.FullScreenshot(100)) }

// screenshotTop writes the top height pixels of the page (a long form).
func (b *tab) screenshotTop(name string, height int64) {
	b.t.Helper()
	if os.Getenv("HOOKPOINT_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	w := eval[int64](b, `window.innerWidth`)
	h := eval[int64](b, `window.innerHeight`)
	b.do(chromedp.EmulateViewport(w, height), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.shoot(name, chromedp.CaptureScreenshot())
	b.do(chromedp.EmulateViewport(w, h))
}

func (b *tab) shoot(name string, shot chromedp.Action[[]byte]) {
	b.t.Helper()
	if os.Getenv("HOOKPOINT_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	// Times settle (the page's script has run) and the live regions have drawn.
	b.do(chromedp.Sleep(300 * time.Millisecond))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.fail(err)
	}
	dir := filepath.Join("..", "..", "docs", "img")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// fill sets a field's value as typing would end it: the text but its last character
// set at once, the last one typed (so that the page sees the keys and an input event).
// Typing whole values key by key costs seconds.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 3 { // a node id can go stale while the page settles; filling again is harmless
			if err = chromedp.Do(ctx, chromedp.SetValue(css(sel), value[:len(value)-1]), chromedp.SendKeys(css(sel), value[len(value)-1:])); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return chromedp.Void{}, err
	}
}

// TestBrowserJourney walks through what the issue asks of the UI in Chromium: sign in,
// create a hook with a validation error and fix it (with the live preview), send a test
// event and read the response, watch a failing delivery appear live and retry it once
// the receiver recovers, disable a hook and re-enable it from the overview, sign out. Along the way it checks
// local times, keyboard-only sign-in, a narrow window, and that no secret reaches the
// page.
func TestBrowserJourney(t *testing.T) {
	chromium(t) // skip or fail before anything else starts
	chat := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"ok":true,"queued":"msg-4711"}`)
	})
	siem := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "siem is down for maintenance")
	})
	e := newEnv(t, envOptions{config: fmt.Sprintf(`
hooks:
  - id: healthchecks
    description: Ping Healthchecks when a vzdump job ends
    on: ["vzdump.job-end"]
    mode: async
    http: {url: "%s/ping/5f1c", method: GET}
`, chat.URL)})
	const chatToken = "xoxb-chat-Secret-55a1c0de"
	b := newTab(t, e)

	// Sign in, by keyboard: the token field has the focus; Enter submits.
	b.open("/ui/hooks")
	b.waitPage("Sign in")
	if got := eval[string](b, `document.activeElement.id`); got != "token" {
		t.Fatalf("the sign-in page's focus is on %q, want the token field", got)
	}
	b.do(chromedp.SendKeys(css("#token"), "not-a-token\n"))
	b.waitText("#signin-error", "not valid")
	b.do(chromedp.SendKeys(css("#token"), adminToken+"\n"))
	b.waitPage("Hooks") // back where it was going
	cookies := eval[string](b, `document.cookie`)
	if strings.Contains(cookies, "hookpoint_session") {
		t.Errorf("the session cookie is readable by scripts: %q", cookies)
	}

	// Create a hook: a URL the API refuses, then fixed.
	b.do(chromedp.Click(css("#new-hook")))
	b.waitPage("New hook")
	b.do(
		fill(`[name="id"]`, "chat-on-failure"),
		fill(`[name="description"]`, "Tell the ops channel when a backup fails"),
		fill(`[name="on"]`, "vzdump.backup-end, backup.end"),
		chromedp.Click(css(`input[name="status"][value="fail"]`)),
		fill(`[name="http.url"]`, "chat.example/hooks/ops"),
		chromedp.SetValue(css(`[name="http.auth.type"]`), "bearer"),
		fill(`[name="http.auth.token"]`, chatToken),
		fill(`[name="http.body"]`, `{"text": "Backup of VM {{ .data.vmid }} failed on {{ .data.host }}"}`),
	)
	b.do(chromedp.Click(css("#save")))
	b.waitText("#form-errors", "not saved")
	if got := b.text(`#err-http\.url`); !strings.Contains(got, "http or https") {
		t.Errorf("the URL's error beside it: %q", got)
	}
	if got := eval[string](b, `document.activeElement.id`); got != "form-errors" {
		t.Errorf("after a refused save the focus is on %q, want the list of errors", got)
	}
	if eval[bool](b, fmt.Sprintf(`document.documentElement.innerHTML.includes(%q)`, chatToken)) {
		t.Fatal("the form shown again holds the token typed")
	}
	b.do(
		fill(`[name="http.auth.token"]`, chatToken),
		fill(`[name="http.url"]`, chat.URL+"/hooks/ops?vm={{ .data.vmid }}"),
	)
	// The live preview follows the fields, the token masked.
	b.waitText("#preview", "/hooks/ops?vm=101")
	preview := b.text("#preview")
	if !strings.Contains(preview, "Authorization: Bearer ****") || strings.Contains(preview, chatToken) {
		t.Errorf("preview:\n%s", preview)
	}
	b.screenshotTop("hook-form", 1250)
	b.do(chromedp.Click(css("#save")))
	b.waitPage("chat-on-failure")
	b.waitText(".flash-ok", "was created")

	// Send a test event and read the response on the same page.
	b.do(chromedp.Click(css("#test")))
	b.waitPage("Send a test event")
	b.do(
		chromedp.SetValue(css("#sample-type"), "vzdump.backup-end"),
		chromedp.SetValue(css("#sample-status"), "fail"),
		fill("#sample-data", "vmid=104\nhost=pve2"),
		chromedp.Click(css("#send")),
	)
	b.waitText("#test-status", "202")
	if got := b.text("#test-body"); !strings.Contains(got, "msg-4711") {
		t.Errorf("the response body shown: %q", got)
	}
	if got := b.text("#test-result"); !strings.Contains(got, "/hooks/ops?vm=104") || strings.Contains(got, chatToken) {
		t.Errorf("the request shown:\n%s", got)
	}
	if chat.count() != 1 {
		t.Fatalf("the receiver got %d requests, want the test's 1", chat.count())
	}
	if r, body := chat.last(); r.Header.Get("Authorization") != "Bearer "+chatToken || !strings.Contains(body, "VM 104 failed on pve2") {
		t.Errorf("the receiver got %v %s", r.Header, body)
	}

	// A failing async delivery appears live on the deliveries page, then is retried.
	if st, m := e.api("POST", "/v1/hooks", map[string]any{
		"id": "siem", "description": "Every event to the SIEM", "on": []string{"*"}, "mode": "async",
		"retry": map[string]any{"max_attempts": 1},
		"http":  map[string]any{"url": siem.URL + "/ingest", "sign": map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}); st != 201 {
		t.Fatalf("making siem: %d %v", st, m)
	}
	b.open("/ui/deliveries")
	b.waitPage("Deliveries")
	b.do(chromedp.Evaluate[chromedp.Void](`window.stillHere = true`))
	if st, m := e.api("POST", "/v1/events", map[string]any{"type": "vzdump.backup-end", "source": "vzdump", "status": "fail",
		"subject": "vm/104", "data": map[string]any{"vmid": 104, "host": "pve2"}}); st != 200 {
		t.Fatalf("event: %d %v", st, m)
	}
	b.waitJS("the failed siem delivery, without a reload",
		`!!document.querySelector('#deliveries tbody tr[data-status="failed"]') && window.stillHere === true`)
	rows := b.text("#deliveries tbody")
	if !strings.Contains(rows, "siem") || !strings.Contains(rows, "chat-on-failure") {
		t.Errorf("rows:\n%s", rows)
	}
	// Times are the browser's (Europe/Berlin), not UTC.
	first := eval[[]string](b, `(() => { const t = document.querySelector('#deliveries time'); return [t.textContent, t.title]; })()`)
	if first[0] == "" || strings.Contains(first[0], "UTC") || !strings.Contains(first[1], "UTC") || first[0] == strings.TrimSuffix(first[1], " UTC") {
		t.Errorf("a time shows %q (title %q), want the local time with UTC in its title", first[0], first[1])
	}
	if got := b.text("footer [data-tz]"); got != "Europe/Berlin" {
		t.Errorf("footer zone %q", got)
	}
	b.do(chromedp.Click(css(`#deliveries tbody tr[data-status="failed"] td[data-label="Outcome"] a`)))
	b.waitPage("Delivery")
	b.waitText("#attempt-1", "503")
	b.waitText("#attempt-1", "siem is down")
	if got := b.text("#attempt-1"); !strings.Contains(got, "Webhook-Signature: v1,****") {
		t.Errorf("the attempt's request:\n%s", got)
	}
	siem.setReply(func(_ int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	b.do(chromedp.Click(css("#retry")))
	b.waitText(".flash-ok", "queued for another attempt")
	b.waitText("#delivery-status", "succeeded") // the page follows the attempt
	b.waitText("#attempt-2", "204")
	b.screenshot("delivery")

	// Disable and re-enable a hook.
	b.open("/ui/hooks/chat-on-failure")
	b.waitPage("chat-on-failure")
	b.do(chromedp.Click(css("#disable")))
	b.waitText("#hook-state", "disabled")
	b.waitText(".flash-ok", "is disabled")
	if st, m := e.api("GET", "/v1/hooks/chat-on-failure", nil); st != 200 || m["enabled"] != false {
		t.Fatalf("after Disable the API says %d %v", st, m)
	}
	// The overview lists it with the reason; one click enables it again.
	b.open("/")
	b.waitPage("Overview")
	b.waitText("#attention", "disabled in the web UI")
	b.do(chromedp.Click(css("#enable-chat-on-failure")))
	b.waitText(".flash-ok", "is enabled")
	b.waitJS("chat-on-failure gone from the hooks needing attention",
		`!document.querySelector("#attention") || !document.querySelector("#attention").textContent.includes("chat-on-failure")`)
	if _, m := e.api("GET", "/v1/hooks/chat-on-failure", nil); m["enabled"] != true {
		t.Fatalf("after Re-enable the API says %v", m)
	}

	// The overview and the hooks, with a day's worth of events for the screenshots.
	siem.setReply(func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "upstream timed out")
	})
	seedOverview(t, e)
	b.open("/")
	b.waitPage("Overview")
	b.waitText("#attention", "siem")
	b.screenshot("overview")
	b.open("/ui/hooks")
	b.waitPage("Hooks")
	b.screenshot("hooks")
	b.open("/ui/deliveries")
	b.waitPage("Deliveries")
	b.screenshotTop("deliveries", 1000)
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, chatToken) || strings.Contains(html, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Error("the hooks page holds a secret")
	}

	// A narrow window: nothing wider than the screen, tables as labelled cards.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []string{"/", "/ui/hooks", "/ui/deliveries", "/ui/hooks/chat-on-failure/edit"} {
		b.open(p)
		b.waitJS("the page", `!!document.querySelector("h1")`)
		if w := eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("%s is %dpx wide in a %dpx window", p, w[0], w[1])
		}
	}
	b.open("/")
	b.waitPage("Overview")
	b.screenshot("overview-narrow")
	b.do(chromedp.EmulateViewport(1280, 900))

	// Sign out: the session is gone.
	b.open("/ui/hooks")
	b.waitPage("Hooks")
	b.do(chromedp.Click(css("#signout")))
	b.waitText("main", "You are signed out")
	b.open("/ui/hooks")
	b.waitPage("Sign in")
}

// seedOverview sends events of several sources, some failing, so that the overview
// has something to show.
func seedOverview(t *testing.T, e *env) {
	t.Helper()
	for i, ev := range []map[string]any{
		{"type": "vzdump.backup-end", "source": "vzdump", "status": "success", "subject": "vm/101", "data": map[string]any{"vmid": 101, "host": "pve1"}},
		{"type": "vzdump.backup-end", "source": "vzdump", "status": "success", "subject": "vm/102", "data": map[string]any{"vmid": 102, "host": "pve1"}},
		{"type": "vzdump.job-end", "source": "vzdump", "data": map[string]any{"host": "pve1"}},
		{"type": "autosnap.snap-create-post", "source": "cv4pve-autosnap", "status": "success", "subject": "vm/200"},
		{"type": "jetbackup.backup.post", "source": "jetbackup", "status": "warning", "subject": "account alice"},
		{"type": "xo.vm.snapshot.post", "source": "xo", "status": "success", "subject": "3f1c-vm"},
		{"type": "zerobyte.backup.post", "source": "zerobyte", "status": "fail", "subject": "nightly-volumes"},
		{"type": "backup.end", "source": "generic", "status": "success", "subject": "db-dump"},
	} {
		ev["idempotency_key"] = fmt.Sprintf("seed-%d", i)
		if st, m := e.api("POST", "/v1/events", ev); st != 200 {
			t.Fatalf("seed event %d: %d %v", i, st, m)
		}
	}
	// And a day of history, written to the store as the server would have: deliveries
	// spread over the last 24 hours, mostly successful, a bad night for one hook.
	ctx := context.Background()
	now := time.Now()
	hooks := []string{"healthchecks", "chat-on-failure", "siem"}
	var ds []*store.Delivery
	for i := range 24 * 4 {
		at := now.Add(-time.Duration(i)*15*time.Minute - 7*time.Minute)
		id := fmt.Sprintf("evt_hist_%03d", i)
		ev := &store.Event{ID: id, Type: "vzdump.backup-end", Source: "vzdump", Status: "success", Time: at, ReceivedAt: at, Origin: "api", State: store.EventDone}
		if err := e.store.InsertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		status := store.DeliverySucceeded
		switch {
		case i%17 == 5:
			status = store.DeliveryCancelled
		case i >= 40 && i < 52 && i%2 == 0: // a receiver down in the night
			status = store.DeliveryFailed
		}
		for j, h := range hooks[:1+i%3] {
			ds = append(ds, &store.Delivery{ID: fmt.Sprintf("msg_hist_%03d_%d", i, j), EventID: id, EventType: ev.Type, HookID: h,
				HookVersion: 1, Mode: "async", Status: status, Attempts: 1, CreatedAt: at, UpdatedAt: at})
		}
	}
	if err := e.store.InsertDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the seeded deliveries to end", func() bool {
		_, m := e.api("GET", "/v1/deliveries?status=queued,retrying", nil)
		ds, _ := m["deliveries"].([]any)
		return len(ds) == 0
	})
}
