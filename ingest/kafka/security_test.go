package kafka

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/tlstest"
)

// TestSecurity runs every Kafka client of Sluice (producer, consumer group
// with its commits, dead-letter writer, readiness and lag checks) against a
// broker that demands TLS, SASL or both, over the Kafka protocol; and
// checks that a client without the right settings is refused.
func TestSecurity(t *testing.T) {
	sasl := func(mech, user, pass string, t2 *tls.Config) Security {
		m, err := NewSASL(mech, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		return Security{SASL: m, TLS: t2}
	}
	server, mutual, plainCA := tlstest.New(t), tlstest.New(t).RequireClientCert(), tlstest.New(t)
	wrongName := server.Client(false)
	wrongName.ServerName = "kafka.example.com"

	for _, tc := range []struct {
		name   string
		broker broker.Config
		good   Security
		bad    map[string]Security // refused, by why
	}{
		{
			name:   "TLS",
			broker: broker.Config{TLS: server.Server},
			good:   Security{TLS: server.Client(false)},
			bad: map[string]Security{
				"plaintext":          {},
				"an unknown CA":      {TLS: mutual.Client(false)},
				"the wrong hostname": {TLS: wrongName},
			},
		},
		{
			name:   "mutual TLS and SCRAM-SHA-512",
			broker: broker.Config{TLS: mutual.Server, Users: []broker.User{{Mechanism: SASLScramSHA512, Name: "sluice", Password: "s3cret-512"}}},
			good:   sasl("scram-sha-512", "sluice", "s3cret-512", mutual.Client(true)),
			bad: map[string]Security{
				"no client certificate": sasl(SASLScramSHA512, "sluice", "s3cret-512", mutual.Client(false)),
				"a wrong password":      sasl(SASLScramSHA512, "sluice", "guess", mutual.Client(true)),
				"no SASL":               {TLS: mutual.Client(true)},
			},
		},
		{
			name:   "SCRAM-SHA-256",
			broker: broker.Config{Users: []broker.User{{Mechanism: SASLScramSHA256, Name: "sluice", Password: "s3cret-256"}}},
			good:   sasl(SASLScramSHA256, "sluice", "s3cret-256", nil),
			bad: map[string]Security{
				"a wrong password": sasl(SASLScramSHA256, "sluice", "s3cret-512", nil),
				"another user":     sasl(SASLScramSHA256, "mallory", "s3cret-256", nil),
				"no SASL":          {},
			},
		},
		{
			name:   "PLAIN over TLS",
			broker: broker.Config{TLS: plainCA.Server, Users: []broker.User{{Mechanism: SASLPlain, Name: "sluice", Password: "plain-pw"}}},
			good:   sasl(SASLPlain, "sluice", "plain-pw", plainCA.Client(false)),
			bad: map[string]Security{
				"a wrong password": sasl(SASLPlain, "sluice", "plain", plainCA.Client(false)),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.broker.Topics = []broker.Topic{{Name: "tx", Partitions: 3}, {Name: "dlq"}}
			br, err := broker.Start(tc.broker)
			if err != nil {
				t.Fatal(err)
			}
			defer br.Close()
			addr := []string{br.Addr()}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			for why, sec := range tc.bad {
				pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
				if err := PingWith(pctx, addr, "tx", sec); err == nil {
					t.Errorf("a client with %s was let in", why)
				}
				pcancel()
			}
			if err := PingWith(ctx, addr, "tx", tc.good); err != nil {
				t.Fatalf("ping with the right settings: %v", err)
			}

			const n = 300
			p, err := NewProducer(ProducerConfig{Brokers: addr, Topic: "tx", Security: tc.good})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Produce(ctx, numbered(n, 7)...); err != nil {
				t.Fatalf("produce: %v", err)
			}
			p.Close()

			src, err := NewSource(SourceConfig{Brokers: addr, Topic: "tx", GroupID: "secure", Security: tc.good, Workers: 2, LagInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			dlq := NewDeadLetter(DeadLetterConfig{Brokers: addr, Topic: "dlq", Security: tc.good})
			defer dlq.Close()
			if err := dlq.Ping(ctx); err != nil {
				t.Fatalf("dead-letter ping: %v", err)
			}
			rec := newRecorder(t)
			rctx, rcancel := context.WithCancel(ctx)
			err = src.Run(rctx, func(ctx context.Context, batch []Message) error {
				for _, m := range batch {
					if m.Partition == 0 && m.Offset == 0 {
						if err := dlq.Write(ctx, m, "malformed", context.Canceled); err != nil {
							return err
						}
					}
				}
				rec.record(batch)
				if rec.count() == n {
					rcancel()
				}
				return nil
			})
			if err != nil || rec.count() != n {
				t.Fatalf("consumed %d of %d: %v", rec.count(), n, err)
			}
			lag, err := src.MeasureLag(ctx)
			if err != nil || lag != 0 {
				t.Errorf("lag after consuming everything = %d, %v; want 0 (offsets committed over the secured connection)", lag, err)
			}
			c := &kafkago.Client{Addr: kafkago.TCP(addr...), Timeout: 10 * time.Second, Transport: tc.good.Transport()}
			ends, err := c.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{"dlq": {kafkago.LastOffsetOf(0)}}})
			if err != nil || len(ends.Topics["dlq"]) != 1 || ends.Topics["dlq"][0].LastOffset != 1 {
				t.Errorf("dead-letter topic after one reject: %+v, %v; want one message", ends, err)
			}
		})
	}
}

func TestNewSASL(t *testing.T) {
	for _, tc := range []struct {
		mech, user, pass string
		ok               bool
	}{
		{"PLAIN", "u", "p", true},
		{"scram-sha-256", "u", "p", true},
		{"SCRAM-SHA-512", "u", "p", true},
		{"GSSAPI", "u", "p", false},
		{"SCRAM-SHA-512", "", "p", false},
		{"SCRAM-SHA-512", "u", "", false},
	} {
		m, err := NewSASL(tc.mech, tc.user, tc.pass)
		if (err == nil) != tc.ok {
			t.Errorf("NewSASL(%q, %q, %q) = %v, %v", tc.mech, tc.user, tc.pass, m, err)
		}
	}
}
