package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// procStatusKiB reads a "Name: N kB" field of /proc/PID/status, in KiB.
func procStatusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// slowBody sends a POST whose body of size bytes goes out in chunks with a pause after
// each, as a slow client does, declaring its length or (chunked) not. It keeps sending
// until the body is out or the server stops taking it, and returns the status of the
// answer (0 when none could be read).
func slowBody(addr, path string, header []string, size int, chunked bool, chunk []byte, pause time.Duration) int {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a bound for a broken run
	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n", path)
	if chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", size)
	}
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return <-status
	}
	for sent := 0; sent < size; sent += len(chunk) {
		part := chunk[:min(len(chunk), size-sent)]
		var err error
		if chunked {
			_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(part), part)
		} else {
			_, err = conn.Write(part)
		}
		if err != nil {
			break // the server answered and closed: it does not want the rest
		}
		select {
		case code := <-status:
			return code
		case <-time.After(pause):
		}
	}
	if chunked {
		_, _ = conn.Write([]byte("0\r\n\r\n"))
	}
	return <-status
}

// TestListenMemoryUnderSlowLargeBodies: a few hundred clients at once, each sending
// 8 MiB slowly to hooks whose rules turn them away, do not take the listener's memory:
// a rule the headers decide answers before the body is read, a rule that needs the body
// reads it within the server-wide budget (-max-body-inflight, 64 MiB by default) and
// the rest get 503. The peak resident memory of the process (VmHWM) stays within a
// fixed bound over its resident memory before the burst, and comes back near it after.
// While the burst runs, a process past the bound is killed at once, so that a
// regression fails the test instead of taking the machine's memory.
func TestListenMemoryUnderSlowLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 300 slow 8 MiB bodies")
	}
	const (
		perKind   = 100
		bodySize  = 8 << 20
		peakBound = 160 << 20 // over the base: twice the 64 MiB budget (growth garbage) and 32 MiB
		backBound = 16 << 20  // once the burst is over (measured: +4 MiB a second after it)
	)
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	hooks := filepath.Join(dir, "hooks.json")
	replaceFile(t, hooks, hooksJSON(t,
		listenHook{id: "token", script: `echo token >> "$1"`, args: []string{ran}, extra: map[string]any{
			"trigger-rule": map[string]any{"and": []any{
				map[string]any{"match": map[string]any{"type": "value", "value": "main", "parameter": map[string]any{"source": "payload", "name": "ref"}}},
				map[string]any{"match": map[string]any{"type": "value", "value": "s3cret", "parameter": map[string]any{"source": "header", "name": "X-Token"}}},
			}}}},
		listenHook{id: "signed", script: `echo signed >> "$1"`, args: []string{ran}, extra: map[string]any{
			"trigger-rule": map[string]any{"match": map[string]any{"type": "payload-hmac-sha256", "secret": "s3cret",
				"parameter": map[string]any{"source": "header", "name": "X-Signature"}}}}},
	))
	l := startListen(t, "-hooks", hooks)
	pid := l.cmd.Process.Pid
	addr := strings.TrimPrefix(l.base, "http://")
	mib := func(kib int64) float64 { return float64(kib) / 1024 }

	// Warm up, then take the resident memory as the base.
	chunk := []byte(strings.Repeat("x", 64<<10))
	for _, p := range []string{"/hooks/token", "/hooks/signed"} {
		slowBody(addr, p, []string{"X-Token: wrong", "X-Signature: sha256=00"}, 1<<20, false, chunk, 0)
	}
	base, err := procStatusKiB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}

	var over atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if rss, err := procStatusKiB(pid, "VmRSS"); err == nil && (rss-base)<<10 > peakBound {
				over.Store(rss)
				_ = l.cmd.Process.Kill()
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := range 3 * perKind {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, chunked := "/hooks/token", false
			switch i % 3 {
			case 1:
				path = "/hooks/signed"
			case 2:
				path, chunked = "/hooks/signed", true
			}
			code := slowBody(addr, path, []string{"X-Token: wrong", "X-Signature: sha256=00"}, bodySize, chunked, chunk, 2*time.Millisecond)
			mu.Lock()
			codes[fmt.Sprintf("%s chunked=%v: %d", path, chunked, code)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("answers: %v", codes)
	if rss := over.Load(); rss > 0 {
		t.Fatalf("resident memory reached %.0f MiB during the burst, %.0f MiB over the %.0f MiB before it (bound %d MiB); the listener was killed",
			mib(rss), mib(rss-base), mib(base), peakBound>>20)
	}
	peak, err := procStatusKiB(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resident memory: %.1f MiB before the burst, peak %.1f MiB (+%.1f MiB)", mib(base), mib(peak), mib(peak-base))
	if (peak-base)<<10 > peakBound {
		t.Errorf("peak resident memory %.1f MiB is %.1f MiB over the base, more than %d MiB", mib(peak), mib(peak-base), peakBound>>20)
	}
	var after int64
	eventually(t, "resident memory to come back near the base", func() bool {
		after, err = procStatusKiB(pid, "VmRSS")
		return err == nil && (after-base)<<10 <= backBound
	})
	t.Logf("resident memory after the burst: %.1f MiB", mib(after))
	if fileExists(ran) {
		b, _ := os.ReadFile(ran)
		t.Errorf("a command ran for a request its rule refused: %q", b)
	}
	for k := range codes {
		if !strings.HasSuffix(k, ": 200") && !strings.HasSuffix(k, ": 500") && !strings.HasSuffix(k, ": 503") && !strings.HasSuffix(k, ": 0") {
			t.Errorf("unexpected answer %s", k)
		}
	}
}
