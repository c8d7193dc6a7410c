package window

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// DefaultCacheEntries bounds the Redis store's cache of (group, key) states.
const DefaultCacheEntries = 200_000

// maxAttempts bounds how often an Apply recomputes keys that other writers
// changed under it before it gives up.
const maxAttempts = 10

// RedisConfig configures the Redis store.
type RedisConfig struct {
	// Prefix starts every key; default "sluice:". It must not contain '{' or
	// '}', which would move the Redis Cluster hash tag.
	Prefix string
	// TTLSlack is added to every key's expiry (one day or the largest bucket,
	// whichever is longer, + largest window + Retain, counted from the key's
	// last write) so that a key outlives, in wall-clock time, the event time
	// that still needs it when the stream lags a little. Default one hour.
	TTLSlack time.Duration
	// CacheEntries bounds the (group, key) states kept in process; default
	// DefaultCacheEntries. A key not in the cache costs one more round trip
	// (HGETALL) in the batch that uses it.
	CacheEntries int
}

// Validate checks the config and fills defaults.
func (c *RedisConfig) Validate() error {
	if c.Prefix == "" {
		c.Prefix = "sluice:"
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		return fmt.Errorf("window: redis prefix %q must not contain '{' or '}'", c.Prefix)
	}
	if c.TTLSlack == 0 {
		c.TTLSlack = time.Hour
	}
	if c.TTLSlack < 0 {
		return fmt.Errorf("window: redis ttl slack %s must not be negative", c.TTLSlack)
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = DefaultCacheEntries
	}
	if c.CacheEntries < 0 {
		return fmt.Errorf("window: redis cache entries %d must not be negative", c.CacheEntries)
	}
	return nil
}

// Redis is the production Store: the windows are computed in Go on a cache
// of per-key states (the memory store's code), and Redis holds the durable,
// shared state, one hash per (group, key) (fields: codec.go), written with
// optimistic concurrency (see the package doc). On one server a script
// call writes up to 64 keys; on a Cluster or Ring client, one.
//
// When a round trip fails, the batch's keys are dropped from the cache and
// Apply returns the error; some keys may have been written: a redelivered
// batch returns their updates Replayed, with the values first returned.
type Redis struct {
	client redis.UniversalClient
	cfg    RedisConfig
	specs  specCache[*redisSpec]
	cache  *cache
	// keysPerScript is 1 for a cluster or ring, whose scripts must keep
	// to one slot, and more for one server, to share a script call's cost.
	keysPerScript int
	pool          sync.Pool       // *applyState
	loaded        atomic.Bool     // script loaded once, so batches do not all start with NOSCRIPT
	stats         [3]atomic.Int64 // misses, conflicts, writes: see Stats
}

// RedisStats counts what the store's Applys cost.
type RedisStats struct {
	Misses    int64 // states read from Redis (HGETALL): not cached, or changed by another writer
	Conflicts int64 // writes refused because another writer changed the key first
	Writes    int64 // keys written
}

// Stats returns the counts since the store was made.
func (r *Redis) Stats() RedisStats {
	return RedisStats{r.stats[0].Load(), r.stats[1].Load(), r.stats[2].Load()}
}

// redisSpec is how a group's state is laid out in its hash.
type redisSpec struct {
	*groupSpec
	byID     map[string]int // featureID -> index
	distinct []bool
	ttl      string // ms
}

// NewRedis returns a Redis store. The caller owns client: Close does not
// close it.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if client == nil {
		return nil, errors.New("window: redis client is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Redis{client: client, cfg: cfg, cache: newCache(cfg.CacheEntries), keysPerScript: 1}
	if _, ok := client.(*redis.Client); ok {
		r.keysPerScript = 64
	}
	r.specs.make = r.newSpec
	r.pool.New = func() any { return new(applyState) }
	return r, nil
}

func (r *Redis) newSpec(g *Group) (*redisSpec, error) {
	gs, err := newGroupSpec(g)
	if err != nil {
		return nil, err
	}
	s := &redisSpec{groupSpec: gs, byID: make(map[string]int, len(g.Features))}
	keep := int64(dayMs)
	for i := range g.Features {
		s.byID[gs.ids[i]] = i
		s.distinct = append(s.distinct, g.Features[i].Op == Distinct)
		keep = max(keep, g.Features[i].Bucket.Milliseconds())
	}
	s.ttl = strconv.FormatInt(gs.horizon+keep+r.cfg.TTLSlack.Milliseconds(), 10)
	return s, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("window: redis ping: %w", err)
	}
	return nil
}

