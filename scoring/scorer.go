package scoring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/par"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring/evidence"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/window"
)

// Config tunes a Scorer.
type Config struct {
	// Lateness is how far behind the newest event time of its partition an
	// event may be and still be applied in event time; later events are
	// rejected as too_late. Default 72h.
	Lateness time.Duration
	// Retain is how long idempotency records outlive the windows, the horizon
	// within which a redelivered event is recognised. Default 72h.
	Retain time.Duration
}

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if c.Lateness == 0 {
		c.Lateness = 72 * time.Hour
	}
	if c.Retain == 0 {
		c.Retain = 72 * time.Hour
	}
	if c.Lateness < 0 || c.Retain < 0 {
		return errors.New("scoring: lateness and retain must not be negative")
	}
	return nil
}

// Item is one decoded event and where it came from.
type Item struct {
	Event *ingest.Event
	Pos   ingest.Position
}

// Finding is one party of one event whose typologies reached their thresholds.
type Finding struct {
	Event      *ingest.Event
	Pos        ingest.Position
	Side       string // "to" or "from": the subject party
	Subject    *ingest.Party
	Typologies []rules.TypologyScore
	Hits       []rules.Hit // every rule that fired for the subject
	Screening  []ScreenHit
	Ruleset    string
	Lists      string
	FX         string
	// Evidence are the other transactions that counted in the features the
	// firing rules read, newest first (when the scorer keeps evidence).
	Evidence []string
}

// ScreenHit is a designated-entity list match on a party of the event.
type ScreenHit struct {
	Field       string // from.name, to.wallet...
	List        string
	Entry       string
	ListedName  string
	MatchedName string
	Score       float64
	Programs    []string
	Designated  bool // FTO, SDGT, SDNTK or equivalent
}

// Screener screens a party's name and wallet against the designated-entity
// lists. Implementations are safe for concurrent use.
type Screener interface {
	ScreenParty(side string, p *ingest.Party) []ScreenHit
	Hash() string
}

// Profiles gives the declared (KYC) profile of a customer.
type Profiles interface {
	Profile(customerID string) (rules.Profile, bool)
}

// Rejected is an event the scorer refused (too late), with its reason.
type Rejected struct {
	Index int // in the batch
	Err   *ingest.DecodeError
}

// Scorer scores batches of events. It is safe for concurrent use as long as
// one partition's batches are scored in order.
type Scorer struct {
	cfg      Config
	rules    *rules.Holder
	store    window.Store
	fx       *fx.Table
	screener Screener
	profiles Profiles
	// OnHit and OnError, when set, are called for every rule hit and every
	// rule evaluation error.
	OnHit   func(ruleID string, shadow bool)
	OnError func(err error)
	// OnStep, when set, is told how long each step of an Apply took:
	// StepWindow, StepGraph and StepEvidence (each store's round trips for
	// the batch's writes, which run at once) and StepEvaluate (the rules),
	// so that a slow batch can be traced to its store or to the rules. The
	// evidence read for the findings, after the rules, is in none of them.
	OnStep func(step string, d time.Duration)
	// Evidence, when set, keeps each account's recent transactions so that a
	// finding lists every transaction behind the values its rules saw.
	Evidence evidence.Store
	// Graph, when set, keeps recent transfers between accounts and gives
	// rules the graph-pattern signals of each transfer (graph.cycle_hops...).
	Graph graph.Store

	mu        sync.Mutex
	watermark map[source]int64 // newest event time per partition or file, unix ms
	layouts   sync.Map         // *rules.Set -> *layout
	evals     sync.Pool
	// scratches are the idle scratches, kept rather than pooled: a
	// sync.Pool drops them at garbage collections, and the next batches
	// then grew every block again (7 % of what a Redis bench allocated).
	// They are as many as batches ever scored at once.
	scratches []*scratch
}

// New returns a Scorer. screener and profiles may be nil.
func New(cfg Config, rs *rules.Holder, store window.Store, rates *fx.Table, screener Screener, profiles Profiles) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rs == nil || store == nil || rates == nil {
		return nil, errors.New("scoring: rules, store and fx table are required")
	}
	return &Scorer{cfg: cfg, rules: rs, store: store, fx: rates, screener: screener, profiles: profiles, watermark: map[source]int64{}}, nil
}

// Rules returns the rule-set holder.
func (s *Scorer) Rules() *rules.Holder { return s.rules }

// FX returns the rate table in force.
func (s *Scorer) FX() *fx.Table { return s.fx }

