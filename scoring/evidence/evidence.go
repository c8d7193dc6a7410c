// Package evidence keeps each account's most recent transactions with the
// window features each of them counted in, so that an alert can name every
// transaction that contributed to the values a rule saw (the deposits of a
// structuring alert, the senders of a fan-in), not only the one that
// triggered it.
//
// Two stores implement Store: memory (demo, replay, tests) and Redis
// (production, a sorted set per key). Both keep a set of entries per key
// ordered by event time (ties by the entry's encoding), so adding an entry
// again (a redelivery) changes nothing, and both keep the same ones.
//
// What an alert may list must not depend on where batches were cut: View
// gives the entries of a key as they stood just before a given event of the
// batch, the Keep newest of the stream up to that event. For that, Add
// trims a key to Keep plus the number of entries the call gave it, so that
// the Keep newest from before the call are still there beside the call's.
package evidence

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/internal/writeback"
)

// DefaultKeep is how many recent transactions a key keeps.
const DefaultKeep = 64

// Entry is one transaction of a key: when it happened and which features
// (by index) it was applied to.
type Entry struct {
	TxID string
	Time int64    // event time, unix ms
	Mask []uint64 // bit i set: the transaction counted in feature i
}

// Has reports whether the entry counted in feature i.
func (e Entry) Has(i int) bool {
	w := i / 64
	return w < len(e.Mask) && e.Mask[w]&(1<<(uint(i)%64)) != 0
}

// Item is an entry to add under a key.
type Item struct {
	Key   string
	Entry Entry
}

// Store keeps recent entries per key.
type Store interface {
	// Add records items. An entry already there (same transaction, time
	// and mask: a redelivery) is not added twice. Each key keeps its Keep
	// newest entries plus as many as the call gave it. Add does not keep
	// the slice: the caller reuses it.
	Add(ctx context.Context, items []Item) error
	// Recent returns each key's entries, newest first (by time, ties by
	// encoding, greatest first).
	Recent(ctx context.Context, keys []string) ([][]Entry, error)
	// Keep is how many entries a key keeps between calls to Add.
	Keep() int
}

// View returns the entries of a key as they stood before an event of the
// batch last given to Add: entries (from Recent, newest first) without the
// batch's transactions that come at or after that event (later), at most
// keep of them. The result is the same wherever the batches were cut.
func View(entries []Entry, later map[string]bool, keep int) []Entry {
	out := make([]Entry, 0, min(len(entries), keep))
	for _, e := range entries {
		if len(out) == keep {
			break
		}
		if !later[e.TxID] {
			out = append(out, e)
		}
	}
	return out
}

// newer reports whether a sorts after b: by time, ties by encoding, as a
// Redis sorted set orders members of one score.
func newer(a, b Entry) bool {
	if a.Time != b.Time {
		return a.Time > b.Time
	}
	return encode(a) > encode(b)
}

func same(a, b Entry) bool {
	return a.TxID == b.TxID && a.Time == b.Time && slices.Equal(a.Mask, b.Mask)
}

// perKey counts the items of each key.
func perKey(items []Item) map[string]int {
	n := make(map[string]int)
	for _, it := range items {
		n[it.Key]++
	}
	return n
}

// Select returns the ids of the entries that counted in any of the features
// (with their windows) at time t: those at or before t within the feature's
// window, newest first, at most max. The transaction tx itself is left out
// (the caller puts it first). Entries at exactly t are left out too unless
// they are tx, so the result does not depend on where batches were cut.
func Select(entries []Entry, features []int, windows []time.Duration, t int64, tx string, max int) []string {
	var out []string
	for _, e := range entries {
		if e.TxID == tx || e.Time >= t {
			continue
		}
		for k, f := range features {
			if e.Has(f) && e.Time > t-windows[k].Milliseconds() {
				out = append(out, e.TxID)
				break
			}
		}
		if len(out) == max {
			break
		}
	}
	return out
}

// Memory is the in-memory store.
type Memory struct {
	keep int
	mu   sync.Mutex
	m    map[string][]Entry // oldest first
}

// NewMemory returns a memory store keeping keep entries per key (DefaultKeep when 0).
func NewMemory(keep int) *Memory {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Memory{keep: keep, m: map[string][]Entry{}}
}

// Keep implements Store.
func (s *Memory) Keep() int { return s.keep }

// Add implements Store.
func (s *Memory) Add(_ context.Context, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		l := s.m[it.Key]
		// Entries mostly come in time order: look from the newest end.
		i := len(l)
		for i > 0 && newer(l[i-1], it.Entry) {
			i--
		}
		if i > 0 && same(l[i-1], it.Entry) {
			continue
		}
		s.m[it.Key] = slices.Insert(l, i, it.Entry)
	}
	for k, n := range perKey(items) {
		if l := s.m[k]; len(l) > s.keep+n {
			// A reslice: the next growth copies only what is kept.
			s.m[k] = l[len(l)-s.keep-n:]
		}
	}
	return nil
}

// Recent implements Store.
func (s *Memory) Recent(_ context.Context, keys []string) ([][]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]Entry, len(keys))
	for i, k := range keys {
		l := s.m[k]
		es := make([]Entry, 0, len(l))
		for j := len(l) - 1; j >= 0; j-- {
			es = append(es, l[j])
		}
		out[i] = es
	}
	return out, nil
}

// Redis keeps each key's entries in a sorted set scored by event time.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	keep   int
	ttl    time.Duration
	held   *writeback.Buffer[Item] // see WriteBack
}

