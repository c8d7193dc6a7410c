package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how Sluice's Kafka clients protect their connections and
// prove who they are. The zero value is plaintext without SASL, as to a
// broker on the same host or the embedded one. Every client of a
// configuration (consumer, dead-letter and alert producers, readiness and
// lag checks) gets the same Security.
type Security struct {
	// TLS, when set, encrypts every connection to the brokers and checks
	// their certificates (with a client certificate in it, it also proves
	// Sluice's identity: mutual TLS).
	TLS *tls.Config
	// SASL, when set, authenticates every connection (NewSASL).
	SASL sasl.Mechanism
}

// The SASL mechanisms NewSASL knows.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// NewSASL returns the SASL mechanism named (PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512, in any case) for username and password.
func NewSASL(mechanism, username, password string) (sasl.Mechanism, error) {
	if username == "" || password == "" {
		return nil, errors.New("kafka: SASL needs a username and a password")
	}
	switch strings.ToUpper(mechanism) {
	case SASLPlain:
		return plain.Mechanism{Username: username, Password: password}, nil
	case SASLScramSHA256:
		return scram.Mechanism(scram.SHA256, username, password)
	case SASLScramSHA512:
		return scram.Mechanism(scram.SHA512, username, password)
	}
	return nil, fmt.Errorf("kafka: SASL mechanism %q is not one of %s, %s, %s", mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512)
}

func (s Security) zero() bool { return s.TLS == nil && s.SASL == nil }

// dialer is the consumer's.
func (s Security) dialer() *kafkago.Dialer {
	if s.zero() {
		return nil // kafka-go's default dialer
	}
	return &kafkago.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: s.TLS, SASLMechanism: s.SASL}
}

// Transport is the kafka-go transport of a Writer or Client with this
// Security: nil (kafka-go's shared default) for the zero value.
func (s Security) Transport() kafkago.RoundTripper {
	if s.zero() {
		return nil // kafka-go's shared default transport
	}
	return &kafkago.Transport{TLS: s.TLS, SASL: s.SASL}
}
