// Package storetest is the contract test suite every window.Store must pass:
// the memory and Redis stores run the same cases and must agree, update for
// update, with each other and with a naive model of the semantics.
package storetest

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/scoring/window"
)

// Base is a noon UTC, so that minutes, hours and days start at round offsets.
const Base = int64(19676)*dayMs + 12*60*60*1000

const minute = int64(60 * 1000)

// Run runs the suite. newStore must return an empty store, private to the
// calling test (a fresh key prefix for Redis).
func Run(t *testing.T, newStore func(t *testing.T) window.Store) {
	t.Run("Steps", func(t *testing.T) { testSteps(t, newStore) })
	t.Run("ManyKeysOneBatch", func(t *testing.T) { testManyKeys(t, newStore(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("NinetyDays", func(t *testing.T) { testNinetyDays(t, newStore(t)) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, newStore(t)) })
	t.Run("Differential", func(t *testing.T) {
		Differential(t, newStore(t), window.NewMemory(), 5000, 1)
	})
}

// Feature returns a validated feature; it panics on a bad one because the
// suite's groups are constants.
func Feature(name string, op window.Op, win, bucket time.Duration, limit int) window.Feature {
	f := window.Feature{Name: name, Op: op, Window: win, Bucket: bucket, DistinctCap: limit}
	if err := f.Validate(); err != nil {
		panic(err)
	}
	return f
}

// step is one update on one key; at is the offset from Base in ms.
type step struct {
	tx       string
	at       int64
	in       []window.Input
	want     []int64
	replayed bool
}

func add(v int64) window.Input              { return window.Input{Apply: true, Value: v} }
func member(m string) window.Input          { return window.Input{Apply: true, Member: m} }
func read() window.Input                    { return window.Input{} }
func ins(in ...window.Input) []window.Input { return in }
func vals(v ...int64) []int64               { return v }

type stepCase struct {
	name  string
	group window.Group
	steps []step
}

func stepCases() []stepCase {
	tenMin := func(name string, op window.Op, limit int) window.Feature {
		return Feature(name, op, 10*time.Minute, time.Minute, limit)
	}
	return []stepCase{
		{"count/edges", window.Group{Name: "c", Features: []window.Feature{tenMin("n", window.Count, 0)}}, []step{
			{"a", 0, ins(add(0)), vals(1), false},
			{"b", minute - 1, ins(add(0)), vals(2), false},
			{"c", minute, ins(add(0)), vals(3), false},
			{"d", 10*minute - 1, ins(read()), vals(3), false}, // window [B, B+9]: all
			{"e", 10 * minute, ins(read()), vals(1), false},   // [B+1, B+10]: only c
			{"f", 10 * minute, ins(add(0)), vals(2), false},
		}},
		{"sum", window.Group{Name: "s", Features: []window.Feature{tenMin("v", window.Sum, 0)}}, []step{
			{"a", 0, ins(add(100)), vals(100), false},
			{"b", 30_000, ins(add(250)), vals(350), false},
			{"c", 5 * minute, ins(add(-50)), vals(300), false},
			{"d", 10 * minute, ins(read()), vals(-50), false},
			{"e", 15*minute - 1, ins(read()), vals(-50), false},
			{"f", 15 * minute, ins(read()), vals(0), false},
		}},
		{"max", window.Group{Name: "m", Features: []window.Feature{tenMin("v", window.Max, 0)}}, []step{
			{"a", 0, ins(add(500)), vals(500), false},
			{"b", minute, ins(add(200)), vals(500), false},
			{"c", 2 * minute, ins(add(700)), vals(700), false},
			{"d", 10 * minute, ins(read()), vals(700), false},
			{"e", 12 * minute, ins(read()), vals(0), false},
			{"f", 12 * minute, ins(add(-3)), vals(-3), false},
			{"g", 12 * minute, ins(add(-9)), vals(-3), false},
		}},
		{"distinct", window.Group{Name: "d", Features: []window.Feature{tenMin("m", window.Distinct, 0)}}, []step{
			{"a", 0, ins(member("x")), vals(1), false},
			{"b", minute, ins(member("y")), vals(2), false},
			{"c", 2 * minute, ins(member("x")), vals(2), false}, // x's score moves to B+2
			{"d", 10 * minute, ins(read()), vals(2), false},
			{"e", 11 * minute, ins(read()), vals(1), false},
			{"f", 12 * minute, ins(member("y")), vals(1), false},
			{"g", 12 * minute, ins(member("")), vals(2), false}, // the empty member is a member
		}},
		{"out-of-order", window.Group{Name: "o", Features: []window.Feature{
			tenMin("n", window.Count, 0), tenMin("s", window.Sum, 0), tenMin("m", window.Max, 0), tenMin("d", window.Distinct, 0),
		}}, []step{
			{"a", 5 * minute, ins(add(0), add(10), add(10), member("p")), vals(1, 10, 10, 1), false},
			{"b", 2 * minute, ins(add(0), add(30), add(30), member("q")), vals(1, 30, 30, 1), false},
			{"c", 6 * minute, ins(read(), read(), read(), read()), vals(2, 40, 30, 2), false},
			{"d", 3 * minute, ins(add(0), add(5), add(5), member("p")), vals(2, 35, 30, 1), false},
			{"e", 11 * minute, ins(read(), read(), read(), read()), vals(3, 45, 30, 2), false},
			{"f", 12 * minute, ins(read(), read(), read(), read()), vals(2, 15, 10, 1), false},
		}},
		{"late-beyond-window", window.Group{Name: "l", Features: []window.Feature{tenMin("n", window.Count, 0)}}, []step{
			{"a", 0, ins(add(0)), vals(1), false},
			{"b", 20 * minute, ins(add(0)), vals(1), false},
			// c's window [B-8, B+1] would hold a, but b already dropped a's bucket.
			{"c", minute, ins(add(0)), vals(1), false},
			{"d", 20 * minute, ins(read()), vals(1), false},
		}},
		{"read-only", window.Group{Name: "r", Features: []window.Feature{tenMin("n", window.Count, 0), tenMin("s", window.Sum, 0)}}, []step{
			{"a", 0, ins(read(), read()), vals(0, 0), false},
			{"b", 0, ins(add(0), add(5)), vals(1, 5), false},
			{"c", 0, ins(read(), read()), vals(1, 5), false},
			{"d", 0, ins(add(0), read()), vals(2, 5), false},
			{"e", 0, ins(read(), add(7)), vals(2, 12), false},
		}},
		{"no-read", window.Group{Name: "nr", Features: []window.Feature{tenMin("n", window.Count, 0), tenMin("d", window.Distinct, 0)}}, []step{
			{"a", 0, ins(add(0), member("x")), vals(1, 1), false},
			// Applied but not read: counted, Out 0.
			{"b", minute, ins(window.Input{Apply: true, NoRead: true}, window.Input{Apply: true, Member: "y", NoRead: true}), vals(0, 0), false},
			// Neither applied nor read at B+20: untouched, its old buckets stay...
			{"c", 20 * minute, ins(window.Input{NoRead: true}, window.Input{NoRead: true}), vals(0, 0), false},
			// ...for an out-of-order read inside their window.
			{"d", 5 * minute, ins(read(), read()), vals(2, 2), false},
			{"e", 20 * minute, ins(read(), read()), vals(0, 0), false},
			{"f", 5 * minute, ins(read(), read()), vals(0, 0), false},
		}},
		{"idempotent", window.Group{Name: "i", Features: []window.Feature{tenMin("n", window.Count, 0), tenMin("s", window.Sum, 0)}}, []step{
			{"a", 0, ins(add(0), add(100)), vals(1, 100), false},
			{"b", minute, ins(add(0), add(50)), vals(2, 150), false},
			{"a", 0, ins(add(0), add(100)), vals(1, 100), true},
			{"c", 2 * minute, ins(add(0), add(1)), vals(3, 151), false},
			{"b", minute, ins(add(0), add(9999)), vals(2, 150), true}, // inputs of a replay are ignored
			{"r", 3 * minute, ins(read(), read()), vals(3, 151), false},
			{"e", 3 * minute, ins(add(0), add(1)), vals(4, 152), false},
			{"r", 3 * minute, ins(read(), read()), vals(3, 151), true},
			{"a", 0, ins(add(0), add(100)), vals(1, 100), true},
		}},
		{"idempotency-horizon", window.Group{Name: "h", Retain: time.Hour, Features: []window.Feature{tenMin("n", window.Count, 0)}}, []step{
			{"a", 0, ins(add(0)), vals(1), false},
			{"a", 0, ins(add(0)), vals(1), true},
			{"b", 2 * dayMs, ins(add(0)), vals(1), false},
			// a's day is now older than the horizon (70m): read only, not recorded.
			{"a", 0, ins(add(0)), vals(0), false},
			{"a", 0, ins(add(0)), vals(0), false},
			{"c", 2*dayMs + minute, ins(add(0)), vals(2), false},
			{"b", 2 * dayMs, ins(add(0)), vals(1), true},
		}},
		{"distinct-cap", window.Group{Name: "x", Features: []window.Feature{tenMin("m", window.Distinct, 2)}}, []step{
			{"a", 5 * minute, ins(member("a")), vals(1), false},
			{"b", 6 * minute, ins(member("b")), vals(2), false},
			{"c", 7 * minute, ins(member("c")), vals(2), false}, // evicts a, the lowest score
			{"d", 5 * minute, ins(read()), vals(0), false},
			{"e", 6 * minute, ins(read()), vals(1), false},
			{"f", 7 * minute, ins(member("aa")), vals(2), false}, // evicts b
			{"g", 6 * minute, ins(read()), vals(0), false},
			{"h", 7 * minute, ins(member("ab")), vals(2), false}, // ties at B+7: evicts aa
			{"i", 8 * minute, ins(member("c")), vals(2), false},
			{"j", 7 * minute, ins(read()), vals(1), false},
			{"k", 4 * minute, ins(member("z")), vals(0), false}, // late and lowest: evicted at once
			{"l", 8 * minute, ins(read()), vals(2), false},
		}},
	}
}

// testSteps runs every case twice on fresh keys: one update per Apply, and
// all updates in one batch, which must see each other in order.
func testSteps(t *testing.T, newStore func(t *testing.T) window.Store) {
	for _, tc := range stepCases() {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			ctx := context.Background()
			g := tc.group
			mk := func(s step, key string) *window.Update {
				return &window.Update{Group: &g, Key: key, TxID: s.tx, Time: Base + s.at, Inputs: s.in}
			}
			var batch []*window.Update
			for i, s := range tc.steps {
				u := mk(s, "one-by-one")
				if err := st.Apply(ctx, []*window.Update{u}); err != nil {
					t.Fatalf("step %d (%s): %v", i, s.tx, err)
				}
				check(t, fmt.Sprintf("one-by-one step %d (%s)", i, s.tx), u, s.want, s.replayed)
				batch = append(batch, mk(s, "batched"))
			}
			if err := st.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				check(t, fmt.Sprintf("batched step %d (%s)", i, s.tx), batch[i], s.want, s.replayed)
			}
		})
	}
}

