package window

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fuzzGroup has one feature of each kind.
func fuzzGroup(t testing.TB) (*Group, *redisSpec) {
	g := &Group{Name: "g", Retain: time.Hour, Features: []Feature{
		{Name: "n", Op: Count, Window: time.Hour},
		{Name: "s", Op: Sum, Window: 24 * time.Hour},
		{Name: "m", Op: Max, Window: time.Hour},
		{Name: "d", Op: Distinct, Window: time.Hour, DistinctCap: 3},
	}}
	for i := range g.Features {
		if err := g.Features[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewRedis(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), RedisConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.newSpec(g)
	if err != nil {
		t.Fatal(err)
	}
	return g, s
}

func fuzzUpdate(g *Group, tx string, t int64, v int64, m string) *Update {
	in := make([]Input, len(g.Features))
	for i := range in {
		in[i] = Input{Apply: true, Value: v, Member: m}
	}
	return &Update{Group: g, Key: "k", TxID: tx, Time: t, Inputs: in, Out: make([]int64, len(g.Features))}
}

// encodeHash returns the fields and values a write of ce sets, as the
// hash holds them after that write: "field\x00value\x00...".
func encodeHash(ce *cacheEntry) []byte {
	st := &applyState{}
	w := &write{ce: ce}
	st.encode(w)
	str := func(k int) []byte { return st.buf[st.marks[2*k]:st.marks[2*k+1]] }
	out := append([]byte("v\x00"), str(0)...)
	out = append(out, 0)
	for k := 1; k <= w.nset; k++ { // the version, then field, value, ...
		out = append(out, str(k)...)
		out = append(out, 0)
	}
	return out
}

func pairs(b []byte) func(yield func(string, string) bool) {
	parts := bytes.Split(b, []byte{0})
	return func(yield func(string, string) bool) {
		for i := 0; i+1 < len(parts); i += 2 {
			if !yield(string(parts[i]), string(parts[i+1])) {
				return
			}
		}
	}
}

// FuzzDecodeEntry: whatever a key's hash holds (another version's fields,
// a hand edit, garbage), reading it neither panics nor breaks the next
// update and write of the key.
func FuzzDecodeEntry(f *testing.F) {
	g, s := fuzzGroup(f)
	ce := newCacheEntry("k")
	ce.spec = s
	for i, m := range []string{"a", "b", "c", "d", "a"} {
		ce.e.apply(fuzzUpdate(g, string(rune('p'+i)), hotBase+int64(i)*600_000, int64(100*i-150), m), s.groupSpec)
	}
	seed := encodeHash(ce)
	// The seed reads back as the entry it was written from.
	back := newCacheEntry("k")
	back.spec = s
	if !decodeEntry(back, pairs(seed)) {
		f.Fatalf("the encoding of a written entry does not decode: %q", seed)
	}
	want, got := fuzzUpdate(g, "probe", hotBase+3_000_000, 1, "e"), fuzzUpdate(g, "probe", hotBase+3_000_000, 1, "e")
	ce.e.apply(want, s.groupSpec)
	back.e.apply(got, s.groupSpec)
	if !slices.Equal(got.Out, want.Out) || want.Out[0] != 6 {
		f.Fatalf("read back: %v, written: %v (want a count of 6)", got.Out, want.Out)
	}
	f.Add(seed)
	f.Add([]byte("v\x00x\x00a\x00;n1=2\x00"))
	f.Add([]byte("v\x001\x00a\x001700000000000;s5=1,-3=2\x00dd\x00\x00t19676:tx\x001,2\x00"))
	// Records one a field (as written before T fields), and a T field.
	f.Add([]byte("v\x001\x00t19676:old\x001,2,3,4\x00T19676:x\x003:abc1,0,0,2;2:de0,1,0,0;\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ce := newCacheEntry("k")
		ce.spec = s
		if !decodeEntry(ce, pairs(b)) {
			return
		}
		u := fuzzUpdate(g, "new", hotBase+3_600_000, 7, "z")
		ce.e.apply(u, s.groupSpec)
		if u.Out[0] < 0 {
			t.Fatalf("count %d after an update", u.Out[0])
		}
		if ce.e.changed() {
			encodeHash(ce)
		}
	})
}
