package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/config"
)

// startRedis runs a redis-server of the test's own on port, with an
// append-only file so a restart keeps the data; stop ends it gracefully.
func startRedis(port int, dir string) (stop func(), err error) {
	// A server that does not answer in time fails the test's first
	// command instead, with Redis's own error.
	stop, _, err = redisServer(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)}, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", dir)
	return stop, err
}

// startRedisSocket runs a redis-server of the test's own listening on a
// unix socket only, and returns the socket's path (a Redis address).
func startRedisSocket(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sluice-redis") // t.TempDir's paths can pass the 107 bytes a socket path may have
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "redis.sock")
	stop, pingErr, err := redisServer(&redis.Options{Addr: sock}, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		os.RemoveAll(dir)
	})
	if pingErr != nil {
		t.Fatalf("redis-server on %s: %v", sock, pingErr)
	}
	return sock
}

// redisServer starts redis-server with args and waits up to 5 s for it to
// answer PING from a client with opt; pingErr is its last answer when it
// never did. stop ends the server gracefully.
func redisServer(opt *redis.Options, args ...string) (stop func(), pingErr, err error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, errors.New("redis-server is not installed: run deploy/test.sh (it installs Debian's redis-server)")
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	for i := 0; i < 100; i++ {
		if pingErr = rdb.Ping(context.Background()).Err(); pingErr == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		cmd.Process.Signal(interrupt)
		cmd.Wait()
	}, pingErr, nil
}

