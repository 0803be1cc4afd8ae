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
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	down         string
	settle       time.Duration
	maxInFlight  int
	child        childOptions
	variants     []variant
	riverUnique  bool
	profileDir   string
	drainProfile bool
	skipMemory   bool
}

func main() {
	if name := os.Getenv(childEnv); name != "" {
		runChild(name)
	}
	log.SetFlags(0)
	log.SetPrefix("bench/serve: ")
	var o options
	quick := flag.Bool("quick", false, "a smoke run: 1 round, short runs, a backlog of 100,000 (flags given still win)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of the throughput and latency measurements")
	flag.DurationVar(&o.d, "d", 5*time.Second, "how long each closed-loop throughput run lasts")
	flag.IntVar(&o.conc, "c", 16, "concurrent clients")
	flag.IntVar(&o.drain, "drain", 10000, "deliveries in the backlog drained by hookpoint and by bare River")
	flag.DurationVar(&o.pacedD, "paced-d", 5*time.Second, "how long each paced run lasts")
	rates := flag.String("rates", "1000,500", "paced rates, events per second")
	flag.IntVar(&o.backlog, "backlog", 1_000_000, "deliveries pending for a receiver that is down, for the memory measurement")
	flag.IntVar(&o.backlogHooks, "backlog-hooks", 20, "async hooks per event in the memory measurement (deliveries per event)")
	flag.StringVar(&o.down, "down", "hung", "how the receiver of the memory measurement is down: hung (accepts connections, never answers; each attempt waits for the hook's 30s timeout) or refused (a closed port: each attempt fails at once and is recorded)")
	flag.BoolVar(&o.skipMemory, "skip-memory", false, "skip the memory measurement")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "how long after the backlog is in the memory is read again")
	flag.IntVar(&o.maxInFlight, "max-in-flight", 0, "the hook's max_in_flight in the throughput runs (0: as many as the workers, which are then the bound, as for bare River)")
	flag.StringVar(&o.child.sync, "sync", "FULL", "SQLite synchronous for both (FULL is hookpoint serve's default)")
	flag.IntVar(&o.child.workers, "workers", queueWorkers, "River workers, for both")
	flag.DurationVar(&o.child.fetchCooldown, "fetch-cooldown", queueFetchCooldown, "River FetchCooldown, for both")
	flag.DurationVar(&o.child.fetchPoll, "fetch-poll", queueFetchPollInterval, "River FetchPollInterval, for both")
	flag.BoolVar(&o.riverUnique, "river-unique", false, "insert bare River's jobs with hookpoint's unique options")
	flag.StringVar(&o.profileDir, "cpuprofile", "", "write CPU profiles of the children into this directory")
	flag.BoolVar(&o.drainProfile, "drain-profile", false, "with -cpuprofile: profile the children only while they drain the backlog")
	var variants []string
	flag.Func("variant", "also measure hookpoint and bare River with other settings, in the same rounds: `NAME:flag=value,...` "+
		"with the flags sync, workers, fetch-cooldown, fetch-poll, and group (bare River commits concurrent one-job transactions together) (repeat for more)", func(v string) error {
		variants = append(variants, v)
		return nil
	})
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		quickly := map[string]func(){
			"rounds": func() { o.rounds = 1 }, "d": func() { o.d = time.Second }, "drain": func() { o.drain = 1000 },
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
	o.variants = []variant{{name: "as set", child: o.child}}
	if len(variants) > 0 {
		o.variants[0].name = "default"
	}
	for _, v := range variants {
		vv, err := parseVariant(v, o.child)
		if err != nil {
			log.Fatalf("-variant %s: %v", v, err)
		}
		o.variants = append(o.variants, vv)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	run(&o, os.Stdout)
}

// runChild runs this program as the named child; it does not return.
func runChild(name string) {
	switch name {
	case "server":
		serverChild(os.Args[1:])
	case "river":
		riverChild(os.Args[1:])
	}
	log.Fatalf("unknown child %q", name)
}

func run(o *options, w io.Writer) {
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
		res := &round{}
		results[r] = res
		steps := []func(){func() { b.baseline(res) }}
		for _, v := range o.variants {
			vr := &variantRound{hpLat: map[int]latency{}, riverLat: map[int]latency{}, hpAnswer: map[int]latency{}}
			res.v = append(res.v, vr)
			steps = append(steps, func() { b.hookpoint(v, r, vr) }, func() { b.river(v, r, vr) })
		}
		for i := range steps {
			steps[(i+r)%len(steps)]()
		}
		for i, v := range o.variants {
			log.Printf("round %d, %s: baseline %.0f/s, %s", r+1, v.name, res.baseline, res.v[i])
		}
	}
	var mem *memory
	if !o.skipMemory {
		mem = b.memory()
	}
	printTable(w, o, results, mem)
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
type latency struct {
	p50, p99 time.Duration
	rate     float64 // submissions answered per second, from the first submitted to the last answered
}

// round is what one interleaved round measured: the baseline, and each variant.
type round struct {
	baseline float64 // requests/s
	v        []*variantRound
}

// variant is a set of settings for both the server and bare River.
type variant struct {
	name  string
	child childOptions
	group bool // bare River groups concurrent one-job transactions (group commit)
}

func parseVariant(s string, base childOptions) (variant, error) {
	name, settings, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return variant{}, fmt.Errorf("write NAME:flag=value,...")
	}
	v := variant{name: name, child: base}
	for _, kv := range strings.Split(settings, ",") {
		k, val, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "sync":
			v.child.sync = val
		case "workers":
			v.child.workers, err = strconv.Atoi(val)
		case "fetch-cooldown":
			v.child.fetchCooldown, err = time.ParseDuration(val)
		case "fetch-poll":
			v.child.fetchPoll, err = time.ParseDuration(val)
		case "group":
			v.group, err = strconv.ParseBool(val)
		default:
			err = fmt.Errorf("unknown setting %q", k)
		}
		if err != nil {
			return variant{}, err
		}
	}
	return v, nil
}

