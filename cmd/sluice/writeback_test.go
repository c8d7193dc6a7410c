package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/scoring/evidence"
)

// TestHeldWritesLostInACrash: a processor that dies with evidence and
// history held back (not written, the batches' offsets not committed)
// loses nothing: its successor, over the same Redis keys, handles those
// messages again from the last commit and raises the alerts a clean run
// raises, listing the same transactions.
func TestHeldWritesLostInACrash(t *testing.T) {
	evs, raw := testStream(t, 300, 9)
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := testRedis(t)
	const size = 200
	n := (len(raw) + size - 1) / size
	batch := func(i int) []pipeline.Raw {
		var b []pipeline.Raw
		for j := i * size; j < min((i+1)*size, len(raw)); j++ {
			b = append(b, pipeline.Raw{Value: raw[j], Pos: ingest.Position{Topic: "tx", Offset: int64(j)}})
		}
		return b
	}
	// run processes batches [from, to), flushing after each when commit is
	// set (a commit after every batch).
	run := func(pl *pipeline.Pipeline, from, to int, commit bool) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pl.Process(context.Background(), batch(i)); err != nil {
				t.Fatal(err)
			}
			if commit {
				if err := pl.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	processor := func(name string, sink *runSink) *pipeline.Pipeline {
		t.Helper()
		st, err := redisStores(cfg, rdb, prefix+name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := p.pipeline(st, sink)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}

	clean := newRunSink()
	run(processor("clean:", clean), 0, n, true)

	crashed := newRunSink()
	committed, held := n/2, n/2+3
	run(processor("crash:", crashed), 0, committed, true)
	run(processor("crash:", crashed), committed, held, false) // ... and it dies
	// The dead processor's held evidence is not (all) in Redis.
	plain, err := evidence.NewRedis(rdb, prefix+"crash:", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := func(lo, hi int) int {
		var keys []string
		ids := map[string]bool{}
		for _, e := range evs[lo:hi] {
			if e.From != nil && e.From.Account != "" {
				keys = append(keys, e.From.Account)
			}
			if e.To != nil && e.To.Account != "" {
				keys = append(keys, e.To.Account)
			}
			ids[e.ID] = true
		}
		recent, err := plain.Recent(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, es := range recent {
			for _, e := range es {
				if ids[e.TxID] {
					n++
				}
			}
		}
		return n
	}
	// (A batch whose findings read evidence wrote its keys' held entries,
	// so some are there.)
	lost := found(committed*size, held*size)
	run(processor("crash:", crashed), committed, n, true) // its successor, from the last commit
	if after := found(committed*size, held*size); lost >= after {
		t.Fatalf("the held batches' evidence in Redis: %d entries before the successor ran, %d after: nothing was lost, the test proves nothing", lost, after)
	}

	if len(clean.alerts) == 0 {
		t.Fatal("the clean run raised no alert: the stream has no patterns")
	}
	if a, b := clean.sortedJSON(t), crashed.sortedJSON(t); !bytes.Equal(a, b) {
		t.Errorf("alerts differ after losing held writes: clean %d alerts, crashed %d\n%s", len(clean.alerts), len(crashed.alerts), firstDiff(a, b))
	}
}