func check(t *testing.T, what string, u *window.Update, want []int64, replayed bool) {
	t.Helper()
	if !slices.Equal(u.Out, want) || u.Replayed != replayed {
		t.Errorf("%s: got %v replayed=%v, want %v replayed=%v", what, u.Out, u.Replayed, want, replayed)
	}
}

// BenchGroup is a realistic group: eight features over a day to 90 days,
// two of them distinct counts.
func BenchGroup() *window.Group {
	return &window.Group{Name: "to.account", Retain: time.Hour, Features: []window.Feature{
		Feature("n_1h", window.Count, time.Hour, 0, 0),
		Feature("n_24h", window.Count, 24*time.Hour, 0, 0),
		Feature("sum_24h", window.Sum, 24*time.Hour, 0, 0),
		Feature("sum_7d", window.Sum, 7*24*time.Hour, 0, 0),
		Feature("max_24h", window.Max, 24*time.Hour, 0, 0),
		Feature("sum_90d", window.Sum, 90*24*time.Hour, 0, 0),
		Feature("senders_24h", window.Distinct, 24*time.Hour, 0, 100),
		Feature("cities_30d", window.Distinct, 30*24*time.Hour, 0, 100),
	}}
}

// BenchUpdate fills u (reusing its slices, except TxID, which the caller
// sets) with the i-th update of a stream over keys keys, one event every
// 10ms of event time.
func BenchUpdate(u *window.Update, g *window.Group, i, keys int, rng *rand.Rand) {
	u.Group = g
	u.Key = benchKeys[i%keys%len(benchKeys)]
	u.Time = Base + int64(i)*10
	if len(u.Inputs) != len(g.Features) {
		u.Inputs = make([]window.Input, len(g.Features))
	}
	v := rng.Int63n(1_000_000)
	for j := range u.Inputs {
		u.Inputs[j] = window.Input{Apply: true, Value: v}
	}
	u.Inputs[6].Member = benchMembers[rng.Intn(len(benchMembers))]
	u.Inputs[7].Member = benchMembers[rng.Intn(50)]
}

