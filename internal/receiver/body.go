package receiver

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// DefaultMaxBodyInFlight bounds the request bodies read or held at once, server-wide.
const DefaultMaxBodyInFlight = 64 << 20

// budget counts bytes against a server-wide limit.
type budget struct {
	max int64
	n   atomic.Int64
}

// take reserves n bytes; false when that would go past the limit.
func (b *budget) take(n int64) bool {
	if b.n.Add(n) > b.max {
		b.n.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) { b.n.Add(-n) }

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