// layout maps a rule set's features onto window groups.
type layout struct {
	// plans caches what an event needs (kindPlan), by kind and by which
	// parties are the bank's own.
	plans  sync.Map // planKey -> *kindPlan
	set    *rules.Set
	groups []*window.Group
	// slot[g][j] is the index in Env.F of group g's j-th feature.
	slot [][]int
	// byKey[key][local] is the group index or -1.
	acct, acctLocal, cust, custLocal int
	// used[i] says some rule reads feature i; a feature no rule reads is
	// neither computed nor kept (it starts empty if a reload adds a reader).
	used []bool
	// foreign[i] says a rule may read feature i of an account at another
	// bank (rules.Set.ForeignReads). The others are kept only for the
	// bank's own accounts: most rules are about its customers, and the
	// accounts they pay and are paid by would otherwise hold as much state.
	foreign []bool
	// filters[i] says a used feature has filter i.
	filters []bool
	// graph says some rule reads graph signals; otherwise the graph store
	// is neither searched nor fed.
	graph bool
	// screen says some rule or used feature may read a party's screening
	// result; otherwise parties are screened only for the events that
	// raise a finding (the alert lists the matches).
	screen bool
	// onSide[si][i] says feature i counts the events whose party on side
	// sides[si] is the key (side in for "to", out for "from", or any).
	onSide [2][]bool
	// evidence[k][si] lists the features keyed by account (k 0) or
	// customer (k 1) that count the event on side sides[si] (onSide).
	evidence [2][2][]int
}

func (s *Scorer) layoutOf(set *rules.Set) *layout {
	if l, ok := s.layouts.Load(set); ok {
		return l.(*layout)
	}
	l := &layout{set: set, acct: -1, acctLocal: -1, cust: -1, custLocal: -1,
		used: make([]bool, len(set.Features)), filters: make([]bool, len(set.Filters)), foreign: set.ForeignReads()}
	for _, r := range set.Rules {
		l.graph = l.graph || r.Graph
		l.screen = l.screen || r.Screen
		for _, i := range r.Reads {
			l.used[i] = true
		}
	}
	for i, f := range set.Features {
		if l.used[i] && f.Filter >= 0 {
			l.filters[f.Filter] = true
		}
		l.screen = l.screen || l.used[i] && f.Screen
		k := 0
		if f.Key == "customer" {
			k = 1
		}
		for si, side := range [2]string{"in", "out"} {
			on := f.Side == "any" || f.Side == side
			l.onSide[si] = append(l.onSide[si], on)
			if on {
				l.evidence[k][si] = append(l.evidence[k][si], i)
			}
		}
	}
	add := func(name string, f *rules.Feature) int {
		for gi, g := range l.groups {
			if g.Name == name {
				l.slot[gi] = append(l.slot[gi], f.Index)
				g.Features = append(g.Features, windowFeature(f))
				return gi
			}
		}
		l.groups = append(l.groups, &window.Group{Name: name, Retain: s.cfg.Retain + s.cfg.Lateness, Features: []window.Feature{windowFeature(f)}})
		l.slot = append(l.slot, []int{f.Index})
		return len(l.groups) - 1
	}
	for _, f := range set.Features {
		name := "acct"
		if f.Key == "customer" {
			name = "cust"
		}
		if f.Local {
			name += "@local"
		}
		gi := add(name, f)
		switch name {
		case "acct":
			l.acct = gi
		case "acct@local":
			l.acctLocal = gi
		case "cust":
			l.cust = gi
		case "cust@local":
			l.custLocal = gi
		}
	}
	for _, g := range l.groups {
		for i := range g.Features {
			// Validated by the rules compiler already; this fills defaults.
			if err := g.Features[i].Validate(); err != nil {
				panic(err)
			}
		}
	}
	actual, _ := s.layouts.LoadOrStore(set, l)
	return actual.(*layout)
}

// kindPlan is what the rule set does with an event of one kind: most
// events are card payments, which most rules and features ignore, and
// this is looked up once per event rather than per rule and filter.
type kindPlan struct {
	own     [2]bool   // per side (sides order): the party is the bank's own
	canFire [2]bool   // per side: some rule for it can fire
	reads   [2][]bool // per side: the features those rules read
	filters []bool    // the feature filters to evaluate
	// profile says a rule that can fire or a feature computed may read a
	// party's declared profile: otherwise it is not looked up.
	profile bool
}

type planKey struct {
	kind string
	own  rules.Own
}

