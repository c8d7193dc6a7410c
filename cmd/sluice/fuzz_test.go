package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/internal/redistest"
)

// FuzzPipeline runs batches of arbitrary messages (a line each) through the
// whole processing path on the memory stores: decoder, windows, graph,
// evidence, every rule and typology of the library, list screening, the
// alert manager and the counterparty registry. Bad input must be
// dead-lettered with a reason and good input scored; nothing may panic or
// fail the batch, since a batch that fails is retried for ever and a
// message that fails every time stops its partition. Every alert must be
// one an analyst can read.
//
//	go test -run '^$' -fuzz FuzzPipeline -fuzztime 5m ./cmd/sluice/
func FuzzPipeline(f *testing.F) {
	_, raw := testStream(f, 300, 2)
	for i := 0; i+8 <= len(raw) && i < 200; i += 8 {
		f.Add(bytes.Join(raw[i:i+8], []byte("\n")))
	}
	for _, s := range [][]byte{
		bytes.Join(structuringEvents(), []byte("\n")),
		[]byte(`{"id":"x","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"999999999.99","currency":"JPY","from":{"account":"A","name":"TREN DE ARAGUA"},"to":{"account":"B","wallet":"0x0000000000000000000000000000000000000000","name":"é\u0000ç"},"memo":"CAS 21409-26-7 fentanyl","location":{"country":"MX"}}`),
		[]byte(`{"id":"y","time":"9999-12-31T23:59:59+14:00","kind":"cash_deposit","amount":"0.01","currency":"CAD","to":{"account":"C","customer_id":"C"}}` + "\n" +
			`{"id":"z","time":"0001-01-01T00:00:00-12:00","kind":"p2p","amount":"1","currency":"USD","from":{"account":"C"},"to":{"account":"C"}}`),
		[]byte(`{"id":"s","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"5","currency":"CAD","from":{"account":"A","customer_id":"A"},"to":{"account":"A","customer_id":"A"}}`),
		[]byte("{}\n\n{\"id\": nope}\n\xff\xfe"),
	} {
		f.Add(s)
	}
	cfg := testConfig(f)
	p, err := loadParts(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) > 32 {
			lines = lines[:32]
		}
		processTwice(t, p, memoryStores(p.cfg), lines)
	})
}

// FuzzEvents builds well-formed events from its arguments, so that most
// inputs get past the decoder to what FuzzPipeline's byte mutations
// rarely reach: n events a step apart, both directions, between two
// accounts, with the names, memo and country given, then the same batch
// again. The same invariants hold, on the memory stores and on Redis,
// which must raise the same alerts, as must the same events a batch each.
//
//	go test -run '^$' -fuzz FuzzEvents -fuzztime 5m ./cmd/sluice/
func FuzzEvents(f *testing.F) {
	f.Add("cash_deposit", "9400.00", "CAD", "CA-9-1", "CA-9-2", "Ana", "", "", "CA", int64(3600), uint8(3))
	f.Add("wire", "8000.00", "USD", "US-101-1", "VE-9", "Ana Ruiz", "TREN DE ARAGUA", "invoice", "VE", int64(60), uint8(2))
	f.Add("crypto_buy", "5087.00", "CAD", "CA-1", "CA-1", "Bo", "Bitcoin ATM", "", "CA", int64(1), uint8(8))
	f.Add("p2p", "0.01", "JPY", "A", "B", "", "", "CAS 21409-26-7 fentanyl", "CN", int64(-86400), uint8(30))
	f.Add("eft", "999999999.99", "EUR", "X", "Y", "株式会社", "José Ñ", "\u202e", "MX", int64(1<<40), uint8(5))
	p, rdb := fuzzParts(f)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, kind, amount, currency, from, to, fromName, toName, memo, country string, step int64, n uint8) {
		base := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
		var lines [][]byte
		for i := range int(n % 40) {
			a, b := from, to
			if i%3 == 2 {
				a, b = to, from
			}
			ev := map[string]any{
				"id": fmt.Sprintf("f-%d", i), "time": base.Add(time.Duration(int64(i) * (step % (1 << 33)) * int64(time.Second))).Format(time.RFC3339),
				"kind": kind, "amount": amount, "currency": currency, "memo": memo,
				"from":     map[string]any{"account": a, "customer_id": "C-" + a, "name": fromName},
				"to":       map[string]any{"account": b, "customer_id": "C-" + b, "name": toName},
				"location": map[string]any{"country": country},
			}
			l, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		allWays(t, p, rdb, &seq, lines)
	})
}