// variantRound is what one round measured with one variant's settings.
type variantRound struct {
	hpEvents        float64         // events/s accepted, deliveries flowing
	hpDelivered     float64         // deliveries/s meanwhile
	hpFill          float64         // events/s accepted, deliveries held
	hpDrain         float64         // deliveries/s draining the backlog
	hpCPU           float64         // CPU ms of the server per delivery while draining
	riverInsert     float64         // jobs/s inserted (InsertMany)
	riverEvents     float64         // jobs/s inserted one per transaction by concurrent clients
	riverDrain      float64         // jobs/s draining the backlog
	riverCPU        float64         // CPU ms of bare River per job while draining
	hpLat, riverLat map[int]latency // submit to arrival at the receiver
	hpAnswer        map[int]latency // submit to the answer of POST /v1/events
}

func (r *variantRound) String() string {
	return fmt.Sprintf("hookpoint: %.0f events/s (%.0f deliveries/s), fill %.0f events/s, drain %.0f/s; bare River drain %.0f/s; latency hookpoint %v (answer %v), River %v",
		r.hpEvents, r.hpDelivered, r.hpFill, r.hpDrain, r.riverDrain, r.hpLat, r.hpAnswer, r.riverLat)
}

func (l latency) String() string {
	return fmt.Sprintf("%.1f/%.1fms", float64(l.p50.Microseconds())/1000, float64(l.p99.Microseconds())/1000)
}

func (b *bench) dir(name string) string {
	b.n++
	d := filepath.Join(b.tmp, fmt.Sprintf("%s-%d", name, b.n))
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	return d
}

func (b *bench) childOptions(v variant, name, dir string) childOptions {
	co := v.child
	co.db = filepath.Join(dir, "hookpoint.db")
	co.cpuProfile = ""
	if b.o.profileDir != "" {
		co.cpuProfile = filepath.Join(b.o.profileDir, fmt.Sprintf("%s-%d.pprof", name, b.n))
		co.drainProfile = b.o.drainProfile
	}
	return co
}

// phase starts (SIGUSR1) or stops (SIGUSR2) a child's drain profile; without one
// the child has no handler for them, and they would end it.
func (b *bench) phase(c *child, sig os.Signal) {
	if b.o.profileDir != "" && b.o.drainProfile {
		c.signal(sig)
	}
}

