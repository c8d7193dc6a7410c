// Package graphtest is the contract test suite every graph.Store must pass:
// the memory and Redis stores run the same hand-made graphs and must agree,
// edge for edge, with each other and whether a stream comes one edge per
// batch or in one batch.
package graphtest

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/scoring/graph"
)

// Base is 2023-11-14 22:13:20 UTC in unix ms.
const Base = int64(1_700_000_000_000)

const hour = int64(3_600_000)

// NewStore returns an empty store with cfg (validated by the store),
// private to the calling test.
type NewStore func(t *testing.T, cfg graph.Config) graph.Store

// Run runs the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Patterns", func(t *testing.T) { testPatterns(t, newStore) })
	t.Run("Redelivery", func(t *testing.T) { testRedelivery(t, newStore) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, newStore) })
	t.Run("Differential", func(t *testing.T) {
		cfg := graph.Config{MaxEdgesPerAccount: 6, MaxFrontier: 12, MaxTx: 8}
		Differential(t, newStore(t, cfg), graph.NewMemory(cfg), RandomEdges(3000, 40, 1), 1)
		cfg = graph.Config{}
		Differential(t, newStore(t, cfg), graph.NewMemory(cfg), RandomEdges(3000, 200, 2), 2)
	})
	t.Run("BatchSizes", func(t *testing.T) {
		// Retain covers the stream's lateness (48h): then batching changes nothing.
		cfg := graph.Config{MaxEdgesPerAccount: 8, MaxFrontier: 16, Retain: 72 * time.Hour}
		BatchIndependent(t, newStore(t, cfg), newStore(t, cfg), RandomEdges(2000, 60, 3), 3)
	})
}

// E is shorthand for an edge at Base + hours.
func E(tx, from, to string, amount int64, hours float64) graph.Edge {
	return graph.Edge{TxID: tx, From: from, To: to, Amount: amount, Time: Base + int64(hours*float64(hour))}
}

// chain returns edges a0 -> a1 -> ... -> an, one an hour from hour 0,
// tx ids p0..p(n-1).
func chain(p string, amounts ...int64) []graph.Edge {
	var out []graph.Edge
	for i, a := range amounts {
		out = append(out, E(fmt.Sprintf("%s%d", p, i), fmt.Sprintf("a%d", i), fmt.Sprintf("a%d", i+1), a, float64(i)))
	}
	return out
}

// cycle returns a chain of n-1 edges a0 -> ... -> a(n-1) closed by
// a(n-1) -> a0 (tx "close") an hour after the last.
func cycle(n int, amount int64) []graph.Edge {
	am := make([]int64, n-1)
	for i := range am {
		am[i] = amount
	}
	out := chain("p", am...)
	return append(out, E("close", fmt.Sprintf("a%d", n-1), "a0", amount, float64(n-1)))
}

type expect struct {
	tx, field string // field as in Signals.Map, or "cycle_tx", "tx", "tx_len"
	want      any
}

func field(s graph.Signals, f string) any {
	switch f {
	case "cycle_tx":
		return strings.Join(s.CycleTx, ",")
	case "tx":
		return strings.Join(s.Tx, ",")
	case "tx_len":
		return len(s.Tx)
	}
	v, ok := s.Map()[f]
	if !ok {
		panic("graphtest: no field " + f)
	}
	return v
}

type patternCase struct {
	name  string
	cfg   graph.Config
	edges []graph.Edge
	want  []expect
}

