// Command listen compares `hookpoint listen` with adnanh/webhook (Debian's `webhook`) on
// the same hooks file, in the same run: requests per second for a sync hook running
// /bin/true and for a rule mismatch, and peak memory (VmHWM) under a burst of requests
// to a slow async hook. It prints a table.
//
//	apt-get install webhook
//	go run ./bench/listen [-d 5s] [-c 16] [-burst 10000]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const hooksFile = `[
  {"id": "true", "execute-command": "/bin/true", "include-command-output-in-response": true},
  {"id": "guarded", "execute-command": "/bin/true", "include-command-output-in-response": true,
   "trigger-rule": {"match": {"type": "value", "value": "let-me-in", "parameter": {"source": "header", "name": "X-Token"}}}},
  {"id": "slow", "execute-command": "/bin/sleep", "pass-arguments-to-command": [{"source": "string", "name": "2"}],
   "response-message": "queued"}
]`

type server struct {
	name string
	argv []string
	cmd  *exec.Cmd
	url  string
}

func main() {
	dur := flag.Duration("d", 5*time.Second, "how long each throughput run lasts")
	conc := flag.Int("c", 16, "concurrent clients")
	burst := flag.Int("burst", 10000, "requests in the burst to the slow async hook")
	flag.Parse()
	webhookBin, err := exec.LookPath("webhook")
	if err != nil {
		log.Fatal("adnanh/webhook is needed as the baseline: apt-get install webhook")
	}
	dir, err := os.MkdirTemp("", "hookpoint-listen-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hooks := filepath.Join(dir, "hooks.json")
	if err := os.WriteFile(hooks, []byte(hooksFile), 0o644); err != nil {
		log.Fatal(err)
	}
	hp := filepath.Join(dir, "hookpoint")
	if out, err := exec.Command("go", "build", "-o", hp, "./cmd/hookpoint").CombinedOutput(); err != nil {
		log.Fatalf("go build: %v\n%s", err, out)
	}
	servers := []*server{
		{name: "webhook 2.8 (baseline)", argv: []string{webhookBin, "-hooks", hooks, "-ip", "127.0.0.1"}},
		// Limits raised for the throughput runs so that both do the same work.
		{name: "hookpoint listen", argv: []string{hp, "listen", "-hooks", hooks, "-ip", "127.0.0.1", "-max-concurrency", "64", "-max-queue", "1024"}},
	}
	type row struct{ syncRPS, mismatchRPS float64 }
	rows := map[string]row{}
	for round := 0; round < 2; round++ { // alternate so machine drift hits both
		for _, s := range servers {
			s.start()
			r := rows[s.name]
			r.syncRPS += load(s.url+"/hooks/true", nil, *conc, *dur) / 2
			r.mismatchRPS += load(s.url+"/hooks/guarded", map[string]string{"X-Token": "wrong"}, *conc, *dur) / 2
			rows[s.name] = r
			s.stop()
		}
	}
	fmt.Printf("throughput: %d clients, %s per run, 2 alternating rounds each\n\n", *conc, *dur)
	fmt.Printf("| server | sync hook (/bin/true) req/s | rule mismatch req/s |\n|---|---|---|\n")
	for _, s := range servers {
		fmt.Printf("| %s | %.0f | %.0f |\n", s.name, rows[s.name].syncRPS, rows[s.name].mismatchRPS)
	}

	fmt.Printf("\nburst: %d requests (64 clients) to an async hook whose command sleeps 2s\n\n", *burst)
	fmt.Printf("| server | peak RSS (VmHWM) | RSS before | answered 2xx | answered 503 | errors |\n|---|---|---|---|---|---|\n")
	servers[1].argv = []string{hp, "listen", "-hooks", hooks, "-ip", "127.0.0.1"} // default limits: 8 running, 64 queued
	for _, s := range servers {
		s.start()
		before := memKB(s.cmd.Process.Pid, "VmRSS")
		ok, busy, errs := burstLoad(s.url+"/hooks/slow", *burst, 64)
		peak := memKB(s.cmd.Process.Pid, "VmHWM")
		s.stop()
		fmt.Printf("| %s | %d MiB | %d MiB | %d | %d | %d |\n", s.name, peak/1024, before/1024, ok, busy, errs)
	}
}

func (s *server) start() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	argv := append(append([]string(nil), s.argv...), "-port", strconv.Itoa(port))
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		log.Fatalf("%s: %v", s.name, err)
	}
	s.url = "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("%s did not start listening", s.name)
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	// Let the slow commands of a burst die before the next server runs.
	_ = exec.Command("pkill", "-f", "/bin/sleep 2").Run()
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}

func load(url string, headers map[string]string, conc int, d time.Duration) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"a":1}`)))
				req.Header.Set("Content-Type", "application/json")
				for k, v := range headers {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

func burstLoad(url string, total, conc int) (ok, busy, errs int64) {
	var next, okN, busyN, errN atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
				if err != nil {
					errN.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode < 300:
					okN.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable:
					busyN.Add(1)
				default:
					errN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return okN.Load(), busyN.Load(), errN.Load()
}

// memKB reads a memory field (VmRSS, VmHWM) of a process, in KiB.
func memKB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return -1
}
