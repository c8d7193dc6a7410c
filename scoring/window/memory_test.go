package window_test

import (
	"context"
	"math/rand"
	"strconv"
	"testing"

	"github.com/sluice-aml/sluice/scoring/window"
	"github.com/sluice-aml/sluice/scoring/window/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store { return window.NewMemory() })
}

// benchApply applies batches of 256 updates of storetest.BenchGroup over
// 10,000 keys and reports updates/s.
func benchApply(b *testing.B, st window.Store) {
	g := storetest.BenchGroup()
	rng := rand.New(rand.NewSource(1))
	const size = 256
	batch := make([]*window.Update, size)
	for i := range batch {
		batch[i] = &window.Update{}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		b.StopTimer()
		for i, u := range batch {
			storetest.BenchUpdate(u, g, n+i, 10_000, rng)
			u.TxID = "tx" + strconv.Itoa(n+i)
		}
		b.StartTimer()
		if err := st.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += size
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/float64(len(g.Features)), "ns/feature")
}

func BenchmarkMemoryApply(b *testing.B) { benchApply(b, window.NewMemory()) }
