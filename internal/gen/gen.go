package gen

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// blockDays is the planning period of injected patterns: every block gets
// Config.instances() instances of each typology.
const blockDays = 30

// engine holds the state of one run. Events are created in a deterministic
// order, placed into buckets by UTC day, and each bucket is sorted and emitted
// once no later local day can add to it.
type engine struct {
	cfg      Config
	pop      *population
	nextID   uint64
	buckets  map[int64][]*ingest.Event
	labels   []*labelBuild
	benign   map[benignKey]*labelBuild
	startDay int64 // unix day of cfg.Start
	keep     bool  // keep labels (false when streaming forever)
}

type benignKey struct {
	cust int
	kind string
}

type labelBuild struct {
	Label
	evs []*ingest.Event
}

func newEngine(cfg Config, keep bool) *engine {
	y, m, d := cfg.Start.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &engine{
		cfg:      cfg,
		pop:      buildPopulation(cfg),
		buckets:  map[int64][]*ingest.Event{},
		benign:   map[benignKey]*labelBuild{},
		startDay: start.Unix() / 86400,
		keep:     keep,
	}
}

// Profiles returns the declared profiles of the customers Generate uses for
// cfg, in customer id order.
func Profiles(cfg Config) ([]Customer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := buildPopulation(cfg)
	out := make([]Customer, len(p.custs))
	for i, c := range p.custs {
		out[i] = c.Customer
		out[i].Accounts = append([]string(nil), c.Accounts...)
	}
	return out, nil
}

// Generate writes cfg.Days days of events to emit, in event-time order, and
// returns the labels of every injected pattern and benign look-alike. It
// holds at most about two days of events in memory.
func Generate(cfg Config, emit func(*ingest.Event) error) (Labels, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(cfg, true)
	for d := 0; d < cfg.Days; d++ {
		if err := e.day(d, emit); err != nil {
			return nil, err
		}
	}
	if err := e.flush(math.MaxInt64, emit); err != nil {
		return nil, err
	}
	return e.finishLabels(), nil
}

