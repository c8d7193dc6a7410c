package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	for _, pending := range []bool{false, true} {
		t.Run(fmt.Sprintf("pending=%v", pending), func(t *testing.T) {
			out := &sink{ids: map[string]map[string]bool{}}
			pl := newPipeline(t, out)
			if pending {
				pl = newPendingPipeline(t, alerts.NewMemoryState(), out)
			}
			concurrentBatches(t, pl, out)
		})
	}
}

func concurrentBatches(t *testing.T, pl *pipeline.Pipeline, out *sink) {

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

// newPendingPipeline is newPipeline writing alerts outside the raising
// lock (Pipeline.Pending), over state.
func newPendingPipeline(t *testing.T, state alerts.State, sinks ...pipeline.Sink) *pipeline.Pipeline {
	t.Helper()
	pl := newPipeline(t, sinks...)
	mgr, err := alerts.NewManager(alerts.Config{CoolDown: 24 * time.Hour}, state)
	if err != nil {
		t.Fatal(err)
	}
	pl.Alerts, pl.Pending = mgr, alerts.NewPending()
	t.Cleanup(pl.Close)
	return pl
}

// gatedSink holds the writes of alerts on held accounts until release is
// closed, and records every write's (account, id, version) in order.
type gatedSink struct {
	held    map[string]bool
	entered chan string
	release chan struct{}
	fail    int // fail this many writes first

	mu      sync.Mutex
	written []string
}

func (s *gatedSink) Write(_ context.Context, as []alerts.Alert) error {
	for _, a := range as {
		if s.held[a.Subject.Account] {
			s.entered <- a.Subject.Account
			<-s.release
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return fmt.Errorf("sink down")
	}
	for _, a := range as {
		s.written = append(s.written, fmt.Sprintf("%s %s v%d", a.Subject.Account, a.ID, a.Version))
	}
	return nil
}

// of returns the writes of alerts on account, in order.
func (s *gatedSink) of(account string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, w := range s.written {
		if strings.HasPrefix(w, account+" ") {
			out = append(out, w)
		}
	}
	return out
}

func process(pl *pipeline.Pipeline, ctx context.Context, id, to string, at time.Time, offset int64) chan error {
	done := make(chan error, 1)
	go func() {
		raw := pipeline.Raw{Value: wireValue(id, to, at), Pos: ingest.Position{Topic: "tx", Offset: offset}}
		done <- pl.Process(ctx, []pipeline.Raw{raw})
	}()
	return done
}

func wireValue(id, to string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "time": at.Format(time.RFC3339), "kind": "wire", "amount": "100.00", "currency": "CAD",
		"from": map[string]any{"account": "from-" + id}, "to": map[string]any{"account": to}})
	return b
}

// TestAlertsOutsideTheLock: while one batch waits for the sinks to take
// its alert, a batch with alerts on another subject goes through; a batch
// updating the held alert waits for it, and the sinks and the state get
// version 1 before version 2.
func TestAlertsOutsideTheLock(t *testing.T) {
	out := &gatedSink{held: map[string]bool{"slow": true}, entered: make(chan string, 10), release: make(chan struct{})}
	state := alerts.NewMemoryState()
	pl := newPendingPipeline(t, state, out)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()

	first := process(pl, ctx, "tx-s1", "slow", at, 0)
	<-out.entered // the slow subject's write is under way and held
	select {
	case err := <-process(pl, ctx, "tx-f1", "fast", at, 1):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a batch on another subject waited for the held write")
	}
	second := process(pl, ctx, "tx-s2", "slow", at.Add(time.Minute), 2)
	select {
	case err := <-second:
		t.Fatalf("the update of the held alert returned (%v) before the alert it updates was written", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(out.release)
	for _, done := range []chan error{first, second} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	slow := out.of("slow")
	if len(slow) != 2 || !strings.HasSuffix(slow[0], " v1") || !strings.HasSuffix(slow[1], " v2") || slow[0][:len(slow[0])-3] != slow[1][:len(slow[1])-3] {
		t.Errorf("writes on the held subject: %v, want one alert's v1 then v2", slow)
	}
	id := strings.Fields(slow[0])[1]
	saved, err := state.Alerts(ctx, []string{id})
	if err != nil || saved[0] == nil || saved[0].Version != 2 {
		t.Errorf("state after both landed: %+v, %v; want version 2", saved[0], err)
	}
	if n := pl.Pending.Len(); n != 0 {
		t.Errorf("%d flights still pending", n)
	}
}

// TestFlightRetriesAndRedelivery: a failed write is retried until it
// succeeds, the batch returning only then; a batch given up by its caller
// (its context done) and handled again waits for the write still under
// way and raises nothing new (it writes the same alert version again).
func TestFlightRetriesAndRedelivery(t *testing.T) {
	out := &gatedSink{held: map[string]bool{"held": true}, entered: make(chan string, 10), release: make(chan struct{}), fail: 2}
	pl := newPendingPipeline(t, alerts.NewMemoryState(), out)
	n := 0 // written by the flight before the batch returns
	pl.OnAlertError = func(error) { n++ }
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := <-process(pl, context.Background(), "tx-r1", "retried", at, 0); err != nil {
		t.Fatal(err)
	}
	if got := out.of("retried"); len(got) != 1 || n != 2 {
		t.Fatalf("after two failed writes: %v written, %d failures reported; want one alert and two", got, n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := <-process(pl, ctx, "tx-h1", "held", at, 1); err == nil {
		t.Fatal("the batch returned while its alert's write was held")
	}
	again := process(pl, context.Background(), "tx-h1", "held", at, 1) // the source's retry
	select {
	case err := <-again:
		t.Fatalf("the retried batch returned (%v) before the alert of its first try was written", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(out.release)
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	// The retry writes the alert again, unchanged, after the first try's
	// write (its state was stored first, so a retry cannot know the write
	// happened): one alert, one version, however many writes.
	if held := out.of("held"); len(held) == 0 || len(slices.Compact(slices.Clone(held))) != 1 {
		t.Errorf("writes on the held subject: %v, want one alert at one version", held)
	}
}

func TestAhead(t *testing.T) {
	produced := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		t        time.Time
		produced time.Time
		want     string // in the error; "" for none
	}{
		{"before it was produced", produced.Add(-90 * 24 * time.Hour), produced, ""},
		{"a clock a little ahead", produced.Add(23 * time.Hour), produced, ""},
		{"just over", produced.Add(24*time.Hour + time.Minute), produced, "is 24h1m0s after its message was produced (2026-12-06T06:00:00Z)"},
		{"a mistyped year", time.Date(2125, 12, 6, 6, 0, 0, 0, time.UTC), produced, "is 36159 days after"},
		{"no produced time (a file)", time.Date(2125, 12, 6, 6, 0, 0, 0, time.UTC), time.Time{}, ""},
	} {
		err := pipeline.Ahead(tc.t, tc.produced, 24*time.Hour)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || ingest.Reason(err) != ingest.ReasonInvalid):
			t.Errorf("%s: %v, want an invalid time saying %q", tc.name, err, tc.want)
		}
	}
}