var benchKeys, benchMembers = func() ([]string, []string) {
	k := make([]string, 10_000)
	for i := range k {
		k[i] = fmt.Sprintf("NL%02dBANK%010d", i%97, i)
	}
	m := make([]string, 500)
	for i := range m {
		m[i] = fmt.Sprintf("cp-%d", i)
	}
	return k, m
}()

func testManyKeys(t *testing.T, st window.Store) {
	g := &window.Group{Name: "many", Features: []window.Feature{
		Feature("n", window.Count, time.Hour, time.Minute, 0),
		Feature("s", window.Sum, time.Hour, time.Minute, 0),
		Feature("d", window.Distinct, time.Hour, time.Minute, 0),
	}}
	const keys, per = 100, 5
	var batch []*window.Update
	for j := 0; j < per; j++ {
		for k := 0; k < keys; k++ {
			batch = append(batch, &window.Update{Group: g, Key: fmt.Sprint("k", k), TxID: fmt.Sprint("t", j),
				Time: Base + int64(j)*minute, Inputs: ins(add(0), add(int64(k)), member(fmt.Sprint(j%3)))})
		}
	}
	if err := st.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i, u := range batch {
		j, k := int64(i/keys), int64(i%keys)
		want := vals(j+1, (j+1)*k, min(j+1, 3))
		check(t, fmt.Sprintf("update %d", i), u, want, false)
	}
}

