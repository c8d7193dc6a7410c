package graph

import (
	"context"
	"slices"
	"sort"
	"sync"
)

// sweepEvery is how many new edges pass between two sweeps of idle accounts.
const sweepEvery = 8192

// Memory is the in-process Store, for demo, replay and tests. It gives the
// same Signals as Redis on the same input. Safe for concurrent use; batches
// are serialised.
type Memory struct {
	mu       sync.Mutex
	cfg      Config
	accounts map[string]*adjacency
	records  map[string]memRecord
	newest   int64 // newest event time observed
	since    int   // new edges since the last sweep
	last     stats
}

type memRecord struct {
	time int64
	sig  Signals
}

// NewMemory returns an empty store. cfg is validated; NewMemory panics on
// an invalid one (validate it first to get the error).
func NewMemory(cfg Config) *Memory {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Memory{cfg: cfg, accounts: map[string]*adjacency{}, records: map[string]memRecord{}}
}

// Observe implements Store.
func (m *Memory) Observe(ctx context.Context, edges []Edge) ([]Signals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out, st, err := observe(ctx, &m.cfg, (*memBackend)(m), edges)
	m.last = st
	return out, err
}

type memBackend Memory

func (m *memBackend) read(_ context.Context, txs, accounts []string, lo int64) (map[string]Signals, map[string]*adjacency, error) {
	recs := map[string]Signals{}
	for _, tx := range txs {
		if r, ok := m.records[tx]; ok {
			recs[tx] = r.sig.clone()
		}
	}
	adj := make(map[string]*adjacency, len(accounts))
	for _, a := range accounts {
		x := m.accounts[a]
		if x == nil {
			continue
		}
		// Shared slices: the engine only reads them, and writes come after.
		adj[a] = &adjacency{in: since(x.in, lo), out: since(x.out, lo)}
	}
	return recs, adj, nil
}

func since(l []half, lo int64) []half {
	return l[sort.Search(len(l), func(i int) bool { return l[i].Time >= lo }):]
}

func (m *memBackend) write(_ context.Context, w *writeSet) error {
	n := m.cfg.MaxEdgesPerAccount
	for _, lw := range w.lists {
		x := m.accounts[lw.account]
		if x == nil {
			x = &adjacency{}
			m.accounts[lw.account] = x
		}
		l := &x.out
		if lw.in {
			l = &x.in
		}
		// Copy on write: the slice may still back a view of this batch.
		v := make([]half, 0, len(*l)+len(lw.add))
		v = append(v, *l...)
		v = append(v, lw.add...)
		slices.SortFunc(v, cmpHalf)
		v = slices.CompactFunc(v, func(a, b half) bool { return a.member == b.member })
		v = v[sort.Search(len(v), func(i int) bool { return v[i].Time >= lw.cutoff }):]
		if len(v) > n {
			v = v[len(v)-n:]
		}
		*l = slices.Clip(v)
	}
	for _, r := range w.records {
		if _, ok := m.records[r.tx]; !ok {
			m.records[r.tx] = memRecord{time: r.time, sig: r.sig}
		}
	}
	m.newest = max(m.newest, w.newest)
	m.since += len(w.records)
	if m.since >= sweepEvery {
		m.since = 0
		m.sweep()
	}
	return nil
}

// sweep forgets accounts and records older than the newest event time minus
// Window+Retain. Only an edge later than Retain behind the newest event
// could have used them; Redis forgets the same state by TTL instead.
func (m *memBackend) sweep() {
	cut := m.newest - (m.cfg.Window + m.cfg.Retain).Milliseconds()
	for a, x := range m.accounts {
		newest := int64(-1 << 63)
		if len(x.in) > 0 {
			newest = x.in[len(x.in)-1].Time
		}
		if len(x.out) > 0 {
			newest = max(newest, x.out[len(x.out)-1].Time)
		}
		if newest < cut {
			delete(m.accounts, a)
		}
	}
	for tx, r := range m.records {
		if r.time < cut {
			delete(m.records, tx)
		}
	}
}