func patternCases() []patternCase {
	var cases []patternCase
	for n := 2; n <= 6; n++ {
		var tx []string
		tx = append(tx, "close")
		for i := 0; i < n-1; i++ {
			tx = append(tx, fmt.Sprintf("p%d", i))
		}
		cases = append(cases, patternCase{
			name:  fmt.Sprintf("cycle %d hops", n),
			edges: cycle(n, 1000),
			want: []expect{{"close", "cycle_hops", n}, {"close", "cycle_min_ratio", 1.0},
				{"close", "cycle_tx", strings.Join(tx, ",")}, {"close", "chain_hops", n - 1},
				{"p0", "cycle_hops", 0}},
		})
	}
	mix := func(e []graph.Edge, more ...graph.Edge) []graph.Edge {
		return append(append([]graph.Edge(nil), e...), more...)
	}
	fanIn := func(n int) []graph.Edge {
		var out []graph.Edge
		for i := 1; i <= n; i++ {
			out = append(out, E(fmt.Sprintf("f%d", i), fmt.Sprintf("s%d", i), "x", int64(100*i), float64(i)))
		}
		return out
	}
	cases = append(cases,
		patternCase{name: "cycle 7 hops is beyond MaxHops", edges: cycle(7, 1000),
			want: []expect{{"close", "cycle_hops", 0}, {"close", "chain_hops", 6}}},
		patternCase{name: "cycle 7 hops with MaxHops 8", cfg: graph.Config{MaxHops: 8}, edges: cycle(7, 1000),
			want: []expect{{"close", "cycle_hops", 7}}},
		patternCase{name: "cycle decaying beyond tolerance",
			edges: mix(chain("p", 1000, 900), E("close", "a2", "a0", 700, 2)),
			want:  []expect{{"close", "cycle_hops", 0}, {"close", "chain_hops", 1}}},
		patternCase{name: "cycle decaying within tolerance",
			edges: mix(chain("p", 1000, 850), E("close", "a2", "a0", 723, 2)),
			want:  []expect{{"close", "cycle_hops", 3}, {"close", "cycle_min_ratio", 0.85}}},
		patternCase{name: "cycle growing within tolerance",
			edges: mix(chain("p", 1000, 1150), E("close", "a2", "a0", 1300, 2)),
			want:  []expect{{"close", "cycle_hops", 3}, {"close", "cycle_min_ratio", 1000.0 / 1150}}},
		patternCase{name: "cycle tolerance 0.1", cfg: graph.Config{AmountTolerance: 0.1},
			edges: mix(chain("p", 1000, 850), E("close", "a2", "a0", 723, 2)),
			want:  []expect{{"close", "cycle_hops", 0}}},
		patternCase{name: "cycle outside the window",
			edges: []graph.Edge{E("p0", "a0", "a1", 1000, 0), E("p1", "a1", "a2", 1000, 100), E("close", "a2", "a0", 1000, 168.5)},
			want:  []expect{{"close", "cycle_hops", 0}, {"close", "chain_hops", 2}}},
		patternCase{name: "cycle just inside the window",
			edges: []graph.Edge{E("p0", "a0", "a1", 1000, 0), E("p1", "a1", "a2", 1000, 100), E("close", "a2", "a0", 1000, 168)},
			want:  []expect{{"close", "cycle_hops", 3}}},
		patternCase{name: "cycle whose hops are out of time order",
			edges: []graph.Edge{E("p1", "a1", "a2", 1000, 0), E("p0", "a0", "a1", 1000, 1), E("close", "a2", "a0", 1000, 2)},
			want:  []expect{{"close", "cycle_hops", 0}}},
		patternCase{name: "shortest cycle wins",
			edges: []graph.Edge{E("p0", "a0", "a1", 1000, 0), E("p1", "a1", "a2", 1000, 1), E("q0", "a0", "a2", 1000, 1.5), E("close", "a2", "a0", 1000, 2)},
			want:  []expect{{"close", "cycle_hops", 2}, {"close", "cycle_tx", "close,q0"}}},
		patternCase{name: "cycle through a busy account pushed out of its list",
			cfg:   graph.Config{MaxEdgesPerAccount: 8},
			edges: mix([]graph.Edge{E("p0", "a0", "hub", 1000, 0)}, append(busy("hub", 20, 1), E("p1", "hub", "a2", 1000, 30), E("close", "a2", "a0", 1000, 31))...),
			want:  []expect{{"close", "cycle_hops", 0}, {"close", "chain_hops", 2}}},
		patternCase{name: "cycle through a busy account within its list",
			edges: mix([]graph.Edge{E("p0", "a0", "hub", 1000, 0)}, append(busy("hub", 20, 1), E("p1", "hub", "a2", 1000, 30), E("close", "a2", "a0", 1000, 31))...),
			want:  []expect{{"close", "cycle_hops", 3}}},
		patternCase{name: "scatter-gather with 5 intermediaries",
			edges: scatterGather(5, map[int]int64{}),
			want: []expect{{"g5", "scatter_gather", 5}, {"g3", "scatter_gather", 3}, {"g1", "scatter_gather", 1},
				{"g5", "fan_in", 5}, {"s5", "fan_out", 5}, {"g5", "tx_len", 10}}},
		patternCase{name: "scatter-gather with one dissimilar leg",
			edges: scatterGather(5, map[int]int64{2: 500}),
			want:  []expect{{"g5", "scatter_gather", 4}, {"g2", "scatter_gather", 0}}},
		patternCase{name: "gather-scatter",
			edges: gatherScatter(3, 4),
			want: []expect{{"o4", "gather_scatter", 3}, {"o4", "gather_scatter_in", 3}, {"o4", "gather_scatter_out", 4},
				{"o4", "fan_out", 4}, {"o1", "gather_scatter", 0}, {"o2", "gather_scatter", 2}, {"i3", "gather_scatter", 0}}},
		patternCase{name: "fan-in of 11", edges: fanIn(11),
			want: []expect{{"f11", "fan_in", 11}, {"f1", "fan_in", 1}, {"f11", "fan_out", 1}, {"f11", "tx_len", 11}}},
		patternCase{name: "fan-in saturates at MaxEdgesPerAccount+1", cfg: graph.Config{MaxEdgesPerAccount: 8}, edges: fanIn(20),
			want: []expect{{"f20", "fan_in", 9}}},
		patternCase{name: "fan-in counts only the window",
			edges: mix(fanIn(5), E("late", "s9", "x", 100, 4.5+168)),
			want:  []expect{{"late", "fan_in", 2}}},
		patternCase{name: "signals tx capped", cfg: graph.Config{MaxTx: 3}, edges: fanIn(11),
			want: []expect{{"f11", "tx", "f11,f10,f9"}}},
		patternCase{name: "bipartite 3x3", edges: bipartite("s", "r", 3, 3, 0),
			want: []expect{{"s3r3", "bipartite", 3}, {"s3r3", "stack_depth", 1}, {"s3r3", "tx_len", 9},
				{"s1r3", "bipartite", 0}, {"s2r2", "bipartite", 2}}},
		patternCase{name: "no bipartite without two shared receivers",
			edges: []graph.Edge{E("1", "s1", "r1", 10, 0), E("2", "s1", "r2", 10, 1), E("3", "s2", "r1", 10, 2), E("4", "s2", "r3", 10, 3)},
			want:  []expect{{"4", "bipartite", 0}, {"3", "bipartite", 0}}},
		patternCase{name: "stack of two layers",
			edges: mix(bipartite("a", "b", 2, 3, 0), bipartite("b", "c", 3, 2, 10)...),
			want: []expect{{"b3c2", "stack_depth", 2}, {"b3c2", "bipartite", 2}, {"a2b3", "stack_depth", 1},
				{"b1c2", "stack_depth", 0}}},
	)
	return cases
}

