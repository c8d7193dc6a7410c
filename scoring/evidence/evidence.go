// Package evidence keeps each account's most recent transactions with the
// window features each of them counted in, so that an alert can name every
// transaction that contributed to the values a rule saw (the deposits of a
// structuring alert, the senders of a fan-in), not only the one that
// triggered it.
//
// Two stores implement Store: memory (demo, replay, tests) and Redis
// (production). Both keep at most Keep entries per key, newest first.
package evidence

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
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
	// Add records items, in order. Adding the same transaction again (a
	// redelivery) may store it twice; Recent returns it once.
	Add(ctx context.Context, items []Item) error
	// Recent returns each key's entries, newest first, without duplicates.
	Recent(ctx context.Context, keys []string) ([][]Entry, error)
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

// MaskOf builds a mask from feature indexes.
func MaskOf(n int, set func(i int) bool) []uint64 {
	m := make([]uint64, (n+63)/64)
	for i := 0; i < n; i++ {
		if set(i) {
			m[i/64] |= 1 << (uint(i) % 64)
		}
	}
	return m
}

// Memory is the in-memory store.
type Memory struct {
	keep int
	mu   sync.Mutex
	m    map[string][]Entry // newest last
}

// NewMemory returns a memory store keeping keep entries per key (DefaultKeep when 0).
func NewMemory(keep int) *Memory {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Memory{keep: keep, m: map[string][]Entry{}}
}

func (s *Memory) Add(_ context.Context, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		l := append(s.m[it.Key], it.Entry)
		// A list may hold up to twice keep, so that trimming it (a copy)
		// happens once per keep additions, not at each.
		if len(l) > 2*s.keep {
			l = append(l[:0:0], l[len(l)-s.keep:]...)
		}
		s.m[it.Key] = l
	}
	return nil
}

func (s *Memory) Recent(_ context.Context, keys []string) ([][]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]Entry, len(keys))
	for i, k := range keys {
		l := s.m[k]
		l = l[max(0, len(l)-s.keep):]
		es := make([]Entry, 0, len(l))
		for j := len(l) - 1; j >= 0; j-- {
			es = append(es, l[j])
		}
		out[i] = dedupe(es)
	}
	return out, nil
}

// dedupe keeps the first (newest) entry of each transaction and orders by
// time, newest first, so both stores return the same list.
func dedupe(es []Entry) []Entry {
	seen := map[string]bool{}
	out := es[:0]
	for _, e := range es {
		if !seen[e.TxID] {
			seen[e.TxID] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time > out[j].Time })
	return out
}

// Redis keeps each key's entries in a capped list.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	keep   int
	ttl    time.Duration
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

func (s *Redis) key(k string) string { return s.prefix + "ev:{" + k + "}" }

// Add is one pipelined round trip: LPUSH, LTRIM and EXPIRE per key.
func (s *Redis) Add(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			k := s.key(it.Key)
			p.LPush(ctx, k, encode(it.Entry))
			p.LTrim(ctx, k, 0, int64(s.keep-1))
			p.Expire(ctx, k, s.ttl)
		}
		return nil
	})
	return err
}

func (s *Redis) Recent(ctx context.Context, keys []string) ([][]Entry, error) {
	cmds := make([]*redis.StringSliceCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.LRange(ctx, s.key(k), 0, int64(s.keep-1))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([][]Entry, len(keys))
	for i, c := range cmds {
		var es []Entry
		for _, v := range c.Val() {
			if e, ok := decode(v); ok {
				es = append(es, e)
			}
		}
		out[i] = dedupe(es)
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