func (l *layout) plan(kind string, own rules.Own) *kindPlan {
	if kp, ok := l.plans.Load(planKey{kind, own}); ok {
		return kp.(*kindPlan)
	}
	kp := &kindPlan{own: [2]bool{own.To, own.From}, filters: make([]bool, len(l.set.Filters))}
	for si, sd := range sides {
		kp.canFire[si] = l.set.CanFire(sd, kind, own)
		kp.reads[si] = l.set.Reads(sd, kind, own)
	}
	for i, k := range l.set.FilterKinds {
		kp.filters[i] = l.filters[i] && (k == nil || k[kind])
	}
	for _, r := range l.set.Rules {
		kp.profile = kp.profile || r.Profile && (r.Kinds == nil || r.Kinds[kind])
	}
	for i, f := range l.set.Features {
		kp.profile = kp.profile || l.used[i] && f.Profile && (f.Filter < 0 || kp.filters[f.Filter])
	}
	actual, _ := l.plans.LoadOrStore(planKey{kind, own}, kp)
	return actual.(*kindPlan)
}

// counts reports whether feature i counts the event for the party on side
// si: it passed the filter, counts that side, and is kept for that party.
func (l *layout) counts(kp *kindPlan, pass []bool, si, i int) bool {
	return pass[i] && l.onSide[si][i] && (kp.own[si] || l.foreign[i])
}

func windowFeature(f *rules.Feature) window.Feature {
	return window.Feature{Name: f.Name, Op: window.Op(f.Op), Window: f.Window, Bucket: f.Bucket, DistinctCap: f.Cap}
}

// prepared is one event's per-feature inputs and environment.
type prepared struct {
	item *Item
	plan *kindPlan
	env  rules.Env
	base int64 // amount in minor units of the base currency
	pass []bool
	// ups are the event's window updates, the "to" side's first: side si's
	// are ups[split[si]:split[si+1]], and gidx[k] is ups[k]'s group.
	ups     []window.Update
	split   [3]int
	gidx    [8]int8  // at most 4 groups a side
	graphTx []string // the transfer's graph-pattern transactions (a cycle's hops...)
	screens []ScreenHit
	// screened says screens is filled: when no rule reads screening, it
	// is filled only for an event that raises a finding.
	screened bool
}

// arena hands out the per-event slices of one worker's share of a batch
// from a few blocks that are reused batch after batch: a batch's findings
// keep nothing of it (hits copy the values they show).
type arena struct {
	inputs slab[window.Input]
	only   slab[int32]
	ups    slab[window.Update]
	pass   slab[bool]
	value  slab[int64]
	member slab[string]
	outs   slab[int64]
	f      []float64 // the evaluator's feature values, reused event to event
}

func (a *arena) reset() {
	// Inputs, their indexes, updates and outputs are written before they are read
	// (prepare, the store): they are only handed out again. Zeroing them
	// cost more than all the rest of the reset.
	a.inputs.used, a.only.used, a.ups.used, a.outs.used = 0, 0, 0, 0
	a.pass.reset()
	a.value.reset()
	a.member.reset()
}

// slab is a block of Ts handed out in pieces, zeroed when reset. A batch
// that outgrows the block gets a larger one, kept for the next batches.
type slab[T any] struct {
	buf  []T
	used int
}

func (s *slab[T]) grab(n int) []T {
	if len(s.buf)-s.used < n {
		s.buf, s.used = make([]T, max(n, 2*len(s.buf), 256)), 0
	}
	out := s.buf[s.used : s.used+n : s.used+n]
	s.used += n
	return out
}

func (s *slab[T]) reset() {
	clear(s.buf[:s.used])
	s.used = 0
}

// source is where events come from in order: a file, or a topic's
// partition. Watermarks are kept per source.
type source struct {
	file, topic string
	partition   int32
}

// scratch is what scoring a batch needs besides its results: the events'
// preparations and one arena per worker.
type scratch struct {
	prepped []prepared
	arenas  []*arena
	// The batch's evidence items and their events' places (evidenceItems):
	// the stores copy what they keep, so the slices serve batch after batch.
	items  []evidence.Item
	itemAt []int
	preps  []*prepared // the events applied (not late, not failed)
	parts  [][]Finding // each event's findings
}

func (s *Scorer) scratch(n int) *scratch {
	var sc *scratch
	s.mu.Lock()
	if k := len(s.scratches); k > 0 {
		sc, s.scratches = s.scratches[k-1], s.scratches[:k-1]
	}
	s.mu.Unlock()
	if sc == nil {
		sc = &scratch{}
	}
	if cap(sc.prepped) < n {
		sc.prepped = make([]prepared, n)
	}
	sc.prepped = sc.prepped[:n]
	return sc
}

func (s *Scorer) release(sc *scratch) {
	clear(sc.prepped)
	clear(sc.items)
	clear(sc.preps)
	clear(sc.parts)
	sc.items, sc.itemAt, sc.preps, sc.parts = sc.items[:0], sc.itemAt[:0], sc.preps[:0], sc.parts[:0]
	for _, a := range sc.arenas {
		a.reset()
	}
	s.mu.Lock()
	s.scratches = append(s.scratches, sc)
	s.mu.Unlock()
}

