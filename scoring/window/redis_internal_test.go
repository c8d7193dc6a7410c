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

// TestRecordsPackedPerWrite: a write puts its records of a day in one
// field, records written one per field (before packing) are still read,
// and both leave with their day.
func TestRecordsPackedPerWrite(t *testing.T) {
	client, prefix := redistest.Client(t, "window-packed")
	ctx := context.Background()
	r, err := NewRedis(client, RedisConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	g := &Group{Name: "g", Features: []Feature{{Name: "n", Op: Count, Window: time.Hour}}}
	if err := g.Features[0].Validate(); err != nil {
		t.Fatal(err)
	}
	key := prefix + "{g:k}"
	day := hotBase / dayMs
	old := fmt.Sprintf("t%d:old", day)
	if err := client.HSet(ctx, key, "v", "x", old, "7").Err(); err != nil {
		t.Fatal(err)
	}
	up := func(tx string, at int64) *Update {
		return &Update{Group: g, Key: "k", TxID: tx, Time: at, Inputs: []Input{{Apply: true}}}
	}
	batch := []*Update{up("old", hotBase), up("a", hotBase+1), up("b", hotBase+2), up("c", hotBase+3)}
	if err := r.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if !batch[0].Replayed || batch[0].Out[0] != 7 {
		t.Fatalf("the old record was not read: %+v", batch[0])
	}
	h, err := client.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	packed := fmt.Sprintf("T%d:%s", day, h["v"])
	if len(h) != 4 || h[old] != "7" || h[packed] != "1:a1;1:b2;1:c3;" {
		t.Fatalf("hash %v: want v, a, the old record and one field %s with the three new records", h, packed)
	}
	// A fresh store reads both kinds back: a redelivery is recognised.
	r2, err := NewRedis(client, RedisConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	again := []*Update{up("b", hotBase+2), up("old", hotBase)}
	if err := r2.Apply(ctx, again); err != nil {
		t.Fatal(err)
	}
	if !again[0].Replayed || again[0].Out[0] != 2 || !again[1].Replayed || again[1].Out[0] != 7 {
		t.Fatalf("redelivered: %+v %+v", again[0], again[1])
	}
	// Two days on, the first day's records are deleted, both kinds.
	later := []*Update{up("d", hotBase+2*dayMs)}
	if err := r2.Apply(ctx, later); err != nil {
		t.Fatal(err)
	}
	h, err = client.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h[old]; ok || h[packed] != "" || len(h) != 3 {
		t.Fatalf("hash %v: want the first day's records gone", h)
	}
}
