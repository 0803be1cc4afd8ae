package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the loopback receiver every contender posts to. It answers 200 at once,
// unless its gate is shut, when it holds each request until the gate opens (to build a
// backlog behind the workers). It counts the requests answered and, while recording,
// the arrival time of each delivery id (X-Hookpoint-Delivery).
type receiver struct {
	url  string
	srv  *http.Server
	done atomic.Int64

	mu        sync.Mutex
	gate      chan struct{} // closed: open
	recording bool
	arrivals  map[string]time.Time
	sample    *sampleRequest // the first request of hookpoint, replayed by the others
}

// sampleRequest is a request as hookpoint sent it: the bare net/http baseline and the
// bare River worker send the same.
type sampleRequest struct {
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

const deliveryHeader = "X-Hookpoint-Delivery"

func startReceiver() *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	r := &receiver{url: "http://" + ln.Addr().String(), gate: make(chan struct{}), arrivals: map[string]time.Time{}}
	close(r.gate)
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = r.srv.Serve(ln) }()
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	id := req.Header.Get(deliveryHeader)
	r.mu.Lock()
	if r.recording {
		if _, ok := r.arrivals[id]; !ok {
			r.arrivals[id] = now
		}
	}
	if r.sample == nil && req.Header.Get("X-Hookpoint-Hook") != "" {
		r.sample = &sampleRequest{Header: req.Header.Clone(), Body: body}
	}
	gate := r.gate
	r.mu.Unlock()
	select {
	case <-gate:
	case <-req.Context().Done():
		return
	}
	w.WriteHeader(http.StatusOK)
	r.done.Add(1)
}

// shut makes the receiver hold the requests from now on.
func (r *receiver) shut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.gate:
		r.gate = make(chan struct{})
	default:
	}
}

// open lets the held requests through and answers the next ones at once.
func (r *receiver) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
}

// record starts recording arrivals, forgetting earlier ones.
func (r *receiver) record(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recording = on
	if on {
		r.arrivals = map[string]time.Time{}
	}
}

// arrival returns when the delivery id first arrived.
func (r *receiver) arrival(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrivals[id]
	return t, ok
}

func (r *receiver) sampled() *sampleRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sample
}

// waitDone waits until n requests were answered since base; false after the deadline.
func (r *receiver) waitDone(base, n int64, deadline time.Duration) (time.Time, bool) {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if r.done.Load()-base >= n {
			return time.Now(), true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Now(), false
}
