package pipeline_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/pipeline"
)

// TestSpans: a batch's steps are spans under the caller's, with what they
// did: messages and rejects decoded, findings scored, alerts written,
// messages dead-lettered.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	defer tp.Shutdown(context.Background())

	var dead int
	pl := newPipeline(t, &sink{ids: map[string]map[string]bool{}})
	pl.DeadLetter = func(_ context.Context, rs []pipeline.Reject) error { dead += len(rs); return nil }

	ctx, parent := tp.Tracer("test").Start(context.Background(), "batch")
	batch := []pipeline.Raw{
		{Value: wire(t, "tx-1", "acct-1", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)), Pos: ingest.Position{Topic: "tx", Offset: 1}},
		{Value: []byte(`{"id": "broken"`), Pos: ingest.Position{Topic: "tx", Offset: 2}},
	}
	if err := pl.Process(ctx, batch); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if dead != 1 {
		t.Fatalf("%d dead letters, want 1", dead)
	}

	want := map[string]map[string]int64{
		"sluice.decode":      {"sluice.batch.messages": 2, "sluice.batch.rejected": 1},
		"sluice.score":       {"sluice.findings": 1, "sluice.too_late": 0},
		"sluice.alerts":      {"sluice.alerts": 1},
		"sluice.dead_letter": {"sluice.dead_letters": 1},
	}
	got := map[string]bool{}
	for _, s := range rec.Ended() {
		attrs, ok := want[s.Name()]
		if !ok {
			continue
		}
		got[s.Name()] = true
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the caller's span", s.Name())
		}
		have := map[attribute.Key]int64{}
		for _, kv := range s.Attributes() {
			have[kv.Key] = kv.Value.AsInt64()
		}
		for k, v := range attrs {
			if have[attribute.Key(k)] != v {
				t.Errorf("%s: %s = %d, want %d", s.Name(), k, have[attribute.Key(k)], v)
			}
		}
	}
	for name := range want {
		if !got[name] {
			t.Errorf("no %s span", name)
		}
	}
}
