package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the scope name of every instrument and span.
const instrumentation = "github.com/sluice-aml/sluice"

// Bucket boundaries, in seconds for latencies. End to end spans 1 ms (an
// in-memory replay) to 10 s (a consumer catching up after Redis came back);
// a store round trip is sub-millisecond on the same machine and seconds only
// when something is wrong.
var (
	EndToEndBuckets  = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	StoreBuckets     = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
	BatchSizeBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}
)

// Rule modes, the values of the mode label of sluice_rule_hits_total.
const (
	ModeActive = "active"
	ModeShadow = "shadow"
)

// Telemetry owns a meter provider that exports to its own Prometheus
// registry (never the global default, so two instances do not collide in
// tests) and the instruments of the processor.
type Telemetry struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	tracer   trace.Tracer
	handler  http.Handler

	eventsIn      metric.Int64Counter
	processed     metric.Int64Counter
	deadLettered  metric.Int64Counter
	ruleHits      metric.Int64Counter
	alertsByTyp   metric.Int64Counter
	alertsWritten metric.Int64Counter
	endToEnd      metric.Float64Histogram
	storeRT       metric.Float64Histogram
	batchStep     metric.Float64Histogram
	batchSize     metric.Int64Histogram
	retries       metric.Int64Counter
	commitFails   metric.Int64Counter

	lag        atomic.Pointer[func() int64]
	held       atomic.Pointer[func() map[string]int]
	contention atomic.Pointer[func() (refused, gaveUp int64)]

	// Attribute options per label value, built on first use and reused, so
	// the hot path does not build an attribute.Set per call.
	topics, reasons, typologies, sinks attrCache
	stores, steps                      attrCache
	rulesActive, rulesShadow           attrCache
}