// busy returns n edges from distinct senders into account, from hour at.
func busy(account string, n int, at float64) []graph.Edge {
	var out []graph.Edge
	for i := 0; i < n; i++ {
		out = append(out, E(fmt.Sprintf("busy%d", i), fmt.Sprintf("z%d", i), account, 777, at+float64(i)/10))
	}
	return out
}

// scatterGather: o -> m1..mn (s1..sn) then m1..mn -> d (g1..gn); legs[i]
// overrides the gather amount of m_i.
func scatterGather(n int, legs map[int]int64) []graph.Edge {
	var out []graph.Edge
	for i := 1; i <= n; i++ {
		out = append(out, E(fmt.Sprintf("s%d", i), "o", fmt.Sprintf("m%d", i), int64(1000+10*i), float64(i)))
	}
	for i := 1; i <= n; i++ {
		a := int64(950 + 10*i)
		if v, ok := legs[i]; ok {
			a = v
		}
		out = append(out, E(fmt.Sprintf("g%d", i), fmt.Sprintf("m%d", i), "d", a, float64(10+i)))
	}
	return out
}

func gatherScatter(in, out int) []graph.Edge {
	var es []graph.Edge
	for i := 1; i <= in; i++ {
		es = append(es, E(fmt.Sprintf("i%d", i), fmt.Sprintf("s%d", i), "h", int64(5000*i), float64(i)))
	}
	for i := 1; i <= out; i++ {
		es = append(es, E(fmt.Sprintf("o%d", i), "h", fmt.Sprintf("r%d", i), int64(300*i), float64(10+i)))
	}
	return es
}

// bipartite: every s_i pays every r_j, tx "<s_i><r_j>", in order.
func bipartite(s, r string, ns, nr int, at float64) []graph.Edge {
	var out []graph.Edge
	k := 0
	for i := 1; i <= ns; i++ {
		for j := 1; j <= nr; j++ {
			from, to := fmt.Sprintf("%s%d", s, i), fmt.Sprintf("%s%d", r, j)
			out = append(out, E(from+to, from, to, int64(1000+7*k), at+float64(k)/4))
			k++
		}
	}
	return out
}