// FuzzGraph fuzzes who pays whom among five customers, so that cycles,
// fan-ins and -outs, scatter-gathers and stacks form and the graph
// patterns run, on the memory stores, on Redis and a message a batch
// (allWays): each byte of pattern is a payment, its low three bits the
// payer, the next three the payee, the next the kind and the top one
// whether it pays amount or 250.00; the payments are step seconds apart.
//
//	go test -run '^$' -fuzz FuzzGraph -fuzztime 5m ./cmd/sluice/
func FuzzGraph(f *testing.F) {
	f.Add([]byte{0x08, 0x11, 0x02}, "9800.00", int64(3600))                   // 0 -> 1 -> 2 -> 0: a cycle
	f.Add([]byte{0x01, 0x02, 0x03, 0x04, 0x09, 0x0a}, "4000.00", int64(600))  // fan-in to 0, 1
	f.Add([]byte{0x08, 0x10, 0x18, 0x21, 0x22, 0x23}, "7000.00", int64(1800)) // scatter-gather 0 -> 1,2,3 -> 4
	f.Add([]byte{0x0b, 0x13, 0x0c, 0x14, 0x29, 0x2a, 0x31, 0x32}, "12000.00", int64(900))
	p, rdb := fuzzParts(f)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, pattern []byte, amount string, step int64) {
		base := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
		var lines [][]byte
		for i, c := range pattern[:min(len(pattern), 40)] {
			from, to := int(c&7)%5, int(c>>3&7)%5
			if from == to {
				to = (to + 1) % 5
			}
			kind, amt := "wire", amount
			if c&0x40 != 0 {
				kind = "p2p"
			}
			if c&0x80 != 0 {
				amt = "250.00"
			}
			party := func(k int) map[string]any {
				return map[string]any{"account": fmt.Sprintf("CA-001-%d", k), "customer_id": fmt.Sprintf("C-%d", k), "name": fmt.Sprintf("Customer %d", k)}
			}
			l, err := json.Marshal(map[string]any{"id": fmt.Sprintf("g-%d", i), "kind": kind, "amount": amt, "currency": "CAD",
				"time": base.Add(time.Duration(int64(i)*(step%(1<<20))) * time.Second).Format(time.RFC3339), "from": party(from), "to": party(to)})
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		allWays(t, p, rdb, &seq, lines)
	})
}

// fuzzParts loads the configuration's parts and connects to the test
// Redis, for the fuzz targets that compare the memory stores with Redis.
func fuzzParts(f *testing.F) (*parts, *redis.Client) {
	p, err := loadParts(testConfig(f))
	if err != nil {
		f.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Addr()})
	f.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		f.Fatalf("Redis at %s: %v (deploy/test.sh starts one)", redistest.Addr(), err)
	}
	return p, rdb
}

