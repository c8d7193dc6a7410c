package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/broker"
)

// TestServe runs the production processor (sluice run) against the Kafka
// protocol and Redis, feeds it a structuring pattern and checks the alert
// reaches the case API, that the API wants the token, and that /readyz and
// /metrics answer.
func TestServe(t *testing.T) {
	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 2}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	_, prefix := testRedis(t)
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	cfg.Kafka.Brokers, cfg.Kafka.Topic, cfg.Kafka.DeadLetterTopic, cfg.Kafka.AlertsTopic, cfg.Kafka.Group = []string{b.Addr()}, "tx", "dlq", "alerts", "serve"
	cfg.Redis.Addrs, cfg.Redis.Prefix = []string{redisAddrForTest()}, prefix
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Addr = ln.Addr().String()
	ln.Close()
	cfg.Server.Token = "test-token-0123456789"

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	ev := `{"id":"srv-%d","time":"2025-03-04T1%d:00:00-05:00","kind":"cash_deposit","amount":"9400.00","currency":"CAD",` +
		`"location":{"country":"CA","region":"ON","city":"Toronto"},"to":{"account":"CA-9-1","customer_id":"C-9","name":"Ana"}}`
	var values [][]byte
	for i := 0; i < 3; i++ {
		values = append(values, []byte(fmt.Sprintf(ev, i, i)))
	}
	values = append(values, []byte(`{"id": broken`))
	produceAll(t, b.Addr(), "tx", values)

	base := "http://" + cfg.Server.Addr
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+cfg.Server.Token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	deadline := time.Now().Add(60 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		var code int
		if code, body = get("/api/alerts?status=all", true); code == 200 && strings.Contains(body, "structuring") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, `"structuring"`) || !strings.Contains(body, "srv-2") {
		t.Fatalf("no structuring alert in the case API after 60 s: %s", body)
	}
	if !json.Valid([]byte(body)) {
		t.Fatalf("case API answer is not JSON: %s", body)
	}
	if code, _ := get("/api/alerts", false); code != http.StatusUnauthorized {
		t.Errorf("case API without a token: %d, want 401", code)
	}
	if code, b := get("/readyz", false); code != 200 {
		t.Errorf("/readyz %d: %s", code, b)
	}
	if code, b := get("/metrics", false); code != 200 || !strings.Contains(b, "sluice_events_processed_total") || strings.Contains(b, "CA-9-1") {
		t.Errorf("/metrics %d: processed counter missing or an account number leaked", code)
	}
}
