// Package pipeline runs one batch of raw messages through Sluice, top to
// bottom: decode (ingest), score (scoring), raise (alerts), write the alerts
// to every sink, save the alert state, and hand the rejected messages to the
// dead-letter writer. It returns nil only when all of that is durable, which
// is when a source may commit the batch's offsets.
//
// Each step is an OpenTelemetry span (sluice.decode, sluice.score,
// sluice.alerts, sluice.dead_letter), children of the caller's span when
// its context carries one; they cost nothing until a tracer provider is
// installed (telemetry.StartTracing).
package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/par"
	"github.com/sluice-aml/sluice/rules/screening/rescreen"
	"github.com/sluice-aml/sluice/scoring"
)

// Raw is one message as it arrived.
type Raw struct {
	Value    []byte
	Key      []byte
	Pos      ingest.Position
	Produced time.Time // when the producer wrote it (Kafka timestamp), for end-to-end latency
}

// Reject is a message that goes to the dead-letter destination.
type Reject struct {
	Raw    *Raw
	Reason string // ingest.Reason* constant
	Err    error
}

// Sink receives alerts. Writing the same alert id and version twice must
// leave one.
type Sink interface {
	Write(ctx context.Context, as []alerts.Alert) error
}

// Observer is told what happened to a batch (telemetry). Every method may be nil.
type Observer struct {
	Decoded  func(n int)
	Rejected func(reason string)
	// Step is told how long each step of a batch took (Step* constants),
	// when it succeeded. The registry's step runs beside the score step.
	Step       func(step string, d time.Duration)
	Alerted    func(a *alerts.Alert, produced time.Time)
	BatchTotal func(n int, d time.Duration)
}

// The steps of a batch, as Observer.Step names them.
const (
	StepStage      = "stage" // decode and prepare
	StepScore      = "score" // the scorer's stores and rules (scoring.Step* break it down)
	StepRegistry   = "registry"
	StepAlerts     = "alerts" // alert state and sinks
	StepDeadLetter = "dead_letter"
	StepFlush      = "flush" // what the stores held back (Flush), off the batches' path
)

func (p *Pipeline) step(step string, t0 time.Time) {
	if p.Observe.Step != nil {
		p.Observe.Step(step, time.Since(t0))
	}
}

// Pipeline is the processing path. It is safe for concurrent use when the
// scorer and sinks are.
type Pipeline struct {
	Decoder ingest.Decoder
	// MaxAhead, when set, dead-letters an event whose time is more than
	// MaxAhead after the time its message was produced (Raw.Produced, when
	// known), as an invalid time. Without it one mistyped future date
	// would move its partition's newest event time years ahead, so every
	// later event would be dead-lettered as too late, and its accounts'
	// windows would drop their history: the partition's monitoring would
	// stop. Deterministic: the produced time is part of the message.
	MaxAhead   time.Duration
	Scorer     *scoring.Scorer
	Alerts     *alerts.Manager
	Sinks      []Sink
	DeadLetter func(ctx context.Context, rejects []Reject) error
	// Registry, when set, records the counterparties of every scored event,
	// so the history can be screened again when the lists change.
	Registry rescreen.Registry
	Observe  Observer
	// Pending, when set, writes a batch's alerts to
	// the sinks outside the raising lock (their state is reserved by
	// Raise, under it), each batch after the earlier ones it shares an
	// alert or an open pointer with (alerts.Pending): a batch waiting for
	// the alerts topic's acknowledgement no longer holds up the other
	// batches' alerts. A batch still returns only once its alerts are
	// written. A failed write is retried with backoff (OnAlertError is
	// told) until it succeeds or Close.
	Pending      *alerts.Pending
	OnAlertError func(err error)

	// alerting makes raising, writing and saving one batch's alerts one
	// step, so that batches scored at once do not both open an alert for
	// the same subject and typology.
	alerting sync.Mutex
	// seen holds *[]rescreen.Seen for record: the registry copies what it
	// keeps, so a batch's sightings slice serves the next batch.
	seen sync.Pool
	// staged holds the *Staged of finished batches, whose slices serve the
	// next ones.
	staged sync.Pool

	flights     sync.Once
	flightsCtx  context.Context
	flightsStop context.CancelFunc
}

// tracer names the spans of the steps.
var tracer = otel.Tracer("github.com/sluice-aml/sluice/internal/pipeline")

