package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	kgo "github.com/segmentio/kafka-go"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/gen"
	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/scoring/window"
)

// testRedis connects to the test Redis under a prefix of the test's own,
// removed when the test ends.
func testRedis(t *testing.T) (*redis.Client, string) {
	return redistest.Client(t, "cmd")
}

func redisAddrForTest() string { return redistest.Addr() }

// testConfig is the default configuration with the repository's configs.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Default()
	root := filepath.Join("..", "..")
	cfg.Rules.Paths = []string{filepath.Join(root, "configs", "rules"), filepath.Join(root, "configs", "typologies")}
	cfg.Scoring.FX = filepath.Join(root, "configs", "fx.yaml")
	cfg.Lists.Dir = filepath.Join(root, "configs", "lists")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testStream generates a small deterministic stream with every pattern.
func testStream(t testing.TB, customers, days int) ([]*ingest.Event, [][]byte) {
	t.Helper()
	gcfg := gen.DefaultConfig()
	gcfg.Customers, gcfg.Days = customers, days
	var evs []*ingest.Event
	var raw [][]byte
	if _, err := gen.Generate(gcfg, func(e *ingest.Event) error {
		b, err := json.Marshal(e)
		evs = append(evs, e)
		raw = append(raw, b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs, raw
}

func startBroker(t *testing.T, topics ...broker.Topic) *broker.Broker {
	t.Helper()
	b, err := broker.Start(broker.Config{Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func produceAll(t *testing.T, addr, topic string, values [][]byte) {
	t.Helper()
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: []string{addr}, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: v}
	}
	for i := 0; i < len(msgs); i += 2000 {
		if err := p.Produce(context.Background(), msgs[i:min(i+2000, len(msgs))]...); err != nil {
			t.Fatal(err)
		}
	}
}

// runSink collects one processor run: the newest version of each alert
// (the replay collector) and how many events were handled.
type runSink struct {
	*collector
	seen int
}

func newRunSink() *runSink { return &runSink{collector: &collector{alerts: map[string]alerts.Alert{}}} }

func (r *runSink) sortedJSON(t *testing.T) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var buf bytes.Buffer
	for _, a := range r.sorted() {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func consumeUntil(t *testing.T, p *parts, cfg *config.Config, st stores, sink *runSink, stopAfter int, crash bool) {
	t.Helper()
	pr, err := newProcessor(p, processorOptions{stores: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		onAlert: func(a *alerts.Alert) { sink.Write(context.Background(), []alerts.Alert{*a}) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errCrash := errors.New("crash")
	h := func(ctx context.Context, msgs []kafka.Message) error {
		if err := pr.handle(ctx, msgs); err != nil {
			return err
		}
		sink.mu.Lock()
		sink.seen += len(msgs)
		done := sink.seen >= stopAfter
		sink.mu.Unlock()
		if done {
			cancel()
			if crash {
				return errCrash // effects durable, offsets never committed
			}
		}
		return nil
	}
	if err := pr.source.Run(ctx, h); err != nil && ctx.Err() == nil && !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("processor timed out after %d of %d events", sink.seen, stopAfter)
	}
}

// onStream starts a broker holding raw on the one partition of "tx" and
// returns p and cfg reading it (dead letters to "dlq", alerts to
// "alerts", group "g"): one partition, so every run sees one order.
func onStream(t *testing.T, p *parts, cfg *config.Config, raw [][]byte) (*parts, *config.Config) {
	t.Helper()
	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 1}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	produceAll(t, b.Addr(), "tx", raw)
	return atBroker(p, cfg, b.Addr())
}

// atBroker returns copies of p and cfg that read the test broker at addr
// (onBroker, group "g").
func atBroker(p *parts, cfg *config.Config, addr string) (*parts, *config.Config) {
	c := *cfg
	onBroker(&c, addr, "g")
	pc := *p
	pc.cfg = &c
	return &pc, &c
}

// onBroker points cfg at the test broker at addr: transactions from "tx",
// dead letters to "dlq", alerts to "alerts", consumer group group.
func onBroker(cfg *config.Config, addr, group string) {
	cfg.Kafka.Brokers, cfg.Kafka.Topic, cfg.Kafka.DeadLetterTopic, cfg.Kafka.AlertsTopic, cfg.Kafka.Group = []string{addr}, "tx", "dlq", "alerts", group
}

// probe reads every account's windows at the end of the stream, read-only.
func probe(t *testing.T, p *parts, ws window.Store, evs []*ingest.Event) []byte {
	t.Helper()
	sc, err := p.pipeline(stores{windows: ws, state: alerts.NewMemoryState()})
	if err != nil {
		t.Fatal(err)
	}
	lay := sc.Scorer.Layout()
	end := evs[len(evs)-1].Time.UnixMilli()
	accounts := map[string]bool{}
	for _, e := range evs {
		for _, pt := range []*ingest.Party{e.From, e.To} {
			if pt != nil && pt.Account != "" {
				accounts[pt.Account] = true
			}
		}
	}
	var keys []string
	for a := range accounts {
		keys = append(keys, a)
	}
	sort.Strings(keys)
	var ups []*window.Update
	for _, g := range lay {
		if !strings.HasPrefix(g.Name, "acct") || strings.HasSuffix(g.Name, "@local") {
			continue
		}
		for _, k := range keys {
			ups = append(ups, &window.Update{Group: g, Key: k, TxID: "probe", Time: end, Inputs: make([]window.Input, len(g.Features))})
		}
	}
	if err := ws.Apply(context.Background(), ups); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, u := range ups {
		fmt.Fprintf(&buf, "%s %s %v\n", u.Group.Name, u.Key, u.Out)
	}
	return buf.Bytes()
}

// TestCrashRestart stops the processor mid-stream after a batch's effects
// are durable but before its offsets are committed, starts a new one on the
// same Redis state, and checks that every window value and every alert is
// exactly what a clean run gives: nothing lost, nothing doubled.
func TestCrashRestart(t *testing.T) {
	evs, raw := testStream(t, 300, 9)
	rdb, prefix := testRedis(t)
	p, cfg, clean, cleanStores := cleanRun(t, raw, func(cfg *config.Config) (stores, error) {
		return redisStores(cfg, rdb, prefix+"clean:", time.Hour)
	})

	// Crashing run: stop twice mid-stream, each time without committing.
	p2, c2 := onStream(t, p, cfg, raw)
	crashed := newRunSink()
	// Each processor has stores of its own over the same Redis keys, as a
	// restarted process would: what the one before held in memory (the
	// window cache, the evidence and history not yet written) is lost.
	var crashStores stores
	restart := func() stores {
		st, err := redisStores(cfg, rdb, prefix+"crash:", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		crashStores = st
		return st
	}
	// Each crash redelivers the uncommitted batch: run until every event has
	// been handled once more than the redeliveries.
	consumeUntil(t, p2, c2, restart(), crashed, len(raw)/3, true)
	consumeUntil(t, p2, c2, restart(), crashed, 2*len(raw)/3, true)
	consumeUntil(t, p2, c2, restart(), crashed, len(raw)+2*c2.Kafka.MaxBatch, false)
	if crashed.seen <= len(raw) {
		t.Fatalf("the restarted processor saw %d events for %d produced: no redelivery happened, the test proves nothing", crashed.seen, len(raw))
	}

	sameAsClean(t, p, evs, clean, cleanStores, crashed, crashStores, "after a crash")
	t.Logf("%d events, %d redelivered, %d alerts identical", len(raw), crashed.seen-len(raw), len(clean.alerts))
}

// cleanRun is the run of raw that the tests of failures compare with: the
// default configuration without lists, batches of 200, one partition (so
// the order is the same in every run), a processor on the stores that
// newStores makes from start to end. The configuration it returns names
// that run's broker.
func cleanRun(t *testing.T, raw [][]byte, newStores func(*config.Config) (stores, error)) (*parts, *config.Config, *runSink, stores) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	cfg.Kafka.MaxBatch = 200
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStores(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p1, c1 := onStream(t, p, cfg, raw)
	clean := newRunSink()
	consumeUntil(t, p1, c1, st, clean, len(raw), false)
	return p, c1, clean, st
}

// sameAsClean checks a run against the clean one (cleanRun) on the same
// stream: byte-identical alerts and the same window values, its stores
// beside its sink. how names the run in the messages ("after a crash").
func sameAsClean(t *testing.T, p *parts, evs []*ingest.Event, clean *runSink, cleanStores stores, run *runSink, runStores stores, how string) {
	t.Helper()
	if len(clean.alerts) == 0 {
		t.Fatal("the clean run raised no alert: the stream has no patterns, the test proves nothing")
	}
	if a, b := clean.sortedJSON(t), run.sortedJSON(t); !bytes.Equal(a, b) {
		t.Errorf("alerts differ %s: clean run %d alerts, this run %d\n%s", how, len(clean.alerts), len(run.alerts), firstDiff(a, b))
	}
	if a, b := probe(t, p, cleanStores.windows, evs), probe(t, p, runStores.windows, evs); !bytes.Equal(a, b) {
		t.Errorf("window values differ %s:\n%s", how, firstDiff(a, b))
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return "(same lines)"
}

// TestBadInputDeadLetter produces malformed events between good ones, one
// of them with kcat (librdkafka) as an independent client, and checks that
// each bad one lands in the dead-letter topic, byte for byte, with the right
// reason, and that every good one was processed.
func TestBadInputDeadLetter(t *testing.T) {
	good := `{"id":"ok-%d","time":"2025-03-04T10:%02d:00-05:00","kind":"p2p","amount":"25.00","currency":"CAD","from":{"account":"A-%d"},"to":{"account":"B-%d"}}`
	big := `{"id":"big","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"1","currency":"CAD","to":{"account":"X"},"memo":"` + strings.Repeat("x", 10<<20) + `"}`
	bad := []struct {
		name, value, reason string
	}{
		{"not json", `{"id": nope}`, ingest.ReasonMalformed},
		{"truncated", `{"id":"t1","time":"2025-03-04T10:00:00Z"`, ingest.ReasonMalformed},
		{"amount object", `{"id":"t2","time":"2025-03-04T10:00:00Z","kind":"wire","amount":{"v":1},"currency":"CAD","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"missing id", `{"time":"2025-03-04T10:00:00Z","kind":"wire","amount":"1","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonMissing},
		{"missing account", `{"id":"t3","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"1","currency":"CAD","to":{"name":"X"}}`, ingest.ReasonMissing},
		{"negative amount", `{"id":"t4","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"-5.00","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"absurd amount", `{"id":"t5","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"99999999999999","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"bad date", `{"id":"t6","time":"2025-02-30T10:00:00","kind":"wire","amount":"1","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"unknown currency", `{"id":"t7","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"1","currency":"ZZZ","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"invalid utf-8", "{\"id\":\"t8\",\"memo\":\"\xff\xfe\"}", ingest.ReasonInvalidUTF8},
		{"10 MB", big, ingest.ReasonOversized},
		// A mistyped year: 99 years after it was produced. Taken, it would
		// make every later event of its partition too late.
		{"from the future", `{"id":"t9","time":"2125-03-04T10:00:00Z","kind":"wire","amount":"1","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonInvalid},
		{"too late", `{"id":"late","time":"2025-02-01T10:00:00Z","kind":"wire","amount":"1","currency":"CAD","to":{"account":"X"}}`, ingest.ReasonTooLate},
	}
	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 3}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	var values [][]byte
	nGood := 0
	for i, c := range bad {
		for j := 0; j < 5; j++ {
			values = append(values, []byte(fmt.Sprintf(good, nGood, nGood%60, nGood, nGood)))
			nGood++
		}
		if i == 0 {
			continue // produced with kcat below
		}
		values = append(values, []byte(c.value))
	}
	produceAll(t, b.Addr(), "tx", values)
	kcatProduce(t, b.Addr(), "tx", bad[0].value)

	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	onBroker(cfg, b.Addr(), "g")
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := newRunSink()
	// The handler runs on the source's workers at once.
	var processed, seen atomic.Int64
	pr, err := newProcessor(p, processorOptions{stores: memoryStores(cfg), log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	pr.pl.Observe.Decoded = func(n int) { processed.Add(int64(n)) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	total := int64(len(values) + 1)
	_ = sink
	err = pr.source.Run(ctx, func(ctx context.Context, msgs []kafka.Message) error {
		if err := pr.handle(ctx, msgs); err != nil {
			return err
		}
		if seen.Add(int64(len(msgs))) >= total {
			cancel()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	// The too-late event is decoded (then refused by the scorer).
	if n := processed.Load(); n != int64(nGood+1) {
		t.Errorf("processed %d good events, want %d", n-1, nGood)
	}

	r := kgo.NewReader(kgo.ReaderConfig{Brokers: []string{b.Addr()}, Topic: "dlq", MaxBytes: 64 << 20})
	defer r.Close()
	got := map[string]kgo.Message{}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	for len(got) < len(bad) {
		m, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("dead-letter topic: %d of %d messages: %v", len(got), len(bad), err)
		}
		if bytes.HasPrefix(m.Value, []byte(`{"id":"ok-`)) {
			t.Errorf("a good event was dead-lettered: %s (%v)", m.Value, m.Headers)
			continue
		}
		got[string(m.Value)] = m
	}
	for _, c := range bad {
		m, ok := got[c.value]
		if !ok {
			t.Errorf("%s: not in the dead-letter topic byte for byte", c.name)
			continue
		}
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["sluice-reason"] != c.reason {
			t.Errorf("%s: reason %q, want %q (error %q)", c.name, h["sluice-reason"], c.reason, h["sluice-error"])
		}
		if h["sluice-error"] == "" || h["sluice-source-topic"] != "tx" || h["sluice-source-offset"] == "" || h["sluice-source-partition"] == "" {
			t.Errorf("%s: headers incomplete: %v", c.name, h)
		}
	}
}

func kcatProduce(t *testing.T, addr, topic, value string) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run deploy/test.sh (it installs Debian's kcat) or apt-get install kcat")
	}
	cmd := exec.Command(path, "-b", addr, "-t", topic, "-P", "-p", "0")
	cmd.Stdin = strings.NewReader(value + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
}

// TestTwoProcessorsOneGroup runs two processors in one consumer group on
// one Redis, as the two pods of deploy/kubernetes.yaml do, over a stream
// whose accounts are spread over four partitions (so both raise alerts on
// the same subjects, and a mule paid by 300 senders gets a finding in
// almost every batch of both): every event is handled and committed; for
// each subject and typology the alerts opened are a cool-down apart, never
// two in one cool-down; and no alert version is written twice with
// different contents (two processors each making version n+1 of one alert
// over version n). Without the reservations (alerts.State.Reserve) the
// mule's alert has such clashes in most runs; the state contract
// (runTwoProcessors) proves the mechanism deterministically.
func TestTwoProcessorsOneGroup(t *testing.T) {
	evs, raw := testStream(t, 300, 9)
	// A mule paid by 300 senders in an hour, produced once both processors
	// have caught up with the stream: a fan-in finding on one subject in
	// every batch of both at once.
	end := evs[len(evs)-1].Time
	var burst [][]byte
	for i := range 300 {
		burst = append(burst, fmt.Appendf(nil, `{"id":"mule-%d","time":"%s","kind":"p2p","amount":"180.00","currency":"CAD",`+
			`"from":{"account":"S-%d","name":"Sender %d"},"to":{"account":"CA-777-1","customer_id":"C-777","name":"Mo Mule"}}`,
			i, end.Add(time.Hour+time.Duration(i)*12*time.Second).Format(time.RFC3339), i, i))
	}
	b := startBroker(t, broker.Topic{Name: "tx", Partitions: 4}, broker.Topic{Name: "dlq"}, broker.Topic{Name: "alerts"})
	produceAll(t, b.Addr(), "tx", raw)
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	cfg.Kafka.MaxBatch = 10
	onBroker(cfg, b.Addr(), "two")
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := testRedis(t)
	all := newRunSink()
	var mu sync.Mutex
	written := map[string][]byte{} // id and version -> the alert written
	var clashes []string
	record := func(a *alerts.Alert) {
		all.Write(context.Background(), []alerts.Alert{*a})
		j, _ := json.Marshal(a)
		k := fmt.Sprintf("%s v%d", a.ID, a.Version)
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := written[k]; ok && !bytes.Equal(prev, j) {
			clashes = append(clashes, k)
		}
		written[k] = j
	}
	var handled atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var prs []*processor
	done := make(chan error, 2)
	for range 2 {
		st, err := redisStores(cfg, rdb, prefix+"shared:", time.Hour) // a pod's own stores over the same keys
		if err != nil {
			t.Fatal(err)
		}
		pr, err := newProcessor(p, processorOptions{stores: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			onAlert: record})
		if err != nil {
			t.Fatal(err)
		}
		prs = append(prs, pr)
		go func() {
			done <- pr.source.Run(ctx, func(ctx context.Context, msgs []kafka.Message) error {
				if err := pr.handle(ctx, msgs); err != nil {
					return err
				}
				handled.Add(int64(len(msgs)))
				return nil
			})
		}()
	}
	caughtUp := func(n int) {
		t.Helper()
		for {
			lag, err := prs[0].source.MeasureLag(ctx)
			if err == nil && lag == 0 && handled.Load() >= int64(n) {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%d of %d events handled, lag %d (%v)", handled.Load(), n, lag, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	caughtUp(len(raw))
	produceAll(t, b.Addr(), "tx", burst)
	raw = append(raw, burst...)
	caughtUp(len(raw))
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	cool := cfg.Alerts.CoolDown
	opened := map[string][]time.Time{} // account|typology -> opening times
	for _, a := range all.sorted() {
		at, err := time.Parse(time.RFC3339Nano, a.Time)
		if err != nil {
			t.Fatal(err)
		}
		for _, ty := range a.Typologies {
			k := a.Subject.Account + "|" + ty.ID
			for _, o := range opened[k] {
				if d := at.Sub(o); d < cool && d > -cool {
					t.Errorf("%s: two alerts opened %s apart, within the cool-down (%s)", k, d, cool)
				}
			}
			opened[k] = append(opened[k], at)
		}
	}
	// Two processors making version n+1 of one alert each over version n
	// would write two different alerts under one id and version.
	if len(clashes) > 0 {
		t.Errorf("%d alert versions written with two different contents (a lost update), e.g. %s", len(clashes), clashes[0])
	}
	var refused, gaveUp int64
	for _, pr := range prs {
		r, g := pr.pl.Alerts.Contention()
		refused, gaveUp = refused+r, gaveUp+g
	}
	if len(all.alerts) == 0 {
		t.Fatal("no alert raised")
	}
	// Every payment to the mule is in its alert: an update lost between
	// the two processors would drop some.
	mule := 0
	for _, a := range all.alerts {
		if a.Subject.Account == "CA-777-1" && a.Typologies[0].ID == "fan_in" {
			mule++
			if len(a.Transactions) != len(burst) {
				t.Errorf("the mule's alert %s (v%d) lists %d transactions, want the %d payments", a.ID, a.Version, len(a.Transactions), len(burst))
			}
		}
	}
	if mule != 1 {
		t.Errorf("%d fan_in alerts on the mule, want 1", mule)
	}
	t.Logf("%d events, %d handled (redeliveries after the rebalance included), %d alerts; %d raises refused and raised again, %d gave up",
		len(raw), handled.Load(), len(all.alerts), refused, gaveUp)
}
