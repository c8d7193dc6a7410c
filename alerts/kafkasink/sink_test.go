package kafkasink

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/broker"
)

func alert(id, account string, version int) alerts.Alert {
	return alerts.Alert{
		ID:           id,
		Time:         "2025-03-04T15:22:10-08:00",
		Subject:      alerts.Subject{Account: account, CustomerID: "C-1"},
		Score:        80,
		Transactions: []string{"tx-1", "tx-2"},
		Typologies:   []alerts.TypologyHit{{ID: "structuring", Score: 80}},
		Rules: []alerts.RuleHit{{ID: "cash_just_below_threshold", Score: 80, Reason: "4 cash deposits of 9,000-9,999 CAD within 24h",
			Values: map[string]any{"count": 4.0, "sum": "38120.00"}, Tx: "tx-2"}},
		Screening: []alerts.ScreeningHit{},
		Ruleset:   "sha256:abc",
		Source:    ingest.Position{Topic: "transactions", Partition: 3, Offset: 88123},
		Version:   version,
	}
}

func TestSinkRoundTrip(t *testing.T) {
	b, err := broker.Start(broker.Config{Topics: []broker.Topic{{Name: "alerts", Partitions: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := New(Config{Brokers: []string{b.Addr()}})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	in := []alerts.Alert{alert("a1", "CA-001-1", 1), alert("a2", "CA-001-2", 1), alert("a1", "CA-001-1", 2), alert("a3", "CA-001-3", 1)}
	if err := s.Write(ctx, in[:2]); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := s.Write(ctx, in[2:]); err != nil {
		t.Fatalf("write: %v", err)
	}

	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{b.Addr()}, GroupID: "check", Topic: "alerts", MaxWait: 100 * time.Millisecond})
	defer r.Close()
	got := map[string]alerts.Alert{} // id/version -> alert
	partition := map[string]int{}    // account -> partition
	order := map[string][]int{}      // id -> versions in read order
	for i := 0; i < len(in); i++ {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read alert %d: %v", i, err)
		}
		var a alerts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("alert is not JSON: %v: %s", err, m.Value)
		}
		if string(m.Key) != a.Subject.Account {
			t.Errorf("key %q, want the subject account %q", m.Key, a.Subject.Account)
		}
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if hs[HeaderAlertID] != a.ID || hs[HeaderAlertVersion] != strconv.Itoa(a.Version) {
			t.Errorf("headers %v do not match alert %s v%d", hs, a.ID, a.Version)
		}
		if p, ok := partition[a.Subject.Account]; ok && p != m.Partition {
			t.Errorf("account %s on partitions %d and %d", a.Subject.Account, p, m.Partition)
		}
		partition[a.Subject.Account] = m.Partition
		got[a.ID+"/"+strconv.Itoa(a.Version)] = a
		order[a.ID] = append(order[a.ID], a.Version)
	}
	for _, a := range in {
		// JSON numbers come back as float64, which is what alert() uses.
		if g := got[a.ID+"/"+strconv.Itoa(a.Version)]; !reflect.DeepEqual(g, a) {
			t.Errorf("alert %s v%d changed on the way:\n got %+v\nwant %+v", a.ID, a.Version, g, a)
		}
	}
	if v := order["a1"]; len(v) != 2 || v[0] != 1 || v[1] != 2 {
		t.Errorf("versions of a1 read in order %v, want [1 2]", v)
	}
}

func TestSinkConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no brokers", Config{}, "brokers are required"},
		{"bad broker", Config{Brokers: []string{"kafka"}}, "host:port"},
		{"negative timeout", Config{Brokers: []string{"k:9092"}, WriteTimeout: -time.Second}, "write timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.cfg).Write(context.Background(), []alerts.Alert{alert("a", "b", 1)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// With the broker gone, Write fails (so the processor does not commit)
// instead of pretending the alert is stored.
func TestSinkFailsWhenBrokerDown(t *testing.T) {
	b, err := broker.Start(broker.Config{Topics: []broker.Topic{{Name: "alerts"}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	b.Close()
	s := New(Config{Brokers: []string{addr}, WriteTimeout: 2 * time.Second})
	defer s.Close()
	if err := s.Write(context.Background(), []alerts.Alert{alert("a", "b", 1)}); err == nil {
		t.Fatal("write to a stopped broker succeeded")
	}
}