// hookConfig is a config with hooks async hooks, each posting to url.
func hookConfig(dir, url string, hooks, maxInFlight int, timeout string) string {
	var sb strings.Builder
	sb.WriteString("hooks:\n")
	for i := range hooks {
		fmt.Fprintf(&sb, `  - id: notify-%d
    on: ["backup.*"]
    mode: async
    max_in_flight: %d
    http:
      url: "%s/deliver"
      timeout: %s
      body: {vm: "{{ .data.vmid }}", name: "{{ .data.vmname }}", run: "{{ .run.id }}", status: "{{ .status }}"}
      sign: {secret: '{{ env "BENCH_WHSEC" }}'}
`, i, maxInFlight, url, timeout)
	}
	path := filepath.Join(dir, "hookpoint.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		log.Fatal(err)
	}
	return path
}

// startServer starts the server child with hooks async hooks to url.
func (b *bench) startServer(v variant, url string, hooks, maxInFlight int, timeout string) *child {
	dir := b.dir("hookpoint")
	cfg := hookConfig(dir, url, hooks, maxInFlight, timeout)
	co := b.childOptions(v, "hookpoint", dir)
	os.Setenv("BENCH_WHSEC", "whsec_aG9va3BvaW50LWJlbmNoLXNlY3JldA==")
	return startChild("server", append(co.args(), "-config", cfg, "-allow", url)...)
}

