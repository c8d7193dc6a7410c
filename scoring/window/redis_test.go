package window_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/scoring/window"
	"github.com/sluice-aml/sluice/scoring/window/storetest"
)

// newRedis returns a store on a key prefix private to the test, whose keys
// are deleted when the test ends. It fails the test when Redis is down.
func newRedis(tb testing.TB) (*window.Redis, *redis.Client, string) {
	tb.Helper()
	client, prefix := redistest.Client(tb, "window")
	st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	return st, client, prefix
}

func TestRedis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store {
		st, _, _ := newRedis(t)
		return st
	})
}

func TestRedisConfig(t *testing.T) {
	c := window.RedisConfig{}
	if err := c.Validate(); err != nil || c.Prefix != "sluice:" || c.TTLSlack != time.Hour {
		t.Errorf("defaults: %+v %v", c, err)
	}
	for _, bad := range []window.RedisConfig{{Prefix: "a{b"}, {TTLSlack: -time.Second}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if _, err := window.NewRedis(nil, window.RedisConfig{}); err == nil {
		t.Error("nil client: no error")
	}
}

// TestRedisBounded checks that the key expires and that old buckets,
// members and idempotency records are deleted as event time moves on, and
// that distinct eviction follows ZSET order.
func TestRedisBounded(t *testing.T) {
	st, client, prefix := newRedis(t)
	ctx := context.Background()
	g := &window.Group{Name: "b", Retain: 30 * time.Minute, Features: []window.Feature{
		storetest.Feature("n", window.Count, 10*time.Minute, time.Minute, 0),
		storetest.Feature("m", window.Max, 10*time.Minute, time.Minute, 0),
		storetest.Feature("d", window.Distinct, 10*time.Minute, time.Minute, 3),
	}}
	// Four days, an event every 7 minutes, members cycling through 10.
	var batch []*window.Update
	events := 4 * 24 * 60 / 7
	for i := 0; i < events; i++ {
		batch = append(batch, &window.Update{Group: g, Key: "acct", TxID: fmt.Sprint(i), Time: storetest.Base + int64(i)*7*60_000,
			Inputs: []window.Input{{Apply: true}, {Apply: true, Value: int64(i)}, {Apply: true, Member: fmt.Sprint(i % 10)}}})
		if len(batch) == 100 {
			if err := st.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != prefix+"{b:acct}" {
		t.Fatalf("keys %v, want the one hash %s{b:acct}", keys, prefix)
	}
	if ttl, err := client.PTTL(ctx, keys[0]).Result(); err != nil || ttl <= 0 {
		t.Errorf("ttl %v %v", ttl, err)
	}
	h, err := client.HGetAll(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[byte]int{}
	days := map[string]bool{}
	records := 0
	for f, v := range h {
		kinds[f[0]]++
		if f[0] == 'T' {
			days[f[:strings.IndexByte(f, ':')]] = true
			records += strings.Count(v, ";")
		}
	}
	// Buckets: 10-minute windows of 1-minute buckets, one event in 7
	// minutes: at most 2 buckets each for n and m; at most 3 members.
	// Records: one field per write (a batch of 100 here) and day.
	if kinds['v'] != 1 || kinds['a'] != 1 || kinds['d'] > 3 || kinds['d'] < 1 || len(h) != 2+kinds['d']+kinds['T'] || kinds['T'] > 2*(events/100+1) {
		t.Errorf("fields by kind %v: want v, a, 1-3 members, records", kinds)
	}
	segs := strings.Split(h["a"], ";")
	if len(segs) != 3 {
		t.Errorf("a = %q: want newest and 2 features", h["a"])
	}
	for _, seg := range segs[1:] {
		if n := strings.Count(seg, "="); n < 1 || n > 2 {
			t.Errorf("a = %q: %d buckets in %q, want 1-2", h["a"], n, seg)
		}
	}
	// The horizon is 40 minutes: only the records of the last one or two
	// event days remain.
	if len(days) < 1 || len(days) > 2 || records < 1 || records > 2*24*60/7+1 {
		t.Errorf("%d records over days %v: want those of the last 1-2 days", records, days)
	}

	// Distinct eviction: lowest score first, ties by smallest member.
	g2 := &window.Group{Name: "z", Features: []window.Feature{storetest.Feature("d", window.Distinct, 10*time.Minute, time.Minute, 2)}}
	var us []*window.Update
	for i, m := range []string{"b", "a", "c", "ab"} {
		at := storetest.Base
		if i == 3 {
			at += 60_000
		}
		us = append(us, &window.Update{Group: g2, Key: "k", TxID: m, Time: at, Inputs: []window.Input{{Apply: true, Member: m}}})
	}
	if err := st.Apply(ctx, us); err != nil {
		t.Fatal(err)
	}
	// a, b at B -> c at B evicts a -> ab at B+1 evicts b.
	h, err = client.HGetAll(ctx, prefix+"{z:k}").Result()
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for f := range h {
		if f[0] == 'd' {
			members = append(members, f[strings.LastIndexByte(f, ':')+1:])
		}
	}
	slices.Sort(members)
	if strings.Join(members, ",") != "ab,c" {
		t.Errorf("members kept %v, want ab,c", members)
	}
}

// TestRedisScriptFlush checks the NOSCRIPT fallback.
func TestRedisScriptFlush(t *testing.T) {
	st, client, _ := newRedis(t)
	ctx := context.Background()
	g := &window.Group{Name: "f", Features: []window.Feature{storetest.Feature("n", window.Count, time.Hour, 0, 0)}}
	for i := 0; i < 3; i++ {
		if i == 1 {
			if err := client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		u := &window.Update{Group: g, Key: "k", TxID: fmt.Sprint(i), Time: storetest.Base, Inputs: []window.Input{{Apply: true}}}
		if err := st.Apply(ctx, []*window.Update{u}); err != nil {
			t.Fatal(err)
		}
		if u.Out[0] != int64(i+1) {
			t.Errorf("update %d: %v", i, u.Out)
		}
	}
}

func BenchmarkRedisApply(b *testing.B) {
	st, _, _ := newRedis(b)
	benchApply(b, st)
}

// TestRedisDifferentialSeeds runs more random streams than the suite does.
func TestRedisDifferentialSeeds(t *testing.T) {
	for seed := int64(2); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			st, _, _ := newRedis(t)
			storetest.Differential(t, st, window.NewMemory(), 5000, seed)
		})
	}
}

// TestRedisSmallCache runs the suite with a cache of one entry, so that
// nearly every batch rebuilds its keys from Redis.
func TestRedisSmallCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store {
		_, client, prefix := newRedis(t)
		st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix, CacheEntries: 1})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// alternating applies each batch with the next of its stores in turn, as
// processors consuming different partitions of one stream would.
type alternating struct {
	stores []window.Store
	next   int
	// renew, when set, replaces a store every few batches by a new
	// instance: a restart with an empty cache.
	renew func() window.Store
}

func (a *alternating) Apply(ctx context.Context, us []*window.Update) error {
	i := a.next % len(a.stores)
	a.next++
	if a.renew != nil && a.next%7 == 0 {
		a.stores[i] = a.renew()
	}
	return a.stores[i].Apply(ctx, us)
}

func (a *alternating) Ping(ctx context.Context) error { return a.stores[0].Ping(ctx) }
func (a *alternating) Close() error                   { return nil }

// TestRedisTwoInstances: two stores on the same prefix take turns on a
// stream over few keys, so most batches find their cache stale (the other
// store wrote the key): the results must equal one memory store's (and the
// model's) on the same updates in the same order.
func TestRedisTwoInstances(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			a, client, prefix := newRedis(t)
			b, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			storetest.Differential(t, &alternating{stores: []window.Store{a, b}}, window.NewMemory(), 3000, seed)
			sa, sb := a.Stats(), b.Stats()
			t.Logf("store a %+v, store b %+v", sa, sb)
			if sa.Conflicts+sb.Conflicts == 0 {
				t.Error("no conflicts: the test does not exercise stale caches")
			}
		})
	}
}