// redisOf validates cfg and returns the client sluice run makes of its
// Redis section, closed when the test ends.
func redisOf(t *testing.T, cfg *config.Config) redis.UniversalClient {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rdb, err := redisClient(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// runRedis runs redis-server with args until the test ends, and fails the
// test unless it answers PING from a client with opt.
func runRedis(t *testing.T, opt *redis.Options, args ...string) {
	t.Helper()
	stop, pingErr, err := redisServer(opt, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if pingErr != nil {
		t.Fatalf("redis-server on %s: %v", opt.Addr, pingErr)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRedisOutage stops Redis while the processor runs: it must pause,
// retry with backoff, commit nothing past what is durable, and resume by
// itself when Redis is back, losing no event.
func TestRedisOutage(t *testing.T) {
	_, raw := testStream(t, 300, 6)
	port, dir := freePort(t), t.TempDir()
	stop, err := startRedis(port, dir)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()

	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 1}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	produceAll(t, b.Addr(), "tx", raw)
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	cfg.Kafka.MaxBatch = 200
	onBroker(cfg, b.Addr(), "g")
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := redisStores(cfg, rdb, "outage:", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sink := newRunSink()
	pr, err := newProcessor(p, processorOptions{stores: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		onAlert: func(a *alerts.Alert) { sink.Write(context.Background(), []alerts.Alert{*a}) }})
	if err != nil {
		t.Fatal(err)
	}
	// A batch retried by the source, or its alerts' write retried by the
	// batch's flight (which the batch waits for): either way the outage
	// was seen.
	var retries atomic.Int64
	logAlertError := pr.pl.OnAlertError
	pr.pl.OnAlertError = func(err error) { retries.Add(1); logAlertError(err) }
	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: cfg.Kafka.Brokers, Topic: "tx", GroupID: "g", MaxBatch: 200,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnRetry: func(error, int, time.Duration) { retries.Add(1) }, Flush: pr.pl.Flush})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var handled atomic.Int64
	outage := make(chan struct{})
	restarted := make(chan error, 1)
	go func() {
		<-outage
		stop()
		time.Sleep(time.Second) // the processor retries against a dead Redis
		var err error
		stop, err = startRedis(port, dir)
		restarted <- err
	}()
	var once bool
	err = src.Run(ctx, func(ctx context.Context, msgs []kafka.Message) error {
		if err := pr.handle(ctx, msgs); err != nil {
			return err
		}
		if n := handled.Add(int64(len(msgs))); !once && n >= int64(len(raw))/3 {
			once = true
			close(outage)
		}
		if handled.Load() >= int64(len(raw)) {
			cancel()
		}
		return nil
	})
	if !once {
		stop()
		t.Fatal("the stream ended before the outage began")
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("the processor stopped instead of waiting for Redis: %v", err)
	}
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("the processor did not resume after Redis came back: %d of %d events", handled.Load(), len(raw))
	}
	if retries.Load() == 0 {
		t.Fatal("no batch was retried: the outage was not seen, the test proves nothing")
	}
	if handled.Load() < int64(len(raw)) || len(sink.alerts) == 0 {
		t.Errorf("handled %d of %d events, %d alerts", handled.Load(), len(raw), len(sink.alerts))
	}
	t.Logf("%d events, %d retries during the outage, %d alerts", handled.Load(), retries.Load(), len(sink.alerts))
}

// TestRedisSentinel: with redis.master_name the addresses are Redis
// Sentinels. Sluice's client writes to the master they name, and after a
// failover to the replica they promote, by itself.
func TestRedisSentinel(t *testing.T) {
	dir := t.TempDir()
	mport, rport, sport := freePort(t), freePort(t), freePort(t)
	addr := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	runRedis(t, &redis.Options{Addr: addr(mport)}, "--port", strconv.Itoa(mport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	runRedis(t, &redis.Options{Addr: addr(rport)}, "--port", strconv.Itoa(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--replicaof", "127.0.0.1", strconv.Itoa(mport))
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites its file: one of the test's own
	// The Sentinel demands a password of its own, as a bank's would.
	if err := os.WriteFile(conf, fmt.Appendf(nil, "port %d\nbind 127.0.0.1\nrequirepass sentinel-pw-0123\nsentinel monitor sluice 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds sluice 1000\nsentinel failover-timeout sluice 5000\n", sport, mport), 0o600); err != nil {
		t.Fatal(err)
	}
	runRedis(t, &redis.Options{Addr: addr(sport), Password: "sentinel-pw-0123"}, conf, "--sentinel")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: addr(sport), Password: "sentinel-pw-0123"})
	defer sentinel.Close()
	// Sentinel learns of the replica from the master: wait until it may
	// promote it.
	for {
		rs, err := sentinel.Replicas(ctx, "sluice").Result()
		if err == nil && len(rs) == 1 && rs[0]["flags"] == "slave" && rs[0]["master-link-status"] == "ok" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("sentinel never saw the replica ready: %v %v", rs, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	cfg := testConfig(t)
	cfg.Redis.Addrs, cfg.Redis.MasterName = []string{addr(sport)}, "sluice"
	if err := redisOf(t, cfg).Ping(ctx).Err(); err == nil {
		t.Error("the Sentinel answered a client without its password: the test proves nothing")
	}
	cfg.Redis.SentinelPassword = "sentinel-pw-0123"
	rdb := redisOf(t, cfg)
	role := func(port int) string {
		c := redis.NewClient(&redis.Options{Addr: addr(port)})
		defer c.Close()
		r, _ := c.Do(ctx, "ROLE").Slice()
		if len(r) == 0 {
			return ""
		}
		s, _ := r[0].(string)
		return s
	}
	onMaster := func(port int, key string) bool {
		c := redis.NewClient(&redis.Options{Addr: addr(port)})
		defer c.Close()
		return c.Exists(ctx, key).Val() == 1
	}

	if err := rdb.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if !onMaster(mport, "before") || role(mport) != "master" {
		t.Fatal("the write through the sentinels did not reach the master they name")
	}
	if err := sentinel.Failover(ctx, "sluice").Err(); err != nil {
		t.Fatal(err)
	}
	// Until Sentinel has turned the old master into a replica, a write may
	// still land there and be lost: Redis's replication is asynchronous,
	// and a failover loses what the old master took meanwhile.
	for role(rport) != "master" || role(mport) != "slave" {
		if ctx.Err() != nil {
			t.Fatalf("no failover: the replica is a %s, the old master a %s", role(rport), role(mport))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Writes to the old master now fail (READONLY) until the client has
	// heard of the new one: Sluice's batches retry; here, retry until one
	// lands.
	for {
		if err := rdb.Set(ctx, "after", "1", 0).Err(); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("no write succeeded after the failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !onMaster(rport, "after") {
		t.Error("after the failover the write did not go to the promoted replica")
	}
}

// TestWaitReplicas: with redis.wait_replicas, offsets are committed only
// once a replica has the writes before them. Without a replica the stream
// is processed (the alert is raised) but nothing is committed; once a
// replica has caught up, everything is.
func TestWaitReplicas(t *testing.T) {
	dir := t.TempDir()
	mport, rport := freePort(t), freePort(t)
	maddr := fmt.Sprintf("127.0.0.1:%d", mport)
	runRedis(t, &redis.Options{Addr: maddr}, "--port", strconv.Itoa(mport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	rdb := redis.NewClient(&redis.Options{Addr: maddr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := newReplicaWait(rdb, "t:durable", 1, 200*time.Millisecond).Wait(ctx); err == nil || !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Errorf("no replica: %v, want 0 of 1", err)
	}

	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 2}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	onBroker(cfg, b.Addr(), "waits")
	cfg.Redis.Addrs, cfg.Redis.WaitReplicas, cfg.Redis.WaitTimeout = []string{maddr}, 1, 100*time.Millisecond
	cfg.Server.Addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.Server.Token = "wait-token-0123456789"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	defer runServe(t, cfg)()
	produceAll(t, b.Addr(), "tx", structuringEvents())
	waitForAlert(t, "http://"+cfg.Server.Addr, cfg.Server.Token)

	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: cfg.Kafka.Brokers, Topic: "tx", GroupID: "waits"})
	if err != nil {
		t.Fatal(err)
	}
	lag := func() int64 {
		l, err := src.MeasureLag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	time.Sleep(time.Second) // several commit attempts, backing off
	if l := lag(); l != 3 {
		t.Fatalf("lag %d with no replica to acknowledge the writes, want 3: offsets were committed", l)
	}
	if _, body := httpGet("http://"+cfg.Server.Addr+"/metrics", "", false); !regexp.MustCompile(`(?m)^sluice_offset_commit_failures_total [1-9]`).MatchString(body) {
		t.Error("/metrics does not count the commits held back for want of a replica")
	}

	runRedis(t, &redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", rport)}, "--port", strconv.Itoa(rport), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--replicaof", "127.0.0.1", strconv.Itoa(mport))
	for lag() != 0 {
		if ctx.Err() != nil {
			t.Fatal("offsets never committed after a replica caught up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := newReplicaWait(rdb, "t:durable", 2, 200*time.Millisecond).Wait(ctx); err == nil || !strings.Contains(err.Error(), "1 of 2 replicas") {
		t.Errorf("one replica asked for two: %v, want 1 of 2", err)
	}
}

// TestKafkaOutage stops the broker mid-stream and starts it again on its
// own data, as a rolling restart of a Kafka cluster does: the processor
// (fetching, writing alerts and committing through it) must wait, resume by
// itself, and end with the same alerts, on the alerts topic and in the
// case sink, and the same window values as a run without the outage, every
// offset committed.
func TestKafkaOutage(t *testing.T) {
	evs, raw := testStream(t, 300, 9)
	rdb, prefix := testRedis(t)
	p, cfg, clean, cleanStores := cleanRun(t, raw, func(cfg *config.Config) (stores, error) {
		return redisStores(cfg, rdb, prefix+"clean:", time.Hour)
	})

	bcfg := broker.Config{Port: freePort(t), DataDir: t.TempDir(),
		Topics: []broker.Topic{{Name: "tx", Partitions: 1}, {Name: "dlq"}, {Name: "alerts"}}}
	br, err := broker.Start(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { br.Close() }()
	produceAll(t, br.Addr(), "tx", raw)
	p2, c2 := atBroker(p, cfg, br.Addr())
	st, err := redisStores(c2, rdb, prefix+"outage:", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := newRunSink()
	pr, err := newProcessor(p2, processorOptions{stores: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		onAlert: func(a *alerts.Alert) { cases.Write(context.Background(), []alerts.Alert{*a}) }})
	if err != nil {
		t.Fatal(err)
	}
	var alertRetries atomic.Int64
	logAlertError := pr.pl.OnAlertError
	pr.pl.OnAlertError = func(err error) { alertRetries.Add(1); logAlertError(err) }

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var handled, atRestart atomic.Int64
	outage := make(chan struct{})
	restarted := make(chan error, 1)
	go func() {
		<-outage
		br.Close()
		time.Sleep(2 * time.Second) // fetches, alert writes and commits fail meanwhile
		atRestart.Store(handled.Load())
		var err error
		br, err = broker.Start(bcfg)
		restarted <- err
	}()
	var once atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- pr.source.Run(ctx, func(ctx context.Context, msgs []kafka.Message) error {
			if err := pr.handle(ctx, msgs); err != nil {
				return err
			}
			if n := handled.Add(int64(len(msgs))); n >= int64(len(raw))/3 && once.CompareAndSwap(false, true) {
				close(outage)
			}
			return nil
		})
	}()
	if err := <-restarted; err != nil {
		cancel()
		<-done
		t.Fatalf("restart the broker: %v", err)
	}
	if atRestart.Load() >= int64(len(raw)) {
		t.Fatalf("all %d events were handled before the broker came back: the outage was not mid-stream", len(raw))
	}
	// Everything handled and committed: lag 0 on the restarted broker.
	for {
		lag, err := pr.source.MeasureLag(ctx)
		if err == nil && lag == 0 && handled.Load() >= int64(len(raw)) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the processor did not resume after the broker came back: %d of %d events handled, lag %d (%v)", handled.Load(), len(raw), lag, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("the processor stopped instead of waiting for the broker: %v", err)
	}

	sameAsClean(t, p, evs, clean, cleanStores, cases, st, "after a broker restart")
	if want, got := clean.sortedJSON(t), alertsOnTopic(t, br.Addr(), "alerts").sortedJSON(t); !bytes.Equal(want, got) {
		t.Errorf("the alerts topic after a broker restart differs from the clean run's alerts:\n%s", firstDiff(want, got))
	}
	t.Logf("%d events, %d handled before the broker came back, %d alert writes retried, %d alerts identical",
		len(raw), atRestart.Load(), alertRetries.Load(), len(clean.alerts))
}

// alertsOnTopic reads every message of a one-partition alerts topic, an
// independent consumer keeping the highest version of each alert.
func alertsOnTopic(t *testing.T, addr, topic string) *runSink {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &kafkago.Client{Addr: kafkago.TCP(addr), Timeout: 10 * time.Second}
	resp, err := c.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: {kafkago.LastOffsetOf(0)}}})
	if err != nil || len(resp.Topics[topic]) != 1 {
		t.Fatalf("end of %s: %+v, %v", topic, resp, err)
	}
	end := resp.Topics[topic][0].LastOffset
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, MaxBytes: 64 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	out := newRunSink()
	for i := int64(0); i < end; i++ {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s after %d of %d messages: %v", topic, i, end, err)
		}
		var a alerts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("%s offset %d: %v", topic, m.Offset, err)
		}
		out.Write(ctx, []alerts.Alert{a})
	}
	return out
}
