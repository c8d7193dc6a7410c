package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/alerts/casequeue"
	"github.com/sluice-aml/sluice/alerts/kafkasink"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/internal/server"
	"github.com/sluice-aml/sluice/internal/telemetry"
	"github.com/sluice-aml/sluice/scoring"
)

// processor is the streaming processor: a Kafka source feeding the
// pipeline, alerts to the Kafka topic and the case queue, rejects to the
// dead-letter topic.
type processor struct {
	source *kafka.Source
	pl     *pipeline.Pipeline
	dlq    *kafka.DeadLetter
	sink   *kafkasink.Sink
	tel    *telemetry.Telemetry
	log    *slog.Logger
}

type processorOptions struct {
	stores  stores
	cases   casequeue.Queue
	tel     *telemetry.Telemetry
	log     *slog.Logger
	onAlert func(a *alerts.Alert) // demo: print alerts as they come
	// keep, when set, filters what reaches the case queue and onAlert (the
	// demo leaves out the alerts of its warm-up month).
	keep func(a *alerts.Alert) bool
	// durable, when set, runs after the pipeline's Flush before each offset
	// commit (the Redis replicas' acknowledgement: replicaWait).
	durable func(ctx context.Context) error
	// onStep, when set, is told how long each step of each batch took
	// (pipeline.Step* and scoring.Step*): bench's breakdown.
	onStep func(step string, d time.Duration)
}

func newProcessor(p *parts, o processorOptions) (*processor, error) {
	k := p.cfg.Kafka
	sec, err := kafkaSecurity(k)
	if err != nil {
		return nil, err
	}
	pr := &processor{}
	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: k.Brokers, Topic: k.Topic, GroupID: k.Group, Security: sec, StartOffset: k.StartOffset, MaxBatch: k.MaxBatch,
		MaxWait: k.MaxWait, Workers: k.Workers, Logger: o.log, FetchMaxBytes: 2 * kafka.DefaultMaxMessageBytes,
		OnRetry: func(err error, attempt int, wait time.Duration) {
			o.log.Warn("batch failed; pausing and retrying the same batch", "err", err.Error(), "attempt", attempt, "wait", wait)
			if o.tel != nil {
				o.tel.BatchRetry()
			}
		},
		OnCommitError: func(error) {
			if o.tel != nil {
				o.tel.CommitFailed()
			}
		},
		Flush: func(ctx context.Context) error {
			if err := pr.pl.Flush(ctx); err != nil || o.durable == nil {
				return err
			}
			return o.durable(ctx)
		}, CommitEvery: k.CommitEvery})
	if err != nil {
		return nil, err
	}
	*pr = processor{source: src, tel: o.tel, log: o.log,
		dlq:  kafka.NewDeadLetter(kafka.DeadLetterConfig{Brokers: k.Brokers, Topic: k.DeadLetterTopic, Security: sec}),
		sink: kafkasink.New(kafkasink.Config{Brokers: k.Brokers, Topic: k.AlertsTopic, Security: sec})}
	filter := func(as []alerts.Alert) []alerts.Alert {
		if o.keep == nil {
			return as
		}
		var out []alerts.Alert
		for i := range as {
			if o.keep(&as[i]) {
				out = append(out, as[i])
			}
		}
		return out
	}
	sinks := []pipeline.Sink{pr.sink}
	if o.cases != nil {
		sinks = append(sinks, sinkFunc(func(ctx context.Context, as []alerts.Alert) error {
			if as = filter(as); len(as) == 0 {
				return nil
			}
			return o.cases.Put(ctx, as)
		}))
	}
	if o.onAlert != nil {
		sinks = append(sinks, sinkFunc(func(_ context.Context, as []alerts.Alert) error {
			for _, a := range filter(as) {
				o.onAlert(&a)
			}
			return nil
		}))
	}
	if pr.pl, err = p.pipeline(o.stores, sinks...); err != nil {
		return nil, err
	}
	// A batch's alerts are written outside the raising lock
	// (pipeline.Pipeline.Pending).
	pr.pl.Pending = alerts.NewPending()
	pr.pl.OnAlertError = func(err error) {
		// A batch whose alerts cannot be written waits for them rather than
		// failing: count it with the batches retried.
		o.log.Warn("writing alerts failed; retrying", "err", err.Error())
		if o.tel != nil {
			o.tel.BatchRetry()
		}
	}
	pr.pl.Decoder.MaxBytes = k.MaxMessageBytes
	if t := o.tel; t != nil {
		pr.pl.Scorer.OnHit = t.RuleHit
		pr.pl.Observe = pipeline.Observer{
			Decoded:  t.EventsProcessed,
			Rejected: t.DeadLettered,
			Alerted: func(a *alerts.Alert, produced time.Time) {
				for _, ty := range a.Typologies {
					t.AlertTypology(ty.ID)
				}
				if !produced.IsZero() {
					t.EndToEnd(time.Since(produced))
				}
			},
			BatchTotal: func(n int, _ time.Duration) { t.BatchSize(n) },
		}
		t.SetLagFunc(src.Lag)
		t.SetHeldFunc(pr.pl.Held)
		t.SetContentionFunc(pr.pl.Alerts.Contention)
	}
	if step := stepObserver(o.tel, o.onStep); step != nil {
		pr.pl.Observe.Step = step
		pr.pl.Scorer.OnStep = step
	}
	var ruleErrs atomic.Int64
	pr.pl.Scorer.OnError = func(err error) {
		// Called from the scorer's workers at once; log the first ones and
		// then a sample, never the customer data beyond the rule's message.
		if n := ruleErrs.Add(1); n <= 100 || n%10000 == 0 {
			o.log.Warn("rule evaluation error", "err", err.Error(), "count", n)
		}
	}
	pr.pl.DeadLetter = pr.deadLetter
	return pr, nil
}