func (b *bench) captureSample() {
	c := b.startServer(b.o.variants[0], b.rcv.url, 1, b.o.child.workers, "5m")
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
func (b *bench) hookpoint(v variant, r int, res *variantRound) {
	// max_in_flight as high as the workers: the workers are the bound, as they are for
	// bare River.
	mif := b.o.maxInFlight
	if mif <= 0 {
		mif = v.child.workers
	}
	// The timeout outlasts a backlog held by the receiver.
	c := b.startServer(v, b.rcv.url, 1, mif, "5m")
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
	b.phase(c, syscall.SIGUSR1)
	start := time.Now()
	rcv.open()
	end, ok := rcv.waitDone(base, int64(b.o.drain), 10*time.Minute)
	b.phase(c, syscall.SIGUSR2)
	if !ok {
		log.Fatalf("hookpoint: the backlog did not drain\n%s", c.stderr)
	}
	res.hpDrain = float64(b.o.drain) / end.Sub(start).Seconds()
	res.hpCPU = float64((c.cpuTime() - cpu0).Microseconds()) / 1000 / float64(b.o.drain)

	for _, rate := range b.o.rates {
		res.hpLat[rate], res.hpAnswer[rate] = b.pacedLatency("hookpoint", rate, func(i int) (string, error) {
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
func (b *bench) river(v variant, r int, res *variantRound) {
	dir := b.dir("river")
	co := b.childOptions(v, "river", dir)
	args := append(co.args(), "-target", b.rcv.url+"/deliver", "-sample", filepath.Join(b.tmp, "sample.json"))
	if b.o.riverUnique {
		args = append(args, "-unique")
	}
	if v.group {
		args = append(args, "-group")
	}
	c := startChild("river", args...)
	defer c.stop()
	rcv := b.rcv

	// Closed loop: a job per transaction, as hookpoint inserts an event's.
	base := rcv.done.Load()
	var i atomicCounter
	n, err := closedLoop(b.o.conc, b.o.d, func() error {
		return postTo(c.url + "/event?id=" + fmt.Sprintf("river-%d-e%d", r, i.next()))
	})
	if err != nil {
		log.Fatalf("river: %v\n%s", err, c.stderr)
	}
	res.riverEvents = float64(n) / b.o.d.Seconds()
	if _, ok := rcv.waitDone(base, n, 10*time.Minute); !ok {
		log.Fatalf("river: the jobs of the closed loop did not complete\n%s", c.stderr)
	}

	rcv.shut()
	base = rcv.done.Load()
	start := time.Now()
	prefix := fmt.Sprintf("river-%d-", r)
	if err := postTo(c.url + "/jobs?n=" + strconv.Itoa(b.o.drain) + "&prefix=" + prefix); err != nil {
		rcv.open()
		log.Fatalf("river: %v\n%s", err, c.stderr)
	}
	res.riverInsert = float64(b.o.drain) / time.Since(start).Seconds()
	cpu0 := c.cpuTime()
	b.phase(c, syscall.SIGUSR1)
	start = time.Now()
	rcv.open()
	end, ok := rcv.waitDone(base, int64(b.o.drain), 10*time.Minute)
	b.phase(c, syscall.SIGUSR2)
	if !ok {
		log.Fatalf("river: the backlog did not drain\n%s", c.stderr)
	}
	res.riverDrain = float64(b.o.drain) / end.Sub(start).Seconds()
	res.riverCPU = float64((c.cpuTime() - cpu0).Microseconds()) / 1000 / float64(b.o.drain)

	for _, rate := range b.o.rates {
		p := fmt.Sprintf("river-%d-p%d-", r, rate)
		res.riverLat[rate], _ = b.pacedLatency("river", rate, func(i int) (string, error) {
			id := p + strconv.Itoa(i)
			return id, postTo(c.url + "/event?id=" + id)
		})
	}
}

// pacedLatency returns the submit-to-arrival and the submit-to-answer latencies.
func (b *bench) pacedLatency(name string, rate int, submit func(i int) (string, error)) (arrival, answer latency) {
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
	answers := make([]time.Duration, len(subs))
	first, last := subs[0].at, subs[0].answered
	for i, s := range subs {
		answers[i] = s.answered.Sub(s.at)
		if s.answered.After(last) {
			last = s.answered
		}
	}
	slices.Sort(answers)
	return latency{p50: percentile(lats, 0.5), p99: percentile(lats, 0.99)},
		latency{p50: percentile(answers, 0.5), p99: percentile(answers, 0.99), rate: float64(len(subs)) / last.Sub(first).Seconds()}
}

// memory is the server's resident memory as a backlog builds up.
type memory struct {
	deliveries, events int
	down               string
	took               time.Duration
	samples            []memSample // at 0%, 10%, ... 100% of the events
	settled            int64       // VmRSS a while (-settle) after the last event
	settle             time.Duration
	peak               int64 // VmHWM
}

type memSample struct {
	pct       int
	rss, anon int64 // VmRSS, RssAnon (the rest is mapped files: the binary)
}

// memory submits events with backlogHooks async hooks each to a receiver that is down
// until backlog deliveries are pending, reading the server's VmRSS as they accumulate.
func (b *bench) memory() *memory {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	switch b.o.down {
	case "refused":
		ln.Close()
	case "hung":
		defer hang(ln)()
	default:
		log.Fatalf("-down %q: hung or refused", b.o.down)
	}
	hooks := b.o.backlogHooks
	// Each hook may use all the workers, as in the throughput runs.
	c := b.startServer(b.o.variants[0], down, hooks, b.o.child.workers, "30s")
	defer func() {
		c.stop()
		for _, line := range strings.Split(c.stderr.String(), "\n") {
			if strings.Contains(line, "Go heap") {
				log.Printf("memory: the server's %s", strings.TrimSpace(line))
			}
		}
	}()
	m := &memory{events: b.o.backlog / hooks, down: b.o.down, settle: b.o.settle}
	m.deliveries = m.events * hooks
	m.samples = append(m.samples, memSample{0, c.memKiB("VmRSS"), c.memKiB("RssAnon")})
	step := max(m.events/10, 1)
	var mu chan struct{} = make(chan struct{}, 1)
	mu <- struct{}{}
	log.Printf("memory: %d events × %d hooks to a receiver that is down", m.events, hooks)
	took, err := submitN(c.url, m.events, b.o.conc, func(done int) {
		if done%step != 0 {
			return
		}
		rss, anon := c.memKiB("VmRSS"), c.memKiB("RssAnon")
		<-mu
		m.samples = append(m.samples, memSample{done * 100 / m.events, rss, anon})
		mu <- struct{}{}
		log.Printf("memory: %d%% of the backlog, VmRSS %d MiB", done*100/m.events, rss/1024)
	})
	if err != nil {
		log.Fatalf("memory: %v\n%s", err, c.stderr)
	}
	m.took = took
	time.Sleep(b.o.settle)
	m.settled = c.memKiB("VmRSS")
	m.peak = c.memKiB("VmHWM")
	return m
}

// hang accepts connections on ln and never answers; the returned func closes them.
func hang(ln net.Listener) func() {
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
}

func postTo(url string) error {
	req, err := newPost(url)
	if err != nil {
		return err
	}
	return do(req, nil)
}