var sides = [2]string{"to", "from"}

// Score scores a batch. Events rejected as too late come back in rejected
// (their windows are untouched); the rest are applied to the windows in one
// store round trip and scored. An error means nothing of the batch can be
// trusted to be durable (the store is down): retry the whole batch.
func (s *Scorer) Score(ctx context.Context, batch []Item) (findings []Finding, rejected []Rejected, err error) {
	return s.Apply(ctx, s.Prepare(batch))
}

// Prepared is a batch made ready for Apply: each event's environment,
// screening and window inputs, which need no store. It is used once.
type Prepared struct {
	batch  []Item
	set    *rules.Set
	lay    *layout
	sc     *scratch
	failed []error
}

// Prepare does the part of scoring that reads no store, with the rule set
// in force, spread over the cores. It may run ahead of the Apply of
// earlier batches (a replay prepares the next batch while the stores work
// on this one).
func (s *Scorer) Prepare(batch []Item) *Prepared {
	set := s.rules.Current()
	p := &Prepared{batch: batch, set: set, lay: s.layoutOf(set), sc: s.scratch(len(batch)), failed: make([]error, len(batch))}
	s.parallel(set, p.sc, len(batch), func(ev *rules.Evaluator, a *arena, lo, hi int) {
		for k := lo; k < hi; k++ {
			p.failed[k] = s.prepare(ev, a, set, p.lay, &p.sc.prepped[k], &batch[k])
		}
	})
	return p
}

// Apply scores a prepared batch, as Score does. Batches of one partition
// (or file) must be applied in order.
func (s *Scorer) Apply(ctx context.Context, pb *Prepared) (findings []Finding, rejected []Rejected, err error) {
	batch, set, lay, sc := pb.batch, pb.set, pb.lay, pb.sc
	defer s.release(sc)
	// Watermarks move only when the batch succeeds, so a retried batch sees
	// the same lateness decisions as its first attempt.
	marks := map[source]int64{}
	preps := slices.Grow(sc.preps[:0], len(batch))
	nups := 0
	for i := range batch {
		if de := s.checkLate(&batch[i], marks); de != nil {
			rejected = append(rejected, Rejected{Index: i, Err: de})
			continue
		}
		if pb.failed[i] != nil {
			rejected = append(rejected, Rejected{Index: i, Err: &ingest.DecodeError{Field: "currency", Reason: ingest.ReasonInvalid, Detail: pb.failed[i].Error()}})
			continue
		}
		p := &sc.prepped[i]
		preps = append(preps, p)
		nups += len(p.ups)
	}
	sc.preps = preps
	updates := make([]*window.Update, 0, nups)
	for _, p := range preps {
		for i := range p.ups {
			updates = append(updates, &p.ups[i])
		}
	}
	// The window, graph and evidence stores are independent: one round trip
	// each, at the same time.
	var wg sync.WaitGroup
	var werr, gerr, eerr error
	if len(updates) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werr = s.timed(StepWindow, func() error { return s.store.Apply(ctx, updates) })
		}()
	}
	if s.Graph != nil && lay.graph {
		wg.Add(1)
		go func() { defer wg.Done(); gerr = s.timed(StepGraph, func() error { return s.observeGraph(ctx, preps) }) }()
	}
	var items []evidence.Item
	var itemAt []int
	if s.Evidence != nil {
		items, itemAt = s.evidenceItems(sc, set, lay, preps)
		wg.Add(1)
		go func() {
			defer wg.Done()
			eerr = s.timed(StepEvidence, func() error { return s.Evidence.Add(ctx, items) })
		}()
	}
	wg.Wait()
	switch {
	case werr != nil:
		return nil, nil, fmt.Errorf("window store: %w", werr)
	case gerr != nil:
		return nil, nil, fmt.Errorf("graph store: %w", gerr)
	case eerr != nil:
		return nil, nil, fmt.Errorf("evidence store: %w", eerr)
	}
	lists := ""
	if s.screener != nil {
		lists = s.screener.Hash()
	}
	parts := slices.Grow(sc.parts[:0], len(preps))[:len(preps)]
	sc.parts = parts
	s.timed(StepEvaluate, func() error {
		s.parallel(set, sc, len(preps), func(ev *rules.Evaluator, a *arena, lo, hi int) {
			for k := lo; k < hi; k++ {
				parts[k] = s.evaluate(ev, a, set, lay, preps[k], lists, nil)
			}
		})
		return nil
	})
	var findingAt []int // each finding's place in preps
	for k, f := range parts {
		findings = append(findings, f...)
		for range f {
			findingAt = append(findingAt, k)
		}
	}
	if s.Evidence != nil && len(findings) > 0 {
		if err := s.addEvidence(ctx, set, findings, findingAt, items, itemAt); err != nil {
			return nil, nil, fmt.Errorf("evidence store: %w", err)
		}
	}
	s.mu.Lock()
	for src, t := range marks {
		if t > s.watermark[src] {
			s.watermark[src] = t
		}
	}
	s.mu.Unlock()
	return findings, rejected, nil
}

