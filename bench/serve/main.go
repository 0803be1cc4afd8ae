// Command serve measures `hookpoint serve` on SQLite against a loopback receiver, in one
// run, and prints a table:
//
//   - the baseline: bare net/http requests/s to the same receiver (the same request
//     hookpoint sends);
//   - events/s accepted by POST /v1/events with one async hook, from concurrent clients,
//     and deliveries/s completed meanwhile;
//   - deliveries/s completed end to end, draining a backlog;
//   - the same backlog drained by bare River (riversqlite on the same kind of database,
//     the same River settings) whose worker only makes the same POST: the ceiling;
//   - submit-to-delivery p50/p99 at paced rates (submit time against arrival at the
//     receiver, matched by delivery id), for hookpoint and for bare River inserting one
//     job per transaction;
//   - the server's resident memory while a backlog of deliveries builds up for a
//     receiver that is down.
//
// The server and bare River run in child processes (this program started again): each
// contender has a process of its own, whose memory (VmRSS) and CPU time are read from
// /proc and which can write a CPU profile (-cpuprofile). The server child is wired as
// `hookpoint serve` wires it (internal/server on the SQLite store, the destination
// guard, River's settings from the flags). The receiver and the clients run here.
//
// The machine's speed drifts, so the throughput measurements run in interleaved rounds
// (the order rotating), and ratios are the median of per-round ratios.
//
//	go run ./bench/serve                 # the full run (about 15 minutes)
//	go run ./bench/serve -quick          # a smoke run
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type options struct {
	rounds       int
	d            time.Duration
	conc         int
	drain        int
	pacedD       time.Duration
	rates        []int
	backlog      int
	backlogHooks int
	child        childOptions
	riverUnique  bool
	profileDir   string
	skipMemory   bool
}

func main() {
	if name := os.Getenv(childEnv); name != "" {
		switch name {
		case "server":
			serverChild(os.Args[1:])
		case "river":
			riverChild(os.Args[1:])
		}
		log.Fatalf("unknown child %q", name)
	}
	log.SetFlags(0)
	log.SetPrefix("bench/serve: ")
	var o options
	quick := flag.Bool("quick", false, "a smoke run: 1 round, short runs, a backlog of 100,000 (flags given still win)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of the throughput and latency measurements")
	flag.DurationVar(&o.d, "d", 5*time.Second, "how long each closed-loop throughput run lasts")
	flag.IntVar(&o.conc, "c", 16, "concurrent clients")
	flag.IntVar(&o.drain, "drain", 20000, "deliveries in the backlog drained by hookpoint and by bare River")
	flag.DurationVar(&o.pacedD, "paced-d", 5*time.Second, "how long each paced run lasts")
	rates := flag.String("rates", "1000,500", "paced rates, events per second")
	flag.IntVar(&o.backlog, "backlog", 1_000_000, "deliveries pending for a receiver that is down, for the memory measurement")
	flag.IntVar(&o.backlogHooks, "backlog-hooks", 10, "async hooks per event in the memory measurement (deliveries per event)")
	flag.BoolVar(&o.skipMemory, "skip-memory", false, "skip the memory measurement")
	flag.StringVar(&o.child.sync, "sync", "FULL", "SQLite synchronous for both (FULL is hookpoint serve's default)")
	flag.IntVar(&o.child.workers, "workers", queueWorkers, "River workers, for both")
	flag.DurationVar(&o.child.fetchCooldown, "fetch-cooldown", queueFetchCooldown, "River FetchCooldown, for both")
	flag.DurationVar(&o.child.fetchPoll, "fetch-poll", queueFetchPollInterval, "River FetchPollInterval, for both")
	flag.BoolVar(&o.riverUnique, "river-unique", false, "insert bare River's jobs with hookpoint's unique options")
	flag.StringVar(&o.profileDir, "cpuprofile", "", "write CPU profiles of the children into this directory")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		quickly := map[string]func(){
			"rounds": func() { o.rounds = 1 }, "d": func() { o.d = time.Second }, "drain": func() { o.drain = 2000 },
			"paced-d": func() { o.pacedD = time.Second }, "backlog": func() { o.backlog = 100_000 },
		}
		for name, f := range quickly {
			if !set[name] {
				f()
			}
		}
	}
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			log.Fatalf("-rates: %q is not a rate", r)
		}
		o.rates = append(o.rates, n)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	run(&o)
}

