package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/screening/rescreen"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/window"
)

// Every wire into an account is a finding on it.
const ruleSet = `
rules:
  - id: any-wire
    description: Every wire, so that every batch raises on its receiver.
    score: 100
    when: kind == "wire"
    reason: "a wire of {{money .amount}} {{.currency}}"
typologies:
  - id: wires
    description: Wires.
    threshold: 50
    rules:
      - {rule: any-wire, weight: 1}
`

type sink struct {
	mu  sync.Mutex
	ids map[string]map[string]bool // subject account -> alert ids
}

func (s *sink) Write(_ context.Context, as []alerts.Alert) error {
	// A write takes a while, as a broker's acknowledgement does: long
	// enough for another batch to raise its alerts meanwhile.
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		if s.ids[a.Subject.Account] == nil {
			s.ids[a.Subject.Account] = map[string]bool{}
		}
		s.ids[a.Subject.Account][a.ID] = true
	}
	return nil
}

// newPipeline is ruleSet's pipeline, in memory, writing to sinks.
func newPipeline(t *testing.T, sinks ...pipeline.Sink) *pipeline.Pipeline {
	t.Helper()
	set, err := rules.Parse(map[string][]byte{"rules.yaml": []byte(ruleSet)})
	if err != nil {
		t.Fatal(err)
	}
	rates, err := fx.Parse([]byte("version: test\nbase: CAD\nrates: {CAD: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scoring.New(scoring.Config{}, rules.HolderOf(set), window.NewMemory(), rates, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := alerts.NewManager(alerts.Config{CoolDown: 24 * time.Hour}, alerts.NewMemoryState())
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Pipeline{Scorer: sc, Alerts: mgr, Sinks: sinks}
}

func wire(t *testing.T, id, to string, at time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": id, "time": at.Format(time.RFC3339), "kind": "wire", "amount": "100.00", "currency": "CAD",
		"from": map[string]any{"account": "from-" + id}, "to": map[string]any{"account": to}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentBatchesRaiseOneAlert: two partitions' batches finished at
// the same time, each with evidence on the same subject and typology within
// the cool-down, give one alert (updated), never two.
func TestConcurrentBatchesRaiseOneAlert(t *testing.T) {
	out := &sink{ids: map[string]map[string]bool{}}
	pl := newPipeline(t, out)

	const subjects = 50
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 2*subjects)
	for i := range subjects {
		to := fmt.Sprintf("acct-%d", i)
		for p := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("tx-%d-%d", i, p)
				raw := pipeline.Raw{Value: wire(t, id, to, at.Add(time.Duration(p)*time.Minute)),
					Pos: ingest.Position{Topic: "tx", Partition: int32(p), Offset: int64(i)}}
				errs <- pl.Process(context.Background(), []pipeline.Raw{raw})
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out.ids) != subjects {
		t.Fatalf("alerts on %d subjects, want %d", len(out.ids), subjects)
	}
	for acct, ids := range out.ids {
		if len(ids) != 1 {
			t.Errorf("%s: %d alerts (%v), want one updated alert", acct, len(ids), ids)
		}
	}
}

// TestObserverSteps: the observer is told each step a batch went through,
// once: a batch that raises an alert and has a bad message goes through
// all of them; the registry's step needs a registry, this pipeline has none.
func TestObserverSteps(t *testing.T) {
	pl := newPipeline(t, &sink{ids: map[string]map[string]bool{}})
	var dead int
	pl.DeadLetter = func(_ context.Context, rejects []pipeline.Reject) error { dead += len(rejects); return nil }
	steps := map[string]int{}
	var mu sync.Mutex
	pl.Observe.Step = func(step string, d time.Duration) {
		if d < 0 {
			t.Errorf("step %s took %v", step, d)
		}
		mu.Lock()
		steps[step]++
		mu.Unlock()
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	batch := []pipeline.Raw{
		{Value: wire(t, "tx-1", "acct-1", at), Pos: ingest.Position{Topic: "tx", Offset: 0}},
		{Value: []byte(`{"id": 1}`), Pos: ingest.Position{Topic: "tx", Offset: 1}},
	}
	if err := pl.Process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{pipeline.StepStage: 1, pipeline.StepScore: 1, pipeline.StepAlerts: 1, pipeline.StepDeadLetter: 1, pipeline.StepRegistry: 0}
	if dead != 1 {
		t.Errorf("%d dead letters, want 1", dead)
	}
	for step, n := range want {
		if steps[step] != n {
			t.Errorf("step %s observed %d times, want %d (all: %v)", step, steps[step], n, steps)
		}
	}
}

// The counterparty history a Redis registry holds back is not in Redis when
// Process returns, and is once Flush has: what a source's commit waits for.
func TestFlushWritesWhatIsHeldBack(t *testing.T) {
	pl := newPipeline(t, &sink{ids: map[string]map[string]bool{}})
	rdb, prefix := redistest.Client(t, "pipeline-flush")
	reg, err := rescreen.NewRedis(rdb, rescreen.Config{Prefix: prefix + "rescreen"})
	if err != nil {
		t.Fatal(err)
	}
	reg.WriteBack(10_000)
	pl.Registry = reg
	flushes := 0
	pl.Observe.Step = func(step string, _ time.Duration) {
		if step == pipeline.StepFlush {
			flushes++
		}
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var batch []pipeline.Raw
	for i := range 20 {
		ev := fmt.Sprintf(`{"id":"tx-%d","time":%q,"kind":"wire","amount":"100.00","currency":"CAD","from":{"account":"A-%d","customer_id":"C-%d"},"to":{"account":"B-%d","name":"Payee %d"}}`,
			i, at.Format(time.RFC3339), i, i, i, i)
		batch = append(batch, pipeline.Raw{Value: []byte(ev), Pos: ingest.Position{Topic: "tx", Offset: int64(i)}})
	}
	if err := pl.Process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	stored := func() int64 {
		n, err := rdb.HLen(context.Background(), reg.Keys()[1]).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n, held := stored(), pl.Held()["registry"]; n != 0 || held != 20 {
		t.Fatalf("before the flush: %d sightings in Redis, %d held; want none and 20", n, held)
	}
	if err := pl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, held := stored(), pl.Held()["registry"]; n != 20 || held != 0 || flushes != 1 {
		t.Fatalf("after the flush: %d sightings in Redis, %d held, %d flush steps; want 20, 0 and 1", n, held, flushes)
	}
}
