package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit. With synchronous FULL every commit waits for an fsync of the WAL, and
// the single connection makes every writer wait for the commits before its own: the
// server's throughput was the disk's fsyncs per second divided by the transactions per
// delivery. The committer runs the transactions that are waiting when it is free
// together in one database transaction, each under a savepoint of its own, and commits
// them with one fsync: a transaction that fails (its fn returns an error or panics) is
// rolled back to its savepoint and the others go on, so that each caller sees the
// all-or-nothing transaction InTx promises, durable when InTx returns. Nothing waits to
// fill a group: the first transaction starts at once, and those that arrive while it
// runs and commits form the next group.

// maxGroup bounds the transactions committed together (and so how long one group holds
// the connection).
const maxGroup = 128

var errClosed = errors.New("sqlite: the database is closed")

// groupReq is one transaction waiting for, or in, a group.
type groupReq struct {
	ctx   context.Context
	fn    func(t *tx) error
	state atomic.Int32 // reqPending, reqStarted or reqAbandoned
	done  chan groupResult
}

type groupResult struct {
	err      error
	panicked any
	hasPanic bool
}

const (
	reqPending int32 = iota
	reqStarted
	reqAbandoned
)

type committer struct {
	db       *sql.DB
	reqs     chan *groupReq
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	// commits and txs count the groups committed and the transactions in them.
	commits, txs atomic.Int64
	// waiting counts the callers waiting for a group to take their transaction.
	waiting atomic.Int64
}

func newCommitter(db *sql.DB) *committer {
	c := &committer{db: db, reqs: make(chan *groupReq), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// close stops the committer once the group it runs (if any) is committed; later
// transactions fail with errClosed.
func (c *committer) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}

// run runs fn in the next group and returns when that group is committed (or fn's
// savepoint rolled back). A caller whose ctx ends before its fn starts gets ctx's
// error and fn never runs; once fn started, the caller waits for the commit, which
// decides what the caller is told.
func (c *committer) run(ctx context.Context, fn func(t *tx) error) error {
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	c.waiting.Add(1)
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.waiting.Add(-1)
		return ctx.Err()
	case <-c.stop:
		c.waiting.Add(-1)
		return errClosed
	}
	select {
	case res := <-r.done:
		return res.rethrow()
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqAbandoned) {
			return ctx.Err()
		}
		return (<-r.done).rethrow()
	}
}

func (res groupResult) rethrow() error {
	if res.hasPanic {
		panic(res.panicked)
	}
	return res.err
}

func (c *committer) loop() {
	defer close(c.done)
	batch := make([]*groupReq, 0, maxGroup)
	for {
		batch = batch[:0]
		select {
		case r := <-c.reqs:
			c.waiting.Add(-1)
			batch = append(batch, r)
		case <-c.stop:
			return
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case r := <-c.reqs:
				c.waiting.Add(-1)
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit runs a group in one transaction and answers each of its callers.
func (c *committer) commit(batch []*groupReq) {
	for len(batch) > 0 {
		batch = c.commitSome(batch)
	}
}

// commitSome runs as much of batch as one transaction can hold and returns the rest: a
// transaction that broke (its savepoint could not be rolled back) is rolled back whole,
// its callers told, and the callers not yet run go on in a new one.
func (c *committer) commitSome(batch []*groupReq) (rest []*groupReq) {
	// Statements run without the callers' cancellation: SQLite answers an interrupted
	// write by rolling back the whole transaction, every caller's. A caller whose
	// context ends before its fn starts is dropped; the group's own steps are bounded by
	// the database (busy_timeout), not by a caller.
	sqlTx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		err = fmt.Errorf("sqlite: begin: %w", err)
		for _, r := range batch {
			if r.state.CompareAndSwap(reqPending, reqStarted) {
				r.done <- groupResult{err: err}
			}
		}
		return nil
	}
	t := newTx(sqlTx)
	var ran []*groupReq
	fail := func(err error) {
		_ = sqlTx.Rollback()
		for _, r := range ran {
			r.done <- groupResult{err: err}
		}
	}
	for i, r := range batch {
		if !r.state.CompareAndSwap(reqPending, reqStarted) {
			continue // its caller gave up waiting
		}
		bg := context.WithoutCancel(r.ctx)
		if _, err := sqlTx.ExecContext(bg, `SAVEPOINT hookpoint_tx`); err != nil {
			ran = append(ran, r)
			fail(fmt.Errorf("sqlite: savepoint: %w", err))
			return batch[i+1:]
		}
		res := call(r.fn, t)
		if res.err != nil || res.hasPanic {
			if _, err := sqlTx.ExecContext(bg, `ROLLBACK TO hookpoint_tx; RELEASE hookpoint_tx`); err != nil {
				// The transaction is lost: its callers' work with it.
				r.done <- res
				fail(fmt.Errorf("sqlite: rollback to savepoint: %w", err))
				return batch[i+1:]
			}
			r.done <- res
			continue
		}
		if _, err := sqlTx.ExecContext(bg, `RELEASE hookpoint_tx`); err != nil {
			ran = append(ran, r)
			fail(fmt.Errorf("sqlite: release savepoint: %w", err))
			return batch[i+1:]
		}
		ran = append(ran, r)
	}
	if len(ran) == 0 {
		_ = sqlTx.Rollback()
		return nil
	}
	err = sqlTx.Commit()
	if err != nil {
		err = fmt.Errorf("sqlite: commit: %w", err)
	} else {
		c.commits.Add(1)
		c.txs.Add(int64(len(ran)))
	}
	for _, r := range ran {
		r.done <- groupResult{err: err}
	}
	return nil
}

// call runs fn, turning a panic into a result for its caller's goroutine to panic with.
func call(fn func(t *tx) error, t *tx) (res groupResult) {
	defer func() {
		if p := recover(); p != nil {
			res = groupResult{panicked: p, hasPanic: true}
		}
	}()
	return groupResult{err: fn(t)}
}

// noCancel runs a transaction's statements without their context's cancellation (see
// commitSome); its values are kept.
type noCancel struct{ tx *sql.Tx }

func (n noCancel) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return n.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (n noCancel) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return n.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (n noCancel) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return n.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// groupExec is the Store's writer outside a transaction: each statement is a
// transaction of its own in the next group.
type groupExec struct{ c *committer }

func (g groupExec) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = g.c.run(ctx, func(t *tx) error {
		res, err = t.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