// New builds the meter provider, its Prometheus registry and every
// instrument. serviceName becomes the service.name resource attribute
// (target_info on /metrics).
func New(serviceName string) (*Telemetry, error) {
	if serviceName == "" {
		return nil, fmt.Errorf("telemetry: service name is empty; pass e.g. \"sluice\"")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", serviceName))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))

	t := &Telemetry{
		registry: reg,
		provider: provider,
		meter:    provider.Meter(instrumentation),
		// The global provider is a no-op until someone calls
		// otel.SetTracerProvider (e.g. with an OTLP exporter); tracers taken
		// from it before then start delegating at that moment.
		tracer:  otel.GetTracerProvider().Tracer(instrumentation),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	m := t.meter
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	t.eventsIn, err = m.Int64Counter("sluice.events.in", metric.WithUnit("{event}"),
		metric.WithDescription("Messages read from a source, by topic (or file), before decoding."))
	check(err)
	t.processed, err = m.Int64Counter("sluice.events.processed", metric.WithUnit("{event}"),
		metric.WithDescription("Events fully processed: windows updated and any alert written."))
	check(err)
	t.deadLettered, err = m.Int64Counter("sluice.events.dead_lettered", metric.WithUnit("{event}"),
		metric.WithDescription("Messages sent to the dead-letter topic, by reason."))
	check(err)
	t.ruleHits, err = m.Int64Counter("sluice.rule.hits", metric.WithUnit("{hit}"),
		metric.WithDescription("Rules that fired, by rule id and mode (active or shadow)."))
	check(err)
	t.alertsByTyp, err = m.Int64Counter("sluice.alerts", metric.WithUnit("{alert}"),
		metric.WithDescription("Alerts raised or updated, by typology."))
	check(err)
	t.alertsWritten, err = m.Int64Counter("sluice.alerts.written", metric.WithUnit("{alert}"),
		metric.WithDescription("Alerts written to a sink (kafka, casequeue, file)."))
	check(err)
	t.endToEnd, err = m.Float64Histogram("sluice.latency.end_to_end", metric.WithUnit("s"),
		metric.WithDescription("From the event's production (Kafka timestamp) to its alert being written."),
		metric.WithExplicitBucketBoundaries(EndToEndBuckets...))
	check(err)
	t.storeRT, err = m.Float64Histogram("sluice.store.round_trip", metric.WithUnit("s"),
		metric.WithDescription("A store's round trips for one batch of events, by store (window, graph, evidence, registry), or for one flush of the writes held back before an offset commit (flush)."),
		metric.WithExplicitBucketBoundaries(StoreBuckets...))
	check(err)
	t.batchStep, err = m.Float64Histogram("sluice.batch.step", metric.WithUnit("s"),
		metric.WithDescription("One step of a batch, by step: stage (decode, prepare), score (stores and rules), evaluate (the rules alone), alerts, dead_letter."),
		metric.WithExplicitBucketBoundaries(StoreBuckets...))
	check(err)
	t.batchSize, err = m.Int64Histogram("sluice.batch.size", metric.WithUnit("{event}"),
		metric.WithDescription("Events per processed batch."),
		metric.WithExplicitBucketBoundaries(BatchSizeBuckets...))
	check(err)
	t.retries, err = m.Int64Counter("sluice.batch.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Batches retried after a backoff, by the source or, for their alerts' writes, by the batch itself (Redis or a sink down)."))
	check(err)
	t.commitFails, err = m.Int64Counter("sluice.offset.commit_failures", metric.WithUnit("{commit}"),
		metric.WithDescription("Offset commits held back: the held-back writes, the replicas' acknowledgement (redis.wait_replicas) or the commit itself failed; retried with the next one."))
	check(err)
	_, err = m.Int64ObservableGauge("sluice.consumer.lag", metric.WithUnit("{message}"),
		metric.WithDescription("Messages behind the end of the transactions topic, summed over partitions."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if fn := t.lag.Load(); fn != nil {
				o.Observe((*fn)())
			}
			return nil
		}))
	check(err)
	_, err = m.Int64ObservableGauge("sluice.writes.held", metric.WithUnit("{item}"),
		metric.WithDescription("Writes held back until the next offset commit, by store (evidence entries, counterparty sightings); it grows while Redis is down."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if fn := t.held.Load(); fn != nil {
				for store, n := range (*fn)() {
					o.Observe(int64(n), metric.WithAttributes(attribute.String("store", store)))
				}
			}
			return nil
		}))
	check(err)
	_, err = m.Int64ObservableCounter("sluice.alerts.contention", metric.WithUnit("{raise}"),
		metric.WithDescription("Alert raises whose state another processor changed first (outcome refused: raised again over it), and raises that gave up after eight refusals and may have let a duplicate alert through (outcome gave_up)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if fn := t.contention.Load(); fn != nil {
				refused, gaveUp := (*fn)()
				o.Observe(refused, metric.WithAttributes(attribute.String("outcome", "refused")))
				o.Observe(gaveUp, metric.WithAttributes(attribute.String("outcome", "gave_up")))
			}
			return nil
		}))
	check(err)
	if len(errs) > 0 {
		_ = provider.Shutdown(context.Background())
		return nil, fmt.Errorf("telemetry: instruments: %v", errs)
	}
	t.topics.key = "topic"
	t.reasons.key = "reason"
	t.typologies.key = "typology"
	t.sinks.key = "sink"
	t.stores.key = "store"
	t.steps.key = "step"
	t.rulesActive.key, t.rulesActive.extra = "rule", attribute.String("mode", ModeActive)
	t.rulesShadow.key, t.rulesShadow.extra = "rule", attribute.String("mode", ModeShadow)
	return t, nil
}

// Handler serves the Prometheus exposition of this instance's registry.
func (t *Telemetry) Handler() http.Handler { return t.handler }

// Registry is the Prometheus registry behind Handler, for registering
// collectors that are not OpenTelemetry instruments.
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// Meter is for packages that want an instrument not listed here.
func (t *Telemetry) Meter() metric.Meter { return t.meter }

// Tracer returns Sluice's tracer. Spans are no-ops unless a tracer provider
// with an exporter has been installed with otel.SetTracerProvider.
func (t *Telemetry) Tracer() trace.Tracer { return t.tracer }

// Shutdown stops the meter provider; recording after it is a no-op.
func (t *Telemetry) Shutdown(ctx context.Context) error { return t.provider.Shutdown(ctx) }

// SetLagFunc sets the function the consumer lag gauge reads at each scrape
// (e.g. the sum of kafka-go's Reader.Stats().Lag). It must be cheap and safe
// to call from the scrape goroutine. nil stops reporting.
func (t *Telemetry) SetLagFunc(fn func() int64) {
	if fn == nil {
		t.lag.Store(nil)
		return
	}
	t.lag.Store(&fn)
}

