package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// childEnv names the child to run when the bench starts itself again.
const childEnv = "HOOKPOINT_BENCH_SERVE_CHILD"

// child is a running child process: the server or bare River.
type child struct {
	name   string
	cmd    *exec.Cmd
	url    string
	stderr *tailBuffer
}

// signal sends sig to the child (the phase profile's start and stop).
func (c *child) signal(sig os.Signal) {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(sig)
	}
}

// startChild starts this program again as the named child and waits for its URL.
func startChild(name string, args ...string) *child {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	c := &child{name: name, stderr: &tailBuffer{}}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = append(os.Environ(), childEnv+"="+name)
	c.cmd.Stderr = c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		log.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- u
			}
		}
	}()
	select {
	case c.url = <-ready:
	case <-time.After(60 * time.Second):
		_ = c.cmd.Process.Kill()
		log.Fatalf("%s did not start:\n%s", name, c.stderr)
	}
	return c
}

// stop ends the child with SIGTERM (which writes its profile) and waits for it.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// rssKiB is the child's resident memory (VmRSS) or its peak (VmHWM), in KiB.
func (c *child) memKiB(field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
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

// cpuTime is the CPU time the child used so far (user + system).
func (c *child) cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// startProfile starts a CPU profile to path ("": none) and returns its stop. With
// onSignal, the profile covers only what happens between SIGUSR1 and SIGUSR2 (the
// parent sends them around the drain).
func startProfile(path string, onSignal bool) func() {
	if path == "" {
		return func() {}
	}
	if onSignal {
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
		var mu sync.Mutex
		stop := func() {}
		go func() {
			for sig := range sigs {
				mu.Lock()
				stop()
				stop = func() {}
				if sig == syscall.SIGUSR1 {
					stop = startProfile(path, false)
				}
				mu.Unlock()
			}
		}()
		return func() {
			mu.Lock()
			defer mu.Unlock()
			stop()
		}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// writeHeapProfile writes a heap profile and logs the Go heap's size beside the
// process's resident memory (the rest is SQLite's memory, outside the Go heap, and the
// mapped binary).
func writeHeapProfile(path string) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	log.Printf("Go heap in use %d MiB, heap from the system %d MiB, all from the system %d MiB",
		ms.HeapInuse>>20, ms.HeapSys>>20, ms.Sys>>20)
	f, err := os.Create(path)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Print(err)
	}
}

// waitForStop returns on SIGTERM or SIGINT.
func waitForStop() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}

// tailBuffer keeps the last 64 KiB written to it (a child's stderr).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 64<<10 {
		t.b = append([]byte(nil), t.b[len(t.b)-64<<10:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

var _ fmt.Stringer = (*tailBuffer)(nil)