type sinkFunc func(ctx context.Context, as []alerts.Alert) error

func (f sinkFunc) Write(ctx context.Context, as []alerts.Alert) error { return f(ctx, as) }

var tracer = otel.Tracer("github.com/sluice-aml/sluice/cmd/sluice")

// redisBuffer sizes each Redis connection's read and write buffers. A
// batch's window write is one pipeline of tens of kilobytes (64 keys a
// script) and a cold batch reads as much back: at go-redis's 32 KiB each
// took several syscalls, which cost more than anything else per round trip
// on a small machine (bench p99 at 65,000 events/s, median of seven: 27.7 ->
// 24.8 ms). 256 KiB each, per pooled connection.
const redisBuffer = 256 << 10

// stepObserver returns what records the steps of the batches: the stores'
// round trips and the other steps in their histograms, and onStep.
func stepObserver(t *telemetry.Telemetry, onStep func(string, time.Duration)) func(string, time.Duration) {
	if t == nil && onStep == nil {
		return nil
	}
	return func(step string, d time.Duration) {
		if t != nil {
			switch step {
			case scoring.StepWindow, scoring.StepGraph, scoring.StepEvidence, pipeline.StepRegistry, pipeline.StepFlush:
				t.StoreRoundTrip(step, d)
			default:
				t.BatchStep(step, d)
			}
		}
		if onStep != nil {
			onStep(step, d)
		}
	}
}

// rawBatches are the slices handle gives the pipeline, reused.
var rawBatches sync.Pool // *[]pipeline.Raw