// Close implements Store. It does not close the client.
func (r *Redis) Close() error { return nil }

// applyState is one Apply's working set, pooled.
type applyState struct {
	updates []*Update
	specs   []*redisSpec
	keyBuf  []byte
	keyEnd  []int // update i's key is keyBuf[keyEnd[i-1]:keyEnd[i]]
	uent    []int // update -> index in entries
	entries []*cacheEntry
	pending []int // updates not done yet
	todo    []int // updates of this round or attempt

	buf    []byte  // fields and values of the writes
	rec    []int64 // an idempotency record being encoded
	days   []int64 // the days of an entry's records being encoded
	keys   []string
	args   []any
	marks  []int
	writes []write
	chunks []chunk
	loads  []*redis.MapStringStringCmd
}

type write struct {
	ce         *cacheEntry
	version    string // the new version when the write succeeds
	update     bool   // false: check the version only
	nset, ndel int    // strings encoded to set (fields and values) and fields to delete
	ttl        bool   // refresh the TTL
}

// chunk is one script call: writes[from:to].
type chunk struct {
	from, to int
	keys     []string
	args     []any
	cmd      *redis.Cmd
}

func (st *applyState) key(i int) []byte {
	from := 0
	if i > 0 {
		from = st.keyEnd[i-1]
	}
	return st.keyBuf[from:st.keyEnd[i]]
}

func (st *applyState) reset() {
	clear(st.specs)
	clear(st.entries)
	clear(st.writes)
	clear(st.chunks)
	clear(st.loads)
	clear(st.keys)
	clear(st.args)
	*st = applyState{keyBuf: st.keyBuf[:0], keyEnd: st.keyEnd[:0], uent: st.uent[:0], todo: st.todo[:0], pending: st.pending[:0],
		specs: st.specs[:0], entries: st.entries[:0], buf: st.buf[:0], rec: st.rec[:0], days: st.days[:0], keys: st.keys[:0], args: st.args[:0], marks: st.marks[:0],
		writes: st.writes[:0], chunks: st.chunks[:0], loads: st.loads[:0]}
}

// Apply implements Store. A batch costs one round trip to write its keys
// (one CAS script per key, pipelined), plus one to read the keys that are
// not cached, plus, per conflict with another writer, one to read the
// conflicting keys again and one to write them.
func (r *Redis) Apply(ctx context.Context, updates []*Update) error {
	if len(updates) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := r.pool.Get().(*applyState)
	defer func() {
		st.reset()
		r.pool.Put(st)
	}()
	for _, u := range updates {
		s, err := r.specs.get(u.Group)
		if err != nil {
			return err
		}
		if err := checkUpdate(u, len(s.n)); err != nil {
			return err
		}
		st.specs = append(st.specs, s)
		st.keyBuf = append(st.keyBuf, r.cfg.Prefix...)
		st.keyBuf = append(st.keyBuf, '{')
		st.keyBuf = append(st.keyBuf, u.Group.Name...)
		st.keyBuf = append(st.keyBuf, ':')
		st.keyBuf = append(st.keyBuf, u.Key...)
		st.keyBuf = append(st.keyBuf, '}')
		st.keyEnd = append(st.keyEnd, len(st.keyBuf))
		st.pending = append(st.pending, len(st.pending))
	}
	st.updates = updates
	st.uent = append(st.uent[:0], make([]int, len(updates))...)
	// Keys another Apply holds wait for a later round, after this Apply
	// has released the keys of the round before: keys are independent, so
	// only the order of one key's updates matters, and as no Apply waits
	// while it holds keys, none can deadlock.
	for len(st.pending) > 0 {
		r.cache.acquire(st)
		err := r.run(ctx, st)
		r.cache.release(st)
		if err != nil {
			return err
		}
	}
	return nil
}

