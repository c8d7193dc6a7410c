package window

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/redistest"
)

// TestRedisCacheBound: the cache keeps at most CacheEntries idle entries,
// and an evicted key is read back from Redis exactly.
func TestRedisCacheBound(t *testing.T) {
	client, prefix := redistest.Client(t, "window-bound")
	ctx := context.Background()
	r, err := NewRedis(client, RedisConfig{Prefix: prefix, CacheEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	g := &Group{Name: "g", Features: []Feature{{Name: "n", Op: Count, Window: time.Hour}}}
	if err := g.Features[0].Validate(); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 3; round++ {
		var batch []*Update
		for k := 0; k < 50; k++ {
			batch = append(batch, &Update{Group: g, Key: fmt.Sprint("k", k), TxID: fmt.Sprint(round), Time: hotBase, Inputs: []Input{{Apply: true}}})
		}
		if err := r.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if n := r.cache.len(); n > 10 {
			t.Errorf("round %d: %d entries cached, want <= 10", round, n)
		}
		for _, u := range batch {
			if u.Out[0] != int64(round) {
				t.Fatalf("round %d %s: %v", round, u.Key, u.Out)
			}
		}
	}
	if s := r.Stats(); s.Misses < 100 {
		t.Errorf("stats %+v: want most keys read back", s)
	}
}
