package window

import (
	"context"
	"hash/maphash"
	"runtime"
	"sync"
)

const memShards = 64

// Memory is the in-process Store, for the demo, replays and tests: the
// entries of the Redis store's cache (entry.go) with no backing store and no
// bound. Its results are identical to Redis's on identical input (see the
// package doc for the exact semantics both keep).
//
// State per key is bounded: buckets older than the window of the key's
// newest update are dropped, distinct members are capped, idempotency
// records older than the group's horizon (largest window + Retain, in event
// time) are dropped. Keys themselves are never forgotten: memory grows with
// the number of distinct keys, which is fine for a replay or a demo but is
// why production uses Redis (whose keys expire).
type Memory struct {
	seed   maphash.Seed
	specs  specCache[*groupSpec]
	shards [memShards]memShard
}

type memShard struct {
	mu  sync.Mutex
	m   map[string]*entry // by group name, 0, key
	buf []byte            // the key being looked up
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	m.specs.make = newGroupSpec
	for i := range m.shards {
		m.shards[i].m = make(map[string]*entry)
	}
	return m
}

// Apply implements Store. Updates are checked before any is applied.
func (m *Memory) Apply(ctx context.Context, updates []*Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, u := range updates {
		s, err := m.specs.get(u.Group)
		if err != nil {
			return err
		}
		if err := checkUpdate(u, len(s.n)); err != nil {
			return err
		}
	}
	// Keys are independent and each shard's updates keep their order, so
	// the shards are split between the cores when the batch is big enough.
	workers := min(runtime.GOMAXPROCS(0), len(updates)/256)
	if workers <= 1 {
		for _, u := range updates {
			m.apply(u, m.shard(u))
		}
		return nil
	}
	shards := make([]uint8, len(updates))
	for i, u := range updates {
		shards[i] = m.shard(u)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, u := range updates {
				if int(shards[i])%workers == w {
					m.apply(u, shards[i])
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

func (m *Memory) shard(u *Update) uint8 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(u.Group.Name)
	h.WriteByte(0)
	h.WriteString(u.Key)
	return uint8(h.Sum64() % memShards)
}

func (m *Memory) apply(u *Update, shard uint8) {
	s, _ := m.specs.get(u.Group)
	sh := &m.shards[shard]
	sh.mu.Lock()
	sh.buf = append(append(append(sh.buf[:0], u.Group.Name...), 0), u.Key...)
	e := sh.m[string(sh.buf)]
	if e == nil {
		e = &entry{}
		sh.m[string(sh.buf)] = e
	}
	e.apply(u, s)
	sh.mu.Unlock()
}

// Ping implements Store; memory is always reachable.
func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Close implements Store.
func (m *Memory) Close() error { return nil }