// run applies st.todo on st.entries, redoing the keys that conflict.
func (r *Redis) run(ctx context.Context, st *applyState) error {
	updates := st.updates
	for attempt := 1; ; attempt++ {
		for _, i := range st.todo {
			st.entries[st.uent[i]].touched = true
		}
		if err := r.load(ctx, st); err != nil {
			r.forgetAll(st)
			return err
		}
		for _, i := range st.todo {
			ce := st.entries[st.uent[i]]
			ce.e.apply(updates[i], st.specs[i].groupSpec)
		}
		conflicts, err := r.write(ctx, st)
		if err != nil {
			r.forgetAll(st)
			return err
		}
		if conflicts == 0 {
			return nil
		}
		r.stats[1].Add(int64(conflicts))
		if attempt == maxAttempts {
			r.forgetAll(st)
			return fmt.Errorf("window: redis apply: %d keys still changed by other writers after %d attempts", conflicts, attempt)
		}
		// Keys are independent: only the updates of the conflicting keys
		// are recomputed, on their fresh state; the others are done.
		todo := st.todo[:0]
		for _, i := range st.todo {
			if st.entries[st.uent[i]].redo {
				todo = append(todo, i)
			}
		}
		st.todo = todo
		for _, ce := range st.entries {
			ce.touched, ce.redo = false, false
		}
		if attempt > 1 {
			// Two writers in step on a hot key would conflict again and
			// again: a random pause lets one of them through.
			select {
			case <-ctx.Done():
				r.forgetAll(st)
				return ctx.Err()
			case <-time.After(time.Duration(rand.Int64N(int64(attempt) * int64(time.Millisecond)))):
			}
		}
	}
}

func (r *Redis) forgetAll(st *applyState) {
	for _, ce := range st.entries {
		ce.forget()
	}
}

// load reads, in one round trip, the touched entries that are not loaded.
func (r *Redis) load(ctx context.Context, st *applyState) error {
	st.loads = st.loads[:0]
	var pipe redis.Pipeliner
	for _, ce := range st.entries {
		if !ce.touched || ce.loaded {
			continue
		}
		if pipe == nil {
			pipe = r.client.Pipeline()
		}
		st.loads = append(st.loads, pipe.HGetAll(ctx, ce.key))
	}
	if pipe == nil {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("window: redis read: %w", err)
	}
	r.stats[0].Add(int64(len(st.loads)))
	k := 0
	for _, ce := range st.entries {
		if !ce.touched || ce.loaded {
			continue
		}
		h, err := st.loads[k].Result()
		k++
		if err != nil {
			return fmt.Errorf("window: redis read %s: %w", ce.key, err)
		}
		ce.forget()
		if !decodeEntry(ce, maps.All(h)) {
			ce.forget()
			return fmt.Errorf("window: redis read %s: hash has no version", ce.key)
		}
	}
	return nil
}

