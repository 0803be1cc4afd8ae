package receiver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTimeoutKillsTheProcessGroup: a command that outlives its timeout is killed with
// everything it started. The script leaves a grandchild (`sleep 300 &`) that a kill of
// the command alone would orphan.
func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	for _, isSync := range []bool{true, false} {
		name := map[bool]string{true: "sync", false: "async"}[isSync]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pids := filepath.Join(dir, "pids")
			h := shHook("slow", `echo $$ > "$1.sh"; sleep 300 & echo $! > "$1"; echo started; wait`, str(pids))
			h.CaptureOutput, h.CaptureOutputOnError = isSync, true
			h.Timeout = Duration(300 * time.Millisecond)
			srv, ts := serve(t, Options{}, compile(t, h)...)

			got := call(t, "POST", ts.URL+"/hooks/slow", "")
			if isSync {
				want(t, got, 500, "started\n")
			} else {
				want(t, got, 200, "")
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				srv.Wait(ctx) // returns once the command has been dealt with
			}
			shPID, sleepPID := readPID(t, pids+".sh"), readPID(t, pids)
			waitDead(t, "the command", shPID)
			waitDead(t, "the command's child sleep 300", sleepPID)
		})
	}
}

// TestBurstIsBounded sends 10,000 requests at a slow async hook that allows 2 commands
// and 10 waiting. Its command cannot finish until the test opens a gate, so during the
// burst nothing frees a place: exactly 12 requests are accepted, every other one gets
// 503, at most 12 commands are ever started, and the heap stays within a fixed bound
// (what is kept per refused request is nothing).
func TestBurstIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("burst of 10,000 requests")
	}
	t.Parallel()
	const (
		requests    = 10_000
		clients     = 64
		concurrency = 2
		queue       = 10
		heapBound   = 64 << 20
	)
	dir := t.TempDir()
	invocations, gate := filepath.Join(dir, "invocations"), filepath.Join(dir, "gate")
	// Bounded: a command gives up after about 30s should the test fail to open the gate.
	h := shHook("slow", `echo "$$" >> "$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; sleep 0.2`,
		str(invocations), str(gate))
	h.ResponseMessage = "queued"
	h.MaxConcurrency, h.MaxQueue = concurrency, queue
	srv := New(compile(t, h), Options{URLPrefix: "hooks"})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// Sample the heap while the burst runs; keep the highest value seen.
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	var next atomic.Int64
	var mu sync.Mutex
	codes := map[int]int{}
	bodies := map[string]int{}
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= requests {
				resp, err := client.Post(ts.URL+"/hooks/slow", "application/json", strings.NewReader(`{"n": 1}`))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				if resp.StatusCode == 200 {
					bodies[string(b)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	burst := time.Since(start)
	startedDuringBurst := len(lines(invocations))
	close(stopSampling)
	<-sampled
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if err := firstErr.Load(); err != nil {
		t.Fatalf("client error: %v", err)
	}

	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	t.Logf("burst of %d requests from %d clients in %s: %v; commands started during the burst: %d",
		requests, clients, burst.Round(time.Millisecond), codes, startedDuringBurst)
	t.Logf("HeapInuse before %.1f MiB, peak during %.1f MiB, after GC %.1f MiB; goroutines after %d",
		mib(before.HeapInuse), mib(peak.Load()), mib(after.HeapInuse), runtime.NumGoroutine())

	if codes[200] != concurrency+queue || codes[503] != requests-concurrency-queue || len(codes) != 2 {
		t.Errorf("answers %v, want %d × 200 and %d × 503", codes, concurrency+queue, requests-concurrency-queue)
	}
	if bodies["queued"] != codes[200] {
		t.Errorf("200 bodies %v, want the response-message", bodies)
	}
	if startedDuringBurst > concurrency+queue {
		t.Errorf("%d commands started during the burst, want at most %d", startedDuringBurst, concurrency+queue)
	}
	if startedDuringBurst > concurrency {
		t.Errorf("%d commands started while %d slots were held, want at most %d", startedDuringBurst, concurrency, concurrency)
	}
	if p := peak.Load(); p > before.HeapInuse+heapBound {
		t.Errorf("heap peaked at %.1f MiB, more than %.0f MiB over the %.1f MiB before the burst",
			mib(p), mib(heapBound), mib(before.HeapInuse))
	}
	if after.HeapInuse > before.HeapInuse+heapBound {
		t.Errorf("heap after the burst %.1f MiB, more than %.0f MiB over the %.1f MiB before",
			mib(after.HeapInuse), mib(heapBound), mib(before.HeapInuse))
	}

	// Open the gate: the 12 accepted requests run, 2 at a time, and no others.
	writeFile(t, gate, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatal("the queued commands did not finish")
	}
	if n := len(lines(invocations)); n != concurrency+queue {
		t.Fatalf("%d commands ran in all, want %d", n, concurrency+queue)
	}
	// The queue is free again.
	want(t, call(t, "POST", ts.URL+"/hooks/slow", ""), 200, "queued")
	srv.Wait(ctx)
}

// TestConcurrencyLimitSync: a sync hook with 1 slot and 1 place in the queue runs its
// commands one at a time; a request beyond the queue gets 503 at once.
func TestConcurrencyLimitSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, running := filepath.Join(dir, "gate"), filepath.Join(dir, "running")
	h := shHook("one", `echo $$ >> "$2"; i=0; while [ ! -e "$1" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; echo done`,
		str(gate), str(running))
	h.CaptureOutput = true
	h.MaxConcurrency, h.MaxQueue = 1, 1
	srv, ts := serve(t, Options{}, compile(t, h)...)

	results := []<-chan response{goCall(t, "POST", ts.URL+"/hooks/one", ""), goCall(t, "POST", ts.URL+"/hooks/one", "")}
	waitFor(t, "one command running and one request waiting", func() bool {
		srv.limMu.Lock()
		l := srv.lims["one"]
		srv.limMu.Unlock()
		return l != nil && l.waiting.Load() == 1 && len(lines(running)) == 1
	})
	want(t, call(t, "POST", ts.URL+"/hooks/one", ""), 503, "too many requests for this hook\n")
	if n := len(lines(running)); n != 1 {
		t.Fatalf("%d commands started, want 1", n)
	}
	writeFile(t, gate, "")
	for _, r := range results {
		want(t, <-r, 200, "done\n")
	}
	if n := len(lines(running)); n != 2 {
		t.Fatalf("%d commands ran, want 2", n)
	}
}

// TestSwapIsAtomic swaps between two hook sets while requests run: a hook present in
// both is always found, and every answer comes from one set or the other. Run with -race.
func TestSwapIsAtomic(t *testing.T) {
	t.Parallel()
	set := func(name string, code int) []*Hook {
		never := func() *Rules { r := valueRule("url", "never", "set"); return &r }
		common := &Hook{ID: "common", TriggerRule: never(), MismatchCode: code}
		only := &Hook{ID: "only-" + name, TriggerRule: never(), MismatchCode: code + 1}
		return compile(t, common, only)
	}
	a, b := set("a", 401), set("b", 409)
	srv := New(a, Options{URLPrefix: "hooks"})

	stop := make(chan struct{})
	var swaps atomic.Int64
	swapper := make(chan struct{})
	go func() {
		defer close(swapper)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			srv.Swap([][]*Hook{a, b}[i%2])
			if n := srv.Hooks(); n != 2 {
				t.Errorf("Hooks() = %d", n)
			}
			swaps.Add(1)
		}
	}()

	var errs atomic.Int64
	seen := make([]map[string]int, 8)
	var wg sync.WaitGroup
	for g := range seen {
		seen[g] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				path := []string{"/hooks/common", "/hooks/only-a", "/hooks/only-b"}[i%3]
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
				seen[g][fmt.Sprintf("%s %d", path, rec.Code)]++
				var ok bool
				switch path {
				case "/hooks/common":
					ok = rec.Code == 401 || rec.Code == 409
				case "/hooks/only-a":
					ok = rec.Code == 402 || rec.Code == 404 && rec.Body.String() == "Hook not found."
				case "/hooks/only-b":
					ok = rec.Code == 410 || rec.Code == 404 && rec.Body.String() == "Hook not found."
				}
				if !ok && errs.Add(1) < 5 {
					t.Errorf("%s: %d %q", path, rec.Code, rec.Body.String())
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-swapper
	total := map[string]int{}
	for _, m := range seen {
		for k, v := range m {
			total[k] += v
		}
	}
	t.Logf("%d swaps; answers %v", swaps.Load(), total)
}

// TestWaitKillsWhatOutlivesTheGrace: Wait gives running commands until its context is
// done, then kills them with their process groups, sync and async alike.
func TestWaitKillsWhatOutlivesTheGrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `echo $$ > "$1.sh"; sleep 300 & echo $! > "$1"; wait; echo finished`
	syncHook := shHook("sync", script, str(filepath.Join(dir, "sync")))
	syncHook.CaptureOutput, syncHook.CaptureOutputOnError = true, true
	asyncHook := shHook("async", script, str(filepath.Join(dir, "async")))
	quick := shHook("quick", `sleep 0.2; echo done > "$1"`, str(filepath.Join(dir, "quick")))
	srv := New(compile(t, syncHook, asyncHook, quick), Options{URLPrefix: "hooks"})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	syncAnswer := goCall(t, "POST", ts.URL+"/hooks/sync", "")
	want(t, call(t, "POST", ts.URL+"/hooks/async", ""), 200, "")
	want(t, call(t, "POST", ts.URL+"/hooks/quick", ""), 200, "")
	var pids []int
	for _, name := range []string{"sync", "async"} {
		pids = append(pids, readPID(t, filepath.Join(dir, name+".sh")), readPID(t, filepath.Join(dir, name)))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Wait(ctx)
	for _, pid := range pids {
		waitDead(t, "a command or its child", pid)
	}
	if !exists(filepath.Join(dir, "quick")) {
		t.Error("a command that ends within the grace was not waited for")
	}
	got := <-syncAnswer
	if got.code != 500 || strings.Contains(got.body, "finished") {
		t.Fatalf("the killed sync command answered %d %q", got.code, got.body)
	}
}

// A sync command goes on when its caller hangs up, as with webhook: the hook's timeout
// bounds it, not the client's patience.
func TestSyncCommandOutlivesClientDisconnect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started, done := filepath.Join(dir, "started"), filepath.Join(dir, "done")
	h := shHook("slow", `touch "$1"; sleep 1; touch "$2"`, str(started), str(done))
	h.CaptureOutput = true
	_, ts := serve(t, Options{}, compile(t, h)...)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/hooks/slow", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, "the command to start", func() bool { return exists(started) })
	cancel()
	<-errc
	waitFor(t, "the command to finish after the client left", func() bool { return exists(done) })
}
