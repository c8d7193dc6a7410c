package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, tel *Telemetry) string {
	t.Helper()
	srv := httptest.NewServer(tel.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want Prometheus text format", ct)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape body: %v", err)
	}
	return string(b)
}

func TestMetricsExposition(t *testing.T) {
	tel, err := New("sluice-test")
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())

	tel.EventsIn("transactions", 5)
	tel.EventsIn("transactions", 2)
	tel.EventsIn("other", 1)
	tel.EventsProcessed(6)
	tel.DeadLettered("oversized")
	tel.DeadLettered("too_late")
	tel.DeadLettered("too_late")
	tel.RuleHit("cash-below-threshold-24h", false)
	tel.RuleHit("cash-below-threshold-24h", true)
	tel.RuleHit("cash-below-threshold-24h", true)
	tel.AlertTypology("structuring")
	tel.AlertsWritten("casequeue", 3)
	tel.EndToEnd(3 * time.Millisecond)
	tel.EndToEnd(40 * time.Millisecond)
	tel.StoreRoundTrip("window", 300*time.Microsecond)
	tel.StoreRoundTrip("graph", 2*time.Millisecond)
	tel.BatchStep("stage", 700*time.Microsecond)
	tel.BatchSize(64)
	tel.BatchRetry()
	tel.CommitFailed()
	tel.CommitFailed()
	tel.SetLagFunc(func() int64 { return 1234 })
	tel.SetHeldFunc(func() map[string]int { return map[string]int{"evidence": 310, "registry": 42} })
	tel.SetContentionFunc(func() (int64, int64) { return 5, 1 })

	body := scrape(t, tel)
	want := []string{
		`sluice_events_in_total{topic="transactions"} 7`,
		`sluice_events_in_total{topic="other"} 1`,
		`sluice_events_processed_total 6`,
		`sluice_events_dead_lettered_total{reason="oversized"} 1`,
		`sluice_events_dead_lettered_total{reason="too_late"} 2`,
		`sluice_rule_hits_total{mode="active",rule="cash-below-threshold-24h"} 1`,
		`sluice_rule_hits_total{mode="shadow",rule="cash-below-threshold-24h"} 2`,
		`sluice_alerts_total{typology="structuring"} 1`,
		`sluice_alerts_written_total{sink="casequeue"} 3`,
		// 3 ms lands in the 5 ms bucket, 40 ms in the 50 ms one.
		`sluice_latency_end_to_end_seconds_bucket{le="0.0025"} 0`,
		`sluice_latency_end_to_end_seconds_bucket{le="0.005"} 1`,
		`sluice_latency_end_to_end_seconds_bucket{le="0.05"} 2`,
		`sluice_latency_end_to_end_seconds_count 2`,
		`sluice_latency_end_to_end_seconds_sum 0.043`,
		`sluice_store_round_trip_seconds_bucket{store="window",le="0.0005"} 1`,
		`sluice_store_round_trip_seconds_count{store="window"} 1`,
		`sluice_store_round_trip_seconds_bucket{store="graph",le="0.001"} 0`,
		`sluice_store_round_trip_seconds_bucket{store="graph",le="0.0025"} 1`,
		`sluice_batch_step_seconds_bucket{step="stage",le="0.001"} 1`,
		`sluice_batch_step_seconds_count{step="stage"} 1`,
		`sluice_batch_size_bucket{le="50"} 0`,
		`sluice_batch_size_bucket{le="100"} 1`,
		`sluice_batch_size_sum 64`,
		`sluice_consumer_lag 1234`,
		`sluice_batch_retries_total 1`,
		`sluice_offset_commit_failures_total 2`,
		`sluice_writes_held{store="evidence"} 310`,
		`sluice_writes_held{store="registry"} 42`,
		`sluice_alerts_contention_total{outcome="refused"} 5`,
		`sluice_alerts_contention_total{outcome="gave_up"} 1`,
		`service_name="sluice-test"`,
		`go_goroutines`,
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	// The lag gauge follows its function and disappears without one.
	tel.SetLagFunc(func() int64 { return 7 })
	if body := scrape(t, tel); !strings.Contains(body, "sluice_consumer_lag 7") {
		t.Errorf("lag gauge did not follow its function")
	}
	tel.SetLagFunc(nil)
	if body := scrape(t, tel); strings.Contains(body, "sluice_consumer_lag ") {
		t.Errorf("lag gauge still reported after SetLagFunc(nil)")
	}
}

// Two instances must not share a registry: the processor and a test server
// can each have one.
func TestInstancesIndependent(t *testing.T) {
	a, err := New("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("b")
	if err != nil {
		t.Fatal(err)
	}
	a.EventsProcessed(5)
	if body := scrape(t, b); strings.Contains(body, "sluice_events_processed_total 5") {
		t.Errorf("instance b shows instance a's counter")
	}
	if body := scrape(t, a); !strings.Contains(body, "sluice_events_processed_total 5") {
		t.Errorf("instance a lost its counter")
	}
}

func TestNewRejectsEmptyName(t *testing.T) {
	if _, err := New(""); err == nil {
		t.Fatal("New(\"\") succeeded")
	}
}

func TestTracerIsUsable(t *testing.T) {
	tel, err := New("sluice-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tel.Tracer().Start(context.Background(), "process")
	span.End()
	if ctx == nil {
		t.Fatal("nil context from Start")
	}
	// Without a configured provider spans are not recorded (no cost).
	if span.IsRecording() {
		t.Errorf("span records without a tracer provider configured")
	}
}
