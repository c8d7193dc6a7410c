package graph

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/sluice-aml/sluice/internal/par"
)

// adjacency is what a backend returns for one account: its kept edges of
// event time >= the batch's lower bound, oldest first.
type adjacency struct{ in, out []half }

// backend is the storage under the shared engine. Both stores run the same
// engine, which is what makes their Signals identical.
type backend interface {
	// read returns the records of the tx ids that have one, and the
	// adjacency of every account (empty when unknown), edges of time >= lo.
	read(ctx context.Context, txs, accounts []string, lo int64) (map[string]Signals, map[string]*adjacency, error)
	write(ctx context.Context, w *writeSet) error
}

// listWrite adds edges to one account's list in one direction, then drops
// edges older than cutoff and keeps the newest MaxEdgesPerAccount.
type listWrite struct {
	account string
	in      bool
	add     []half
	cutoff  int64
}

type recordWrite struct {
	tx   string
	time int64
	sig  Signals
}

type writeSet struct {
	lists   []listWrite
	records []recordWrite
	newest  int64 // newest event time of the batch's new edges
}

// stats counts the work of one Observe, for tests of the bounds.
type stats struct {
	rounds   int // read round trips
	accounts int // accounts read
	states   int // search states created
	scanned  int // edges looked at
}

type dirKey struct {
	account string
	in      bool
}

type viewKey struct {
	dirKey
	k int
}

type sizedView struct {
	k int
	v []half
}

type overlayEdge struct {
	idx int
	h   half
}

type batch struct {
	cfg     *Config
	edges   []Edge
	loaded  map[string]*adjacency
	overlay map[dirKey][]overlayEdge
	lo      int64
	st      stats
	vcs     []*viewCache // per worker, kept from level to level
}

// viewCache memoizes views. Each worker of a level has its own: a view
// depends only on its list and edge, so workers that build the same one
// get the same.
type viewCache struct {
	cache  map[viewKey][]half
	latest map[dirKey]sizedView // the view with the largest k computed per list
	// seen is the scratch set of the worker's searches: a peer is in it
	// when its value is mark.
	seen map[string]uint32
	mark uint32
}

// viewCaches keeps view caches from batch to batch: their maps grow to a
// batch's size once, not in every batch.
var viewCaches = sync.Pool{New: func() any {
	return &viewCache{cache: map[viewKey][]half{}, latest: map[dirKey]sizedView{}, seen: map[string]uint32{}}
}}

func newViewCache() *viewCache {
	vc := viewCaches.Get().(*viewCache)
	clear(vc.cache)
	clear(vc.latest)
	if len(vc.seen) > 1<<16 {
		// Marks make old entries harmless, but they would pile up.
		clear(vc.seen)
	}
	return vc
}

// next starts a new scratch set.
func (vc *viewCache) next() uint32 {
	vc.mark++
	if vc.mark == 0 {
		clear(vc.seen)
		vc.mark = 1
	}
	return vc.mark
}

// observe is the whole Observe of both stores.
func observe(ctx context.Context, cfg *Config, be backend, edges []Edge) ([]Signals, stats, error) {
	if len(edges) == 0 {
		return nil, stats{}, nil
	}
	if err := checkEdges(edges); err != nil {
		return nil, stats{}, err
	}
	w := cfg.Window.Milliseconds()
	b := &batch{cfg: cfg, edges: edges, loaded: map[string]*adjacency{}, overlay: map[dirKey][]overlayEdge{}}
	b.lo = edges[0].Time
	var txs, accounts []string
	seenTx, seenAcct := map[string]bool{}, map[string]bool{}
	for _, e := range edges {
		b.lo = min(b.lo, e.Time)
		if !seenTx[e.TxID] {
			seenTx[e.TxID] = true
			txs = append(txs, e.TxID)
		}
		for _, a := range []string{e.From, e.To} {
			if !seenAcct[a] {
				seenAcct[a] = true
				accounts = append(accounts, a)
			}
		}
	}
	b.lo -= w
	recs, adj, err := be.read(ctx, txs, accounts, b.lo)
	if err != nil {
		return nil, stats{}, err
	}
	b.addLoaded(accounts, adj)

	out := make([]Signals, len(edges))
	first := map[string]int{}
	var searches []*search
	for i, e := range edges {
		if _, ok := recs[e.TxID]; ok {
			continue
		}
		if _, ok := first[e.TxID]; ok {
			continue
		}
		first[e.TxID] = i
		s := &search{b: b, i: i, e: e, from: e.Time - w}
		searches = append(searches, s)
		kf, kt := dirKey{e.From, false}, dirKey{e.To, true}
		b.overlay[kf] = append(b.overlay[kf], overlayEdge{i, newHalf(e.To, e.Amount, e.Time, e.TxID)})
		b.overlay[kt] = append(b.overlay[kt], overlayEdge{i, newHalf(e.From, e.Amount, e.Time, e.TxID)})
	}

	// Level L of every search runs on the accounts read by round L, so a
	// batch costs at most max(2, MaxHops-1) read round trips however many
	// edges it has.
	for level := 1; level <= max(2, cfg.MaxHops-1); level++ {
		if level > 1 {
			var need []string
			seen := map[string]bool{}
			for _, s := range searches {
				for _, a := range s.need(level) {
					if b.loaded[a] == nil && !seen[a] {
						seen[a] = true
						need = append(need, a)
					}
				}
			}
			if len(need) > 0 {
				_, adj, err := be.read(ctx, nil, need, b.lo)
				if err != nil {
					return nil, stats{}, err
				}
				b.addLoaded(need, adj)
			}
		}
		b.step(searches, level)
	}

	ws := &writeSet{}
	for _, s := range searches {
		b.st.scanned += s.st.scanned
		b.st.states += s.st.states
		s.finish()
		out[s.i] = s.sig
		ws.records = append(ws.records, recordWrite{s.e.TxID, s.e.Time, s.sig.clone()})
		ws.newest = max(ws.newest, s.e.Time)
	}
	for i, e := range edges {
		if r, ok := recs[e.TxID]; ok {
			out[i] = r.clone()
			out[i].Replayed = true
		} else if j := first[e.TxID]; j != i {
			out[i] = out[j].clone()
			out[i].Replayed = true
		}
	}
	b.lists(ws)
	if len(ws.lists) > 0 || len(ws.records) > 0 {
		if err := be.write(ctx, ws); err != nil {
			return nil, stats{}, err
		}
	}
	for _, vc := range b.vcs {
		viewCaches.Put(vc)
	}
	return out, b.st, nil
}

