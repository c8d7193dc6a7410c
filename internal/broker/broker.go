package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultMaxMessageBytes is the largest record batch the broker accepts
// unless configured otherwise. Kafka's default is about 1 MB; Sluice raises
// it so that an oversized transaction (10 MB and more) can still be
// dead-lettered byte for byte instead of being refused by the broker.
const DefaultMaxMessageBytes = 64 << 20

// Topic is a topic to create when the broker starts.
type Topic struct {
	Name       string
	Partitions int32 // default 1
}

// Config says how to start the broker.
type Config struct {
	// Port to listen on at 127.0.0.1; 0 picks a free port.
	Port int
	// Topics to create on start.
	Topics []Topic
	// MaxMessageBytes is the broker's message.max.bytes (the largest
	// produce batch it accepts). Default DefaultMaxMessageBytes.
	MaxMessageBytes int
	// TLS, when set, makes the broker speak TLS only.
	TLS *tls.Config
	// Users, when set, makes the broker demand SASL: each user logs in
	// with its mechanism. For tests of clients' security settings.
	Users []User
	// DataDir, when set, keeps the broker's topics, logs and committed
	// offsets in this directory (else in memory), so that a broker
	// started again on it, on the same Port, goes on where the one before
	// stopped: for tests of a broker restart. Topics are created only
	// when the directory holds none.
	DataDir string
}

// User is a SASL login the broker accepts.
type User struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Name      string
	Password  string
}

// Validate reports the first setting that needs fixing.
func (c Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("broker: port %d out of range 0..65535", c.Port)
	}
	if c.MaxMessageBytes < 0 {
		return fmt.Errorf("broker: max message bytes %d must not be negative", c.MaxMessageBytes)
	}
	seen := make(map[string]bool, len(c.Topics))
	for i, t := range c.Topics {
		if t.Name == "" {
			return fmt.Errorf("broker: topics[%d] needs a name", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("broker: topic %q listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Partitions < 0 {
			return fmt.Errorf("broker: topic %q: partitions %d must not be negative", t.Name, t.Partitions)
		}
	}
	return nil
}

// segmentBytes bounds one in-memory log segment (see Start).
const segmentBytes = 4 << 20

// Broker is a running in-process broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Start starts a single-node broker and creates the configured topics.
func Start(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	maxBytes := cfg.MaxMessageBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	opts := []kfake.Opt{
		// One node: kafka-go then talks to one address for data and
		// group coordination, and Addr is the only address there is.
		kfake.NumBrokers(1),
		kfake.Ports(cfg.Port),
		kfake.BrokerConfigs(map[string]string{
			"message.max.bytes": strconv.Itoa(maxBytes),
			// The broker keeps each partition's log in memory, in segment
			// files grown by doubling: at its default (100 MiB) a busy
			// partition's segment is copied whole, the broker's one loop
			// stalled meanwhile, every time it doubles.
			"log.segment.bytes": strconv.Itoa(segmentBytes),
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.TLS != nil {
		opts = append(opts, kfake.TLS(cfg.TLS))
	}
	if len(cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range cfg.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	for _, t := range cfg.Topics {
		p := t.Partitions
		if p == 0 {
			p = 1
		}
		opts = append(opts, kfake.SeedTopics(p, t.Name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("broker: start on 127.0.0.1:%d: %w", cfg.Port, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("broker: started but listens nowhere")
	}
	return &Broker{cluster: c, addr: addrs[0]}, nil
}

// Addr is the broker's host:port, for bootstrap lists.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker and drops its data. It is safe to call twice.
func (b *Broker) Close() { b.cluster.Close() }
