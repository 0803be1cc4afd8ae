package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

// postArgs is a bare River job: post the sample request with this delivery id.
type postArgs struct {
	ID string `json:"id" river:"unique"`
}

func (postArgs) Kind() string { return "bench.post" }

const riverQueue = "bench_post"

// postWorker only makes the POST.
type postWorker struct {
	river.WorkerDefaults[postArgs]
	client *http.Client
	target string
	sample *sampleRequest
}

func (w *postWorker) Timeout(*river.Job[postArgs]) time.Duration { return -1 }

func (w *postWorker) Work(ctx context.Context, job *river.Job[postArgs]) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.target, bytes.NewReader(w.sample.Body))
	if err != nil {
		return err
	}
	req.Header = w.sample.Header.Clone()
	req.Header.Set(deliveryHeader, job.Args.ID)
	req.Header.Set("Webhook-Id", job.Args.ID)
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// riverChild runs bare River on the same kind of database (hookpoint's SQLite store:
// the same file settings, one connection) with the same River settings as
// internal/queue, whose worker only posts the sample request. It answers:
//
//	POST /jobs?n=N    insert N jobs in batches of 1000 (InsertMany)
//	POST /event?id=X  insert one job in a transaction of its own, as an event would
func riverChild(args []string) {
	fs := flag.NewFlagSet("river", flag.ExitOnError)
	var o childOptions
	o.addFlags(fs)
	target := fs.String("target", "", "receiver URL")
	samplePath := fs.String("sample", "", "file with the sample request (JSON)")
	unique := fs.Bool("unique", false, "insert with hookpoint's unique options")
	group := fs.Bool("group", false, "group the jobs of concurrent /event requests into one transaction (group commit)")
	_ = fs.Parse(args)
	stop := startProfile(o.cpuProfile, o.drainProfile)
	ctx := context.Background()

	raw, err := os.ReadFile(*samplePath)
	if err != nil {
		log.Fatal(err)
	}
	var sample sampleRequest
	if err := json.Unmarshal(raw, &sample); err != nil {
		log.Fatal(err)
	}
	st, err := sqlite.Open(ctx, o.db, sqlite.Options{Synchronous: o.sync})
	if err != nil {
		log.Fatal(err)
	}
	db := st.Raw().(*sql.DB)
	workers := river.NewWorkers()
	river.AddWorker(workers, &postWorker{
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.workers, MaxIdleConns: o.workers}},
		target: *target, sample: &sample,
	})
	// internal/queue's riverConfig, with its defaults for zero values.
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Queues:                      map[string]river.QueueConfig{riverQueue: {MaxWorkers: o.workers}, river.QueueDefault: {MaxWorkers: 4}},
		Workers:                     workers,
		FetchCooldown:               cmpOr(o.fetchCooldown, queueFetchCooldown),
		FetchPollInterval:           cmpOr(o.fetchPoll, queueFetchPollInterval),
		RescueStuckJobsAfter:        15 * time.Minute,
		JobTimeout:                  -1,
		MaxAttempts:                 1000,
		Logger:                      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		CompletedJobRetentionPeriod: time.Hour,
		CancelledJobRetentionPeriod: time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	opts := &river.InsertOpts{Queue: riverQueue, MaxAttempts: 1000}
	if *unique {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		prefix := r.URL.Query().Get("prefix")
		for start := 0; start < n; start += 1000 {
			params := make([]river.InsertManyParams, 0, 1000)
			for i := start; i < min(start+1000, n); i++ {
				params = append(params, river.InsertManyParams{Args: postArgs{ID: prefix + strconv.Itoa(i)}, InsertOpts: opts})
			}
			if _, err := client.InsertMany(r.Context(), params); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	})
	insert := func(ctx context.Context, ids []string) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: postArgs{ID: id}, InsertOpts: opts}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return err
		}
		return tx.Commit()
	}
	if *group {
		insert = groupCommit(insert)
	}
	mux.HandleFunc("POST /event", func(w http.ResponseWriter, r *http.Request) {
		if err := insert(r.Context(), []string{r.URL.Query().Get("id")}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	fmt.Printf("READY http://%s\n", ln.Addr())
	waitForStop()
	stop()
	os.Exit(0)
}

// groupCommit makes insert take the jobs of concurrent callers together: the first caller
// starts a transaction, and those who come while one commits go into the next. Nobody
// waits for a timer, so a lone caller is not delayed.
func groupCommit(insert func(ctx context.Context, ids []string) error) func(ctx context.Context, ids []string) error {
	type call struct {
		ids  []string
		done chan error
	}
	calls := make(chan call, 4096)
	go func() {
		for c := range calls {
			batch := []call{c}
		more:
			for len(batch) < 500 {
				select {
				case c := <-calls:
					batch = append(batch, c)
				default:
					break more
				}
			}
			var ids []string
			for _, c := range batch {
				ids = append(ids, c.ids...)
			}
			err := insert(context.Background(), ids)
			for _, c := range batch {
				c.done <- err
			}
		}
	}()
	return func(ctx context.Context, ids []string) error {
		c := call{ids: ids, done: make(chan error, 1)}
		calls <- c
		select {
		case err := <-c.done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// internal/queue's defaults (Options.defaults), for the bare River client.
const (
	queueFetchCooldown     = 2 * time.Millisecond
	queueFetchPollInterval = 200 * time.Millisecond
	queueWorkers           = 100
)

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
