package window_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/scoring/window"
	"github.com/sluice-aml/sluice/scoring/window/storetest"
)

func redisAddr() string {
	if a := os.Getenv("SLUICE_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

var prefixSeq atomic.Int64

// newRedis returns a store on a key prefix private to the test, whose keys
// are deleted when the test ends. It fails the test when Redis is down.
func newRedis(tb testing.TB) (*window.Redis, *redis.Client, string) {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: redisAddr(), PoolSize: 16})
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		tb.Fatalf("redis at %s is not reachable (start one or set SLUICE_TEST_REDIS): %v", redisAddr(), err)
	}
	prefix := fmt.Sprintf("sluicetest:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
	st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		var cursor uint64
		for {
			keys, next, err := client.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				tb.Errorf("cleaning up %s: %v", prefix, err)
				break
			}
			if len(keys) > 0 {
				client.Unlink(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		client.Close()
	})
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

// TestRedisBounded checks that every key expires, that old buckets, members
// and idempotency partitions are removed as event time moves on, and that
// distinct eviction follows ZSET order.
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
	for i := 0; i < 4*24*60/7; i++ {
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
	tx := 0
	for _, k := range keys {
		ttl, err := client.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 {
			t.Errorf("%s: ttl %v %v", k, ttl, err)
		}
		if strings.Contains(k, ":x:") {
			tx++
		}
		if strings.Contains(k, ":w:") {
			typ := client.Type(ctx, k).Val()
			var n int64
			if typ == "zset" {
				n = client.ZCard(ctx, k).Val()
			} else {
				n = client.HLen(ctx, k).Val()
			}
			if n > 10 {
				t.Errorf("%s: %d entries kept, want <= 10 buckets", k, n)
			}
		}
	}
	if len(keys) != 1+3+tx || tx < 1 || tx > 2 {
		t.Errorf("keys %v: want meta, 3 features and 1-2 idempotency days", keys)
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
	zs, err := client.ZRange(ctx, prefix+"{z:k}:w:d:distinct:60000", 0, -1).Result()
	if err != nil || strings.Join(zs, ",") != "c,ab" {
		t.Errorf("members kept %v (%v), want c,ab", zs, err)
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
