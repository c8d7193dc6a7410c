package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/tlstest"
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
	onBroker(cfg, b.Addr(), "serve")
	cfg.Redis.Addrs, cfg.Redis.Prefix = []string{redisAddrForTest()}, prefix
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Addr = ln.Addr().String()
	ln.Close()
	cfg.Server.Token = "test-token-0123456789"

	defer runServe(t, cfg)()

	produceAll(t, b.Addr(), "tx", append(structuringEvents(), []byte(`{"id": broken`)))

	base := "http://" + cfg.Server.Addr
	get := func(path string, auth bool) (int, string) { return httpGet(base+path, cfg.Server.Token, auth) }
	body := waitForAlert(t, base, cfg.Server.Token)
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

// structuringEvents are three cash deposits just under CAD 10,000 into one
// account within a day: a structuring alert, whose evidence names srv-2.
func structuringEvents() [][]byte {
	ev := `{"id":"srv-%d","time":"2025-03-04T1%d:00:00-05:00","kind":"cash_deposit","amount":"9400.00","currency":"CAD",` +
		`"location":{"country":"CA","region":"ON","city":"Toronto"},"to":{"account":"CA-9-1","customer_id":"C-9","name":"Ana"}}`
	var values [][]byte
	for i := 0; i < 3; i++ {
		values = append(values, []byte(fmt.Sprintf(ev, i, i)))
	}
	return values
}

// httpGet fetches url, with the bearer token when auth.
func httpGet(url, token string, auth bool) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitForAlert polls the case API at base for up to 60 s until the
// structuring alert of structuringEvents is there, and returns the answer.
func waitForAlert(t *testing.T, base, token string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		var code int
		if code, body = httpGet(base+"/api/alerts?status=all", token, true); code == 200 && strings.Contains(body, "structuring") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, `"structuring"`) || !strings.Contains(body, "srv-2") {
		t.Fatalf("no structuring alert in the case API after 60 s: %s", body)
	}
	return body
}

// TestServeSecured runs sluice run as a bank would against its own
// services: a broker that demands mutual TLS and SCRAM-SHA-512, a Redis
// that demands TLS and an ACL user, the certificates named in the
// configuration file and the passwords in the environment. The alert must
// reach the case API, and /readyz must say both are reachable.
func TestServeSecured(t *testing.T) {
	kpki, rpki := tlstest.New(t).RequireClientCert(), tlstest.New(t)
	b, err := broker.Start(broker.Config{TLS: kpki.Server, Users: []broker.User{{Mechanism: kafka.SASLScramSHA512, Name: "sluice", Password: "kafka-pw-0123"}},
		Topics: []broker.Topic{{Name: "tx", Partitions: 2}, {Name: "dlq"}, {Name: "alerts"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	dir := t.TempDir()
	port := freePort(t)
	runRedis(t, &redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Username: "sluice", Password: "redis-pw-0123", TLSConfig: rpki.Client(false)},
		"--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1", "--tls-cert-file", rpki.ServerCert, "--tls-key-file", rpki.ServerKey,
		"--tls-ca-cert-file", rpki.CAFile, "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir,
		"--user", "sluice", "on", ">redis-pw-0123", "~*", "&*", "+@all", "--user", "default", "off")
	plain := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	if err := plain.Ping(context.Background()).Err(); err == nil {
		t.Error("the test's Redis answered a plaintext client: the test would prove nothing")
	}
	plain.Close()

	root, _ := filepath.Abs(filepath.Join("..", ".."))
	httpPort := freePort(t)
	yaml := fmt.Sprintf(`kafka:
  brokers: [%s]
  topic: tx
  group: secured
  dead_letter_topic: dlq
  alerts_topic: alerts
  tls: true
  tls_ca_file: %s
  tls_cert_file: %s
  tls_key_file: %s
  sasl_mechanism: SCRAM-SHA-512
  sasl_username: sluice
redis:
  addrs: [127.0.0.1:%d]
  username: sluice
  tls: true
  tls_ca_file: %s
scoring:
  fx: %s/configs/fx.yaml
rules:
  paths: [%s/configs/rules, %s/configs/typologies]
lists:
  disabled: true
server:
  addr: 127.0.0.1:%d
`, b.Addr(), kpki.CAFile, kpki.ClientCert, kpki.ClientKey, port, rpki.CAFile, root, root, root, httpPort)
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_KAFKA_SASL_PASSWORD", "kafka-pw-0123")
	t.Setenv("SLUICE_REDIS_PASSWORD", "redis-pw-0123")
	t.Setenv("SLUICE_SERVER_TOKEN", "secured-token-0123456789")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	defer runServe(t, cfg)()

	sec, err := kafkaSecurity(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: cfg.Kafka.Brokers, Topic: "tx", Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for _, v := range structuringEvents() {
		msgs = append(msgs, kafka.Message{Value: v})
	}
	if err := p.Produce(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	p.Close()

	base := "http://" + cfg.Server.Addr
	waitForAlert(t, base, cfg.Server.Token)
	if code, body := httpGet(base+"/readyz", "", false); code != 200 {
		t.Errorf("/readyz %d: %s", code, body)
	}
}

// TestReadyzNamesAMissingTopic: with no alerts topic on the brokers,
// /readyz says so, rather than the processor showing it only as batches
// failing and retrying.
func TestReadyzNamesAMissingTopic(t *testing.T) {
	b := startBroker(t, broker.Topic{Name: "tx"}, broker.Topic{Name: "dlq"})
	_, prefix := testRedis(t)
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	onBroker(cfg, b.Addr(), "ready")
	cfg.Kafka.AlertsTopic = "alerts-missing"
	cfg.Redis.Addrs, cfg.Redis.Prefix = []string{redisAddrForTest()}, prefix
	cfg.Server.Addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.Server.Token = "ready-token-0123456789"
	defer runServe(t, cfg)()
	var code int
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if code, body = httpGet("http://"+cfg.Server.Addr+"/readyz", "", false); code != 0 {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"kafka"`) || !strings.Contains(body, "alerts-missing") {
		t.Errorf("/readyz %d %s: want 503 naming the alerts topic", code, body)
	}
}

// runServe runs sluice run's serve on cfg until the returned stop is
// called, which checks that it ended without an error.
func runServe(t *testing.T, cfg *config.Config) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}
