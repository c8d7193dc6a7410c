package kafkasink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest/kafka"
)

// Headers carried by every alert message.
const (
	HeaderAlertID      = "sluice-alert-id"
	HeaderAlertVersion = "sluice-alert-version"
)

// DefaultTopic is the alerts topic when Config.Topic is empty.
const DefaultTopic = "alerts"

// Config configures a Sink.
type Config struct {
	Brokers []string
	Topic   string // default DefaultTopic
	// Security is TLS and SASL for the brokers (zero: plaintext).
	Security kafka.Security
	// WriteTimeout bounds one Write (default 10s).
	WriteTimeout time.Duration
}

// Validate reports the first setting that needs fixing.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka alert sink: brokers are required (host:port list)")
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("kafka alert sink: brokers[%d] %q must be host:port", i, b)
		}
	}
	if c.WriteTimeout < 0 {
		return fmt.Errorf("kafka alert sink: write timeout %v must not be negative", c.WriteTimeout)
	}
	return nil
}

// Sink writes alerts to Kafka.
type Sink struct {
	cfg Config
	w   *kafkago.Writer
	err error // configuration error, returned by every Write
}

// flushAfter is how long the writer lets a partial batch wait for more
// alerts: none. kafka-go adds one call's messages to its batches under a
// lock, before the timer can fire, so a Write is never split by it; the
// timer only decides how long a Write's last, partial batch waits for other
// calls, and at 1 ms every batch of alerts waited that long to be sent
// (kafka-go's default is a second).
const flushAfter = time.Microsecond

// New returns a Sink. A bad configuration is reported by Validate and by
// every Write.
func New(cfg Config) *Sink {
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		return &Sink{cfg: cfg, err: err}
	}
	return &Sink{cfg: cfg, w: &kafkago.Writer{
		Addr:      kafkago.TCP(cfg.Brokers...),
		Transport: cfg.Security.Transport(),
		Topic:     cfg.Topic,
		Balancer:  &kafkago.Hash{}, // by subject account
		// kafka-go allocates room for BatchSize messages in each batch it
		// opens: at 1000, every alert write cleared ~150 KB. A write of
		// more alerts than this goes as several batches.
		BatchSize:    100,
		BatchBytes:   kafka.DefaultMaxMessageBytes,
		BatchTimeout: flushAfter,
		RequiredAcks: kafkago.RequireAll,
		MaxAttempts:  3,
	}}
}

// Write writes alerts in order and returns once all are acknowledged.
func (s *Sink) Write(ctx context.Context, as []alerts.Alert) error {
	if s.err != nil {
		return s.err
	}
	if len(as) == 0 {
		return nil
	}
	msgs := make([]kafkago.Message, len(as))
	for i := range as {
		a := &as[i]
		v, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("kafka alert sink: encode alert %s: %w", a.ID, err)
		}
		msgs[i] = kafkago.Message{
			Key:   []byte(a.Subject.Account),
			Value: v,
			Headers: []kafkago.Header{
				{Key: HeaderAlertID, Value: []byte(a.ID)},
				{Key: HeaderAlertVersion, Value: strconv.AppendInt(nil, int64(a.Version), 10)},
			},
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	if err := s.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("kafka alert sink: write %d alerts to %q: %w", len(msgs), s.cfg.Topic, err)
	}
	return nil
}

// Ping checks that a broker answers and the alerts topic exists.
func (s *Sink) Ping(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	return kafka.PingWith(ctx, s.cfg.Brokers, s.cfg.Topic, s.cfg.Security)
}

// Close releases the writer's connections.
func (s *Sink) Close() error {
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}
