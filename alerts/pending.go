package alerts

import (
	"context"
	"encoding/json"
	"sync"
)

// Pending is a State in front of another that also holds the batches
// raised but not yet saved, so that the next batch can be raised while
// earlier batches' alerts are still on their way to the sinks: with a
// replicated alerts topic a write waits milliseconds for its
// acknowledgement, and holding the raising lock through it made every
// other batch with alerts wait too.
//
// Stage records a raised batch and returns its Flight; Land saves it to
// the State behind and drops it. A flight must land after the flights it
// depends on (Flight.Deps: those staged before it that hold one of the
// open pointers or alerts its Raise read), so that versions of one alert
// reach the sinks and the state in order; flights that share nothing go
// at once.
type Pending struct {
	under State

	mu      sync.Mutex
	seq     uint64
	opens   map[string]pendingOpen
	alerts  map[string]pendingAlert // JSON: a Raise merges into its own copy
	flights map[uint64]*Flight
}

type pendingOpen struct {
	o   Open
	seq uint64
}

type pendingAlert struct {
	json []byte
	seq  uint64
}

// Flight is a staged batch on its way to the sinks and the state.
type Flight struct {
	Batch *Batch
	seq   uint64
	deps  []*Flight
	done  chan struct{}
}

// Deps are the flights that must land before this one is written.
func (f *Flight) Deps() []*Flight { return f.deps }

// Done is closed when the flight has landed.
func (f *Flight) Done() <-chan struct{} { return f.done }

// NewPending returns a Pending in front of under.
func NewPending(under State) *Pending {
	return &Pending{under: under, opens: map[string]pendingOpen{}, alerts: map[string]pendingAlert{}, flights: map[uint64]*Flight{}}
}

// Opens reads the pending pointers, then the State behind for the others.
func (p *Pending) Opens(ctx context.Context, keys []string) ([]*Open, error) {
	return readThrough(ctx, p, keys, func(k string) (*Open, bool, error) {
		po, ok := p.opens[k]
		return &po.o, ok, nil
	}, p.under.Opens)
}

// Alerts reads the pending alerts (each caller its own copy), then the
// State behind for the others.
func (p *Pending) Alerts(ctx context.Context, ids []string) ([]*Alert, error) {
	return readThrough(ctx, p, ids, func(id string) (*Alert, bool, error) {
		pa, ok := p.alerts[id]
		if !ok {
			return nil, false, nil
		}
		var a Alert
		return &a, true, json.Unmarshal(pa.json, &a)
	}, p.under.Alerts)
}

// readThrough looks each key up in p (pending, under p.mu) and reads the
// ones not there from the State behind, in one call.
func readThrough[T any](ctx context.Context, p *Pending, keys []string, pending func(string) (*T, bool, error),
	under func(context.Context, []string) ([]*T, error)) ([]*T, error) {
	out := make([]*T, len(keys))
	var rest []string
	var at []int
	p.mu.Lock()
	for i, k := range keys {
		v, ok, err := pending(k)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if ok {
			out[i] = v
		} else {
			rest, at = append(rest, k), append(at, i)
		}
	}
	p.mu.Unlock()
	if len(rest) > 0 {
		got, err := under(ctx, rest)
		if err != nil {
			return nil, err
		}
		for j, v := range got {
			out[at[j]] = v
		}
	}
	return out, nil
}

// Save writes through to the State behind (Manager.Commit, when batches
// are not staged).
func (p *Pending) Save(ctx context.Context, opens map[string]Open, alerts []*Alert) error {
	return p.under.Save(ctx, opens, alerts)
}

// Stage records b as pending: Raises from now on read its state. It
// returns b's flight, which depends on the flights staged before it that
// hold a pointer or an alert b's Raise read or writes. Stage batches in
// the order they were raised, under the same lock as Raise.
func (p *Pending) Stage(b *Batch) (*Flight, error) {
	js := make([][]byte, len(b.dirty))
	for i, a := range b.dirty {
		j, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		js[i] = j
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	f := &Flight{Batch: b, seq: p.seq, done: make(chan struct{})}
	deps := map[uint64]bool{}
	dep := func(seq uint64) {
		if d := p.flights[seq]; d != nil && !deps[seq] {
			deps[seq] = true
			f.deps = append(f.deps, d)
		}
	}
	for _, k := range b.keys {
		if po, ok := p.opens[k]; ok {
			dep(po.seq)
		}
	}
	for _, id := range b.ids {
		if pa, ok := p.alerts[id]; ok {
			dep(pa.seq)
		}
	}
	// b.opens's keys are among b.keys, seen above; a new alert's id may
	// not be among b.ids.
	for k, o := range b.opens {
		p.opens[k] = pendingOpen{o, f.seq}
	}
	for i, a := range b.dirty {
		if pa, ok := p.alerts[a.ID]; ok {
			dep(pa.seq)
		}
		p.alerts[a.ID] = pendingAlert{js[i], f.seq}
	}
	p.flights[f.seq] = f
	return f, nil
}

// Land saves f's state to the State behind, drops what no later flight
// has overwritten, and closes f.Done. Call it once f's alerts are in every
// sink and its dependencies have landed; on error, call it again.
func (p *Pending) Land(ctx context.Context, f *Flight) error {
	if len(f.Batch.opens) > 0 || len(f.Batch.dirty) > 0 {
		if err := p.under.Save(ctx, f.Batch.opens, f.Batch.dirty); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range f.Batch.opens {
		if p.opens[k].seq == f.seq {
			delete(p.opens, k)
		}
	}
	for _, a := range f.Batch.dirty {
		if p.alerts[a.ID].seq == f.seq {
			delete(p.alerts, a.ID)
		}
	}
	delete(p.flights, f.seq)
	close(f.done)
	return nil
}

// Len is how many flights are staged and not landed.
func (p *Pending) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.flights)
}
