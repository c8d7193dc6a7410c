package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// DefaultMaxMessageBytes is the largest message Sluice's writers send
// (kafka-go's BatchBytes). It is raised well above Kafka's 1 MB default so
// that an oversized rejected event can still be dead-lettered unchanged; the
// topic's max.message.bytes must be raised to match.
const DefaultMaxMessageBytes = 64 << 20

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers []string
	Topic   string
	// Security is TLS and SASL for the brokers (zero: plaintext).
	Security Security
	// BatchSize is the most messages per produce request per partition
	// (default 10,000). kafka-go allocates room for that many in every
	// batch it opens, so a producer of a few messages at a time wants it
	// small.
	BatchSize int
	// MaxMessageBytes bounds one produce batch (default DefaultMaxMessageBytes).
	MaxMessageBytes int
	// Partitioner picks the partition: "hash" (default: by key, keyless
	// messages round robin) or "roundrobin".
	Partitioner string
	// Acks is 1 to wait for the partition leader only; 0 (the default) or
	// -1 waits for every in-sync replica. There is no fire-and-forget:
	// Produce returns when its messages are acknowledged, and a producer
	// that did not wait would also let a partition's requests overtake one
	// another (TestProducerKeepsPartitionOrder).
	Acks int
}

// Validate reports the first setting that needs fixing.
func (c ProducerConfig) Validate() error {
	if err := validateBrokers("producer", c.Brokers); err != nil {
		return err
	}
	if c.Topic == "" {
		return errors.New("kafka producer: topic is required")
	}
	if c.BatchSize < 0 || c.MaxMessageBytes < 0 {
		return errors.New("kafka producer: batch size and max message bytes must not be negative")
	}
	switch c.Partitioner {
	case "", "hash", "roundrobin":
	default:
		return fmt.Errorf("kafka producer: partitioner %q must be \"hash\" or \"roundrobin\"", c.Partitioner)
	}
	switch c.Acks {
	case -1, 0, 1:
	default:
		return fmt.Errorf("kafka producer: acks %d must be -1, 0 or 1", c.Acks)
	}
	return nil
}

// Producer writes messages to one topic, synchronously: Produce returns when
// the broker has them.
type Producer struct {
	w *kafkago.Writer
}

// NewProducer checks cfg and returns a Producer.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Producer{w: newWriter(cfg)}, nil
}

func newWriter(cfg ProducerConfig) *kafkago.Writer {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 10000
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	var bal kafkago.Balancer = &kafkago.Hash{}
	if cfg.Partitioner == "roundrobin" {
		bal = &kafkago.RoundRobin{}
	}
	acks := kafkago.RequireAll
	if cfg.Acks == 1 {
		acks = kafkago.RequireOne
	}
	return &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Transport:    cfg.Security.Transport(),
		Topic:        cfg.Topic,
		Balancer:     bal,
		BatchSize:    cfg.BatchSize,
		BatchBytes:   int64(cfg.MaxMessageBytes),
		BatchTimeout: time.Millisecond, // callers hand whole slices; don't sit on a partial batch
		RequiredAcks: acks,
		MaxAttempts:  5,
	}
}

// Produce writes msgs (Key, Value, Headers and Time are used; Topic,
// Partition and Offset are ignored) and returns when all are acknowledged.
func (p *Producer) Produce(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafkago.Message, len(msgs))
	for i := range msgs {
		km[i] = kafkago.Message{Key: msgs[i].Key, Value: msgs[i].Value, Headers: toKafkaHeaders(msgs[i].Headers), Time: msgs[i].Time}
	}
	if err := p.w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("kafka producer: write %d messages to %q: %w", len(msgs), p.w.Topic, err)
	}
	return nil
}

// Close flushes and releases the producer's connections.
func (p *Producer) Close() error { return p.w.Close() }

// Produce writes msgs to topic with a one-off Producer, in chunks so that a
// million messages load without one giant request.
func Produce(ctx context.Context, brokers []string, topic string, msgs []Message) error {
	p, err := NewProducer(ProducerConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		return err
	}
	const chunk = 50000
	for len(msgs) > 0 {
		n := min(chunk, len(msgs))
		if err := p.Produce(ctx, msgs[:n]...); err != nil {
			p.Close()
			return err
		}
		msgs = msgs[n:]
	}
	return p.Close()
}