// The steps of an Apply, as OnStep names them.
const (
	StepWindow   = "window"
	StepGraph    = "graph"
	StepEvidence = "evidence"
	StepEvaluate = "evaluate"
)

// timed runs fn and tells OnStep how long it took, when it succeeded.
func (s *Scorer) timed(step string, fn func() error) error {
	if s.OnStep == nil {
		return fn()
	}
	t0 := time.Now()
	err := fn()
	if err == nil {
		s.OnStep(step, time.Since(t0))
	}
	return err
}

// parallel runs fn over [0, n) in contiguous chunks, one per core when the
// batch is big enough to be worth it, each with its own evaluator.
func (s *Scorer) parallel(set *rules.Set, sc *scratch, n int, fn func(ev *rules.Evaluator, a *arena, lo, hi int)) {
	for len(sc.arenas) < runtime.GOMAXPROCS(0) {
		sc.arenas = append(sc.arenas, &arena{})
	}
	par.Chunks(n, 64, func(w, lo, hi int) {
		ev := s.evaluator(set)
		fn(ev, sc.arenas[w], lo, hi)
		s.evals.Put(ev)
	})
}

func (s *Scorer) evaluator(set *rules.Set) *rules.Evaluator {
	if e, ok := s.evals.Get().(*rules.Evaluator); ok && e.Set == set {
		return e
	}
	return rules.NewEvaluator(set)
}

// checkLate applies the lateness bound against the newest event time seen
// in the item's partition (or file); marks holds the batch's own progress.
func (s *Scorer) checkLate(it *Item, marks map[source]int64) *ingest.DecodeError {
	src := source{file: it.Pos.File}
	if src.file == "" {
		src.topic, src.partition = it.Pos.Topic, it.Pos.Partition
	}
	t := it.Event.Time.UnixMilli()
	wm, ok := marks[src]
	if !ok {
		s.mu.Lock()
		wm, ok = s.watermark[src]
		s.mu.Unlock()
	}
	if ok && t < wm-s.cfg.Lateness.Milliseconds() {
		return &ingest.DecodeError{Field: "time", Reason: ingest.ReasonTooLate,
			Detail: fmt.Sprintf("%s is %s behind the newest event of its source; lateness allowed is %s",
				it.Event.Time.Format(time.RFC3339), time.Duration(wm-t)*time.Millisecond, s.cfg.Lateness)}
	}
	if !ok || t > wm {
		marks[src] = t
	} else {
		marks[src] = wm
	}
	return nil
}