// Process runs a batch. On error nothing after the failing step happened and
// the caller retries the same batch: windows and alerts are idempotent.
func (p *Pipeline) Process(ctx context.Context, batch []Raw) error {
	_, span := tracer.Start(ctx, "sluice.decode", trace.WithAttributes(attribute.Int("sluice.batch.messages", len(batch))))
	st := p.Stage(batch)
	span.SetAttributes(attribute.Int("sluice.batch.rejected", len(st.rejects)))
	span.End()
	return p.Finish(ctx, st)
}

// end ends span, recording err as its status.
func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Staged is a batch decoded and prepared for scoring (see Stage).
type Staged struct {
	start   time.Time
	batch   []Raw
	items   []scoring.Item
	raws    []*Raw
	rejects []Reject
	prep    *scoring.Prepared
}

// Stage decodes a batch and prepares its scoring: the work that touches no
// store, which may run ahead while Finish works on earlier batches. A
// Staged is finished once; after an error, stage the batch again. A
// finished one (and its events) serves a later Stage: keep neither.
func (p *Pipeline) Stage(batch []Raw) *Staged {
	st, _ := p.staged.Get().(*Staged)
	if st == nil {
		st = &Staged{}
	}
	st.start, st.batch = time.Now(), batch
	events, errs := p.decode(batch)
	st.items = slices.Grow(st.items[:0], len(batch))
	st.raws = slices.Grow(st.raws[:0], len(batch))
	for i := range batch {
		r := &batch[i]
		if err := errs[i]; err != nil {
			st.rejects = append(st.rejects, Reject{Raw: r, Reason: reasonOf(err), Err: err})
			continue
		}
		st.items = append(st.items, scoring.Item{Event: events[i], Pos: r.Pos})
		st.raws = append(st.raws, r)
	}
	if p.Observe.Decoded != nil {
		p.Observe.Decoded(len(st.items))
	}
	st.prep = p.Scorer.Prepare(st.items)
	p.step(StepStage, st.start)
	return st
}

// Finish scores a staged batch, raises and writes its alerts and hands its
// rejects to the dead-letter writer, as Process does. Batches of one
// partition (or file) are finished in order.
func (p *Pipeline) Finish(ctx context.Context, st *Staged) error {
	// The counterparty history needs only the decoded events: record it
	// while the batch is scored, and wait for it before reporting success.
	recorded := make(chan error, 1)
	go func() {
		t0 := time.Now()
		err := p.record(ctx, st.items)
		if err == nil && p.Registry != nil {
			p.step(StepRegistry, t0)
		}
		recorded <- err
	}()
	late, err := p.raise(ctx, st.batch, st.prep)
	if rerr := <-recorded; err == nil && rerr != nil {
		err = fmt.Errorf("rescreen registry: %w", rerr)
	}
	if err != nil {
		return err
	}
	rejects := st.rejects
	for _, l := range late {
		rejects = append(rejects, Reject{Raw: st.raws[l.Index], Reason: l.Err.Reason, Err: l.Err})
	}
	if len(rejects) > 0 {
		if p.Observe.Rejected != nil {
			for _, r := range rejects {
				p.Observe.Rejected(r.Reason)
			}
		}
		if p.DeadLetter != nil {
			t0 := time.Now()
			dctx, span := tracer.Start(ctx, "sluice.dead_letter", trace.WithAttributes(attribute.Int("sluice.dead_letters", len(rejects))))
			err := p.DeadLetter(dctx, rejects)
			end(span, err)
			if err != nil {
				return fmt.Errorf("dead letter: %w", err)
			}
			p.step(StepDeadLetter, t0)
		}
	}
	if p.Observe.BatchTotal != nil {
		p.Observe.BatchTotal(len(st.batch), time.Since(st.start))
	}
	// What the batch made keeps no pointer into its events (alerts,
	// evidence, windows, graph and history copy what they keep): their
	// blocks serve the next batches. A failed batch is staged again, so
	// only a finished one gives them back.
	for i := range st.items {
		ingest.Release(st.items[i].Event)
	}
	clear(st.items)
	clear(st.raws)
	clear(st.rejects)
	*st = Staged{items: st.items[:0], raws: st.raws[:0], rejects: st.rejects[:0]}
	p.staged.Put(st)
	return nil
}