// Stream emits an endless stream for cfg (Days is ignored) at about rate
// events per second of wall-clock time, with patterns injected in every
// 30-day block of event time, until ctx is done or emit fails. Event times
// are synthetic (they start at cfg.Start) so that windows and patterns behave
// exactly as in Generate. rate <= 0 means as fast as possible.
func Stream(ctx context.Context, cfg Config, rate float64, emit func(*ingest.Event) error) error {
	cfg.Days = 1
	if err := cfg.Validate(); err != nil {
		return err
	}
	e := newEngine(cfg, false)
	began := time.Now()
	var n int64
	paced := func(ev *ingest.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(ev); err != nil {
			return err
		}
		n++
		if rate > 0 && n%16 == 0 {
			due := began.Add(time.Duration(float64(n) / rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		return nil
	}
	for d := 0; ; d++ {
		if err := e.day(d, paced); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// day generates local day d (0-based) and emits every UTC day that is complete.
func (e *engine) day(d int, emit func(*ingest.Event) error) error {
	if d%blockDays == 0 && e.cfg.Patterns {
		days := blockDays
		if e.keep && e.cfg.Days-d < days {
			days = e.cfg.Days - d
		}
		e.plan(d, days)
	}
	r := rand.New(rand.NewPCG(uint64(e.cfg.Seed), uint64(d)<<20|0xDA7))
	for _, c := range e.pop.custs {
		e.ordinary(r, c, d)
	}
	// Local day d starts at UTC d+4h at the earliest (all offsets are -4..-8),
	// so every UTC day before it is complete.
	return e.flush(e.startDay+int64(d), emit)
}

// flush emits, in time order, every bucket of a UTC day before upTo.
func (e *engine) flush(upTo int64, emit func(*ingest.Event) error) error {
	var days []int64
	for k := range e.buckets {
		if k < upTo {
			days = append(days, k)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, k := range days {
		evs := e.buckets[k]
		delete(e.buckets, k)
		sort.Slice(evs, func(i, j int) bool {
			ti, tj := evs[i].Time.UnixNano(), evs[j].Time.UnixNano()
			if ti != tj {
				return ti < tj
			}
			return evs[i].ID < evs[j].ID
		})
		for _, ev := range evs {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// newEvent creates an event with the next id and files it under its UTC day.
func (e *engine) newEvent(t time.Time, kind string, amt ingest.Amount, ccy string, from, to *ingest.Party) *ingest.Event {
	e.nextID++
	t = t.Truncate(time.Second)
	ev := &ingest.Event{ID: txID(e.nextID), Time: t, Kind: kind, Amount: amt, Currency: ccy, From: from, To: to}
	day := t.Unix() / 86400
	if t.Unix() < 0 {
		day--
	}
	e.buckets[day] = append(e.buckets[day], ev)
	return ev
}

func txID(n uint64) string {
	s := strconv.FormatUint(n, 10)
	const width = 8
	if len(s) < width {
		s = "00000000"[:width-len(s)] + s
	}
	return "tx-" + s
}

// label starts a label for a pattern instance.
func (e *engine) label(typology, variant string, subject *cust, accounts ...string) *labelBuild {
	l := &labelBuild{Label: Label{Typology: typology, Variant: variant}}
	if subject != nil {
		l.Subject = subject.acct()
		l.CustomerID = subject.CustomerID
		l.Accounts = append(l.Accounts, subject.Accounts...)
	}
	for _, a := range accounts {
		if !contains(l.Accounts, a) {
			l.Accounts = append(l.Accounts, a)
		}
	}
	if e.keep {
		e.labels = append(e.labels, l)
	}
	return l
}

// benignLabel returns the running look-alike label of one customer and kind.
func (e *engine) benignLabel(c *cust, kind string) *labelBuild {
	k := benignKey{c.idx, kind}
	if l, ok := e.benign[k]; ok {
		return l
	}
	l := e.label("benign:"+kind, "", c)
	if e.keep {
		e.benign[k] = l
	}
	return l
}

func (l *labelBuild) add(evs ...*ingest.Event) {
	l.evs = append(l.evs, evs...)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (e *engine) finishLabels() Labels {
	out := make(Labels, 0, len(e.labels))
	for _, l := range e.labels {
		if len(l.evs) == 0 {
			continue
		}
		sort.Slice(l.evs, func(i, j int) bool {
			ti, tj := l.evs[i].Time.UnixNano(), l.evs[j].Time.UnixNano()
			if ti != tj {
				return ti < tj
			}
			return l.evs[i].ID < l.evs[j].ID
		})
		lab := l.Label
		lab.Transactions = make([]string, len(l.evs))
		for i, ev := range l.evs {
			lab.Transactions[i] = ev.ID
		}
		lab.Start = l.evs[0].Time.Format(time.RFC3339)
		lab.End = l.evs[len(l.evs)-1].Time.Format(time.RFC3339)
		out = append(out, lab)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, _ := time.Parse(time.RFC3339, out[i].Start)
		tj, _ := time.Parse(time.RFC3339, out[j].Start)
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		if out[i].Typology != out[j].Typology {
			return out[i].Typology < out[j].Typology
		}
		return out[i].Subject < out[j].Subject
	})
	return out
}

// at is the local time on day d (0-based from Start) at hour h (fractional) in city c.
func (e *engine) at(c *city, d int, h float64) time.Time {
	t := time.Unix((e.startDay+int64(d))*86400, 0).UTC()
	secs := int(h * 3600)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, secs, 0, c.loc)
}

// date is the calendar date of day d.
func (e *engine) date(d int) time.Time {
	return time.Unix((e.startDay+int64(d))*86400, 0).UTC()
}

// money rounds a float amount to cents; amounts are sized with floats, but
// every emitted amount is an exact decimal.
func money(x float64) ingest.Amount {
	if x < 0.01 {
		x = 0.01
	}
	c := int64(math.Round(x * 100))
	return ingest.Amount{Int: c / 100, Frac: (c % 100) * 10_000_000_000_000_000}
}

// round rounds x to a multiple of step (cash is counted in notes).
func round(x, step float64) float64 {
	v := math.Round(x/step) * step
	if v < step {
		v = step
	}
	return v
}

// sats converts a BTC quantity to an exact 8-decimal amount.
func sats(btc float64) ingest.Amount {
	s := int64(math.Round(btc * 1e8))
	if s < 1 {
		s = 1
	}
	return ingest.Amount{Int: s / 100_000_000, Frac: (s % 100_000_000) * 10_000_000_000}
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// logUniform draws amounts spread like real spending: many small, few large.
func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(uniform(r, math.Log(lo), math.Log(hi)))
}

func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