// SetHeldFunc sets the function the held-writes gauge reads at each
// scrape: writes held back per store. nil stops reporting.
func (t *Telemetry) SetHeldFunc(fn func() map[string]int) {
	if fn == nil {
		t.held.Store(nil)
		return
	}
	t.held.Store(&fn)
}

// SetContentionFunc sets the function the alert contention counter reads
// at each scrape (alerts.Manager.Contention). nil stops reporting.
func (t *Telemetry) SetContentionFunc(fn func() (refused, gaveUp int64)) {
	if fn == nil {
		t.contention.Store(nil)
		return
	}
	t.contention.Store(&fn)
}

// EventsIn counts n messages read from topic (or the replay file name).
func (t *Telemetry) EventsIn(topic string, n int) {
	t.eventsIn.Add(context.Background(), int64(n), t.topics.get(topic)...)
}

// EventsProcessed counts n events whose windows and alerts are durable.
func (t *Telemetry) EventsProcessed(n int) {
	t.processed.Add(context.Background(), int64(n))
}

// DeadLettered counts one message sent to the dead-letter topic for reason
// (an ingest reason such as "oversized" or "too_late").
func (t *Telemetry) DeadLettered(reason string) {
	t.deadLettered.Add(context.Background(), 1, t.reasons.get(reason)...)
}

// RuleHit counts one firing of rule id; shadow rules are counted apart so a
// rule under evaluation can be compared with the active ones.
func (t *Telemetry) RuleHit(id string, shadow bool) {
	c := &t.rulesActive
	if shadow {
		c = &t.rulesShadow
	}
	t.ruleHits.Add(context.Background(), 1, c.get(id)...)
}

// AlertTypology counts one alert raised or updated for typology id.
func (t *Telemetry) AlertTypology(id string) {
	t.alertsByTyp.Add(context.Background(), 1, t.typologies.get(id)...)
}

// AlertsWritten counts n alerts written to sink ("kafka", "casequeue", "file").
func (t *Telemetry) AlertsWritten(sink string, n int) {
	t.alertsWritten.Add(context.Background(), int64(n), t.sinks.get(sink)...)
}

// EndToEnd records the time from an event's production to its alert being
// written.
func (t *Telemetry) EndToEnd(d time.Duration) {
	t.endToEnd.Record(context.Background(), d.Seconds())
}

// StoreRoundTrip records a store's round trips for one batch (store:
// "window", "graph", "evidence", "registry"), or for one flush of the
// writes held back ("flush": evidence and registry at once, before an
// offset commit; their batch steps then only hold back).
func (t *Telemetry) StoreRoundTrip(store string, d time.Duration) {
	t.storeRT.Record(context.Background(), d.Seconds(), t.stores.rec(store)...)
}

// BatchStep records how long one step of a batch took.
func (t *Telemetry) BatchStep(step string, d time.Duration) {
	t.batchStep.Record(context.Background(), d.Seconds(), t.steps.rec(step)...)
}

// BatchRetry counts a failed batch, or a failed write of its alerts, about
// to be retried.
func (t *Telemetry) BatchRetry() { t.retries.Add(context.Background(), 1) }

// CommitFailed counts an offset commit held back.
func (t *Telemetry) CommitFailed() { t.commitFails.Add(context.Background(), 1) }

// BatchSize records the number of events in one processed batch.
func (t *Telemetry) BatchSize(n int) {
	t.batchSize.Record(context.Background(), int64(n))
}

// attrCache maps a label value to its ready measurement options. Label
// values are a small bounded set (topics, reasons, rule ids), so entries are
// never evicted.
type attrCache struct {
	key   string
	extra attribute.KeyValue // second attribute when extra.Key != ""
	m     sync.Map           // string -> *attrOpts
}

// get returns the options of v for Add.
func (c *attrCache) get(v string) []metric.AddOption { return c.opts(v).add }

// rec returns the options of v for Record.
func (c *attrCache) rec(v string) []metric.RecordOption { return c.opts(v).rec }

type attrOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func (c *attrCache) opts(v string) *attrOpts {
	if o, ok := c.m.Load(v); ok {
		return o.(*attrOpts)
	}
	kvs := []attribute.KeyValue{attribute.String(c.key, v)}
	if c.extra.Key != "" {
		kvs = append(kvs, c.extra)
	}
	// WithAttributeSet is a MeasurementOption: both an AddOption and a
	// RecordOption.
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	actual, _ := c.m.LoadOrStore(v, &attrOpts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}})
	return actual.(*attrOpts)
}