// handle is the Kafka source's handler: it returns nil only when the
// batch's effects are durable, and the source commits only then. Each call
// is a sluice.batch span (the pipeline's steps are its children).
func (pr *processor) handle(ctx context.Context, msgs []kafka.Message) error {
	// The pipeline keeps nothing of the batch after Process: its slice
	// serves the next batch.
	bp, _ := rawBatches.Get().(*[]pipeline.Raw)
	if bp == nil {
		bp = new([]pipeline.Raw)
	}
	batch := slices.Grow((*bp)[:0], len(msgs))[:len(msgs)]
	defer func() {
		clear(batch)
		*bp = batch[:0]
		rawBatches.Put(bp)
	}()
	parts := map[int32]bool{}
	for i := range msgs {
		m := &msgs[i]
		batch[i] = pipeline.Raw{Value: m.Value, Key: m.Key, Produced: m.Time, Pos: ingest.Position{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}}
		parts[m.Partition] = true
	}
	topic := ""
	if len(msgs) > 0 {
		topic = msgs[0].Topic
	}
	ctx, span := tracer.Start(ctx, "sluice.batch", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("messaging.system", "kafka"), attribute.String("messaging.destination.name", topic),
		attribute.Int("messaging.batch.message_count", len(msgs)), attribute.Int("sluice.batch.partitions", len(parts))))
	defer span.End()
	if pr.tel != nil && len(msgs) > 0 {
		pr.tel.EventsIn(topic, len(msgs))
	}
	err := pr.pl.Process(ctx, batch)
	if err != nil {
		// The source retries the batch: each attempt is a span.
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// deadLetter writes the batch's rejects, value and key unchanged, with
// their reasons; the batch's offsets are committed only after it returns nil.
func (pr *processor) deadLetter(ctx context.Context, rejects []pipeline.Reject) error {
	out := make([]kafka.Reject, len(rejects))
	for i, r := range rejects {
		out[i] = kafka.Reject{Reason: r.Reason, Err: r.Err, Message: kafka.Message{Topic: r.Raw.Pos.Topic, Partition: r.Raw.Pos.Partition,
			Offset: r.Raw.Pos.Offset, Key: r.Raw.Key, Value: r.Raw.Value, Time: r.Raw.Produced}}
	}
	return pr.dlq.WriteBatch(ctx, out)
}

// Run consumes until ctx is done.
func (pr *processor) Run(ctx context.Context) error {
	defer pr.dlq.Close()
	defer pr.sink.Close()
	defer pr.pl.Close()
	return pr.source.Run(ctx, pr.handle)
}

func runCmd(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var cf commonFlags
	cf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice run --config FILE [flags]\n\nThe production processor: consumes the transactions topic, keeps windows in\nRedis, writes alerts to the alerts topic and the case queue, and serves\n/metrics, /healthz, /readyz and the case API (token in SLUICE_SERVER_TOKEN).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := cf.load()
	if err != nil {
		return fail("run", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		return fail("run", err)
	}
	return exitOK
}

// kafkaSecurity is the TLS and SASL of a configuration's Kafka section,
// for every Kafka client of the processor.
func kafkaSecurity(k config.Kafka) (kafka.Security, error) {
	t, err := k.TLS.Config()
	if err != nil {
		return kafka.Security{}, fmt.Errorf("kafka: %w", err)
	}
	sec := kafka.Security{TLS: t}
	if k.SASLMechanism != "" {
		if sec.SASL, err = kafka.NewSASL(k.SASLMechanism, k.SASLUsername, k.SASLPassword); err != nil {
			return kafka.Security{}, err
		}
	}
	return sec, nil
}

// redisClient is the client of a configuration's Redis section: one
// server, a Cluster (several addresses) or the master that Sentinels name
// (master_name).
func redisClient(r config.Redis) (redis.UniversalClient, error) {
	t, err := r.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{Addrs: r.Addrs, MasterName: r.MasterName, SentinelPassword: r.SentinelPassword,
		Username: r.Username, Password: r.Password,
		DB: r.DB, TLSConfig: t, ReadBufferSize: redisBuffer, WriteBufferSize: redisBuffer}), nil
}

// serve runs the production processor until ctx is done: Kafka in, Redis
// state, alerts to Kafka and the case queue, the HTTP surface, rule and
// list reloads. It returns an error when it cannot start or stops by itself.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	p, err := loadParts(cfg)
	if err != nil {
		return err
	}
	rdb, err := redisClient(cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st, err := redisStores(cfg, rdb, cfg.Redis.Prefix, cfg.Alerts.CoolDown+30*24*time.Hour)
	if err != nil {
		return err
	}
	cases, err := casequeue.NewRedis(ctx, rdb, casequeue.RedisConfig{Key: cfg.Redis.Prefix + "cases"})
	if err != nil {
		return err
	}
	tel, err := telemetry.New("sluice")
	if err != nil {
		return err
	}
	stopTracing, err := startTracing(ctx, "sluice", log)
	if err != nil {
		return err
	}
	defer stopTracing()
	var durable func(context.Context) error
	if n := cfg.Redis.WaitReplicas; n > 0 {
		durable = newReplicaWait(rdb, cfg.Redis.Prefix+"durable", n, cfg.Redis.WaitTimeout).Wait
	}
	pr, err := newProcessor(p, processorOptions{stores: st, cases: cases, tel: tel, log: log, durable: durable})
	if err != nil {
		return err
	}
	serverTLS, err := cfg.Server.TLS.ServerConfig()
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	srv := server.New(server.Config{Addr: cfg.Server.Addr, Token: cfg.Server.Token, TLS: serverTLS}, server.Deps{Metrics: tel.Handler(), Cases: cases, Logger: log,
		Checks: map[string]func(context.Context) error{
			// The transactions, alerts and dead-letter topics: a missing
			// alerts or dead-letter topic would otherwise show only as
			// batches failing and retrying.
			"kafka": func(ctx context.Context) error {
				return errors.Join(pr.source.Ping(ctx), pr.sink.Ping(ctx), pr.dlq.Ping(ctx))
			},
			"redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		}})
	if err := srv.Check(); err != nil {
		return err
	}
	srvErr := make(chan error, 1)
	go func() {
		err := srv.ListenAndServe(ctx)
		if err != nil && ctx.Err() == nil {
			srvErr <- fmt.Errorf("http server: %w", err)
			stop() // without health and metrics the processor must not run blind
		}
	}()
	go p.rules.Watch(ctx, cfg.Rules.Reload, log)
	if p.screener != nil {
		ruleset := func() string { return p.rules.Current().Hash }
		go watchLists(ctx, p.screener, st.registry, ruleset, []pipeline.Sink{pr.sink, sinkFunc(cases.Put)}, cfg.Lists.Reload, log)
	}
	log.Info("sluice running", "topic", cfg.Kafka.Topic, "group", cfg.Kafka.Group, "ruleset", p.rules.Current().Hash, "http", cfg.Server.Addr)
	err = pr.Run(ctx)
	select {
	case e := <-srvErr:
		return e
	default:
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// startTracing sends traces when the environment asks for it
// (telemetry.StartTracing); stop flushes them, for a few seconds at most.
func startTracing(ctx context.Context, service string, log *slog.Logger) (stop func(), err error) {
	shutdown, err := telemetry.StartTracing(ctx, service)
	if err != nil {
		return nil, err
	}
	if telemetry.TracingRequested() {
		endpoint := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
		if endpoint == "" {
			endpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		}
		log.Info("sending traces over OTLP", "endpoint", endpoint)
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			log.Warn("traces not all sent", "err", err)
		}
	}, nil
}
