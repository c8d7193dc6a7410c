package rescreen

import (
	"container/heap"
	"context"
	"sort"
	"sync"
	"time"
)

// Memory is a Registry in process memory (demo, replay, tests).
type Memory struct {
	cfg Config

	mu      sync.Mutex
	entries map[string]*item // by account, 0, counterparty
	buf     []byte           // the key being looked up
	old     byAge            // oldest first
	newest  int64            // unix ms of the newest entry
}

type item struct {
	key    string // account and counterparty, the map key
	member string // as in Redis, for the same order
	ms     int64
	seen   Seen
	idx    int
}

// NewMemory returns an empty registry. It panics if cfg does not validate:
// call cfg.Validate first to get the error.
func NewMemory(cfg Config) *Memory {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Memory{cfg: cfg, entries: map[string]*item{}}
}

// Len is the number of entries kept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *Memory) Record(ctx context.Context, seen []Seen) error {
	if err := checkAll(seen); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range seen {
		// The key is built in place and the member hash made only for a
		// new pair: most events repeat one.
		m.buf = s.appendCounterparty(append(append(m.buf[:0], s.Account...), 0))
		ms := s.Time.UnixMilli()
		if it, ok := m.entries[string(m.buf)]; ok {
			if !later(ms, s.TxID, it.ms, it.seen.TxID) {
				continue
			}
			it.ms, it.seen = ms, s
			heap.Fix(&m.old, it.idx)
		} else {
			it := &item{key: string(m.buf), member: s.member(), ms: ms, seen: s}
			m.entries[it.key] = it
			heap.Push(&m.old, it)
		}
		m.newest = max(m.newest, ms)
	}
	cut := m.newest - m.cfg.Horizon.Milliseconds()
	for len(m.old) > 0 && (m.old[0].ms < cut || len(m.old) > m.cfg.MaxEntries) {
		it := heap.Pop(&m.old).(*item)
		delete(m.entries, it.key)
	}
	return nil
}

func (m *Memory) Scan(ctx context.Context, since time.Time, fn func(Seen) error) error {
	m.mu.Lock()
	cut := m.newest - m.cfg.Horizon.Milliseconds()
	// Copies, so fn runs unlocked and may Record.
	var out []item
	for _, it := range m.entries {
		if it.ms >= cut && !it.seen.Time.Before(since) {
			out = append(out, *it)
		}
	}
	m.mu.Unlock()
	// Oldest first, as a reader of the history expects.
	sort.Slice(out, func(i, j int) bool { return out[i].less(&out[j]) })
	for i, it := range out {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(it.seen); err != nil {
			return err
		}
	}
	return nil
}

// less orders entries as Redis orders a sorted set: by score, then member.
func (it *item) less(o *item) bool {
	if it.ms != o.ms {
		return it.ms < o.ms
	}
	return it.member < o.member
}

type byAge []*item

func (h byAge) Len() int           { return len(h) }
func (h byAge) Less(i, j int) bool { return h[i].less(h[j]) }
func (h byAge) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *byAge) Push(x any) {
	it := x.(*item)
	it.idx = len(*h)
	*h = append(*h, it)
}
func (h *byAge) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