// decode decodes the batch, spread over the cores when it is big enough:
// messages are independent, and decoding is a large share of the work.
func (p *Pipeline) decode(batch []Raw) ([]*ingest.Event, []error) {
	events := make([]*ingest.Event, len(batch))
	errs := make([]error, len(batch))
	par.Chunks(len(batch), 128, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			events[i], errs[i] = p.Decoder.Decode(batch[i].Value)
			if errs[i] == nil && p.MaxAhead > 0 {
				if errs[i] = ahead(events[i].Time, batch[i].Produced, p.MaxAhead); errs[i] != nil {
					ingest.Release(events[i])
					events[i] = nil
				}
			}
		}
	})
	return events, errs
}

// ahead checks an event's time against when its message was produced.
func ahead(t, produced time.Time, max time.Duration) error {
	if produced.IsZero() || !t.After(produced.Add(max)) {
		return nil
	}
	d := t.Sub(produced)
	by := d.Round(time.Minute).String()
	if d >= 48*time.Hour {
		by = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return &ingest.DecodeError{Field: "time", Reason: ingest.ReasonInvalid,
		Detail: fmt.Sprintf("%s is %s after its message was produced (%s), more than scoring.max_ahead (%s): the event's time or the producer's clock is wrong",
			t.Format(time.RFC3339), by, produced.UTC().Format(time.RFC3339), max)}
}

func producedOf(batch []Raw, pos ingest.Position) time.Time {
	for i := range batch {
		if batch[i].Pos == pos {
			return batch[i].Produced
		}
	}
	return time.Time{}
}

func reasonOf(err error) string {
	if r := ingest.Reason(err); r != "" {
		return r
	}
	return ingest.ReasonMalformed
}

// raise scores the events, reserves the alert state and writes the alerts
// to every sink; it returns the events the scorer refused as too late.
func (p *Pipeline) raise(ctx context.Context, batch []Raw, prep *scoring.Prepared) ([]scoring.Rejected, error) {
	t0 := time.Now()
	sctx, span := tracer.Start(ctx, "sluice.score")
	findings, late, err := p.Scorer.Apply(sctx, prep)
	span.SetAttributes(attribute.Int("sluice.findings", len(findings)), attribute.Int("sluice.too_late", len(late)))
	end(span, err)
	if err != nil {
		return nil, err
	}
	p.step(StepScore, t0)
	if len(findings) == 0 {
		return late, nil
	}
	t0 = time.Now()
	ctx, span = tracer.Start(ctx, "sluice.alerts")
	n, err := p.alert(ctx, batch, findings)
	span.SetAttributes(attribute.Int("sluice.alerts", n))
	end(span, err)
	if err != nil {
		return nil, err
	}
	p.step(StepAlerts, t0)
	return late, nil
}

// alert raises the findings' alerts (reserving their state) and writes
// them to every sink; it returns how many alerts it wrote.
func (p *Pipeline) alert(ctx context.Context, batch []Raw, findings []scoring.Finding) (int, error) {
	if p.Pending != nil {
		return p.alertPending(ctx, batch, findings)
	}
	p.alerting.Lock()
	defer p.alerting.Unlock()
	b, err := p.Alerts.Raise(ctx, findings)
	if err != nil {
		return 0, fmt.Errorf("alert state: %w", err)
	}
	if len(b.Alerts) == 0 {
		return 0, nil
	}
	if err := p.writeSinks(ctx, b.Alerts); err != nil {
		return 0, err
	}
	p.alerted(b.Alerts, producedAll(batch, b.Alerts))
	return len(b.Alerts), nil
}

// writeSinks writes as to every sink. The sinks are independent (each
// keeps one copy per alert id and version): written at once, a batch with
// alerts waits for the slowest rather than for their sum.
func (p *Pipeline) writeSinks(ctx context.Context, as []alerts.Alert) error {
	errs := make([]error, len(p.Sinks))
	var wg sync.WaitGroup
	for i, s := range p.Sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(ctx, as)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("alert sink: %w", err)
		}
	}
	return nil
}

func (p *Pipeline) alerted(as []alerts.Alert, produced []time.Time) {
	if p.Observe.Alerted != nil {
		for i := range as {
			p.Observe.Alerted(&as[i], produced[i])
		}
	}
}

func producedAll(batch []Raw, as []alerts.Alert) []time.Time {
	out := make([]time.Time, len(as))
	for i := range as {
		out[i] = producedOf(batch, as[i].Source)
	}
	return out
}