// step runs one level of every search. The searches of a level only read
// the batch (the adjacency read so far, the batch's own edges), so they
// are spread over the cores when there are enough of them.
func (b *batch) step(searches []*search, level int) {
	for len(b.vcs) < runtime.GOMAXPROCS(0) {
		b.vcs = append(b.vcs, newViewCache())
	}
	par.Chunks(len(searches), 64, func(w, lo, hi int) {
		for _, s := range searches[lo:hi] {
			s.vc = b.vcs[w]
			s.step(level)
		}
	})
}

func (b *batch) addLoaded(accounts []string, adj map[string]*adjacency) {
	n := b.cfg.MaxEdgesPerAccount
	b.st.rounds++
	for _, a := range accounts {
		b.st.accounts++
		x := adj[a]
		if x == nil {
			x = &adjacency{}
		}
		// A list can exceed the bound only when writers raced; trimming here
		// keeps every reader's view the same.
		if len(x.in) > n {
			x.in = x.in[len(x.in)-n:]
		}
		if len(x.out) > n {
			x.out = x.out[len(x.out)-n:]
		}
		b.loaded[a] = x
	}
}

// lists computes the list writes of the batch's new edges: each list gets
// its adds, loses what is older than its newest edge minus Window+Retain,
// and is trimmed to the newest MaxEdgesPerAccount.
func (b *batch) lists(ws *writeSet) {
	keep := (b.cfg.Window + b.cfg.Retain).Milliseconds()
	var order []dirKey
	for k := range b.overlay {
		order = append(order, k)
	}
	// Deterministic order: by the first edge that touched the list.
	sort.Slice(order, func(i, j int) bool {
		a, c := b.overlay[order[i]][0].idx, b.overlay[order[j]][0].idx
		if a != c {
			return a < c
		}
		return !order[i].in && order[j].in
	})
	for _, k := range order {
		ov := b.overlay[k]
		lw := listWrite{account: k.account, in: k.in}
		newest := int64(-1 << 63)
		if x := b.loaded[k.account]; x != nil {
			l := x.out
			if k.in {
				l = x.in
			}
			if len(l) > 0 {
				newest = l[len(l)-1].Time
			}
		}
		for _, o := range ov {
			lw.add = append(lw.add, o.h)
			newest = max(newest, o.h.Time)
		}
		lw.cutoff = newest - keep
		ws.lists = append(ws.lists, lw)
	}
}

// view is the list of an account in one direction as edge i sees it: the
// stored edges plus the batch's new edges before i, newest MaxEdgesPerAccount.
func (b *batch) view(vc *viewCache, account string, in bool, i int) []half {
	x := b.loaded[account]
	if x == nil {
		return nil // not read: cut by the frontier bound
	}
	stored := x.out
	if in {
		stored = x.in
	}
	dk := dirKey{account, in}
	ov := b.overlay[dk]
	k := sort.Search(len(ov), func(j int) bool { return ov[j].idx >= i })
	if k == 0 {
		return stored
	}
	vk := viewKey{dk, k}
	if v, ok := vc.cache[vk]; ok {
		return v
	}
	// Start from the latest smaller view of the list when there is one: the
	// newest N of a union can be built one edge at a time.
	base, from := stored, 0
	if l, ok := vc.latest[dk]; ok && l.k < k {
		base, from = l.v, l.k
	}
	n := b.cfg.MaxEdgesPerAccount
	v := make([]half, len(base), len(base)+k-from)
	copy(v, base)
	for _, o := range ov[from:k] {
		j, found := slices.BinarySearchFunc(v, o.h, cmpHalf)
		if found {
			continue
		}
		v = slices.Insert(v, j, o.h)
	}
	if len(v) > n {
		v = v[len(v)-n:]
	}
	vc.cache[vk] = v
	if l, ok := vc.latest[dk]; !ok || l.k < k {
		vc.latest[dk] = sizedView{k, v}
	}
	return v
}

// window returns the edges of l with from <= Time <= to.
func window(l []half, from, to int64) []half {
	i := sort.Search(len(l), func(j int) bool { return l[j].Time >= from })
	j := sort.Search(len(l), func(j int) bool { return l[j].Time > to })
	if i >= j {
		return nil
	}
	return l[i:j]
}

func ratio(a, b int64) float64 {
	if a == b {
		return 1
	}
	lo, hi := min(a, b), max(a, b)
	if hi <= 0 {
		return 0
	}
	return float64(lo) / float64(hi)
}