func testConcurrent(t *testing.T, st window.Store) {
	g := &window.Group{Name: "conc", Features: []window.Feature{
		Feature("n", window.Count, time.Hour, time.Minute, 0),
		Feature("d", window.Distinct, time.Hour, time.Minute, 4),
	}}
	const workers, batches, size = 6, 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				var batch []*window.Update
				for i := 0; i < size; i++ {
					n := b*size + i // per-key sequence number
					batch = append(batch, &window.Update{Group: g, Key: fmt.Sprintf("w%d-k%d", w, i%5), TxID: fmt.Sprint(n),
						Time: Base + int64(n)*1000, Inputs: ins(add(0), member(fmt.Sprint(n%7)))})
				}
				if err := st.Apply(context.Background(), batch); err != nil {
					errs <- err
					return
				}
				for i, u := range batch {
					n := int64(b*size+i)/5 + 1
					if u.Out[0] != n || u.Out[1] != min(n, 4) || u.Replayed {
						errs <- fmt.Errorf("worker %d batch %d update %d: got %v, want [%d %d]", w, b, i, u.Out, n, min(n, 4))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testNinetyDays checks a 90-day window with the default bucket (45h)
// against the bucket definition, with one event a day for 200 days.
func testNinetyDays(t *testing.T, st window.Store) {
	g := &window.Group{Name: "q", Retain: 24 * time.Hour, Features: []window.Feature{
		Feature("n", window.Count, 90*24*time.Hour, 0, 0),
		Feature("s", window.Sum, 90*24*time.Hour, 0, 0),
		Feature("d", window.Distinct, 90*24*time.Hour, 0, 0),
	}}
	f := &g.Features[0]
	if f.Buckets() != 48 {
		t.Fatalf("90d window: %d buckets, want 48", f.Buckets())
	}
	var batch []*window.Update
	var times []int64
	for d := int64(0); d < 200; d++ {
		at := Base + d*dayMs
		times = append(times, at)
		batch = append(batch, &window.Update{Group: g, Key: "acct", TxID: fmt.Sprint(d), Time: at,
			Inputs: ins(add(0), add(d), member(fmt.Sprint(d%60)))})
	}
	if err := st.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for d, u := range batch {
		b := f.BucketOf(times[d])
		var n, s int64
		members := map[int]bool{}
		for j := 0; j <= d; j++ {
			if f.BucketOf(times[j]) >= b-f.Buckets()+1 {
				n++
				s += int64(j)
				members[j%60] = true
			}
		}
		check(t, fmt.Sprintf("day %d", d), u, vals(n, s, int64(len(members))), false)
	}
	// The old edge is bucket-granular: an event 90 days old is in or out
	// depending on where the 45h buckets fall, never more than a bucket off.
	last := batch[len(batch)-1].Out[0]
	if last < 90-2 || last > 90+2 {
		t.Errorf("events in the last 90 days: %d, want 90 within a bucket", last)
	}
}

func testErrors(t *testing.T, st window.Store) {
	ctx := context.Background()
	g := &window.Group{Name: "e", Features: []window.Feature{Feature("n", window.Count, time.Hour, 0, 0)}}
	bad := []*window.Update{
		{Group: g, Key: "k", TxID: "1", Time: Base, Inputs: nil},
		{Group: &window.Group{Name: "a:b", Features: g.Features}, Key: "k", TxID: "1", Time: Base, Inputs: ins(add(0))},
		{Group: g, Key: "k", TxID: "", Time: Base, Inputs: ins(add(0))},
		{Group: &window.Group{Name: "z", Features: []window.Feature{{Name: "n", Op: window.Count, Window: time.Hour}}}, Key: "k", TxID: "1", Time: Base, Inputs: ins(add(0))},
		{Group: g, Key: "k", TxID: "1", Time: Base, Inputs: ins(add(0)), Only: []int32{1}},
		{Group: g, Key: "k", TxID: "1", Time: Base, Inputs: ins(add(0)), Only: []int32{0, 0}},
	}
	for i, u := range bad {
		if err := st.Apply(ctx, []*window.Update{u}); err == nil {
			t.Errorf("bad update %d: no error", i)
		}
	}
	// Nothing of a rejected batch is applied.
	ok := &window.Update{Group: g, Key: "k", TxID: "2", Time: Base, Inputs: ins(add(0))}
	if err := st.Apply(ctx, []*window.Update{ok, bad[0]}); err == nil {
		t.Error("batch with a bad update: no error")
	}
	ok2 := &window.Update{Group: g, Key: "k", TxID: "3", Time: Base, Inputs: ins(add(0))}
	if err := st.Apply(ctx, []*window.Update{ok2}); err != nil {
		t.Fatal(err)
	}
	check(t, "after rejected batch", ok2, vals(1), false)
	if err := st.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// RandomStream returns n updates over several groups, keys and features:
// mostly advancing time with out-of-order events, read-only inputs,
// redeliveries, jumps of days and events older than the horizon.
func RandomStream(n int, seed int64) []*window.Update {
	rng := rand.New(rand.NewSource(seed))
	groups := []*window.Group{
		{Name: "g1", Retain: 30 * time.Minute, Features: []window.Feature{
			Feature("n", window.Count, 10*time.Minute, time.Minute, 0),
			Feature("s", window.Sum, time.Hour, 5*time.Minute, 0),
			Feature("m", window.Max, 30*time.Minute, time.Minute, 0),
			Feature("d", window.Distinct, time.Hour, 5*time.Minute, 5),
		}},
		{Name: "g2", Retain: time.Hour, Features: []window.Feature{
			Feature("d", window.Distinct, 2*time.Hour, 10*time.Minute, 3),
			Feature("n", window.Count, 24*time.Hour, 0, 0),
			Feature("s", window.Sum, 90*24*time.Hour, 0, 0),
			Feature("m", window.Max, 2*time.Hour, 0, 0),
		}},
	}
	now := Base
	var out []*window.Update
	for i := 0; i < n; i++ {
		if len(out) > 0 && rng.Intn(10) == 0 {
			p := out[len(out)-1-rng.Intn(min(len(out), 300))] // mostly recent, some beyond the horizon
			r := *p
			r.Out, r.Replayed = nil, false
			out = append(out, &r)
			continue
		}
		switch x := rng.Intn(100); {
		case x < 2:
			now += int64(rng.Intn(3)+1) * dayMs
		case x < 60:
			now += rng.Int63n(3 * minute)
		}
		at := now
		switch x := rng.Intn(100); {
		case x < 15:
			at -= rng.Int63n(40 * minute)
		case x < 17:
			at -= rng.Int63n(4 * dayMs)
		}
		g := groups[rng.Intn(len(groups))]
		u := &window.Update{Group: g, Key: fmt.Sprint("k", rng.Intn(5)), TxID: fmt.Sprint("t", i), Time: at}
		for range g.Features {
			u.Inputs = append(u.Inputs, window.Input{Apply: rng.Intn(5) != 0, Value: rng.Int63n(10_100) - 100,
				Member: string(rune('a' + rng.Intn(8))), NoRead: rng.Intn(4) == 0})
		}
		if rng.Intn(2) == 0 {
			// The same update as Only the features it feeds or reads.
			var ins []window.Input
			only := []int32{}
			for i, in := range u.Inputs {
				if in.Apply || !in.NoRead {
					ins = append(ins, in)
					only = append(only, int32(i))
				}
			}
			u.Inputs, u.Only = ins, only
		}
		out = append(out, u)
	}
	return out
}

// Differential applies the same random stream of n updates to st and to ref
// (a fresh memory store) in random batch sizes and checks that they agree,
// update for update, with each other and with a naive model.
func Differential(t *testing.T, st, ref window.Store, n int, seed int64) {
	ctx := context.Background()
	a, b := RandomStream(n, seed), RandomStream(n, seed)
	m := newModel()
	rng := rand.New(rand.NewSource(seed))
	replays := 0
	for i := 0; i < len(a); {
		j := min(len(a), i+1+rng.Intn(64))
		if err := st.Apply(ctx, a[i:j]); err != nil {
			t.Fatal(err)
		}
		if err := ref.Apply(ctx, b[i:j]); err != nil {
			t.Fatal(err)
		}
		for k := i; k < j; k++ {
			want, replayed := m.apply(a[k])
			if replayed {
				replays++
			}
			if !slices.Equal(a[k].Out, b[k].Out) || a[k].Replayed != b[k].Replayed {
				t.Fatalf("update %d (%s %s %s t=%d): store %v replayed=%v, memory %v replayed=%v",
					k, a[k].Group.Name, a[k].Key, a[k].TxID, a[k].Time-Base, a[k].Out, a[k].Replayed, b[k].Out, b[k].Replayed)
			}
			if !slices.Equal(a[k].Out, want) || a[k].Replayed != replayed {
				t.Fatalf("update %d (%s %s %s t=%d): store %v replayed=%v, model %v replayed=%v",
					k, a[k].Group.Name, a[k].Key, a[k].TxID, a[k].Time-Base, a[k].Out, a[k].Replayed, want, replayed)
			}
		}
		i = j
	}
	t.Logf("%d updates, %d replays", len(a), replays)
	if replays < n/20 {
		t.Errorf("only %d replays in %d updates: the stream does not exercise idempotency", replays, n)
	}
}