func (s *Scorer) prepare(ev *rules.Evaluator, a *arena, set *rules.Set, lay *layout, p *prepared, it *Item) error {
	e := it.Event
	base, ok := s.fx.ToBase(e.Amount, e.Currency)
	if !ok {
		return fmt.Errorf("no FX rate for %s in table %s", e.Currency, s.fx.Version)
	}
	kp := lay.plan(e.Kind, ownOf(e))
	p.item, p.base, p.plan = it, base, kp
	s.fillEnv(&p.env, e, base, kp.profile)
	if s.screener != nil && lay.screen {
		s.screen(p)
	}
	n := len(set.Features)
	p.pass = a.pass.grab(n)
	value := a.value.grab(n)
	member := a.member.grab(n)
	filters := a.pass.grab(len(set.Filters))
	for i := range set.Filters {
		if !kp.filters[i] {
			continue
		}
		var err error
		if filters[i], err = ev.Filter(i, &p.env); err != nil {
			s.reportError(fmt.Errorf("feature filter: %w", err))
		}
	}
	for i, f := range set.Features {
		if !lay.used[i] || f.Filter >= 0 && !filters[f.Filter] {
			continue
		}
		switch {
		case f.Value != nil:
			v, err := ev.Value(f, &p.env)
			if err != nil {
				s.reportError(fmt.Errorf("feature %s: value: %w", f.Name, err))
				continue
			}
			// Kept in hundredths, as money is in minor units, rounded
			// half away from zero whatever the sign.
			h := math.Round(v * 100)
			if math.IsNaN(h) || math.Abs(h) > maxScaled {
				s.reportError(fmt.Errorf("feature %s: value %v is out of range", f.Name, v))
				continue
			}
			value[i] = int64(h)
		case f.Of != nil:
			m, err := ev.Member(f, &p.env)
			if err != nil {
				s.reportError(fmt.Errorf("feature %s: of: %w", f.Name, err))
				continue
			}
			if m == "" {
				continue
			}
			member[i] = m
		default:
			value[i] = base
		}
		p.pass[i] = true
	}
	t := e.Time.UnixMilli()
	_, off := e.Time.Zone()
	local := t + int64(off)*1000
	// Groups with something to write or read, per side: most card payments
	// have none, and get nothing allocated.
	groups := [4]int{lay.acct, lay.acctLocal, lay.cust, lay.custLocal}
	times := [4]int64{t, local, t, local}
	var want [2][4]bool
	var keys [2][4]string
	total := 0
	for si, sd := range sides {
		party := party(e, sd)
		if party == nil || party.Account == "" {
			continue
		}
		// Only the features a rule that can fire on this kind reads are
		// computed for this side.
		reads := kp.reads[si]
		for gj, gi := range groups {
			key := party.Account
			if gj >= 2 {
				key = party.CustomerID
			}
			if gi < 0 || key == "" {
				continue
			}
			for _, fi := range lay.slot[gi] {
				if reads[fi] || lay.counts(kp, p.pass, si, fi) {
					want[si][gj], keys[si][gj] = true, key
					total++
					break
				}
			}
		}
	}
	if total == 0 {
		return nil
	}
	p.ups = a.ups.grab(total)
	k := 0
	for si, sd := range sides {
		p.split[si] = k
		if !slices.Contains(want[si][:], true) {
			continue
		}
		txID := e.ID + ":in"
		if sd == "from" {
			txID = e.ID + ":out"
		}
		reads := kp.reads[si]
		for gj, gi := range groups {
			if !want[si][gj] {
				continue
			}
			// Only the features the event feeds or a rule reads: of a
			// group of forty, a transfer touches a handful.
			g := lay.groups[gi]
			in, only := a.inputs.grab(len(g.Features)), a.only.grab(len(g.Features))
			n := 0
			for j, fi := range lay.slot[gi] {
				apply := lay.counts(kp, p.pass, si, fi)
				if !apply && !reads[fi] {
					continue
				}
				in[n] = window.Input{Apply: apply, Value: value[fi], Member: member[fi], NoRead: !reads[fi]}
				only[n] = int32(j)
				n++
			}
			p.ups[k] = window.Update{Group: g, Key: keys[si][gj], TxID: txID, Time: times[gj], Inputs: in[:n], Only: only[:n], Out: a.outs.grab(len(g.Features))}
			p.gidx[k] = int8(gi)
			k++
		}
	}
	p.split[2] = k
	return nil
}

// screen screens both parties of p's event, keeps the matches for the
// alert and gives each party its best match for the rules.
func (s *Scorer) screen(p *prepared) {
	e := p.item.Event
	for i, sd := range sides {
		party := party(e, sd)
		if party == nil {
			continue
		}
		hits := s.screener.ScreenParty(sd, party)
		p.screens = append(p.screens, hits...)
		ps := &p.env.To.Screen
		if i == 1 {
			ps = &p.env.From.Screen
		}
		for _, h := range hits {
			if h.Score > ps.Score || (h.Score == ps.Score && h.Designated && !ps.Designated) {
				*ps = rules.Screen{Score: h.Score, Designated: h.Designated, Programs: h.Programs, List: h.List, Name: h.ListedName}
			}
		}
	}
	p.screened = true
}

func (s *Scorer) reportError(err error) {
	if s.OnError != nil {
		s.OnError(err)
	}
}

func party(e *ingest.Event, side string) *ingest.Party {
	if side == "to" {
		return e.To
	}
	return e.From
}

func (s *Scorer) fillEnv(env *rules.Env, e *ingest.Event, base int64, profiles bool) {
	env.ID, env.Kind, env.Currency, env.Channel = e.ID, e.Kind, e.Currency, e.Channel
	env.Purpose, env.Memo, env.Attrs = e.Purpose, e.Memo, e.Attrs
	env.Amount = e.Amount.Float64()
	env.AmountBase = float64(base) / 100
	env.Base = s.fx.Base
	env.FX = s.fx.Rates()
	env.Hour, env.Weekday = e.Time.Hour(), int(e.Time.Weekday())
	env.Time = e.Time
	if e.Location != nil {
		env.Location = rules.Location{Country: e.Location.Country, Region: e.Location.Region, City: e.Location.City}
	}
	var ps Profiles
	if profiles {
		ps = s.profiles
	}
	fillParty(&env.From, e.From, ps, e.Time)
	fillParty(&env.To, e.To, ps, e.Time)
	own := ownOf(e)
	env.From.Own, env.To.Own = own.From, own.To
}

