package kafka

import (
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// sched holds fetched messages until a worker takes them. A partition's
// messages go out in offset order and one batch at a time: the partition
// is busy until the batch holding its messages is done. But any free worker
// takes any partition that is not busy, so a worker held up by a slow batch
// (a store round trip that waits, a retry) holds back only the partitions
// in that batch: with partitions fixed to workers it held back every one of
// its partitions, while the other worker had nothing to do. What waits is
// bounded (max): kafka-go hands over the partitions' messages as one stream,
// so when a held partition's messages fill the room, fetching pauses for
// all.
type sched struct {
	mu      sync.Mutex
	cond    sync.Cond
	parts   map[int]*partQueue
	order   []int // partitions with messages waiting, oldest waiting first
	n, max  int   // messages waiting, and the most before put waits
	workers int
	closed  bool
}

type partQueue struct {
	msgs []kafkago.Message
	busy bool
}

func newSched(max, workers int) *sched {
	s := &sched{parts: map[int]*partQueue{}, max: max, workers: workers}
	s.cond.L = &s.mu
	return s
}

// close wakes everyone up for good: put and take report false from then on.
func (s *sched) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// put adds a fetched message, waiting while max messages are waiting.
func (s *sched) put(m kafkago.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.n >= s.max && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return false
	}
	q := s.parts[m.Partition]
	if q == nil {
		q = &partQueue{}
		s.parts[m.Partition] = q
	}
	if len(q.msgs) == 0 {
		s.order = append(s.order, m.Partition)
	}
	q.msgs = append(q.msgs, m)
	s.n++
	s.cond.Broadcast()
	return true
}

// take waits for messages of a partition that is not busy, then returns a
// batch of up to max messages (each partition's in order) in batch, with
// last[p] the last message of each partition p it holds; those partitions
// are busy until done. With wait > 0 it lingers up to wait for the batch to
// fill. It reports false once closed.
func (s *sched) take(batch []Message, max int, wait time.Duration, last map[int]kafkago.Message) ([]Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed {
			return batch, false
		}
		if batch = s.grab(batch, max, last); len(batch) > 0 {
			break
		}
		s.cond.Wait()
	}
	if wait > 0 && len(batch) < max {
		deadline := time.Now().Add(wait)
		// The lock makes the wake-up wait for the waiter to be waiting.
		t := time.AfterFunc(wait, func() { s.mu.Lock(); s.mu.Unlock(); s.cond.Broadcast() })
		defer t.Stop()
		for len(batch) < max && !s.closed && time.Now().Before(deadline) {
			s.cond.Wait()
			batch = s.grab(batch, max, last)
		}
	}
	return batch, true
}

// grab moves waiting messages into batch, up to max: of the partitions the
// batch already holds (in last), and of those nobody holds, oldest waiting
// first, up to a worker's share of the partitions: a batch of all of them
// would leave the other workers nothing to do.
func (s *sched) grab(batch []Message, max int, last map[int]kafkago.Message) []Message {
	share := (len(s.parts) + s.workers - 1) / s.workers
	keep := s.order[:0]
	for _, p := range s.order {
		q := s.parts[p]
		_, mine := last[p]
		if len(batch) == max || (q.busy && !mine) || (!mine && len(last) >= share) {
			keep = append(keep, p)
			continue
		}
		k := min(len(q.msgs), max-len(batch))
		if k == 0 {
			keep = append(keep, p)
			continue
		}
		for i := range k {
			batch = append(batch, fromKafka(&q.msgs[i]))
		}
		last[p] = q.msgs[k-1]
		q.busy = true
		s.n -= k
		rest := copy(q.msgs, q.msgs[k:])
		clear(q.msgs[rest:])
		q.msgs = q.msgs[:rest]
		if rest > 0 {
			keep = append(keep, p)
		}
	}
	s.order = keep
	if len(batch) > 0 {
		s.cond.Broadcast() // room for put
	}
	return batch
}

// done frees the partitions of a batch that was handled.
func (s *sched) done(last map[int]kafkago.Message) {
	s.mu.Lock()
	for p := range last {
		s.parts[p].busy = false
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}