// TestRedisRestart: stores replaced by new instances (empty caches) every
// few batches continue exactly, redeliveries included.
func TestRedisRestart(t *testing.T) {
	_, client, prefix := newRedis(t)
	renew := func() window.Store {
		st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	storetest.Differential(t, &alternating{stores: []window.Store{renew()}, renew: renew}, window.NewMemory(), 3000, 7)

	// A batch redelivered to a new instance comes back replayed with the
	// values of its first application.
	g := storetest.BenchGroup()
	rng := rand.New(rand.NewSource(1))
	first := make([]*window.Update, 300)
	for i := range first {
		first[i] = &window.Update{}
		storetest.BenchUpdate(first[i], g, i, 50, rng)
		first[i].TxID = fmt.Sprint("tx", i)
	}
	ctx := context.Background()
	if err := renew().Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := make([]*window.Update, len(first))
	for i, u := range first {
		c := *u
		c.Out, c.Replayed = nil, false
		c.Inputs = slices.Clone(u.Inputs)
		for j := range c.Inputs {
			c.Inputs[j].Value++ // a replay's inputs are ignored
		}
		again[i] = &c
	}
	if err := renew().Apply(ctx, again); err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if !again[i].Replayed || !slices.Equal(again[i].Out, first[i].Out) {
			t.Fatalf("update %d after restart: %v replayed=%v, want %v replayed", i, again[i].Out, again[i].Replayed, first[i].Out)
		}
	}
}

// TestRedisContention: two instances apply concurrently to the same keys;
// every key's count must step through 1..n exactly once across both, which
// only holds if every conflicting write was detected and redone. With one
// shared instance, its Applys must take turns on the keys they share.
func TestRedisContention(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) { testContention(t, shared) })
	}
}

func testContention(t *testing.T, shared bool) {
	one, client, prefix := newRedis(t)
	g := &window.Group{Name: "c", Features: []window.Feature{storetest.Feature("n", window.Count, time.Hour, time.Minute, 0)}}
	const keys, perWorker, workers = 4, 400, 2
	outs := make([][]int64, workers)
	errs := make([]error, workers)
	var conflicts atomic.Int64
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- w }()
			st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix})
			if err != nil {
				errs[w] = err
				return
			}
			if shared {
				st = one
			}
			defer func() { conflicts.Add(st.Stats().Conflicts) }()
			for i := 0; i < perWorker; i += 20 {
				var batch []*window.Update
				for j := i; j < i+20; j++ {
					batch = append(batch, &window.Update{Group: g, Key: fmt.Sprint("k", j%keys), TxID: fmt.Sprint(w, "-", j),
						Time: storetest.Base, Inputs: []window.Input{{Apply: true}}})
				}
				if err := st.Apply(context.Background(), batch); err != nil {
					errs[w] = err
					return
				}
				for _, u := range batch {
					outs[w] = append(outs[w], u.Out[0])
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	perKey := make([][]int64, keys)
	for w := range outs {
		for j, v := range outs[w] {
			perKey[j%keys] = append(perKey[j%keys], v)
		}
	}
	for k, vs := range perKey {
		slices.Sort(vs)
		for i, v := range vs {
			if v != int64(i+1) {
				t.Fatalf("key %d: counts %v, want 1..%d each once", k, vs, len(vs))
			}
		}
	}
	t.Logf("%d conflicts", conflicts.Load())
}
