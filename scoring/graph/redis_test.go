package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/graph/graphtest"
)

func newRedis(tb testing.TB, cfg graph.Config) (*graph.Redis, *redis.Client, string) {
	tb.Helper()
	client, prefix := redistest.Client(tb, "graph")
	st, err := graph.NewRedis(client, cfg, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return st, client, prefix
}

func TestRedisContract(t *testing.T) {
	graphtest.Run(t, func(t *testing.T, cfg graph.Config) graph.Store {
		st, _, _ := newRedis(t, cfg)
		return st
	})
}

func TestRedisKeysAndTTL(t *testing.T) {
	cfg := graph.Config{Window: 48 * time.Hour, Retain: time.Hour, MaxEdgesPerAccount: 4}
	st, client, prefix := newRedis(t, cfg)
	ctx := context.Background()
	var edges []graph.Edge
	for i := 0; i < 10; i++ {
		edges = append(edges, graphtest.E(fmt.Sprintf("t%d", i), "a|b:c", fmt.Sprintf("r%d", i), 100, float64(i)))
	}
	if _, err := st.Observe(ctx, edges); err != nil {
		t.Fatal(err)
	}
	key := prefix + "{a|b:c}:o"
	members, err := client.ZRange(ctx, key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("2:r6|100|%d|t6", graphtest.E("", "", "", 0, 6).Time),
		fmt.Sprintf("2:r7|100|%d|t7", graphtest.E("", "", "", 0, 7).Time),
		fmt.Sprintf("2:r8|100|%d|t8", graphtest.E("", "", "", 0, 8).Time),
		fmt.Sprintf("2:r9|100|%d|t9", graphtest.E("", "", "", 0, 9).Time),
	}
	if fmt.Sprint(members) != fmt.Sprint(want) {
		t.Errorf("%s = %q, want the newest 4 %q", key, members, want)
	}
	for _, k := range []string{key, prefix + "{r9}:i", prefix + "x:t9"} {
		ttl, err := client.PTTL(ctx, k).Result()
		if err != nil || ttl <= 49*time.Hour || ttl > 50*time.Hour {
			t.Errorf("%s: ttl %v (%v), want window+retain+1h = 50h", k, ttl, err)
		}
	}
	// A corrupt member is an error naming the key, not a silent miss.
	client.ZAdd(ctx, prefix+"{bad}:i", redis.Z{Score: float64(graphtest.Base), Member: "garbage"})
	if _, err := st.Observe(ctx, []graph.Edge{graphtest.E("z", "q", "bad", 1, 0)}); err == nil {
		t.Error("corrupt member: no error")
	}
	if _, err := graph.NewRedis(client, graph.Config{}, "a{b"); err == nil {
		t.Error("prefix with a brace: no error")
	}
	if err := st.Ping(ctx); err != nil {
		t.Error(err)
	}
}

// TestRedisMatchesMemory runs a larger random stream, with small bounds so
// that trimming and the frontier cut are exercised, through both stores.
func TestRedisMatchesMemory(t *testing.T) {
	for _, cfg := range []graph.Config{
		{MaxEdgesPerAccount: 4, MaxFrontier: 8, MaxTx: 5, Window: 72 * time.Hour},
		{MaxEdgesPerAccount: 16, MaxHops: 4},
		{},
	} {
		st, _, _ := newRedis(t, cfg)
		graphtest.Differential(t, st, graph.NewMemory(cfg), graphtest.RandomEdges(5000, 100, 7), 7)
	}
}
