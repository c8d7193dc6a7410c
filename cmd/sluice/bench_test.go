package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/redistest"
)

// TestMain lets the test binary be sluice bench's load process, which
// sluice bench starts as its own executable with benchLoadArg.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == benchLoadArg {
		os.Exit(benchLoad(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestBench runs a small bench end to end: the load process, its broker
// and producer, both runs and their figures.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a load process and runs the stream twice")
	}
	cfg := testConfig(t)
	const events, rate = 3000, 4000
	csv := filepath.Join(t.TempDir(), "batches.csv")
	tr := filepath.Join(t.TempDir(), "latency.trace")
	res, err := bench(context.Background(), cfg, benchOptions{store: "memory", events: events, partitions: 4, latency: time.Second, rate: rate, batches: csv, trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	if res.throughput <= 0 {
		t.Errorf("throughput %v", res.throughput)
	}
	if res.latencyEvents != rate {
		t.Errorf("latency run handled %d events, want %d (rate x duration)", res.latencyEvents, rate)
	}
	if res.achieved <= 0 || res.achieved > 2*rate {
		t.Errorf("achieved rate %v, offered %v", res.achieved, float64(rate))
	}
	if !(0 < res.in50 && res.in50 <= res.p50 && res.p50 <= res.p99 && res.p99 <= res.p999) {
		t.Errorf("latencies out of order: in50 %v p50 %v p99 %v p999 %v", res.in50, res.p50, res.p99, res.p999)
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "kind,unix_us,messages,handler_us,latency_us" {
		t.Errorf("batches header %q", lines[0])
	}
	msgs, batches, last := 0, 0, int64(0)
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 5 || (f[0] != "batch" && f[0] != "gc") {
			t.Fatalf("batches line %q", l)
		}
		at, _ := strconv.ParseInt(f[1], 10, 64)
		if at < last {
			t.Errorf("batches line %q out of time order", l)
		}
		last = at
		if f[0] == "batch" {
			n, _ := strconv.Atoi(f[2])
			msgs += n
			batches++
		}
	}
	if msgs != rate {
		t.Errorf("batches file counts %d messages, want %d", msgs, rate)
	}
	// Every batch was staged, scored and recorded, each step timed once;
	// the throughput run's steps are not counted. A batch whose events
	// feed no window feature skips the window store.
	for _, step := range []string{"stage", "evaluate", "score", "registry"} {
		if n := len(res.steps[step]); n != batches {
			t.Errorf("step %s timed %d times, want once per batch of the latency run (%d)", step, n, batches)
		}
	}
	if n := len(res.steps["window"]); n == 0 || n > batches {
		t.Errorf("window step timed %d times in %d batches", n, batches)
	}
	if line := stepsLine(res.steps); !strings.HasPrefix(line, "stage ") || !strings.Contains(line, ", window ") {
		t.Errorf("steps line %q", line)
	}
	if res.rules == 0 || res.ruleset == "" {
		t.Errorf("rule set not reported: %d rules, hash %q", res.rules, res.ruleset)
	}
	// An execution trace of the latency run, its batches as regions.
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) || !bytes.Contains(b, []byte("batch")) {
		t.Errorf("trace file: %d bytes, err %v; want a runtime/trace with batch regions", len(b), err)
	}
}

// TestBenchRounds: each round of the latency run reads its own stream (a
// round that read another's events would count more than it offered, at
// latencies of seconds) and the line gives their medians. With Redis
// stores, the evidence and history held back are flushed and the window
// store's costs are reported.
func TestBenchRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a load process and runs the stream three times")
	}
	cfg := testConfig(t)
	const rate = 4000
	res, err := bench(context.Background(), cfg, benchOptions{store: "redis", redis: redistest.Addr(), events: 3000, customers: 400, partitions: 4, latency: 500 * time.Millisecond, rate: rate, rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.rounds) != 2 {
		t.Fatalf("%d rounds, want 2", len(res.rounds))
	}
	stages := 0
	var p99s []time.Duration
	for i, x := range res.rounds {
		if x.latencyEvents != rate/2 {
			t.Errorf("round %d handled %d events, want %d", i+1, x.latencyEvents, rate/2)
		}
		if x.p99 <= 0 || x.p99 > 5*time.Second || x.achieved <= 0 {
			t.Errorf("round %d: p99 %v, achieved %v", i+1, x.p99, x.achieved)
		}
		stages += len(x.steps["stage"])
		p99s = append(p99s, x.p99)
	}
	if !slices.Contains(p99s, res.p99) {
		t.Errorf("median p99 %v is none of the rounds' %v", res.p99, p99s)
	}
	if len(res.steps["stage"]) != stages {
		t.Errorf("steps of %d batches, want both rounds' %d", len(res.steps["stage"]), stages)
	}
	var out strings.Builder
	res.print(&out)
	if len(res.steps["flush"]) == 0 {
		t.Error("no flush of what the Redis stores held back was timed")
	}
	if res.window.Writes == 0 || res.window.Misses == 0 {
		t.Errorf("window store costs not counted: %+v", res.window)
	}
	// Both rounds' CPU, each process's: Sluice works, Redis runs the
	// scripts, the load process produces and serves fetches.
	if c := res.cpu; !c.known || c.sluice <= 0 || c.redis <= 0 || c.load <= 0 || c.busy <= 0 || c.busy > c.total {
		t.Errorf("CPU not measured: %+v", c)
	}
	// Collection is part of Sluice's CPU; a short run may have none.
	if c := res.cpu; c.gc < 0 || c.gc > c.sluice || c.gcCycles < 0 {
		t.Errorf("garbage collection of the run: %v s in %v cycles, of Sluice's %v s", c.gc, c.gcCycles, c.sluice)
	}
	if !strings.Contains(out.String(), "  CPU per event: Sluice ") {
		t.Errorf("bench output lacks the CPU per event:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "medians of 2 rounds") || !strings.Contains(out.String(), "  round 2: ") ||
		!strings.Contains(out.String(), "  the window store, per 1,000 events: ") || !strings.Contains(out.String(), " customers=400 ") {
		t.Errorf("bench output lacks the rounds:\n%s", out.String())
	}
}

// TestBenchRates: --rates runs the latency at each rate, every round of
// each on a stream of its own, and prints a row a rate and the highest
// rate whose p99 kept within the target.
func TestBenchRates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a load process and runs the stream four times")
	}
	cfg := testConfig(t)
	rates := []float64{2000, 4000}
	res, err := bench(context.Background(), cfg, benchOptions{store: "memory", events: 3000, partitions: 4, latency: 500 * time.Millisecond,
		rates: rates, rounds: 2, p99Target: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.sweep) != len(rates) {
		t.Fatalf("%d rates measured, want %d", len(res.sweep), len(rates))
	}
	for i, x := range res.sweep {
		if x.rate != rates[i] || len(x.rounds) != 2 {
			t.Errorf("rate %d: %v events/s in %d rounds, want %v in 2", i, x.rate, len(x.rounds), rates[i])
		}
		for j, y := range x.rounds {
			if want := int(rates[i] / 2); y.latencyEvents != want {
				t.Errorf("rate %v round %d handled %d events, want %d (each round its own stream)", x.rate, j+1, y.latencyEvents, want)
			}
		}
		if x.p99 <= 0 || x.p99 > 5*time.Second {
			t.Errorf("rate %v: p99 %v", x.rate, x.p99)
		}
	}
	var out strings.Builder
	res.print(&out)
	for _, want := range []string{"latency by offered rate", "medians of 2 rounds", "\n       2000 ", "\n       4000 ",
		"sustained with p99 within 1h0m0s: 4000 events/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}

	// A target no rate keeps says so rather than naming one.
	res.opts.p99Target = time.Nanosecond
	out.Reset()
	res.print(&out)
	if !strings.Contains(out.String(), "sustained with p99 within 1ns: none of these rates") {
		t.Errorf("bench output with an unmet target:\n%s", out.String())
	}
}

func TestRateList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
		bad  bool
	}{
		{in: "40000", want: []float64{40000}},
		{in: "30000, 40000,50000.5", want: []float64{30000, 40000, 50000.5}},
		{in: "0", bad: true},
		{in: "-5", bad: true},
		{in: "40000,", bad: true},
		{in: "fast", bad: true},
		{in: "Inf", bad: true},
		{in: "NaN", bad: true},
		{in: "1,2,3,4,5,6,7,8,9,10,11", bad: true},
	} {
		var l rateList
		err := l.Set(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted as %v", tc.in, l)
			}
			continue
		}
		if err != nil || !slices.Equal(l, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, l, err, tc.want)
		}
		if back := l.String(); strings.ReplaceAll(tc.in, " ", "") != back {
			t.Errorf("%q printed back as %q", tc.in, back)
		}
	}
}
