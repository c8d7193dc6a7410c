package kafka

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/internal/broker"
)

// A Producer's calls, one after the other, land in each partition in the
// order given, however small its batches. Before acknowledgements were
// waited for by default (Acks 0 meant none), a partition's requests
// overtook one another and about one message in twenty landed out of order.
func TestProducerKeepsPartitionOrder(t *testing.T) {
	const n, keys = 4000, 16
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: 4})
	p, err := NewProducer(ProducerConfig{Brokers: []string{br.Addr()}, Topic: "tx", BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	msgs := numbered(n, keys)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for lo := 0; lo < n; lo += 100 {
		if err := p.Produce(ctx, msgs[lo:lo+100]...); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "order-check"})
	if err != nil {
		t.Fatal(err)
	}
	rd := kafkago.NewReader(src.readerConfig())
	defer rd.Close()
	seq := map[string]int{}
	for i := 0; i < n; i++ {
		m, err := rd.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k, s, _ := strings.Cut(string(m.Value), ":")
		got, _ := strconv.Atoi(s)
		if got != seq[k] {
			t.Fatalf("key %s: seq %d at partition %d offset %d, want %d", k, got, m.Partition, m.Offset, seq[k])
		}
		seq[k] = got + 1
	}
}
