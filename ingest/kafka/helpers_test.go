package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/internal/broker"
)

// startBroker starts an in-process broker with the given topics
// ("name:partitions") and stops it when the test ends.
func startBroker(tb testing.TB, topics ...broker.Topic) *broker.Broker {
	tb.Helper()
	b, err := broker.Start(broker.Config{Topics: topics})
	if err != nil {
		tb.Fatalf("start broker: %v", err)
	}
	tb.Cleanup(b.Close)
	return b
}

// numbered returns n messages whose key is their partition key ("k<i%keys>")
// and whose value is "<key>:<seq>", seq counting per key, so per-key order
// can be checked on the way out.
func numbered(n, keys int) []Message {
	msgs := make([]Message, n)
	seq := make([]int, keys)
	for i := range msgs {
		k := i % keys
		msgs[i] = Message{Key: fmt.Appendf(nil, "k%d", k), Value: fmt.Appendf(nil, "k%d:%d", k, seq[k])}
		seq[k]++
	}
	return msgs
}

func produce(tb testing.TB, addr, topic string, msgs []Message) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := Produce(ctx, []string{addr}, topic, msgs); err != nil {
		tb.Fatalf("produce: %v", err)
	}
}

// committed returns the group's committed offset per partition.
func committed(tb testing.TB, addr, group, topic string, partitions int) map[int]int64 {
	tb.Helper()
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	c := &kafkago.Client{Addr: kafkago.TCP(addr), Timeout: 10 * time.Second}
	resp, err := c.OffsetFetch(context.Background(), &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		tb.Fatalf("offset fetch: %v", err)
	}
	out := make(map[int]int64)
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			tb.Fatalf("offset fetch %s/%d: %v", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// allCommitted checks that the group committed every partition to its end.
func allCommitted(tb testing.TB, addr, group, topic string, partitions int) {
	tb.Helper()
	ends := endOffsets(tb, addr, topic, partitions)
	got := committed(tb, addr, group, topic, partitions)
	for p := 0; p < partitions; p++ {
		if got[p] != ends[p] {
			tb.Errorf("partition %d: committed %d, end %d", p, got[p], ends[p])
		}
	}
}

// endOffsets returns the end offset per partition.
func endOffsets(tb testing.TB, addr, topic string, partitions int) map[int]int64 {
	tb.Helper()
	reqs := make([]kafkago.OffsetRequest, partitions)
	for i := range reqs {
		reqs[i] = kafkago.LastOffsetOf(i)
	}
	c := &kafkago.Client{Addr: kafkago.TCP(addr), Timeout: 10 * time.Second}
	resp, err := c.ListOffsets(context.Background(), &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		tb.Fatalf("list offsets: %v", err)
	}
	out := make(map[int]int64)
	for _, p := range resp.Topics[topic] {
		out[p.Partition] = p.LastOffset
	}
	return out
}
