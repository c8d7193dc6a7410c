package kafka

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/broker"
)

// readAll reads every message of a single-partition topic with a plain
// kafka-go reader, independent of Source.
func readAll(t *testing.T, addr, topic string, n int) []kafkago.Message {
	t.Helper()
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, MaxBytes: 64 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafkago.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s after %d messages: %v", topic, len(out), err)
		}
		out = append(out, m)
	}
	return out
}

func header(m kafkago.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return "<missing>"
}

func TestDeadLetterKeepsBytesAndSaysWhy(t *testing.T) {
	br := startBroker(t, broker.Topic{Name: "transactions.dlq", Partitions: 1})
	big := bytes.Repeat([]byte(`{"id":"x","memo":"`), (10<<20)/18+1) // just over 10 MB, unterminated JSON
	tests := []struct {
		name   string
		key    []byte
		value  []byte
		reason string
		err    error
	}{
		{"malformed json", []byte("acct-1"), []byte(`{"id": "tx-1", "amount": `), "malformed_json", errors.New("malformed_json: unexpected end of JSON input")},
		{"invalid utf-8", nil, []byte("{\"id\":\"tx-2\",\"memo\":\"\xff\xfe\xc3\x28\"}"), "invalid_utf8", errors.New("invalid_utf8: message is not valid UTF-8")},
		{"too late", []byte("acct-3"), []byte(`{"id":"tx-3","time":"2020-01-01T00:00:00Z"}`), "too_late", errors.New("too_late: event time 2020-01-01T00:00:00Z is 5y behind the watermark")},
		{"10 MB", []byte("acct-4"), big, "oversized", errors.New("oversized: message is 10485778 bytes, limit is 65536")},
		{"empty value", nil, []byte{}, "malformed_json", errors.New("malformed_json: empty message")},
	}
	var rejects []Reject
	for i, tt := range tests {
		rejects = append(rejects, Reject{
			Message: Message{Topic: "transactions", Partition: int32(i), Offset: int64(1000 + i), Key: tt.key, Value: tt.value,
				Headers: []Header{{Key: "trace", Value: []byte("abc")}, {Key: HeaderReason, Value: []byte("stale")}}},
			Reason: tt.reason, Err: tt.err,
		})
	}
	dl := NewDeadLetter(DeadLetterConfig{Brokers: []string{br.Addr()}, Topic: "transactions.dlq"})
	defer dl.Close()
	ctx := context.Background()
	if err := dl.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// One through Write, the rest in one batch.
	if err := dl.Write(ctx, rejects[0].Message, rejects[0].Reason, rejects[0].Err); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := dl.WriteBatch(ctx, rejects[1:]); err != nil {
		t.Fatalf("write batch: %v", err)
	}

	got := readAll(t, br.Addr(), "transactions.dlq", len(tests))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := got[i]
			if !bytes.Equal(m.Value, tt.value) {
				t.Errorf("value changed: %d bytes in, %d out", len(tt.value), len(m.Value))
			}
			if !bytes.Equal(m.Key, tt.key) {
				t.Errorf("key %q, want %q", m.Key, tt.key)
			}
			want := map[string]string{
				HeaderError:           tt.err.Error(),
				HeaderReason:          tt.reason,
				HeaderSourceTopic:     "transactions",
				HeaderSourcePartition: strconv.Itoa(i),
				HeaderSourceOffset:    strconv.Itoa(1000 + i),
				"trace":               "abc",
			}
			for k, v := range want {
				if h := header(m, k); h != v {
					t.Errorf("header %s = %q, want %q", k, h, v)
				}
			}
			n := 0
			for _, h := range m.Headers {
				if h.Key == HeaderReason {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d %s headers, want 1 (the stale one must be replaced)", n, HeaderReason)
			}
		})
	}
}

func TestDeadLetterConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  DeadLetterConfig
		want string
	}{
		{"no brokers", DeadLetterConfig{Topic: "dlq"}, "brokers are required"},
		{"no topic", DeadLetterConfig{Brokers: []string{"localhost:9092"}}, "topic is required"},
		{"negative size", DeadLetterConfig{Brokers: []string{"localhost:9092"}, Topic: "dlq", MaxMessageBytes: -1}, "max message bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewDeadLetter(tt.cfg).Write(context.Background(), Message{Value: []byte("x")}, "malformed_json", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A broker that refuses big messages makes the write fail loudly with the
// fix in the message, never drop the message.
func TestDeadLetterTooLargeForBroker(t *testing.T) {
	b, err := broker.Start(broker.Config{Topics: []broker.Topic{{Name: "dlq"}}, MaxMessageBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dl := NewDeadLetter(DeadLetterConfig{Brokers: []string{b.Addr()}, Topic: "dlq"})
	defer dl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = dl.Write(ctx, Message{Topic: "transactions", Value: bytes.Repeat([]byte("x"), 2<<20)}, "oversized", errors.New("too big"))
	if err == nil || !strings.Contains(err.Error(), "max.message.bytes") {
		t.Fatalf("error %v, want one naming max.message.bytes", err)
	}
}

// A 10 MB message and an invalid UTF-8 one, among good ones, come through
// the Source and leave through the dead-letter topic unchanged; the good
// ones around them are all handled.
func TestSourceToDeadLetterEndToEnd(t *testing.T) {
	br := startBroker(t, broker.Topic{Name: "transactions", Partitions: 2}, broker.Topic{Name: "dlq", Partitions: 1})
	good := func(id string) []byte {
		return []byte(`{"id":"` + id + `","time":"2025-03-04T15:22:10-08:00","kind":"wire","amount":"10.00","currency":"CAD","from":{"account":"CA-1"}}`)
	}
	big := append([]byte(`{"id":"big","memo":"`), bytes.Repeat([]byte("x"), 10<<20)...)
	big = append(big, `"}`...)
	bad := map[string]string{string(big): "oversized", "{\"id\":\"u\",\"memo\":\"\xc3\x28\"}": "invalid_utf8"}
	msgs := []Message{
		{Key: []byte("a"), Value: good("g1")}, {Key: []byte("a"), Value: big}, {Key: []byte("a"), Value: good("g2")},
		{Key: []byte("b"), Value: []byte("{\"id\":\"u\",\"memo\":\"\xc3\x28\"}")}, {Key: []byte("b"), Value: good("g3")},
	}
	produce(t, br.Addr(), "transactions", msgs)

	dl := NewDeadLetter(DeadLetterConfig{Brokers: []string{br.Addr()}, Topic: "dlq"})
	defer dl.Close()
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "transactions", GroupID: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ok []string
	n := 0
	err = src.Run(ctx, func(ctx context.Context, batch []Message) error {
		var rejects []Reject
		for _, m := range batch {
			ev, err := ingest.Decode(m.Value)
			if err != nil {
				rejects = append(rejects, Reject{Message: m, Reason: ingest.Reason(err), Err: err})
				continue
			}
			ok = append(ok, ev.ID)
		}
		if err := dl.WriteBatch(ctx, rejects); err != nil {
			return err
		}
		if n += len(batch); n == len(msgs) {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(ok)
	if strings.Join(ok, ",") != "g1,g2,g3" {
		t.Errorf("good events handled: %v, want g1,g2,g3", ok)
	}
	for _, m := range readAll(t, br.Addr(), "dlq", 2) {
		reason, found := bad[string(m.Value)]
		if !found {
			t.Errorf("dead letter of %d bytes is not one of the bad messages byte for byte", len(m.Value))
			continue
		}
		if h := header(m, HeaderReason); h != reason {
			t.Errorf("%d-byte message: reason %q, want %q", len(m.Value), h, reason)
		}
		if h := header(m, HeaderSourceTopic); h != "transactions" {
			t.Errorf("source topic header %q", h)
		}
	}
}