// ownOf says which parties are the bank's own customers: those with a
// customer id, or both when neither has one (data sets without customer
// ids, AMLworld and AMLSim, so that rules using own stay portable).
func ownOf(e *ingest.Event) rules.Own {
	to := e.To != nil && e.To.CustomerID != ""
	from := e.From != nil && e.From.CustomerID != ""
	if !to && !from {
		return rules.Own{To: true, From: true}
	}
	return rules.Own{To: to, From: from}
}

func fillParty(rp *rules.Party, p *ingest.Party, profiles Profiles, at time.Time) {
	if p == nil {
		return
	}
	*rp = rules.Party{Account: p.Account, CustomerID: p.CustomerID, Name: p.Name, Type: p.Type, Country: p.Country, Bank: p.Bank, Wallet: p.Wallet, Industry: p.Industry}
	if profiles != nil && p.CustomerID != "" {
		if pr, ok := profiles.Profile(p.CustomerID); ok {
			rp.Profile = pr
			if !pr.Opened.IsZero() && at.After(pr.Opened) {
				rp.Profile.AgeDays = at.Sub(pr.Opened).Hours() / 24
			}
		}
	}
}

// evaluate runs the rules for each party with an account and appends the
// findings whose typologies reached their thresholds.
func (s *Scorer) evaluate(ev *rules.Evaluator, a *arena, set *rules.Set, lay *layout, p *prepared, lists string, out []Finding) []Finding {
	e := p.item.Event
	for si, sd := range sides {
		if pt := party(e, sd); pt == nil || pt.Account == "" || !p.plan.canFire[si] {
			continue
		}
		env := &p.env
		env.Subject = sd
		// The values are copied out of F by the rules that read them, so
		// one buffer serves every event of the worker.
		if cap(a.f) < len(set.Features) {
			a.f = make([]float64, len(set.Features))
		}
		env.F = a.f[:len(set.Features)]
		clear(env.F)
		for k := p.split[si]; k < p.split[si+1]; k++ {
			u, gi := &p.ups[k], p.gidx[k]
			for j, fi := range lay.slot[gi] {
				v := float64(u.Out[j])
				if set.Features[fi].Scaled {
					v /= 100
				}
				env.F[fi] = v
			}
		}
		hits, errs := ev.Eval(env, nil)
		for _, err := range errs {
			s.reportError(err)
		}
		if len(hits) == 0 {
			continue
		}
		if s.OnHit != nil {
			for _, h := range hits {
				s.OnHit(h.Rule.ID, h.Rule.Shadow)
			}
		}
		ts := set.Score(hits)
		if len(ts) == 0 {
			continue
		}
		if s.screener != nil && !p.screened {
			s.screen(p)
		}
		f := Finding{Event: e, Pos: p.item.Pos, Side: sd, Subject: party(e, sd), Typologies: ts, Hits: hits,
			Screening: p.screens, Ruleset: set.Hash, Lists: lists, FX: s.fx.Version}
		for _, h := range hits {
			if h.Rule.Graph {
				f.Evidence = appendNew(f.Evidence, p.graphTx, e.ID)
				break
			}
		}
		out = append(out, f)
	}
	return out
}

// Layout returns the window groups of the rule set in force (tests and
// tools read windows with them).
func (s *Scorer) Layout() []*window.Group { return s.layoutOf(s.rules.Current()).groups }

// maxScaled bounds a feature value in hundredths: sums of a window's
// values stay far from overflowing int64.
const maxScaled = 1e15

// MaxEvidence bounds the transactions listed per finding.
const MaxEvidence = 100

// evidenceItems records, per account (and per customer for customer
// features), the features each event of the batch counted in, and the
// event's place in preps.
func (s *Scorer) evidenceItems(sc *scratch, set *rules.Set, lay *layout, preps []*prepared) ([]evidence.Item, []int) {
	items, at := slices.Grow(sc.items[:0], 2*len(preps)), sc.itemAt[:0]
	words := (len(set.Features) + 63) / 64
	for pi, p := range preps {
		e := p.item.Event
		for si, sd := range sides {
			pt := party(e, sd)
			if pt == nil || pt.Account == "" {
				continue
			}
			for k, id := range [2]string{pt.Account, pt.CustomerID} {
				if id == "" {
					continue
				}
				var mask []uint64
				for _, i := range lay.evidence[k][si] {
					if lay.counts(p.plan, p.pass, si, i) {
						if mask == nil {
							mask = make([]uint64, words)
						}
						mask[i/64] |= 1 << (uint(i) % 64)
					}
				}
				if mask == nil {
					continue
				}
				if k == 1 {
					id = "c:" + id
				}
				items = append(items, evidence.Item{Key: id, Entry: evidence.Entry{TxID: e.ID, Time: e.Time.UnixMilli(), Mask: mask}})
				at = append(at, pi)
			}
		}
	}
	sc.items, sc.itemAt = items, at
	return items, at
}

