package broker

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func TestStartCreatesTopics(t *testing.T) {
	// Find a free port, then ask for it explicitly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	b, err := Start(Config{Port: port, Topics: []Topic{{Name: "transactions", Partitions: 8}, {Name: "alerts"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if want := "127.0.0.1:" + strconv.Itoa(port); b.Addr() != want {
		t.Errorf("Addr %q, want %q", b.Addr(), want)
	}
	c := &kafkago.Client{Addr: kafkago.TCP(b.Addr()), Timeout: 10 * time.Second}
	md, err := c.Metadata(context.Background(), &kafkago.MetadataRequest{Topics: []string{"transactions", "alerts"}})
	if err != nil {
		t.Fatalf("metadata over TCP: %v", err)
	}
	got := map[string]int{}
	for _, tp := range md.Topics {
		if tp.Error != nil {
			t.Errorf("topic %s: %v", tp.Name, tp.Error)
		}
		got[tp.Name] = len(tp.Partitions)
	}
	if got["transactions"] != 8 || got["alerts"] != 1 {
		t.Errorf("partitions %v, want transactions:8 alerts:1", got)
	}
	b.Close()
	b.Close() // twice is fine
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Topics: []Topic{{Name: "t", Partitions: 3}}}, ""},
		{"bad port", Config{Port: 70000}, "port"},
		{"unnamed topic", Config{Topics: []Topic{{Partitions: 1}}}, "needs a name"},
		{"duplicate", Config{Topics: []Topic{{Name: "t"}, {Name: "t"}}}, "listed twice"},
		{"negative partitions", Config{Topics: []Topic{{Name: "t", Partitions: -1}}}, "partitions"},
		{"negative size", Config{MaxMessageBytes: -1}, "max message bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
