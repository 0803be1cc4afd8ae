package receiver

import (
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// DefaultMaxBodyInFlight bounds the request bodies read or held at once, server-wide.
const DefaultMaxBodyInFlight = 64 << 20

// budget counts bytes against a server-wide limit.
type budget struct {
	max int64
	n   atomic.Int64
	// since is the most bytes taken since memory was last given back to the system;
	// releasing is set while a release is pending.
	since     atomic.Int64
	releasing atomic.Bool
}

// take reserves n bytes; false when that would go past the limit.
func (b *budget) take(n int64) bool {
	now := b.n.Add(n)
	if now > b.max {
		b.n.Add(-n)
		return false
	}
	for {
		s := b.since.Load()
		if now <= s || b.since.CompareAndSwap(s, now) {
			return true
		}
	}
}

// Memory given back after a burst of bodies: without it the process keeps its peak
// until the runtime's next forced collection, and part of it after that (measured with
// TestListenMemoryUnderSlowLargeBodies: resident memory 108 MiB over its base for 2
// minutes, then still 60 MiB over it for as long as it was watched).
const (
	releaseAfter = 8 << 20     // bodies of this many bytes at once make a burst
	releaseQuiet = time.Second // no body in flight for this long ends it
)

func (b *budget) give(n int64) {
	if n == 0 {
		return
	}
	if b.n.Add(-n) == 0 && b.since.Load() >= releaseAfter && b.releasing.CompareAndSwap(false, true) {
		time.AfterFunc(releaseQuiet, func() {
			defer b.releasing.Store(false)
			if b.n.Load() == 0 {
				b.since.Store(0)
				debug.FreeOSMemory()
			}
		})
	}
}

func (b *budget) used() int64 { return b.n.Load() }

var (
	errBodyTooLarge = errors.New("request body too large")
	errBodyBudget   = errors.New("request bodies in flight over the server's budget")
)

// firstBodyBuffer is where a body without a declared length starts; the buffer doubles
// as bytes arrive.
const firstBodyBuffer = 16 << 10

// readBody reads r's body, at most limit bytes, into a buffer that grows with what
// arrives (never sized by the limit), reserving every byte of it in bodies first. A
// declared Content-Length is checked against the limit and reserved whole before any of
// the body is read. It returns the body and the bytes reserved, which the caller gives
// back once it no longer holds the body (also on error).
func readBody(w http.ResponseWriter, r *http.Request, limit int64, bodies *budget) (body []byte, held int64, err error) {
	declared := r.ContentLength
	if declared == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, 0, nil
	}
	if declared > limit {
		return nil, 0, errBodyTooLarge
	}
	ceiling := limit // the most the buffer may hold
	if declared > 0 {
		if !bodies.take(declared) {
			return nil, 0, errBodyBudget
		}
		held, ceiling = declared, declared
	}
	src := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) == ceiling {
				// Full: the body must end here.
				var one [1]byte
				n, err := src.Read(one[:])
				if n > 0 {
					return nil, held, errBodyTooLarge
				}
				if err == io.EOF {
					return buf, held, nil
				}
				if err != nil {
					return nil, held, bodyError(err)
				}
				continue
			}
			size := min(max(int64(cap(buf))*2, firstBodyBuffer), ceiling)
			if declared < 0 {
				if !bodies.take(size - int64(cap(buf))) {
					return nil, held, errBodyBudget
				}
				held += size - int64(cap(buf))
			}
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, held, nil
		}
		if err != nil {
			return nil, held, bodyError(err)
		}
	}
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	return err
}