// alertPending raises under the lock, stages the batch (alerts.Pending),
// and lets its flight write it outside the lock; it returns once the
// flight has landed.
func (p *Pipeline) alertPending(ctx context.Context, batch []Raw, findings []scoring.Finding) (int, error) {
	p.alerting.Lock()
	b, err := p.Alerts.Raise(ctx, findings)
	var f *alerts.Flight
	if err == nil {
		f = p.Pending.Stage(b)
	}
	p.alerting.Unlock()
	if err != nil {
		return 0, fmt.Errorf("alert state: %w", err)
	}
	go p.fly(f, producedAll(batch, b.Alerts))
	select {
	case <-f.Done():
		return len(b.Alerts), nil
	case <-ctx.Done():
		// The flight goes on: the batch, if retried, reads its state and
		// waits for it.
		return 0, ctx.Err()
	}
}

// Retry bounds of a flight's failed writes.
const (
	flightMinBackoff = 100 * time.Millisecond
	flightMaxBackoff = 10 * time.Second
)

// fly writes a staged batch's alerts to the sinks, after the flights it
// depends on, retrying until it succeeds or Close, and lands it.
func (p *Pipeline) fly(f *alerts.Flight, produced []time.Time) {
	ctx := p.flightContext()
	for _, d := range f.Deps() {
		select {
		case <-d.Done():
		case <-ctx.Done():
			return
		}
	}
	as := f.Batch.Alerts
	for backoff := flightMinBackoff; ; backoff = min(2*backoff, flightMaxBackoff) {
		var err error
		if len(as) > 0 {
			err = p.writeSinks(ctx, as)
		}
		if err == nil {
			p.Pending.Land(f)
			break
		}
		if p.OnAlertError != nil {
			p.OnAlertError(err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
	}
	p.alerted(as, produced)
}

func (p *Pipeline) flightContext() context.Context {
	p.flights.Do(func() { p.flightsCtx, p.flightsStop = context.WithCancel(context.Background()) })
	return p.flightsCtx
}

// Close stops the flights still trying to write (their batches never
// returned, so nothing of theirs was committed).
func (p *Pipeline) Close() {
	p.flightContext()
	p.flightsStop()
}

// flusher is a store that may hold writes back (internal/writeback).
type flusher interface {
	Flush(ctx context.Context) error
	Held() int
}

// flushers are the stores that may hold writes back, by name.
func (p *Pipeline) flushers() []namedFlusher {
	var fs []namedFlusher
	if f, ok := p.Scorer.Evidence.(flusher); ok {
		fs = append(fs, namedFlusher{"evidence", f})
	}
	if f, ok := p.Registry.(flusher); ok {
		fs = append(fs, namedFlusher{"registry", f})
	}
	return fs
}

type namedFlusher struct {
	name string
	f    flusher
}

// Held is how many writes each store holds back now, by store name
// ("evidence", "registry"): it grows while Redis is down.
func (p *Pipeline) Held() map[string]int {
	out := map[string]int{}
	for _, f := range p.flushers() {
		out[f.name] = f.f.Held()
	}
	return out
}

// Flush writes what the stores hold back to batch it (the evidence and the
// counterparty history, when they are set to: see internal/writeback). A
// batch is durable only once a Flush that began after it was finished has
// returned nil: a source commits offsets after that, and replay ends with
// it. The stores flush at once.
func (p *Pipeline) Flush(ctx context.Context) error {
	t0 := time.Now()
	fs := p.flushers()
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.f.Flush(ctx); err != nil {
				errs[i] = fmt.Errorf("%s store: %w", f.name, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if len(fs) > 0 {
		p.step(StepFlush, t0)
	}
	return nil
}

// record adds the counterparties of the batch's transfers to the history.
func (p *Pipeline) record(ctx context.Context, items []scoring.Item) error {
	if p.Registry == nil {
		return nil
	}
	sp, _ := p.seen.Get().(*[]rescreen.Seen)
	if sp == nil {
		sp = new([]rescreen.Seen)
	}
	seen := (*sp)[:0]
	for i := range items {
		// Card merchants are screened by the card networks and acquirers
		// and would flood the history: keep transfers.
		if items[i].Event.Kind != "card" {
			seen = rescreen.AppendFromEvent(seen, items[i].Event)
		}
	}
	var err error
	if len(seen) > 0 {
		err = p.Registry.Record(ctx, seen)
	}
	clear(seen) // the events' strings go with their batch
	*sp = seen[:0]
	p.seen.Put(sp)
	return err
}
