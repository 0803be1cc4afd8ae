// Command emit compares a cold `hookpoint emit` firing one sync HTTP hook with curl
// sending the same request to the same loopback receiver, in the same run, alternating
// the two so that machine noise hits both alike. It prints a table.
//
//	go run ./bench/emit [-n 200]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 200, "runs of each command")
	flag.Parse()
	curl, err := exec.LookPath("curl")
	if err != nil {
		log.Fatal("curl is needed as the baseline: apt-get install curl")
	}
	dir, err := os.MkdirTemp("", "hookpoint-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "hookpoint")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookpoint")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("go build: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	var hits atomic.Int64
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			hits.Add(1)
			_, _ = w.Write([]byte("ok"))
		}))
	}()
	url := "http://" + ln.Addr().String() + "/hook"
	cfg := filepath.Join(dir, "hookpoint.yaml")
	err = os.WriteFile(cfg, []byte(`hooks:
  - id: notify
    on: ["backup.post"]
    http:
      url: "`+url+`/{{ .data.vmid }}"
      body: {vm: "{{ .data.vmname }}", vmid: "{{ .data.vmid }}", status: "{{ .event.status }}"}
      sign: {secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
`), 0o600)
	if err != nil {
		log.Fatal(err)
	}
	hookpoint := []string{bin, "emit", "--config", cfg, "--status", "success", "--var", "vmid=101", "--var", "vmname=db-1", "backup.post"}
	curlArgs := []string{curl, "-sS", "-o", "/dev/null", "-X", "POST", "-H", "Content-Type: application/json",
		"--data", `{"status":"success","vm":"db-1","vmid":"101"}`, url + "/101"}

	var th, tc []time.Duration
	for i := 0; i < *n; i++ {
		th = append(th, timeRun(hookpoint))
		tc = append(tc, timeRun(curlArgs))
	}
	if hits.Load() != int64(2**n) {
		log.Fatalf("receiver saw %d requests, expected %d", hits.Load(), 2**n)
	}
	fmt.Printf("cold process, one HTTP POST to a loopback receiver, %d runs each (alternating)\n\n", *n)
	fmt.Printf("| command | median | mean | p90 |\n|---|---|---|---|\n")
	row := func(name string, d []time.Duration) {
		m, avg, p90 := stats(d)
		fmt.Printf("| %s | %s | %s | %s |\n", name, ms(m), ms(avg), ms(p90))
	}
	row("curl (baseline)", tc)
	row("hookpoint emit (templated JSON body, signed)", th)
	mh, _, _ := stats(th)
	mc, _, _ := stats(tc)
	fmt.Printf("\nhookpoint emit / curl (median): %.2f\n", float64(mh)/float64(mc))
}

func timeRun(argv []string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s: %v", argv[0], err)
	}
	return time.Since(start)
}

func stats(d []time.Duration) (median, mean, p90 time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return s[len(s)/2], sum / time.Duration(len(s)), s[len(s)*9/10]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
