package alerts

import "sync"

// Pending orders the writes of batches raised but not yet written, so
// that the next batch can be raised while earlier batches' alerts are
// still on their way to the sinks: with a replicated alerts topic a write
// waits milliseconds for its acknowledgement, and holding the raising lock
// through it made every other batch with alerts wait too. Their state is
// already stored (Manager.Raise reserves it), so the next Raise reads it
// from the State as any other.
//
// Stage records a raised batch and returns its Flight; Land marks it
// written. A flight must be written after the flights it depends on
// (Flight.Deps: those staged before it, not landed, that hold one of the
// open pointers or alerts its Raise read or wrote), so that versions of
// one alert reach the sinks in order; flights that share nothing go at
// once.
type Pending struct {
	mu      sync.Mutex
	seq     uint64
	opens   map[string]uint64 // pointer key -> the last flight that claimed it
	alerts  map[string]uint64 // alert id -> the last flight that wrote it
	flights map[uint64]*Flight
}

// Flight is a staged batch on its way to the sinks.
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

// NewPending returns a Pending with no flight.
func NewPending() *Pending {
	return &Pending{opens: map[string]uint64{}, alerts: map[string]uint64{}, flights: map[uint64]*Flight{}}
}

// Stage records b and returns its flight, which depends on the flights
// staged before it, not landed, that hold a pointer or an alert b read or
// writes. Stage batches in the order they were raised, under the same
// lock as Raise.
func (p *Pending) Stage(b *Batch) *Flight {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	f := &Flight{Batch: b, seq: p.seq, done: make(chan struct{})}
	// seq 0 (a key or alert no flight holds) is no flight's: flights count
	// from 1.
	deps := map[uint64]bool{}
	dep := func(seq uint64) {
		if d := p.flights[seq]; d != nil && !deps[seq] {
			deps[seq] = true
			f.deps = append(f.deps, d)
		}
	}
	for _, k := range b.keys {
		dep(p.opens[k])
	}
	for _, ids := range [][]string{b.ids, b.written} {
		for _, id := range ids {
			dep(p.alerts[id])
		}
	}
	for _, c := range b.claims {
		p.opens[c.Key] = f.seq
	}
	for _, id := range b.written {
		p.alerts[id] = f.seq
	}
	p.flights[f.seq] = f
	return f
}

// Land marks f written: call it once f's alerts are in every sink and its
// dependencies have landed. It drops what no later flight holds and
// closes f.Done.
func (p *Pending) Land(f *Flight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range f.Batch.claims {
		if p.opens[c.Key] == f.seq {
			delete(p.opens, c.Key)
		}
	}
	for _, id := range f.Batch.written {
		if p.alerts[id] == f.seq {
			delete(p.alerts, id)
		}
	}
	delete(p.flights, f.seq)
	close(f.done)
}

// Len is how many flights are staged and not landed.
func (p *Pending) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.flights)
}