func testPatterns(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	for _, tc := range patternCases() {
		t.Run(tc.name, func(t *testing.T) {
			// One edge per batch, then the whole stream as one batch: the
			// Signals must be the same.
			one := newStore(t, tc.cfg)
			var perEdge []graph.Signals
			for _, e := range tc.edges {
				s, err := one.Observe(ctx, []graph.Edge{e})
				if err != nil {
					t.Fatal(err)
				}
				perEdge = append(perEdge, s...)
			}
			all, err := newStore(t, tc.cfg).Observe(ctx, tc.edges)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.edges {
				if !reflect.DeepEqual(perEdge[i], all[i]) {
					t.Errorf("edge %s: one per batch %+v, one batch %+v", tc.edges[i].TxID, perEdge[i], all[i])
				}
			}
			byTx := map[string]graph.Signals{}
			for i, e := range tc.edges {
				byTx[e.TxID] = perEdge[i]
			}
			for _, w := range tc.want {
				s, ok := byTx[w.tx]
				if !ok {
					t.Fatalf("no edge %s", w.tx)
				}
				if got := field(s, w.field); fmt.Sprint(got) != fmt.Sprint(w.want) {
					t.Errorf("%s %s = %v, want %v (signals %+v)", w.tx, w.field, got, w.want, s)
				}
			}
		})
	}
}

func testRedelivery(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	st := newStore(t, graph.Config{})
	edges := cycle(4, 1000)
	first, err := st.Observe(ctx, edges)
	if err != nil {
		t.Fatal(err)
	}
	if first[3].CycleHops != 4 {
		t.Fatalf("cycle not found: %+v", first[3])
	}
	// A redelivered batch, a duplicate inside a batch, and a new edge that
	// would see a duplicate if one had been added.
	again, err := st.Observe(ctx, []graph.Edge{edges[3], edges[0], edges[0], E("new", "a1", "a2", 1000, 10)})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []graph.Signals{first[3], first[0], first[0]} {
		want.Replayed = true
		if !reflect.DeepEqual(again[i], want) {
			t.Errorf("redelivery %d: got %+v, want %+v", i, again[i], want)
		}
	}
	if again[3].Replayed || again[3].FanIn != 1 || again[3].FanOut != 1 {
		t.Errorf("new edge after redelivery: %+v, want fan-in 1 and fan-out 1 (a1 -> a2 once, by distinct peer)", again[3])
	}
	// The new edge a1 -> a2 again (different tx) closes no cycle but the
	// redelivered close must not have been added twice: a3 -> a0 is one edge.
	more, err := st.Observe(ctx, []graph.Edge{E("x", "a3", "a0", 1000, 11), E("x", "a3", "a0", 5, 99)})
	if err != nil {
		t.Fatal(err)
	}
	if more[0].FanIn != 1 || more[0].Replayed || !more[1].Replayed || !reflect.DeepEqual(more[0].Tx, more[1].Tx) {
		t.Errorf("in-batch duplicate: %+v / %+v", more[0], more[1])
	}
}

func testErrors(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	st := newStore(t, graph.Config{})
	for _, tc := range []struct {
		e    graph.Edge
		want string
	}{
		{E("", "a", "b", 1, 0), "empty TxID"},
		{E("t", "", "b", 1, 0), "empty From or To"},
		{E("t", "a", "", 1, 0), "empty From or To"},
		{E("t", "a", "b", -1, 0), "negative amount"},
		{graph.Edge{TxID: "t", From: "a", To: "b", Time: 1 << 60}, "out of range"},
	} {
		_, err := st.Observe(ctx, []graph.Edge{E("ok", "a", "b", 1, 0), tc.e})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "edge 1") {
			t.Errorf("%+v: error %v, want one naming edge 1 and %q", tc.e, err, tc.want)
		}
	}
	if s, err := st.Observe(ctx, nil); err != nil || s != nil {
		t.Errorf("empty batch: %v %v", s, err)
	}
	for _, c := range []graph.Config{{MaxHops: 9}, {AmountTolerance: 1}, {MaxEdgesPerAccount: 1}, {Window: -1}, {MinDensity: 2}} {
		if err := c.Validate(); err == nil {
			t.Errorf("config %+v: no error", c)
		}
	}
}

