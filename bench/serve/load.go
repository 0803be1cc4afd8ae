package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const benchToken = "bench-admin-token-0123456789abcdef"

var loadClient = &http.Client{
	Timeout:   5 * time.Minute,
	Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048},
}

// closedLoop runs conc clients calling do for d and returns how many calls succeeded.
func closedLoop(conc int, d time.Duration, do func() error) (ok int64, firstErr error) {
	var n atomic.Int64
	var errOnce sync.Once
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := do(); err != nil {
					errOnce.Do(func() { firstErr = err })
					time.Sleep(time.Millisecond)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), firstErr
}

// postSample sends the sample request to url (the bare net/http baseline).
func postSample(url string, s *sampleRequest, id string) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(s.Body))
	if err != nil {
		return err
	}
	req.Header = s.Header.Clone()
	req.Header.Set(deliveryHeader, id)
	return do(req, nil)
}

// eventBody is the event every client submits: one async hook matches it.
func eventBody(i int) []byte {
	return []byte(`{"type":"backup.end","status":"success","run_id":"bench-run","job":"nightly","data":{"vmid":"101","vmname":"db-1","n":` + strconv.Itoa(i) + `}}`)
}

// postEvent submits an event and returns the delivery ids of its answer.
func postEvent(base string, i int) ([]string, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/v1/events", bytes.NewReader(eventBody(i)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	var ans struct {
		Results []struct {
			DeliveryID string `json:"delivery_id"`
			Outcome    string `json:"outcome"`
		} `json:"results"`
	}
	if err := do(req, &ans); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ans.Results))
	for _, r := range ans.Results {
		if r.Outcome != "queued" {
			return nil, fmt.Errorf("a hook's outcome is %q, not queued", r.Outcome)
		}
		ids = append(ids, r.DeliveryID)
	}
	return ids, nil
}

// do sends req and decodes a JSON answer into out (nil: discard it).
func do(req *http.Request, out any) error {
	resp, err := loadClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// submitN submits n events from conc clients and returns how long it took; progress,
// when set, is called after every event with the number submitted so far.
func submitN(base string, n, conc int, progress func(done int)) (time.Duration, error) {
	var next, done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if _, err := postEvent(base, i); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n)) // stop
					return
				}
				d := int(done.Add(1))
				if progress != nil {
					progress(d)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// submission is one paced submission: what was submitted when.
type submission struct {
	id           string
	at, answered time.Time
}

// paced submits at rate per second for d, open loop (each submission in its own
// goroutine at its planned time, whether or not the earlier ones were answered), and
// returns the submissions that were answered.
func paced(rate int, d time.Duration, submit func(i int) (string, error)) ([]submission, error) {
	n := int(float64(rate) * d.Seconds())
	out := make([]submission, n)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := time.Now()
			id, err := submit(i)
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			out[i] = submission{id: id, at: at, answered: time.Now()}
		}()
	}
	wg.Wait()
	answered := slices.DeleteFunc(out, func(s submission) bool { return s.id == "" })
	if len(answered) < n {
		return answered, fmt.Errorf("%d of %d submissions failed, first: %w", n-len(answered), n, firstErr)
	}
	return answered, nil
}

// latencies waits for every submission to arrive at the receiver and returns the
// submit-to-arrival times, sorted.
func latencies(rcv *receiver, subs []submission, deadline time.Duration) ([]time.Duration, error) {
	end := time.Now().Add(deadline)
	out := make([]time.Duration, 0, len(subs))
	for _, s := range subs {
		for {
			if at, ok := rcv.arrival(s.id); ok {
				out = append(out, at.Sub(s.at))
				break
			}
			if time.Now().After(end) {
				return nil, errors.New("not every submission arrived at the receiver within " + deadline.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	slices.Sort(out)
	return out, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}
