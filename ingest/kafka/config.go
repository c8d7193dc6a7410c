package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of SourceConfig.
const (
	DefaultMaxBatch      = 512
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultFetchMaxBytes = 50 << 20 // Kafka's fetch.max.bytes; must exceed the largest message
	DefaultFetchMaxWait  = 250 * time.Millisecond
	DefaultLagInterval   = 5 * time.Second
	DefaultCommitTimeout = 10 * time.Second
	DefaultCommitEvery   = 20 * time.Millisecond
)

// SourceConfig configures a Source. Zero values take the defaults above.
type SourceConfig struct {
	Brokers []string // bootstrap host:port list
	Topic   string
	GroupID string
	// Security is TLS and SASL for the brokers (zero: plaintext).
	Security Security

	// MaxBatch is the most messages handed to the handler at once.
	MaxBatch int
	// MaxWait is how long a batch may linger, after its first message,
	// for more messages to fill it. With 0 (the default) a batch is handed
	// over as soon as it is full or no more messages are waiting: under
	// light load batches are small and latency low, under heavy load they
	// fill by themselves while the handler works on the previous one.
	// Set it when each handler call costs much whatever its size.
	MaxWait time.Duration

	// Workers is how many batches are handled at once, so the handler must
	// be safe for concurrent use. A partition is in one batch at a time, its
	// batches in offset order, but a free worker takes any partition with
	// messages waiting. Default 1: one batch at a time.
	Workers int

	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries of a batch the handler failed.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// StartOffset is where a group with no committed offset starts:
	// "earliest" (default, nothing is skipped) or "latest".
	StartOffset string

	// FetchMaxBytes is the most bytes one fetch may return; it must be
	// larger than the largest message, or that message cannot be read.
	FetchMaxBytes int
	// FetchMaxWait is how long the broker holds a fetch when there is
	// nothing new; it also bounds how long Run takes to stop.
	FetchMaxWait time.Duration

	// SessionTimeout and HeartbeatInterval of the group membership.
	// Defaults: kafka-go's (30s and 3s).
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration

	// LagInterval is how often consumer lag is measured for Lag; negative
	// disables it.
	LagInterval time.Duration
	// CommitTimeout bounds one offset commit.
	CommitTimeout time.Duration
	// CommitEvery is the least time between two offset commits: the
	// batches handled meanwhile are committed together, with one Flush.
	// A crash redoes at most that much more (handlers are idempotent).
	CommitEvery time.Duration
	// Flush, when set, is called before each offset commit and must make
	// durable whatever the handler left to be written later (a handler may
	// hold writes back to batch them: see internal/writeback). An error
	// holds the commit back until the next one.
	Flush func(ctx context.Context) error

	// OnRetry, when set, is called each time the handler failed and the
	// batch is about to be retried after wait (for logs and metrics).
	OnRetry func(err error, attempt int, wait time.Duration)
	// OnCommitError, when set, is told of each offset commit held back
	// (Flush or the commit failed); the offsets go with the next one.
	OnCommitError func(err error)
	// Logger receives the consumer's errors (commit failures, broker
	// errors); nil discards them.
	Logger *slog.Logger
}

func (c *SourceConfig) setDefaults() {
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Workers == 0 {
		c.Workers = 1
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.StartOffset == "" {
		c.StartOffset = "earliest"
	}
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if c.FetchMaxWait == 0 {
		c.FetchMaxWait = DefaultFetchMaxWait
	}
	if c.LagInterval == 0 {
		c.LagInterval = DefaultLagInterval
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.CommitEvery == 0 {
		c.CommitEvery = DefaultCommitEvery
	}
}

// Validate reports the first setting that needs fixing. Zero values are
// fine: they take the defaults.
func (c SourceConfig) Validate() error {
	if err := validateBrokers("source", c.Brokers); err != nil {
		return err
	}
	if c.Topic == "" {
		return errors.New("kafka source: topic is required")
	}
	if c.GroupID == "" {
		return errors.New("kafka source: group id is required (offsets are committed to the group)")
	}
	if c.MaxBatch < 0 {
		return fmt.Errorf("kafka source: max batch %d must be positive", c.MaxBatch)
	}
	if c.Workers < 0 || c.Workers > 64 {
		return fmt.Errorf("kafka source: workers %d must be between 1 and 64", c.Workers)
	}
	for name, d := range map[string]time.Duration{
		"max wait": c.MaxWait, "min backoff": c.MinBackoff, "max backoff": c.MaxBackoff,
		"fetch max wait": c.FetchMaxWait, "session timeout": c.SessionTimeout,
		"heartbeat interval": c.HeartbeatInterval, "commit timeout": c.CommitTimeout, "commit every": c.CommitEvery,
	} {
		if d < 0 {
			return fmt.Errorf("kafka source: %s %v must not be negative", name, d)
		}
	}
	if c.MinBackoff > 0 && c.MaxBackoff > 0 && c.MaxBackoff < c.MinBackoff {
		return fmt.Errorf("kafka source: max backoff %v is below min backoff %v", c.MaxBackoff, c.MinBackoff)
	}
	switch c.StartOffset {
	case "", "earliest", "latest":
	default:
		return fmt.Errorf("kafka source: start offset %q must be \"earliest\" or \"latest\"", c.StartOffset)
	}
	if c.FetchMaxBytes < 0 {
		return fmt.Errorf("kafka source: fetch max bytes %d must be positive", c.FetchMaxBytes)
	}
	return nil
}

func validateBrokers(who string, brokers []string) error {
	if len(brokers) == 0 {
		return fmt.Errorf("kafka %s: brokers are required (host:port list)", who)
	}
	for i, b := range brokers {
		if b == "" || !strings.Contains(b, ":") {
			return fmt.Errorf("kafka %s: brokers[%d] %q must be host:port", who, i, b)
		}
	}
	return nil
}