// allWays runs lines through processTwice on the memory stores, then on
// Redis (every store) and a message a batch on the memory stores: the
// three must raise byte-identical alerts.
func allWays(t *testing.T, p *parts, rdb *redis.Client, seq *atomic.Int64, lines [][]byte) {
	mem := processTwice(t, p, memoryStores(p.cfg), lines)
	// The fuzzing workers are processes of their own: the pid keeps
	// their keys apart.
	prefix := fmt.Sprintf("sluicetest:fuzz:%d.%d:", os.Getpid(), seq.Add(1))
	defer redistest.Clean(context.Background(), rdb, prefix)
	st, err := redisStores(p.cfg, rdb, prefix, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if red := processTwice(t, p, st, lines); !bytes.Equal(mem, red) {
		t.Errorf("memory and Redis stores raised different alerts:\n%s", firstDiff(mem, red))
	}
	// A message a batch: the alerts do not depend on where the batches
	// were cut.
	one := &collector{alerts: map[string]alerts.Alert{}}
	pl, err := p.pipeline(memoryStores(p.cfg), one)
	if err != nil {
		t.Fatal(err)
	}
	pl.DeadLetter = func(context.Context, []pipeline.Reject) error { return nil }
	for i, l := range lines {
		if err := pl.Process(context.Background(), []pipeline.Raw{{Value: l, Pos: ingest.Position{File: "fuzz", Line: int64(i + 1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustJSON(one.sorted()); !bytes.Equal(mem, got) {
		t.Errorf("a message a batch raised different alerts than one batch:\n%s", firstDiff(mem, got))
	}
}

// processTwice runs lines, a message each, through a pipeline on st as
// one batch, then again (a redelivery), and checks what must
// hold whatever the input: no error, each message the decoder takes scored
// and each it refuses dead-lettered with a reason, the same alerts the
// second time, every alert readable. It returns the alerts, as JSON.
func processTwice(t *testing.T, p *parts, st stores, lines [][]byte) []byte {
	sink := &collector{alerts: map[string]alerts.Alert{}}
	pl, err := p.pipeline(st, sink)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	rejected := 0
	pl.DeadLetter = func(_ context.Context, rs []pipeline.Reject) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rs {
			if r.Reason == "" || r.Err == nil {
				t.Errorf("line %d rejected without a reason: %q %v", r.Raw.Pos.Line, r.Reason, r.Err)
			}
		}
		rejected += len(rs)
		return nil
	}
	scored := 0
	pl.Observe.Decoded = func(n int) { scored += n }
	batch := make([]pipeline.Raw, len(lines))
	for i, l := range lines {
		batch[i] = pipeline.Raw{Value: l, Pos: ingest.Position{File: "fuzz", Line: int64(i + 1)}}
	}
	ctx := context.Background()
	if err := pl.Process(ctx, batch); err != nil {
		t.Fatalf("the batch failed (it would be retried for ever): %v", err)
	}
	before := sink.sorted()
	if err := pl.Process(ctx, batch); err != nil {
		t.Fatalf("the batch failed when handled again: %v", err)
	}
	if after := sink.sorted(); !equalJSON(before, after) {
		t.Errorf("handled again, the batch changed its alerts:\n%s\n%s", mustJSON(before), mustJSON(after))
	}
	// Each line the decoder takes is scored (and may still be dead-lettered
	// as too late); each it refuses is dead-lettered.
	good := 0
	for _, l := range lines {
		if _, err := pl.Decoder.Decode(l); err == nil {
			good++
		}
	}
	if scored != 2*good || rejected < 2*(len(lines)-good) || rejected > 2*len(lines) {
		t.Errorf("%d lines, %d of them valid, twice: %d scored, %d dead-lettered", len(lines), good, scored, rejected)
	}
	final := sink.sorted()
	for _, a := range final {
		checkReadable(t, a)
	}
	return mustJSON(final)
}

// checkReadable checks what every alert must carry for an analyst.
func checkReadable(t *testing.T, a alerts.Alert) {
	t.Helper()
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("alert %s does not marshal: %v", a.ID, err)
	}
	switch {
	case !strings.HasPrefix(a.ID, "al-"):
		t.Errorf("alert id %q", a.ID)
	case a.Subject.Account == "":
		t.Errorf("alert %s has no subject account", a.ID)
	case len(a.Typologies) == 0 || len(a.Rules) == 0:
		t.Errorf("alert %s names no typology or no rule", a.ID)
	case len(a.Transactions) == 0:
		t.Errorf("alert %s lists no transaction", a.ID)
	case a.Score < 0 || a.Score > 100:
		t.Errorf("alert %s scores %d", a.ID, a.Score)
	}
	for _, r := range a.Rules {
		if strings.TrimSpace(r.Reason) == "" || strings.Contains(r.Reason, "<no value>") {
			t.Errorf("alert %s: rule %s's reason %q does not read", a.ID, r.ID, r.Reason)
		}
	}
}

func equalJSON(a, b []alerts.Alert) bool { return bytes.Equal(mustJSON(a), mustJSON(b)) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
