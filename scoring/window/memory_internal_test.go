package window

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

func hotGroup(t testing.TB) *Group {
	g := &Group{Name: "merchant", Retain: time.Hour, Features: []Feature{
		{Name: "n_1h", Op: Count, Window: time.Hour},
		{Name: "sum_24h", Op: Sum, Window: 24 * time.Hour},
		{Name: "max_7d", Op: Max, Window: 7 * 24 * time.Hour},
		{Name: "sum_90d", Op: Sum, Window: 90 * 24 * time.Hour},
		{Name: "payers_24h", Op: Distinct, Window: 24 * time.Hour, DistinctCap: 1000},
	}}
	for i := range g.Features {
		if err := g.Features[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

const hotBase = int64(19676) * dayMs

// feedHot sends events one key receives, spread evenly over a day, each
// from a different payer.
func feedHot(t testing.TB, m *Memory, g *Group, from, events int, span int64) {
	ctx := context.Background()
	batch := make([]*Update, 0, 256)
	for i := from; i < from+events; i++ {
		in := make([]Input, len(g.Features))
		for j := range in {
			in[j] = Input{Apply: true, Value: int64(i % 1000), Member: "payer" + strconv.Itoa(i)}
		}
		batch = append(batch, &Update{Group: g, Key: "hot", TxID: strconv.Itoa(i), Time: hotBase + int64(i)*span/int64(events), Inputs: in})
		if len(batch) == cap(batch) || i == from+events-1 {
			if err := m.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func hotEntry(m *Memory, g *Group) *entry {
	for i := range m.shards {
		if e := m.shards[i].m[g.Name+"\x00hot"]; e != nil {
			return e
		}
	}
	return nil
}

// TestMemoryHotKey: a merchant with 100,000 events in a day keeps at most n
// buckets per feature and DistinctCap members, so the work per event does
// not grow with its traffic; its idempotency records go once event time
// passes the horizon.
func TestMemoryHotKey(t *testing.T) {
	m := NewMemory()
	g := hotGroup(t)
	feedHot(t, m, g, 0, 100_000, dayMs)
	e := hotEntry(m, g)
	for i, f := range g.Features {
		fs := e.feats[i]
		if int64(len(fs.bk)) > f.Buckets() {
			t.Errorf("%s: %d buckets kept, want <= %d", f.Name, len(fs.bk), f.Buckets())
		}
		if f.Op == Distinct && (len(fs.d.heap) != f.DistinctCap || len(fs.d.pos) != f.DistinctCap) {
			t.Errorf("%s: %d members kept, want the cap %d", f.Name, len(fs.d.heap), f.DistinctCap)
		}
	}
	records := 0
	for _, d := range e.days {
		records += d.len()
	}
	if records != 100_000 {
		t.Errorf("%d idempotency records, want all 100000 within the horizon", records)
	}
	// 92 days later every record is past the horizon (90d + 1h).
	feedHot(t, m, g, 100_000, 1, 92*dayMs)
	e = hotEntry(m, g)
	records = 0
	for _, d := range e.days {
		records += d.len()
	}
	if len(e.days) != 1 || records != 1 {
		t.Errorf("after the horizon: %d days, %d records, want 1 and 1", len(e.days), records)
	}
}

// TestDistinctEvictionOrder checks the tie rule against ZSET order: lowest
// score, then the smallest member in byte order.
func TestDistinctEvictionOrder(t *testing.T) {
	d := &distinctSet{pos: map[string]*dmember{}}
	var hist []bucketVal
	steps := []struct {
		b      int64
		member string
	}{{5, "b"}, {5, "a"}, {5, "B"}, {5, "c"}, {6, "0"}, {5, "a"}, {7, "b"}}
	for _, s := range steps {
		d.apply(&hist, s.b, 10, s.member, true, 3, nil)
	}
	// b,a,B -> c evicts B ("B" < "a") -> 0@6 evicts a -> a@5 is new and
	// evicted at once -> b moves to 7.
	var got []string
	for _, x := range d.heap {
		got = append(got, strconv.FormatInt(x.score, 10)+":"+x.member)
	}
	slices.Sort(got)
	if want := []string{"5:c", "6:0", "7:b"}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if want := []bucketVal{{5, 1}, {6, 1}, {7, 1}}; !slices.Equal(hist, want) {
		t.Errorf("histogram %v, want %v", hist, want)
	}
}

// BenchmarkMemoryHotKey measures one key taking 100,000 events a day.
func BenchmarkMemoryHotKey(b *testing.B) {
	m := NewMemory()
	g := hotGroup(b)
	b.ReportAllocs()
	b.ResetTimer()
	feedHot(b, m, g, 0, b.N, int64(b.N)*dayMs/100_000)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(g.Features)), "ns/feature")
}

// TestRecordsRoundTrip checks that a day's idempotency records, dense or
// sparse, give back every value recorded, zeros included, across blocks
// and past the scan of few into the map.
func TestRecordsRoundTrip(t *testing.T) {
	for _, nf := range []int{1, 3, 40, maxFeatures} {
		t.Run(strconv.Itoa(nf), func(t *testing.T) {
			var d txDay
			want := map[string][]int64{}
			for n := range 3 * recBlock / (1 + min(nf, 16)) {
				vals := make([]int64, nf)
				switch n % 4 {
				case 0: // all zero
				case 1:
					vals[nf-1] = int64(n)
				case 2:
					for i := range vals {
						vals[i] = int64(i*n - 7)
					}
				default:
					for i := 0; i < nf; i += 5 {
						vals[i] = -int64(n)
					}
				}
				if n%4 == 2 && nf > 8 && n > 2 { // the first stays full: the largest record fits a block
					clear(vals[8:]) // the others small enough to make many
				}
				tx := "tx" + strconv.Itoa(n)
				d.put(tx, vals)
				want[tx] = vals
			}
			if d.len() != len(want) {
				t.Fatalf("%d records, want %d", d.len(), len(want))
			}
			got := make([]int64, nf)
			for tx, vals := range want {
				off, ok := d.find(tx)
				if !ok {
					t.Fatalf("%s not found", tx)
				}
				for i := range got {
					got[i] = 99 // rec must overwrite every value
				}
				d.rec(off, got)
				if !slices.Equal(got, vals) {
					t.Fatalf("%s: got %v, want %v", tx, got, vals)
				}
			}
		})
	}
}