// addEvidence fills each finding's Evidence from the subject's recent
// transactions that counted in the features its rules read: those of the
// stream up to the finding's event (evidence.View), so that an alert lists
// the same transactions wherever the batches were cut. items and itemAt are
// the batch's evidence and their events' places, findingAt the findings'.
func (s *Scorer) addEvidence(ctx context.Context, set *rules.Set, findings []Finding, findingAt []int, items []evidence.Item, itemAt []int) error {
	var keys []string
	idx := map[string]int{}
	key := func(k string) {
		if _, ok := idx[k]; !ok {
			idx[k] = len(keys)
			keys = append(keys, k)
		}
	}
	for i := range findings {
		key(findings[i].Subject.Account)
		if c := findings[i].Subject.CustomerID; c != "" {
			key("c:" + c)
		}
	}
	recent, err := s.Evidence.Recent(ctx, keys)
	if err != nil {
		return err
	}
	// The batch's items of each finding's key, so that a finding looks at
	// its key's items only.
	keyItems := make([][]int, len(keys))
	for n, it := range items {
		if j, ok := idx[it.Key]; ok {
			keyItems[j] = append(keyItems[j], n)
		}
	}
	for i := range findings {
		f := &findings[i]
		var feats []int
		var wins []time.Duration
		for _, h := range f.Hits {
			for _, fi := range h.Rule.Reads {
				if !slices.Contains(feats, fi) {
					feats = append(feats, fi)
					wins = append(wins, set.Features[fi].Window)
				}
			}
		}
		if len(feats) == 0 {
			continue
		}
		t := f.Event.Time.UnixMilli()
		for _, k := range []string{f.Subject.Account, "c:" + f.Subject.CustomerID} {
			j, ok := idx[k]
			if !ok {
				continue
			}
			// The batch's entries of this key from this event on.
			later := map[string]bool{}
			for _, n := range keyItems[j] {
				if itemAt[n] >= findingAt[i] {
					later[items[n].Entry.TxID] = true
				}
			}
			view := evidence.View(recent[j], later, s.Evidence.Keep())
			f.Evidence = appendNew(f.Evidence, evidence.Select(view, feats, wins, t, f.Event.ID, MaxEvidence), f.Event.ID)
		}
	}
	return nil
}

// appendNew appends the ids not in list (nor equal to skip), up to MaxEvidence.
func appendNew(list, ids []string, skip string) []string {
	for _, id := range ids {
		if len(list) >= MaxEvidence {
			break
		}
		if id != skip && !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

// graphKinds are the transfers between two accounts that the graph follows:
// card settlements and cash are not money moving between customers.
var graphKinds = map[string]bool{"wire": true, "eft": true, "ach": true, "p2p": true, "cheque": true, "crypto_transfer": true, "other": true}

// observeGraph adds the batch's transfers to the graph, in order, and puts
// each one's signals in its rule environment.
func (s *Scorer) observeGraph(ctx context.Context, preps []*prepared) error {
	var edges []graph.Edge
	var owners []*prepared
	for _, p := range preps {
		e := p.item.Event
		if !graphKinds[e.Kind] || e.From == nil || e.To == nil || e.From.Account == "" || e.To.Account == "" || e.From.Account == e.To.Account {
			continue
		}
		edges = append(edges, graph.Edge{TxID: e.ID, From: e.From.Account, To: e.To.Account, Amount: p.base, Time: e.Time.UnixMilli()})
		owners = append(owners, p)
	}
	if len(edges) == 0 {
		return nil
	}
	sigs, err := s.Graph.Observe(ctx, edges)
	if err != nil {
		return err
	}
	for i, g := range sigs {
		p := owners[i]
		p.env.Graph = rules.Graph{FanIn: g.FanIn, FanOut: g.FanOut, CycleHops: g.CycleHops, CycleMinRatio: g.CycleMinRatio,
			ChainHops: g.ChainHops, ScatterGather: g.ScatterGather, GatherScatter: g.GatherScatter,
			GatherScatterIn: g.GatherScatterIn, GatherScatterOut: g.GatherScatterOut, Bipartite: g.Bipartite, StackDepth: g.StackDepth}
		p.graphTx = append(append(p.graphTx, g.CycleTx...), g.Tx...)
	}
	return nil
}
