package main

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkReplayMemory replays the golden test stream with in-memory
// windows and the starter rules (screening on): events/s of the whole
// decode → windows → rules → alerts path on one goroutine.
func BenchmarkReplayMemory(b *testing.B) {
	t := &testing.T{}
	cfg := testConfig(t)
	cfg.Profiles.File = filepath.Join("testdata", "stream.customers.jsonl")
	in := filepath.Join("testdata", "stream.jsonl")
	out := filepath.Join(b.TempDir(), "out.jsonl")
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		st, err := replay(context.Background(), cfg, replayOptions{input: in, out: out, store: "memory", batch: 1024})
		if err != nil {
			b.Fatal(err)
		}
		events += st.events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
