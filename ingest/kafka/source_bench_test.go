package kafka

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/broker"
)

// BenchmarkSourceThroughput measures messages/s from kfake through a
// consumer group to a no-op handler, commits included. b.N messages of
// about 300 bytes (the size of a canonical event) are preloaded over 8
// partitions; the clock runs from Run until the last one is handled.
func BenchmarkSourceThroughput(b *testing.B) {
	br := startBroker(b, broker.Topic{Name: "tx", Partitions: 8})
	value := make([]byte, 300)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	msgs := make([]Message, b.N)
	for i := range msgs {
		msgs[i] = Message{Value: value}
	}
	p, err := NewProducer(ProducerConfig{Brokers: []string{br.Addr()}, Topic: "tx", Partitioner: "roundrobin"})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Produce(context.Background(), msgs...); err != nil {
		b.Fatal(err)
	}
	p.Close()

	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "bench", LagInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var seen, batches atomic.Int64
	b.ResetTimer()
	start := time.Now()
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		batches.Add(1)
		if seen.Add(int64(len(batch))) >= int64(b.N) {
			cancel()
		}
		return nil
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if seen.Load() < int64(b.N) {
		b.Fatalf("handled %d of %d messages", seen.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(seen.Load())/float64(batches.Load()), "msgs/batch")
}

// BenchmarkProduce measures how fast Produce loads ~300-byte messages into
// an 8-partition topic (what demo and bench do before consuming).
func BenchmarkProduce(b *testing.B) {
	br := startBroker(b, broker.Topic{Name: "tx", Partitions: 8})
	value := make([]byte, 300)
	msgs := make([]Message, b.N)
	for i := range msgs {
		msgs[i] = Message{Key: []byte{byte(i), byte(i >> 8)}, Value: value}
	}
	b.ResetTimer()
	start := time.Now()
	if err := Produce(context.Background(), []string{br.Addr()}, "tx", msgs); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