// NewRedis returns a Redis store; entries of a key expire ttl after its last write.
func NewRedis(rdb redis.UniversalClient, prefix string, keep int, ttl time.Duration) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("evidence: a Redis client is required")
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	if ttl <= 0 {
		ttl = 100 * 24 * time.Hour
	}
	return &Redis{rdb: rdb, prefix: prefix, keep: keep, ttl: ttl}, nil
}

// Keep implements Store.
func (s *Redis) Keep() int { return s.keep }

// key is the sorted set of k ("evz": the lists of earlier versions, under
// "ev", are left to expire).
func (s *Redis) key(k string) string { return s.prefix + "evz:{" + k + "}" }

// WriteBack makes Add hold items back (up to max of them) until Flush or
// Recent, which write them: off the path of the batch that adds them, and
// several batches' entries of a key in one ZADD. The caller must Flush
// before it reports those batches done (see package writeback). Call it
// before the store is used.
func (s *Redis) WriteBack(max int) {
	s.held = writeback.New(max, s.add)
}

// Flush writes what Add held back (nothing unless WriteBack was called).
func (s *Redis) Flush(ctx context.Context) error { return s.held.Flush(ctx) }

// Held is how many entries Add holds back now.
func (s *Redis) Held() int { return s.held.Len() }

// Add implements Store.
func (s *Redis) Add(ctx context.Context, items []Item) error {
	if s.held != nil {
		return s.held.Add(ctx, items)
	}
	return s.add(ctx, items)
}

// addChunk is about the most entries one round trip of add writes: a flush
// may hold many batches' entries (tens of thousands after Redis was down),
// which in one pipeline Redis would run ahead of the windows' writes of the
// batches being handled.
const addChunk = 128

// add writes items, a pipelined round trip per addChunk entries or so (a
// key's entries all in one).
func (s *Redis) add(ctx context.Context, items []Item) error {
	byKey, order := groupByKey(items)
	for lo := 0; lo < len(order); {
		hi, n := lo, 0
		for hi < len(order) && (hi == lo || n+len(byKey[order[hi]]) <= addChunk) {
			n += len(byKey[order[hi]])
			hi++
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.queueAdd(ctx, p, byKey, order[lo:hi])
			return nil
		})
		if err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// groupByKey gives the entries of each key, and the keys in the order they
// first come.
func groupByKey(items []Item) (map[string][]redis.Z, []string) {
	byKey := make(map[string][]redis.Z)
	var order []string
	for _, it := range items {
		if _, ok := byKey[it.Key]; !ok {
			order = append(order, it.Key)
		}
		byKey[it.Key] = append(byKey[it.Key], redis.Z{Score: float64(it.Entry.Time), Member: encode(it.Entry)})
	}
	return byKey, order
}

// queueAdd queues, per key, one ZADD of its entries, a ZREMRANGEBYRANK to
// its bound and an EXPIRE.
func (s *Redis) queueAdd(ctx context.Context, p redis.Pipeliner, byKey map[string][]redis.Z, keys []string) {
	for _, k := range keys {
		zs, rk := byKey[k], s.key(k)
		p.ZAdd(ctx, rk, zs...)
		p.ZRemRangeByRank(ctx, rk, 0, int64(-s.keep-len(zs)-1))
		p.Expire(ctx, rk, s.ttl)
	}
}

// Recent implements Store. What Add held back for keys is written first,
// in the same round trip.
func (s *Redis) Recent(ctx context.Context, keys []string) ([][]Entry, error) {
	cmds := make([]*redis.StringSliceCmd, len(keys))
	read := func(ctx context.Context, held []Item) error {
		byKey, order := groupByKey(held)
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.queueAdd(ctx, p, byKey, order)
			for i, k := range keys {
				cmds[i] = p.ZRevRange(ctx, s.key(k), 0, -1)
			}
			return nil
		})
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	}
	var err error
	if s.held != nil {
		// Only the held entries of the keys read: the rest are written
		// by the next flush, off this batch's path.
		want := make(map[string]bool, len(keys))
		for _, k := range keys {
			want[k] = true
		}
		err = s.held.FlushWith(ctx, func(it Item) bool { return want[it.Key] }, read)
	} else {
		err = read(ctx, nil)
	}
	if err != nil {
		return nil, err
	}
	out := make([][]Entry, len(keys))
	for i, c := range cmds {
		es := []Entry{}
		for _, v := range c.Val() {
			if e, ok := decode(v); ok {
				es = append(es, e)
			}
		}
		out[i] = es
	}
	return out, nil
}

// encode writes "time|mask words in hex, comma separated|txid".
func encode(e Entry) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(e.Time, 10))
	b.WriteByte('|')
	for i, w := range e.Mask {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(w, 16))
	}
	b.WriteByte('|')
	b.WriteString(e.TxID)
	return b.String()
}

func decode(s string) (Entry, bool) {
	ts, rest, ok := strings.Cut(s, "|")
	if !ok {
		return Entry{}, false
	}
	mask, tx, ok := strings.Cut(rest, "|")
	if !ok {
		return Entry{}, false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Entry{}, false
	}
	e := Entry{TxID: tx, Time: t}
	if mask != "" {
		for _, w := range strings.Split(mask, ",") {
			v, err := strconv.ParseUint(w, 16, 64)
			if err != nil {
				return Entry{}, false
			}
			e.Mask = append(e.Mask, v)
		}
	}
	return e, true
}