// write sends, in one round trip, a CAS per touched entry: the changed
// fields of the entries that changed, a version check for the others. It
// returns how many entries conflicted; those hold the fresh state the
// script returned, the others are clean at their new version.
func (r *Redis) write(ctx context.Context, st *applyState) (int, error) {
	st.writes = st.writes[:0]
	st.chunks = st.chunks[:0]
	st.buf = st.buf[:0]
	st.marks = st.marks[:0]
	now := time.Now().UnixNano()
	refresh := int64(r.cfg.TTLSlack / 2)
	for _, ce := range st.entries {
		if !ce.touched {
			continue
		}
		st.writes = append(st.writes, write{ce: ce})
		w := &st.writes[len(st.writes)-1]
		if ce.e.changed() {
			w.update = true
			// Fields are encoded into st.buf, remembered as offsets, and
			// made strings at once for the whole batch below.
			st.encode(w)
			// The TTL counts from the key's last refresh, done every
			// TTLSlack/2 rather than at every write.
			w.ttl = ce.version == "" || ce.ttlAt == 0 || now-ce.ttlAt > refresh
		}
	}
	// Every argument is a substring of st.buf, which is not copied: the
	// strings live until the pipeline below has been written (Exec is
	// synchronous) and st.buf is not touched before that, nor reused
	// before the next Apply. The version is the one kept after, cloned.
	all := unsafe.String(unsafe.SliceData(st.buf), len(st.buf))
	m := 0
	next := func() string {
		s := all[st.marks[m]:st.marks[m+1]]
		m += 2
		return s
	}
	pipe := r.client.Pipeline()
	for from := 0; from < len(st.writes); from += r.keysPerScript {
		to := min(from+r.keysPerScript, len(st.writes))
		n := 0
		for i := from; i < to; i++ {
			w := &st.writes[i]
			n += 6 + w.nset + w.ndel
		}
		// The chunks' keys and arguments are slices of st.keys and
		// st.args, kept from Apply to Apply.
		k0, a0 := len(st.keys), len(st.args)
		st.keys, st.args = slices.Grow(st.keys, to-from), slices.Grow(st.args, n)
		for i := from; i < to; i++ {
			w := &st.writes[i]
			ce := w.ce
			st.keys = append(st.keys, ce.key)
			if !w.update {
				st.args = append(st.args, ce.version, "", zero, zero)
				continue
			}
			ttl := ""
			if w.ttl {
				ttl = ce.spec.ttl
			}
			w.version = strings.Clone(next())
			st.args = append(st.args, ce.version, ttl, strconv.Itoa(2+w.nset), strconv.Itoa(w.ndel), "v", w.version)
			for j := 0; j < w.nset+w.ndel; j++ {
				st.args = append(st.args, next())
			}
		}
		c := chunk{from: from, to: to, keys: st.keys[k0:len(st.keys):len(st.keys)], args: st.args[a0:len(st.args):len(st.args)]}
		c.cmd = casScript.EvalSha(ctx, pipe, c.keys, c.args...)
		st.chunks = append(st.chunks, c)
	}
	if !r.loaded.Load() {
		if err := casScript.Load(ctx, r.client).Err(); err != nil {
			return 0, fmt.Errorf("window: redis script load: %w", err)
		}
		r.loaded.Store(true)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && noScript(st.chunks) {
		// The server lost its script cache (restart, SCRIPT FLUSH). A
		// script that failed with NOSCRIPT did not run, so running it with
		// its source is safe; the CAS keeps a key's writes in order.
		pipe := r.client.Pipeline()
		for i := range st.chunks {
			c := &st.chunks[i]
			if redis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
				c.cmd = casScript.Eval(ctx, pipe, c.keys, c.args...)
			}
		}
		_, err = pipe.Exec(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("window: redis write: %w", err)
	}
	conflicts := 0
	for i := range st.chunks {
		c := &st.chunks[i]
		res, err := c.cmd.Slice()
		if err == nil && len(res) != c.to-c.from {
			err = fmt.Errorf("%d results for %d keys", len(res), c.to-c.from)
		}
		if err != nil {
			return 0, fmt.Errorf("window: redis write: %w", err)
		}
		for k, x := range res {
			w := &st.writes[c.from+k]
			if fresh, ok := x.([]any); ok {
				// Another writer was first: the script returned the key's
				// state, so the retry needs no read of its own.
				conflicts++
				w.ce.forget()
				w.ce.redo = true
				if !decodeEntry(w.ce, pairsOf(fresh)) {
					w.ce.forget()
				}
				continue
			}
			if ok, _ := x.(int64); ok != 1 {
				return 0, fmt.Errorf("window: redis write %s: unexpected reply %v", w.ce.key, x)
			}
			if w.update {
				w.ce.version = w.version
				if w.ttl {
					w.ce.ttlAt = now
				}
				w.ce.e.clean()
				r.stats[2].Add(1)
			}
		}
	}
	return conflicts, nil
}

const zero = "0"

// pairsOf iterates over an HGETALL reply as a flat array.
func pairsOf(a []any) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := 0; i+1 < len(a); i += 2 {
			f, _ := a[i].(string)
			v, _ := a[i+1].(string)
			if !yield(f, v) {
				return
			}
		}
	}
}

func noScript(cs []chunk) bool {
	for i := range cs {
		if redis.HasErrorPrefix(cs[i].cmd.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// casScript writes keys that nobody wrote since they were read, each on
// its own: a conflict on one key does not stop the others.
//
// For each key KEYS[k], ARGV holds: the version read (” when the key did
// not exist), the TTL in ms (” to leave it), the number of set arguments
// (field, value, ... starting with "v" and the new version), the number of
// fields to delete, then those. With nothing to set it only checks the
// version. The result per key is 1, or on a conflict the key's fields and
// values (HGETALL). Deletes come first so that a field both deleted (an
// unreadable old record) and set (its new value) ends up set.
var casScript = redis.NewScript(`
local out = {}
local a = 1
for k = 1, #KEYS do
  local key = KEYS[k]
  local ns = tonumber(ARGV[a + 2])
  local nd = tonumber(ARGV[a + 3])
  local s = a + 4
  if (redis.call('HGET', key, 'v') or '') ~= ARGV[a] then
    out[k] = redis.call('HGETALL', key)
  else
    for i = s + ns, s + ns + nd - 1, 4000 do
      redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 3999, s + ns + nd - 1)))
    end
    for i = s, s + ns - 1, 4000 do
      redis.call('HSET', key, unpack(ARGV, i, math.min(i + 3999, s + ns - 1)))
    end
    if ARGV[a + 1] ~= '' then
      redis.call('PEXPIRE', key, ARGV[a + 1])
    end
    out[k] = 1
  end
  a = s + ns + nd
end
return out
`)

// newVersion is a random token rather than a counter: a key that expired
// and was made again by another writer must not match a stale cache.
func appendVersion(buf []byte) []byte {
	return strconv.AppendUint(buf, rand.Uint64(), 36)
}
