package screening

import (
	"hash/maphash"
	"sync"
)

// cache keeps the results of recent queries: counterparties repeat, and a
// repeat costs a map lookup instead of a screening.
//
// It is split into shards (so the scoring workers rarely wait on one
// another) and each shard keeps two generations instead of an exact LRU
// list: a hit in the old generation moves the entry to the new one, and when
// the new one is full the old one is dropped whole. Recently used queries
// stay; the bound on entries is exact; a lookup is one or two map reads.
type cache struct {
	seed   maphash.Seed
	shards []cacheShard
}

type cacheShard struct {
	mu        sync.Mutex
	limit     int // entries per generation
	hot, cold map[string][]Match
}

const maxShards = 16

func newCache(max int) *cache {
	n := max / 2
	if n > maxShards {
		n = maxShards
	}
	if n < 1 {
		n = 1
	}
	c := &cache{seed: maphash.MakeSeed(), shards: make([]cacheShard, n)}
	limit := max / n / 2
	if limit < 1 {
		limit = 1
	}
	for i := range c.shards {
		c.shards[i].limit = limit
		c.shards[i].hot = make(map[string][]Match)
	}
	return c
}

func (c *cache) shard(k string) *cacheShard {
	return &c.shards[maphash.String(c.seed, k)%uint64(len(c.shards))]
}

func (c *cache) get(k string) ([]Match, bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if v, ok := sh.hot[k]; ok {
		return v, true
	}
	v, ok := sh.cold[k]
	if ok {
		sh.add(k, v)
	}
	return v, ok
}

func (c *cache) put(k string, v []Match) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.add(k, v)
}

func (sh *cacheShard) add(k string, v []Match) {
	if _, ok := sh.hot[k]; !ok && len(sh.hot) >= sh.limit {
		sh.cold, sh.hot = sh.hot, make(map[string][]Match, sh.limit)
	}
	sh.hot[k] = v
}

// len counts the distinct queries held.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.hot)
		for k := range sh.cold {
			if _, ok := sh.hot[k]; !ok {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
