package window

import "sync"

// cacheEntry is one (group, key) of the Redis store's cache: its state as of
// version, the value of the hash's "v" field when it was read or written.
type cacheEntry struct {
	key     string // the Redis key
	e       entry
	log     entryLog
	version string // "" when the key does not exist in Redis
	loaded  bool   // e mirrors the Redis hash at version
	ttlAt   int64  // when this store last set the key's TTL, unix ns

	// Owned by the Apply holding the entry:
	owner   *applyState
	slot    int  // index in owner.entries
	touched bool // an update of the current attempt is on this entry
	redo    bool // its write conflicted: its updates go again
	spec    *redisSpec

	prev, next *cacheEntry
}

func newCacheEntry(key string) *cacheEntry {
	ce := &cacheEntry{key: key}
	ce.e.log = &ce.log
	return ce
}

// forget drops the state, so the next use reads it from Redis again.
func (ce *cacheEntry) forget() {
	ce.e = entry{log: &ce.log}
	ce.log = entryLog{}
	ce.version = ""
	ce.loaded = false
	ce.ttlAt = 0
}

// cache is an LRU of entries bounded in number. An Apply takes all the
// entries of its batch at once (or none, then waits), so two concurrent
// Applys on the same key run one after the other and cannot deadlock.
type cache struct {
	mu   sync.Mutex
	idle sync.Cond // signalled when entries are released
	m    map[string]*cacheEntry
	head cacheEntry // sentinel: head.next is the most recently used
	max  int
}

func newCache(max int) *cache {
	c := &cache{m: make(map[string]*cacheEntry), max: max}
	c.idle.L = &c.mu
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *cache) unlink(ce *cacheEntry) {
	ce.prev.next, ce.next.prev = ce.next, ce.prev
}

func (c *cache) pushFront(ce *cacheEntry) {
	ce.prev, ce.next = &c.head, c.head.next
	c.head.next.prev = ce
	c.head.next = ce
}

// acquire takes the entries of st.pending's updates that no other Apply
// holds, at least one (it waits for that), and moves their updates to
// st.todo, with st.uent their entry and st.entries the distinct entries.
// The updates of entries held by others stay pending, in order.
func (c *cache) acquire(st *applyState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st.entries = st.entries[:0]
	st.todo = st.todo[:0]
	for {
		pending := st.pending[:0]
		for _, i := range st.pending {
			k := st.key(i)
			ce := c.m[string(k)]
			if ce == nil {
				ce = newCacheEntry(string(k))
				c.m[ce.key] = ce
				c.pushFront(ce)
			}
			switch ce.owner {
			case st:
			case nil:
				ce.owner = st
				ce.spec = st.specs[i]
				ce.slot = len(st.entries)
				st.entries = append(st.entries, ce)
				c.unlink(ce)
				c.pushFront(ce)
			default:
				pending = append(pending, i)
				continue
			}
			st.uent[i] = ce.slot
			st.todo = append(st.todo, i)
		}
		st.pending = pending
		if len(st.todo) > 0 {
			return
		}
		c.idle.Wait()
	}
}

// release gives st's entries back and evicts the least recently used idle
// entries beyond the bound.
func (c *cache) release(st *applyState) {
	c.mu.Lock()
	for _, ce := range st.entries {
		ce.owner = nil
		ce.touched, ce.redo = false, false
		ce.spec = nil
	}
	for ce := c.head.prev; len(c.m) > c.max && ce != &c.head; {
		prev := ce.prev
		if ce.owner == nil {
			c.unlink(ce)
			delete(c.m, ce.key)
		}
		ce = prev
	}
	c.mu.Unlock()
	c.idle.Broadcast()
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
