package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	kafkago "github.com/segmentio/kafka-go"
)

// Dead-letter headers. Their values are UTF-8 text.
const (
	HeaderError           = "sluice-error"
	HeaderReason          = "sluice-reason"
	HeaderSourceTopic     = "sluice-source-topic"
	HeaderSourcePartition = "sluice-source-partition"
	HeaderSourceOffset    = "sluice-source-offset"
)

// DeadLetterConfig configures a DeadLetter writer.
type DeadLetterConfig struct {
	Brokers []string
	Topic   string // the dead-letter topic, e.g. "transactions.dlq"
	// Security is TLS and SASL for the brokers (zero: plaintext).
	Security Security
	// MaxMessageBytes is the largest rejected message that can be written
	// (default DefaultMaxMessageBytes). The dead-letter topic's
	// max.message.bytes on the brokers must be at least as large, or the
	// write fails and the stream pauses rather than lose the message.
	MaxMessageBytes int
}

// Validate reports the first setting that needs fixing.
func (c DeadLetterConfig) Validate() error {
	if err := validateBrokers("dead letter", c.Brokers); err != nil {
		return err
	}
	if c.Topic == "" {
		return errors.New("kafka dead letter: topic is required")
	}
	if c.MaxMessageBytes < 0 {
		return fmt.Errorf("kafka dead letter: max message bytes %d must not be negative", c.MaxMessageBytes)
	}
	return nil
}

// Reject is one message refused by the processor and why.
type Reject struct {
	Message Message
	Reason  string // a stable reason such as ingest.ReasonMalformed ("malformed_json") or "too_late"
	Err     error  // the error text goes in sluice-error
}

// DeadLetter writes rejected messages, unchanged, to the dead-letter topic.
// Writes are synchronous with acks from all replicas, so once Write returns
// nil the source offsets may be committed.
type DeadLetter struct {
	topic   string
	brokers []string
	sec     Security
	w       *kafkago.Writer
	err     error // a configuration error, returned by every write
}

// NewDeadLetter returns a DeadLetter writer. A bad configuration is reported
// by Validate and by every Write.
func NewDeadLetter(cfg DeadLetterConfig) *DeadLetter {
	if err := cfg.Validate(); err != nil {
		return &DeadLetter{topic: cfg.Topic, err: err}
	}
	return &DeadLetter{
		topic:   cfg.Topic,
		brokers: cfg.Brokers,
		sec:     cfg.Security,
		w:       newWriter(ProducerConfig{Brokers: cfg.Brokers, Topic: cfg.Topic, MaxMessageBytes: cfg.MaxMessageBytes, BatchSize: 100, Acks: -1, Security: cfg.Security}),
	}
}

// Write dead-letters one message.
func (d *DeadLetter) Write(ctx context.Context, m Message, reason string, err error) error {
	return d.WriteBatch(ctx, []Reject{{Message: m, Reason: reason, Err: err}})
}

// WriteBatch dead-letters all of a batch's rejects in one call; it returns
// nil only when every one of them is stored.
func (d *DeadLetter) WriteBatch(ctx context.Context, rejects []Reject) error {
	if d.err != nil {
		return d.err
	}
	if len(rejects) == 0 {
		return nil
	}
	km := make([]kafkago.Message, len(rejects))
	for i, r := range rejects {
		km[i] = deadLetterMessage(r)
	}
	if err := d.w.WriteMessages(ctx, km...); err != nil {
		if isTooLarge(err) {
			return fmt.Errorf("kafka dead letter: a rejected message is larger than topic %q accepts: raise max.message.bytes of the topic and the dead-letter MaxMessageBytes: %w", d.topic, err)
		}
		return fmt.Errorf("kafka dead letter: write %d messages to %q: %w", len(km), d.topic, err)
	}
	return nil
}

// deadLetterMessage keeps key, value, timestamp and the original headers
// (but for any sluice-* headers of an earlier trip through a dead-letter
// topic, which ours replace) and adds where the message came from and why.
func deadLetterMessage(r Reject) kafkago.Message {
	m := r.Message
	hs := make([]kafkago.Header, 0, len(m.Headers)+5)
	for _, h := range m.Headers {
		if !strings.HasPrefix(h.Key, "sluice-") {
			hs = append(hs, kafkago.Header{Key: h.Key, Value: h.Value})
		}
	}
	errText := ""
	if r.Err != nil {
		errText = r.Err.Error()
	}
	hs = append(hs,
		kafkago.Header{Key: HeaderError, Value: []byte(errText)},
		kafkago.Header{Key: HeaderReason, Value: []byte(r.Reason)},
		kafkago.Header{Key: HeaderSourceTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
		kafkago.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, m.Offset, 10)},
	)
	return kafkago.Message{Key: m.Key, Value: m.Value, Headers: hs, Time: m.Time}
}

// Ping checks that a broker answers and the dead-letter topic exists.
func (d *DeadLetter) Ping(ctx context.Context) error {
	if d.err != nil {
		return d.err
	}
	return PingWith(ctx, d.brokers, d.topic, d.sec)
}

// Close releases the writer's connections.
func (d *DeadLetter) Close() error {
	if d.w == nil {
		return nil
	}
	return d.w.Close()
}

// isTooLarge reports whether the writer (BatchBytes) or the broker
// (max.message.bytes) refused a message for its size. kafka-go reports
// per-message errors as WriteErrors, which errors.Is does not look into.
func isTooLarge(err error) bool {
	var tooLarge kafkago.MessageTooLargeError
	if errors.As(err, &tooLarge) || errors.Is(err, kafkago.MessageSizeTooLarge) {
		return true
	}
	var werrs kafkago.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && isTooLarge(e) {
				return true
			}
		}
	}
	return false
}
