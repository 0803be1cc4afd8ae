package receiver

import (
	"container/heap"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxReplayIDs bounds the standard-webhooks message ids a hook remembers.
const DefaultMaxReplayIDs = 100_000

// errReplayFull is a hook that remembers as many message ids as it may, all of them
// inside their window: it refuses new messages (503) rather than forget an id that could
// still be replayed.
var errReplayFull = errors.New("too many recent messages to remember for this hook")

// seenIDs remembers the webhook-id of each Standard Webhooks message a hook took, until
// the message's timestamp leaves the tolerance window (after that, the signature check
// refuses it anyway). Ids are kept as SHA-256 digests, so an entry has a fixed size
// whatever the sender's id.
type seenIDs struct {
	mu    sync.Mutex
	max   int
	byID  map[[32]byte]*seenID
	byAge seenHeap // soonest expiry first
}

type seenID struct {
	key     [32]byte
	expires time.Time
	index   int // in byAge
}

func newSeenIDs(max int) *seenIDs {
	return &seenIDs{max: max, byID: map[[32]byte]*seenID{}}
}

// reserve records id until expires. It returns ErrSignature (wrapped) when id is already
// recorded, errReplayFull when there is no room.
func (s *seenIDs) reserve(id string, expires, now time.Time) error {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.byAge) > 0 && s.byAge[0].expires.Before(now) {
		delete(s.byID, heap.Pop(&s.byAge).(*seenID).key)
	}
	if _, dup := s.byID[key]; dup {
		return errReplay
	}
	if len(s.byID) >= s.max {
		return errReplayFull
	}
	e := &seenID{key: key, expires: expires}
	s.byID[key] = e
	heap.Push(&s.byAge, e)
	return nil
}

// forget removes id again: its request was turned away before its command could run
// (no room), so the sender may deliver it once more.
func (s *seenIDs) forget(id string) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byID[key]; ok {
		heap.Remove(&s.byAge, e.index)
		delete(s.byID, key)
	}
}

// errReplay is a message whose id was already received: a signature failure, so that
// trigger-signature-soft-failures makes it a mismatch.
var errReplay = fmt.Errorf("%w: message id already received (a replay)", ErrSignature)

type seenHeap []*seenID

func (h seenHeap) Len() int           { return len(h) }
func (h seenHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h seenHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *seenHeap) Push(x any) { e := x.(*seenID); e.index = len(*h); *h = append(*h, e) }
func (h *seenHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
