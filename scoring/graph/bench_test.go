package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/graph/graphtest"
)

// BenchmarkObserve is Observe per edge in batches of 512 on a random stream
// among 100,000 accounts (a quarter of the edges into one hub).
func BenchmarkObserve(b *testing.B) {
	edges := graphtest.RandomEdges(200_000, 100_000, 11)
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var st graph.Store = graph.NewMemory(graph.Config{})
			if name == "redis" {
				st, _, _ = newRedis(b, graph.Config{})
			}
			ctx := context.Background()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				if n+512 > len(edges) {
					n = 0 // replays: from here on mostly redeliveries
				}
				if _, err := st.Observe(ctx, edges[n:n+512]); err != nil {
					b.Fatal(err)
				}
				n += 512
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/edge")
		})
	}
}

// BenchmarkHub is one edge into and one out of a hub that already has
// 1,000 to 100,000 counterparties: ns/op must not grow with the hub.
func BenchmarkHub(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		for _, n := range []int{1_000, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/edges=%d", name, n), func(b *testing.B) {
				var st graph.Store = graph.NewMemory(graph.Config{})
				if name == "redis" {
					st, _, _ = newRedis(b, graph.Config{})
				}
				ctx := context.Background()
				for i := 0; i < n; i += 512 {
					batch := make([]graph.Edge, 0, 512)
					for k := i; k < min(i+512, n); k++ {
						batch = append(batch, hubEdge(k))
					}
					if _, err := st.Observe(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := st.Observe(ctx, []graph.Edge{hubEdge(n + i)}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// hubEdge k alternates peer -> hub and hub -> peer with a new peer each
// time and similar amounts, one a second.
func hubEdge(k int) graph.Edge {
	e := graph.Edge{TxID: fmt.Sprintf("h%d", k), From: fmt.Sprintf("peer-%d", k), To: "hub",
		Amount: 1000 + int64(k%7), Time: graphtest.Base + int64(k)*1000}
	if k%2 == 1 {
		e.From, e.To = e.To, e.From
	}
	return e
}
