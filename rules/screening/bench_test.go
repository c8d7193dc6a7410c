package screening

import (
	"sort"
	"testing"
	"time"
)

// BenchmarkScreenName screens names (half variants of listed names, half
// ordinary names) against the full SDN + UN + FTO + Canada lists with the
// cache off, and reports per-name latency percentiles.
func BenchmarkScreenName(b *testing.B) {
	base := fullScreener(b)
	cfg := base.cfg
	cfg.CacheSize = -1
	s, err := New(base.set, cfg)
	if err != nil {
		b.Fatal(err)
	}
	var qs []string
	for _, l := range listedVariants(s, 1000) {
		qs = append(qs, l.query)
	}
	for _, l := range ordinaryNames(b, s, 1000) {
		qs = append(qs, l.query)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s.ScreenName(qs[i%len(qs)])
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkScreenNameCached is the same with the cache on: counterparties
// repeat.
func BenchmarkScreenNameCached(b *testing.B) {
	s := fullScreener(b)
	qs := []string{"joaquin guzman loera", "Cartel Jalisco Nueva Generación", "Jose Guzman", "ACME Trading SA de CV"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.ScreenName(qs[i%len(qs)])
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(pct(1), "max-µs")
}

// BenchmarkBuildIndex measures building the Screener (index, vocabulary,
// delete and phonetic maps) over the full lists, already parsed.
func BenchmarkBuildIndex(b *testing.B) {
	base := fullScreener(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(base.set, base.cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures parsing every list file and building the index.
func BenchmarkLoad(b *testing.B) {
	cfg := fullConfig(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Load(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