func run(o *options) {
	tmp, err := os.MkdirTemp("", "hookpoint-bench-serve-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	rcv := startReceiver()
	b := &bench{o: o, tmp: tmp, rcv: rcv}

	// A first event captures the request hookpoint sends, which the baseline and bare
	// River then send too.
	b.captureSample()
	results := make([]*round, o.rounds)
	for r := range o.rounds {
		res := &round{hpLat: map[int]latency{}, riverLat: map[int]latency{}}
		results[r] = res
		steps := []func(){
			func() { b.baseline(res) },
			func() { b.hookpoint(r, res) },
			func() { b.river(r, res) },
		}
		for i := range steps {
			steps[(i+r)%len(steps)]()
		}
		log.Printf("round %d: %s", r+1, res)
	}
	var mem *memory
	if !o.skipMemory {
		mem = b.memory()
	}
	printTable(os.Stdout, o, results, mem)
}

// bench holds what the measurements share.
type bench struct {
	o      *options
	tmp    string
	rcv    *receiver
	sample *sampleRequest
	n      int // children started, for their directories
}

// latency is the submit-to-delivery p50 and p99 of a paced run.
type latency struct{ p50, p99 time.Duration }

// round is what one interleaved round measured.
type round struct {
	baseline        float64 // requests/s
	hpEvents        float64 // events/s accepted, deliveries flowing
	hpDelivered     float64 // deliveries/s meanwhile
	hpFill          float64 // events/s accepted, deliveries held
	hpDrain         float64 // deliveries/s draining the backlog
	hpCPU           float64 // CPU ms of the server per delivery while draining
	riverInsert     float64 // jobs/s inserted (InsertMany)
	riverDrain      float64 // jobs/s draining the backlog
	riverCPU        float64 // CPU ms of bare River per job while draining
	hpLat, riverLat map[int]latency
}

func (r *round) String() string {
	return fmt.Sprintf("baseline %.0f/s; hookpoint: %.0f events/s (%.0f deliveries/s), fill %.0f events/s, drain %.0f/s; bare River drain %.0f/s; latency hookpoint %v, River %v",
		r.baseline, r.hpEvents, r.hpDelivered, r.hpFill, r.hpDrain, r.riverDrain, r.hpLat, r.riverLat)
}

func (b *bench) dir(name string) string {
	b.n++
	d := filepath.Join(b.tmp, fmt.Sprintf("%s-%d", name, b.n))
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	return d
}

func (b *bench) childOptions(name, dir string) childOptions {
	co := b.o.child
	co.db = filepath.Join(dir, "hookpoint.db")
	co.cpuProfile = ""
	if b.o.profileDir != "" {
		co.cpuProfile = filepath.Join(b.o.profileDir, fmt.Sprintf("%s-%d.pprof", name, b.n))
	}
	return co
}

// hookConfig is a config with hooks async hooks, each posting to url.
func hookConfig(dir, url string, hooks, maxInFlight int) string {
	var sb strings.Builder
	sb.WriteString("hooks:\n")
	for i := range hooks {
		fmt.Fprintf(&sb, `  - id: notify-%d
    on: ["backup.*"]
    mode: async
    max_in_flight: %d
    http:
      url: "%s/deliver"
      timeout: 5m
      body: {vm: "{{ .data.vmid }}", name: "{{ .data.vmname }}", run: "{{ .run.id }}", status: "{{ .status }}"}
      sign: {secret: '{{ env "BENCH_WHSEC" }}'}
`, i, maxInFlight, url)
	}
	path := filepath.Join(dir, "hookpoint.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		log.Fatal(err)
	}
	return path
}

// startServer starts the server child with hooks async hooks to url.
func (b *bench) startServer(url string, hooks, maxInFlight int) *child {
	dir := b.dir("hookpoint")
	cfg := hookConfig(dir, url, hooks, maxInFlight)
	co := b.childOptions("hookpoint", dir)
	os.Setenv("BENCH_WHSEC", "whsec_aG9va3BvaW50LWJlbmNoLXNlY3JldA==")
	return startChild("server", append(co.args(), "-config", cfg, "-allow", url)...)
}

func (b *bench) captureSample() {
	c := b.startServer(b.rcv.url, 1, b.o.child.workers)
	defer c.stop()
	if _, err := postEvent(c.url, 0); err != nil {
		log.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for b.sample = b.rcv.sampled(); b.sample == nil; b.sample = b.rcv.sampled() {
		if time.Now().After(deadline) {
			log.Fatalf("the first delivery did not arrive:\n%s", c.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(b.tmp, "sample.json"), mustJSON(b.sample), 0o600); err != nil {
		log.Fatal(err)
	}
}

// baseline: bare net/http POSTs of the sample request to the receiver.
func (b *bench) baseline(res *round) {
	var i atomicCounter
	n, err := closedLoop(b.o.conc, b.o.d, func() error {
		return postSample(b.rcv.url+"/deliver", b.sample, "base-"+strconv.FormatInt(i.next(), 10))
	})
	if err != nil {
		log.Fatalf("baseline: %v", err)
	}
	res.baseline = float64(n) / b.o.d.Seconds()
}

// hookpoint measures the server: closed-loop submissions with deliveries flowing, a
// backlog filled behind a shut receiver and drained, and paced latencies.
func (b *bench) hookpoint(r int, res *round) {
	// max_in_flight as high as the workers: the workers are the bound, as they are for
	// bare River.
	c := b.startServer(b.rcv.url, 1, b.o.child.workers)
	defer c.stop()
	rcv := b.rcv

	// Closed loop, deliveries flowing.
	base := rcv.done.Load()
	var i atomicCounter
	n, err := closedLoop(b.o.conc, b.o.d, func() error {
		_, err := postEvent(c.url, int(i.next()))
		return err
	})
	delivered := rcv.done.Load() - base
	if err != nil {
		log.Fatalf("hookpoint: %v\n%s", err, c.stderr)
	}
	res.hpEvents = float64(n) / b.o.d.Seconds()
	res.hpDelivered = float64(delivered) / b.o.d.Seconds()
	if _, ok := rcv.waitDone(base, n, 10*time.Minute); !ok {
		log.Fatalf("hookpoint: the deliveries of the closed loop did not complete\n%s", c.stderr)
	}

	// Fill a backlog behind the shut receiver, then drain it.
	rcv.shut()
	base = rcv.done.Load()
	took, err := submitN(c.url, b.o.drain, b.o.conc, nil)
	if err != nil {
		rcv.open()
		log.Fatalf("hookpoint: %v\n%s", err, c.stderr)
	}
	res.hpFill = float64(b.o.drain) / took.Seconds()
	cpu0 := c.cpuTime()
	start := time.Now()
	rcv.open()
	end, ok := rcv.waitDone(base, int64(b.o.drain), 10*time.Minute)
	if !ok {
		log.Fatalf("hookpoint: the backlog did not drain\n%s", c.stderr)
	}
	res.hpDrain = float64(b.o.drain) / end.Sub(start).Seconds()
	res.hpCPU = float64((c.cpuTime() - cpu0).Microseconds()) / 1000 / float64(b.o.drain)

	for _, rate := range b.o.rates {
		res.hpLat[rate] = b.pacedLatency("hookpoint", rate, func(i int) (string, error) {
			ids, err := postEvent(c.url, i)
			if err != nil {
				return "", err
			}
			return ids[0], nil
		})
	}
}

// river measures bare River: a backlog inserted behind the shut receiver and drained,
// and paced latencies with one job inserted per transaction.
func (b *bench) river(r int, res *round) {
	dir := b.dir("river")
	co := b.childOptions("river", dir)
	args := append(co.args(), "-target", b.rcv.url+"/deliver", "-sample", filepath.Join(b.tmp, "sample.json"))
	if b.o.riverUnique {
		args = append(args, "-unique")
	}
	c := startChild("river", args...)
	defer c.stop()
	rcv := b.rcv

	rcv.shut()
	base := rcv.done.Load()
	start := time.Now()
	prefix := fmt.Sprintf("river-%d-", r)
	if err := postTo(c.url + "/jobs?n=" + strconv.Itoa(b.o.drain) + "&prefix=" + prefix); err != nil {
		rcv.open()
		log.Fatalf("river: %v\n%s", err, c.stderr)
	}
	res.riverInsert = float64(b.o.drain) / time.Since(start).Seconds()
	cpu0 := c.cpuTime()
	start = time.Now()
	rcv.open()
	end, ok := rcv.waitDone(base, int64(b.o.drain), 10*time.Minute)
	if !ok {
		log.Fatalf("river: the backlog did not drain\n%s", c.stderr)
	}
	res.riverDrain = float64(b.o.drain) / end.Sub(start).Seconds()
	res.riverCPU = float64((c.cpuTime() - cpu0).Microseconds()) / 1000 / float64(b.o.drain)

	for _, rate := range b.o.rates {
		p := fmt.Sprintf("river-%d-p%d-", r, rate)
		res.riverLat[rate] = b.pacedLatency("river", rate, func(i int) (string, error) {
			id := p + strconv.Itoa(i)
			return id, postTo(c.url + "/event?id=" + id)
		})
	}
}

func (b *bench) pacedLatency(name string, rate int, submit func(i int) (string, error)) latency {
	b.rcv.record(true)
	defer b.rcv.record(false)
	subs, err := paced(rate, b.o.pacedD, submit)
	if err != nil {
		log.Fatalf("%s paced at %d/s: %v", name, rate, err)
	}
	lats, err := latencies(b.rcv, subs, 5*time.Minute)
	if err != nil {
		log.Fatalf("%s paced at %d/s: %v", name, rate, err)
	}
	return latency{p50: percentile(lats, 0.5), p99: percentile(lats, 0.99)}
}

// memory is the server's resident memory as a backlog builds up.
type memory struct {
	deliveries, events int
	took               time.Duration
	samples            []memSample // at 0%, 10%, ... 100% of the events
	settled            int64       // VmRSS 10s after the last event
	peak               int64       // VmHWM
}

type memSample struct {
	pct int
	rss int64
}

// memory submits events with backlogHooks async hooks each to a receiver that is down
// (a closed port: every attempt fails at once and waits for its retry) until backlog
// deliveries are pending, reading the server's VmRSS as they accumulate.
func (b *bench) memory() *memory {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	hooks := b.o.backlogHooks
	// Each hook may use all the workers, as in the throughput runs.
	c := b.startServer(down, hooks, b.o.child.workers)
	defer c.stop()
	m := &memory{events: b.o.backlog / hooks}
	m.deliveries = m.events * hooks
	m.samples = append(m.samples, memSample{0, c.memKiB("VmRSS")})
	step := max(m.events/10, 1)
	var mu chan struct{} = make(chan struct{}, 1)
	mu <- struct{}{}
	log.Printf("memory: %d events × %d hooks to a receiver that is down", m.events, hooks)
	took, err := submitN(c.url, m.events, b.o.conc, func(done int) {
		if done%step != 0 {
			return
		}
		rss := c.memKiB("VmRSS")
		<-mu
		m.samples = append(m.samples, memSample{done * 100 / m.events, rss})
		mu <- struct{}{}
		log.Printf("memory: %d%% of the backlog, VmRSS %d MiB", done*100/m.events, rss/1024)
	})
	if err != nil {
		log.Fatalf("memory: %v\n%s", err, c.stderr)
	}
	m.took = took
	time.Sleep(10 * time.Second)
	m.settled = c.memKiB("VmRSS")
	m.peak = c.memKiB("VmHWM")
	return m
}

func postTo(url string) error {
	req, err := newPost(url)
	if err != nil {
		return err
	}
	return do(req, nil)
}
