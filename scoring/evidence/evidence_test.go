package evidence

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/redistest"
)

// run applies the same items to a store and returns what Recent gives.
func run(t *testing.T, s Store) [][]Entry {
	t.Helper()
	ctx := context.Background()
	var items []Item
	for i := 0; i < 100; i++ {
		key := fmt.Sprintf("acct-%d", i%3)
		items = append(items, Item{Key: key, Entry: Entry{TxID: fmt.Sprintf("tx-%d", i), Time: int64(1000 + i), Mask: maskOf(70, func(f int) bool { return f == i%70 })}})
	}
	// A redelivery adds the same transactions again.
	items = append(items, items[95:]...)
	if err := s.Add(ctx, items[:50]); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, items[50:]); err != nil {
		t.Fatal(err)
	}
	got, err := s.Recent(ctx, []string{"acct-0", "acct-1", "acct-2", "none"})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestStoresAgree(t *testing.T) {
	mem := run(t, NewMemory(16))
	for k, es := range mem[:3] {
		seen := map[string]bool{}
		for i, e := range es {
			if seen[e.TxID] {
				t.Errorf("key %d: %s listed twice", k, e.TxID)
			}
			seen[e.TxID] = true
			if i > 0 && es[i-1].Time < e.Time {
				t.Errorf("key %d: not newest first", k)
			}
		}
		// The last Add gave each key 18 or 19 entries (its redelivered
		// ones already there): it keeps 16 more.
		if len(es) == 0 || len(es) > 16+19 {
			t.Errorf("key %d: %d entries, want 1..35", k, len(es))
		}
	}
	if len(mem[3]) != 0 {
		t.Errorf("unknown key: %v", mem[3])
	}
	rdb, prefix := redistest.Client(t, "evidence")
	rs, err := NewRedis(rdb, prefix, 16, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, rs); !reflect.DeepEqual(normalize(got), normalize(mem)) {
		t.Errorf("redis and memory differ:\nredis  %v\nmemory %v", got, mem)
	}
	held, err := NewRedis(rdb, prefix+"held:", 16, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	held.WriteBack(1000)
	if got := run(t, held); !reflect.DeepEqual(normalize(got), normalize(mem)) {
		t.Errorf("redis with its writes held back and memory differ:\nredis  %v\nmemory %v", got, mem)
	}
}

// normalize makes empty lists comparable.
func normalize(ls [][]Entry) [][]Entry {
	out := make([][]Entry, len(ls))
	for i, l := range ls {
		out[i] = append([]Entry{}, l...)
	}
	return out
}

// stream is 300 entries over 3 keys, mostly in time order, every seventh
// late by a while, with equal times here and there.
func stream() []Item {
	var items []Item
	for i := 0; i < 300; i++ {
		at := int64(1000 + 10*(i/2))
		if i%7 == 3 {
			at -= 400
		}
		items = append(items, Item{Key: fmt.Sprintf("acct-%d", i%3), Entry: Entry{TxID: fmt.Sprintf("tx-%03d", i), Time: at, Mask: maskOf(8, func(f int) bool { return f == i%8 })}})
	}
	return items
}

// views feeds the stream in batches of size n (each added twice, as a
// redelivery would) and returns, for each entry, its key's View just
// before it: what an alert raised on it may list.
// views gives the View before each entry of the stream, added in batches
// of n, of every batch whose number is a multiple of every: a store that
// holds its writes back writes the batches between in one go.
func views(t *testing.T, s Store, n, every int) [][]Entry {
	t.Helper()
	ctx := context.Background()
	items := stream()
	out := make([][]Entry, len(items))
	for lo := 0; lo < len(items); lo += n {
		batch := items[lo:min(lo+n, len(items))]
		for range 2 {
			if err := s.Add(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		if (lo/n)%every != 0 {
			continue
		}
		for i, it := range batch {
			later := map[string]bool{}
			for _, x := range batch[i:] {
				if x.Key == it.Key {
					later[x.Entry.TxID] = true
				}
			}
			got, err := s.Recent(ctx, []string{it.Key})
			if err != nil {
				t.Fatal(err)
			}
			out[lo+i] = View(got[0], later, s.Keep())
		}
	}
	return out
}

// What an alert lists must not depend on where batches were cut, nor on
// redeliveries, in either store: each entry's View is the same whatever the
// batch size, and the same in memory and in Redis.
func TestViewDoesNotDependOnBatches(t *testing.T) {
	want := views(t, NewMemory(16), 1, 1)
	for i, v := range want {
		if i > 60 && len(v) != 16 {
			t.Fatalf("entry %d: view of %d entries, want 16 (the keep)", i, len(v))
		}
	}
	rdb, prefix := redistest.Client(t, "evidence-view")
	for _, n := range []int{1, 7, 64, 300} {
		rs, err := NewRedis(rdb, fmt.Sprintf("%sn%d:", prefix, n), 16, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		held, err := NewRedis(rdb, fmt.Sprintf("%sheld%d:", prefix, n), 16, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		held.WriteBack(100_000)
		for name, s := range map[string]Store{"memory": NewMemory(16), "redis": rs, "redis, held back": held} {
			if name == "memory" && n == 1 {
				continue
			}
			every := 1
			if name == "redis, held back" {
				every = 3 // two batches' writes held back before each read
			}
			got := views(t, s, n, every)
			for i := range want {
				if got[i] != nil && !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, batches of %d: view before entry %d\n got %v\nwant %v", name, n, i, brief(got[i]), brief(want[i]))
				}
			}
		}
	}
}

func brief(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d", e.TxID, e.Time))
	}
	return out
}

func TestSelect(t *testing.T) {
	m := func(fs ...int) []uint64 { return maskOf(4, func(i int) bool { return contains(fs, i) }) }
	es := []Entry{ // newest first
		{TxID: "now", Time: 100, Mask: m(0)},
		{TxID: "same-time", Time: 100, Mask: m(0)},
		{TxID: "a", Time: 90, Mask: m(0)},
		{TxID: "b", Time: 80, Mask: m(1)},
		{TxID: "old", Time: 10, Mask: m(0)},
	}
	got := Select(es, []int{0}, []time.Duration{50 * time.Millisecond}, 100, "now", 10)
	if !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("Select = %v, want [a]: the trigger, equal times, other features and entries outside the window are left out", got)
	}
	if got := Select(es, []int{0, 1}, []time.Duration{time.Second, time.Second}, 100, "now", 2); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Select = %v, want [a b] (bounded at 2)", got)
	}
}

func contains(l []int, x int) bool {
	for _, v := range l {
		if v == x {
			return true
		}
	}
	return false
}

func TestEncodeRoundTrip(t *testing.T) {
	e := Entry{TxID: "tx|with|bars", Time: -5, Mask: []uint64{0, 1 << 63}}
	got, ok := decode(encode(e))
	if !ok || !reflect.DeepEqual(got, e) {
		t.Errorf("round trip %+v -> %+v", e, got)
	}
}

// FuzzDecode: a member of a key's sorted set, whatever it holds, decodes
// without a panic, and what decodes encodes to a member that decodes to
// the same entry.
func FuzzDecode(f *testing.F) {
	f.Add(encode(Entry{TxID: "tx-1", Time: 1700000000000, Mask: []uint64{5, 1 << 63}}))
	f.Add("12||")
	f.Add("x|1,2|t")
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := decode(s)
		if !ok {
			return
		}
		again, ok := decode(encode(e))
		if !ok || !same(again, e) {
			t.Fatalf("%q decodes to %+v, which encodes to %q, which decodes to %+v", s, e, encode(e), again)
		}
	})
}

// maskOf builds a mask of n features from a predicate.
func maskOf(n int, set func(i int) bool) []uint64 {
	m := make([]uint64, (n+63)/64)
	for i := 0; i < n; i++ {
		if set(i) {
			m[i/64] |= 1 << (uint(i) % 64)
		}
	}
	return m
}