// RandomEdges returns a reproducible stream of n edges among accounts
// accounts, with a few amounts so that cycles and relays form, times
// mostly increasing, and some tx ids repeated (redeliveries).
func RandomEdges(n, accounts int, seed int64) []graph.Edge {
	rnd := rand.New(rand.NewSource(seed))
	amounts := []int64{1000, 1100, 1250, 900, 5000, 99}
	t := Base
	var out []graph.Edge
	for i := 0; i < n; i++ {
		if i > 10 && rnd.Intn(20) == 0 {
			out = append(out, out[rnd.Intn(len(out))]) // redelivery
			continue
		}
		t += rnd.Int63n(2 * hour)
		at := t
		if rnd.Intn(10) == 0 {
			at -= rnd.Int63n(48 * hour) // late
		}
		if i%300 == 150 {
			// A two-layer stack and a scatter-gather among the same accounts,
			// so that the rarer signals occur amid the noise.
			acct := func() string { return fmt.Sprintf("acct-%d", rnd.Intn(accounts)) }
			a, b, c := []string{acct(), acct()}, []string{acct(), acct()}, []string{acct(), acct()}
			for k, layer := range [][2][]string{{a, b}, {b, c}} {
				for _, x := range layer[0] {
					for _, y := range layer[1] {
						t += rnd.Int63n(hour)
						out = append(out, graph.Edge{TxID: fmt.Sprintf("t%d-%d-%s-%s", i, k, x, y), From: x, To: y, Amount: 1000, Time: t})
					}
				}
			}
			o, d := acct(), acct()
			for k, m := range []string{acct(), acct(), acct()} {
				t += rnd.Int63n(hour)
				out = append(out, graph.Edge{TxID: fmt.Sprintf("t%d-s%d", i, k), From: o, To: m, Amount: 2000, Time: t},
					graph.Edge{TxID: fmt.Sprintf("t%d-g%d", i, k), From: m, To: d, Amount: 1900, Time: t + hour})
			}
		}
		from, to := rnd.Intn(accounts), rnd.Intn(accounts)
		if rnd.Intn(4) == 0 {
			to = 0 // a hub
		}
		out = append(out, graph.Edge{TxID: fmt.Sprintf("t%d", i), From: fmt.Sprintf("acct-%d", from),
			To: fmt.Sprintf("acct-%d", to), Amount: amounts[rnd.Intn(len(amounts))], Time: at})
	}
	return out
}

// Differential feeds the same edges to a and b in batches of random sizes
// (the same for both) and fails on the first edge whose Signals differ.
func Differential(t *testing.T, a, b graph.Store, edges []graph.Edge, seed int64) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewSource(seed))
	var seen [8]int
	for i := 0; i < len(edges); {
		n := min(1+rnd.Intn(64), len(edges)-i)
		batch := edges[i : i+n]
		sa, err := a.Observe(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Observe(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for k := range batch {
			if !reflect.DeepEqual(sa[k], sb[k]) {
				t.Fatalf("edge %d (%+v) differs:\n%+v\n%+v", i+k, batch[k], sa[k], sb[k])
			}
			s := sa[k]
			for j, v := range []int{s.CycleHops, s.ScatterGather - 1, s.GatherScatter, s.Bipartite, s.StackDepth - 1, s.ChainHops - 2, s.FanIn - 3, boolInt(s.Replayed)} {
				if v > 0 {
					seen[j]++
				}
			}
		}
		i += n
	}
	// The stream must exercise the signals, or the comparison proves little.
	for j, name := range []string{"cycle", "scatter-gather>1", "gather-scatter", "bipartite", "stack of 2", "chain>2", "fan-in>3", "replayed"} {
		if seen[j] == 0 {
			t.Errorf("differential stream of %d edges never produced %s", len(edges), name)
		}
	}
	t.Logf("edges with: cycle %d, scatter-gather>1 %d, gather-scatter %d, bipartite %d, stack of 2 %d, chain>2 %d, fan-in>3 %d, replayed %d",
		seen[0], seen[1], seen[2], seen[3], seen[4], seen[5], seen[6], seen[7])
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BatchIndependent feeds edges to a in batches of random sizes and to b one
// edge per batch, and fails on the first edge whose Signals differ.
func BatchIndependent(t *testing.T, a, b graph.Store, edges []graph.Edge, seed int64) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewSource(seed))
	var got []graph.Signals
	for i := 0; i < len(edges); {
		n := min(1+rnd.Intn(200), len(edges)-i)
		s, err := a.Observe(ctx, edges[i:i+n])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s...)
		i += n
	}
	for i, e := range edges {
		s, err := b.Observe(ctx, []graph.Edge{e})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], s[0]) {
			t.Fatalf("edge %d (%+v): in a batch %+v, alone %+v", i, e, got[i], s[0])
		}
	}
}
