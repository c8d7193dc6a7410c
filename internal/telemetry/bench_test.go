package telemetry

import (
	"testing"
	"time"
)

func BenchmarkHotPath(b *testing.B) {
	tel, err := New("bench")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   func()
	}{
		{"EventsIn", func() { tel.EventsIn("transactions", 1) }},
		{"EventsProcessed", func() { tel.EventsProcessed(1) }},
		{"DeadLettered", func() { tel.DeadLettered("too_late") }},
		{"RuleHit", func() { tel.RuleHit("cash-below-threshold-24h", false) }},
		{"AlertTypology", func() { tel.AlertTypology("structuring") }},
		{"EndToEnd", func() { tel.EndToEnd(3 * time.Millisecond) }},
		{"StoreRoundTrip", func() { tel.StoreRoundTrip("window", 300*time.Microsecond) }},
		{"BatchSize", func() { tel.BatchSize(64) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.fn()
			}
		})
	}
}

func BenchmarkRuleHitParallel(b *testing.B) {
	tel, err := New("bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tel.RuleHit("cash-below-threshold-24h", false)
		}
	})
}
