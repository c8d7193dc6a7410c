package window

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
)

const memShards = 64

// Memory is the in-process Store, for the demo, replays and tests. Its
// results are identical to Redis's on identical input (see the package doc
// for the exact semantics both keep).
//
// State per key is bounded: buckets older than the window of the key's
// newest update are dropped, distinct members are capped, idempotency
// records older than the group's horizon (largest window + Retain, in event
// time) are dropped. Keys themselves are never forgotten: memory grows with
// the number of distinct keys, which is fine for a replay or a demo but is
// why production uses Redis (whose keys expire).
type Memory struct {
	seed   maphash.Seed
	specs  specCache[*groupSpec]
	shards [memShards]memShard
}

type memShard struct {
	mu sync.Mutex
	m  map[groupKey]*memEntry
}

type groupKey struct{ group, key string }

// memEntry is the state of one key of one group.
type memEntry struct {
	seen   bool
	newest int64 // newest event time of a non-replayed update
	feats  []memFeature
	days   []txDay // sorted by day
}

// txDay holds the idempotency records of one event day; Out values are kept
// in one flat slice so recording costs no allocation per update.
type txDay struct {
	day  int64
	off  map[string]int32
	vals []int64
}

type memFeature struct {
	id string
	// count, sum, max: bucket index -> value; distinct: score -> members
	// with that score. Sorted by bucket, pruned to the window.
	bk []bucketVal
	d  *distinctSet
}

type bucketVal struct{ b, v int64 }

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	m.specs.make = newGroupSpec
	for i := range m.shards {
		m.shards[i].m = make(map[groupKey]*memEntry)
	}
	return m
}

// Apply implements Store. Updates are checked before any is applied.
func (m *Memory) Apply(ctx context.Context, updates []*Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, u := range updates {
		s, err := m.specs.get(u.Group)
		if err != nil {
			return err
		}
		if err := checkUpdate(u, len(s.n)); err != nil {
			return err
		}
	}
	for _, u := range updates {
		s, _ := m.specs.get(u.Group)
		var h maphash.Hash
		h.SetSeed(m.seed)
		h.WriteString(u.Group.Name)
		h.WriteByte(0)
		h.WriteString(u.Key)
		sh := &m.shards[h.Sum64()%memShards]
		sh.mu.Lock()
		e := sh.m[groupKey{u.Group.Name, u.Key}]
		if e == nil {
			e = &memEntry{}
			sh.m[groupKey{strings.Clone(u.Group.Name), strings.Clone(u.Key)}] = e
		}
		e.apply(u, s)
		sh.mu.Unlock()
	}
	return nil
}

// Ping implements Store; memory is always reachable.
func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Close implements Store.
func (m *Memory) Close() error { return nil }

func (e *memEntry) apply(u *Update, s *groupSpec) {
	g := u.Group
	nf := len(g.Features)
	out := u.Out
	if len(out) != nf {
		out = make([]int64, nf)
		u.Out = out
	}
	day := floorDiv(u.Time, dayMs)
	di := -1
	for i := range e.days {
		if e.days[i].day == day {
			di = i
			if off, ok := e.days[i].off[u.TxID]; ok {
				copy(out, e.days[i].vals[off:int(off)+nf])
				u.Replayed = true
				return
			}
			break
		}
	}
	u.Replayed = false

	// An event older than the idempotency horizon of the key's newest event
	// can be neither deduplicated nor usefully counted: it is only read.
	beyond := e.seen && day < floorDiv(e.newest-s.horizon, dayMs)
	if !beyond && (!e.seen || u.Time > e.newest) {
		e.seen, e.newest = true, u.Time
		cut := floorDiv(u.Time-s.horizon, dayMs)
		k := 0
		for k < len(e.days) && e.days[k].day < cut {
			k++
		}
		if k > 0 {
			e.days = append(e.days[:0], e.days[k:]...)
			di = -1
		}
	}

	e.lineUp(g, s)
	for i := range g.Features {
		f := &g.Features[i]
		in := &u.Inputs[i]
		b := floorDiv(u.Time, s.bucketMs[i])
		apply := in.Apply && !beyond
		fs := &e.feats[i]
		if f.Op == Distinct {
			if fs.d == nil {
				fs.d = &distinctSet{pos: make(map[string]*dmember)}
			}
			out[i] = fs.d.apply(&fs.bk, b, s.n[i], in.Member, apply, f.DistinctCap)
		} else {
			out[i] = applyAgg(&fs.bk, f.Op, b, s.n[i], in.Value, apply)
		}
	}
	if beyond {
		return
	}
	if di < 0 {
		for i := range e.days {
			if e.days[i].day == day {
				di = i
				break
			}
		}
	}
	if di < 0 {
		i := len(e.days)
		for i > 0 && e.days[i-1].day > day {
			i--
		}
		e.days = append(e.days, txDay{})
		copy(e.days[i+1:], e.days[i:])
		e.days[i] = txDay{day: day, off: make(map[string]int32)}
		di = i
	}
	d := &e.days[di]
	d.off[strings.Clone(u.TxID)] = int32(len(d.vals))
	d.vals = append(d.vals, out...)
}

// lineUp makes e.feats match g.Features by position. Normally a pointer
// comparison per feature; a changed group keeps the state of the features
// it still has (same name, op and bucket).
func (e *memEntry) lineUp(g *Group, s *groupSpec) {
	if len(e.feats) == len(g.Features) {
		ok := true
		for i := range g.Features {
			if e.feats[i].id != s.ids[i] {
				ok = false
				break
			}
		}
		if ok {
			return
		}
	}
	old := e.feats
	e.feats = make([]memFeature, len(g.Features))
	for i := range g.Features {
		id := s.ids[i]
		e.feats[i].id = id
		for j := range old {
			if old[j].id == id {
				e.feats[i] = old[j]
			}
		}
	}
}

// pruneBuckets drops buckets below lo.
func pruneBuckets(bk []bucketVal, lo int64) []bucketVal {
	k := 0
	for k < len(bk) && bk[k].b < lo {
		k++
	}
	if k == 0 {
		return bk
	}
	return append(bk[:0], bk[k:]...)
}

// bucketAt returns the position of bucket b, inserting it when absent.
func bucketAt(bk *[]bucketVal, b int64) (int, bool) {
	s := *bk
	i := len(s)
	for i > 0 && s[i-1].b > b {
		i--
	}
	if i > 0 && s[i-1].b == b {
		return i - 1, true
	}
	s = append(s, bucketVal{})
	copy(s[i+1:], s[i:])
	s[i] = bucketVal{b: b}
	*bk = s
	return i, false
}

// applyAgg mirrors the Redis script for count, sum and max: prune the buckets
// older than the update's window, apply, aggregate [b-n+1, b].
func applyAgg(bk *[]bucketVal, op Op, b, n, value int64, apply bool) int64 {
	*bk = pruneBuckets(*bk, b-n+1)
	if apply {
		i, found := bucketAt(bk, b)
		p := &(*bk)[i]
		switch op {
		case Count:
			p.v++
		case Sum:
			p.v += value
		case Max:
			if !found || value > p.v {
				p.v = value
			}
		}
	}
	var v int64
	any := false
	for _, x := range *bk {
		if x.b > b {
			break
		}
		if op == Max {
			if !any || x.v > v {
				v = x.v
			}
			any = true
		} else {
			v += x.v
		}
	}
	return v
}

// distinctSet mirrors a Redis ZSET member -> largest bucket seen, with the
// same eviction order: lowest score first, ties by smallest member (bytes).
type distinctSet struct {
	pos  map[string]*dmember
	heap []*dmember // min-heap by (score, member)
}

type dmember struct {
	score  int64
	member string
	i      int // index in heap
}

func (a *dmember) less(b *dmember) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

// apply keeps hist (score -> number of members) beside the heap so that the
// value is a count of the few scores above b instead of a scan of members.
func (d *distinctSet) apply(hist *[]bucketVal, b, n int64, member string, apply bool, limit int) int64 {
	lo := b - n + 1
	for len(d.heap) > 0 && d.heap[0].score < lo {
		d.pop()
	}
	*hist = pruneBuckets(*hist, lo)
	if apply {
		if x, ok := d.pos[member]; ok {
			if old := x.score; b > old {
				histAdd(hist, old, -1)
				x.score = b
				d.down(x.i)
				histAdd(hist, b, 1)
			}
		} else {
			x := &dmember{score: b, member: strings.Clone(member), i: len(d.heap)}
			d.pos[x.member] = x
			d.heap = append(d.heap, x)
			d.up(x.i)
			histAdd(hist, b, 1)
		}
		for len(d.heap) > limit {
			histAdd(hist, d.pop().score, -1)
		}
	}
	v := int64(len(d.heap))
	for i := len(*hist) - 1; i >= 0 && (*hist)[i].b > b; i-- {
		v -= (*hist)[i].v
	}
	return v
}

func histAdd(hist *[]bucketVal, b, delta int64) {
	i, _ := bucketAt(hist, b)
	s := *hist
	s[i].v += delta
	if s[i].v == 0 {
		*hist = append(s[:i], s[i+1:]...)
	}
}

func (d *distinctSet) pop() *dmember {
	top := d.heap[0]
	last := len(d.heap) - 1
	d.swap(0, last)
	d.heap[last] = nil
	d.heap = d.heap[:last]
	delete(d.pos, top.member)
	if last > 0 {
		d.down(0)
	}
	return top
}

func (d *distinctSet) swap(i, j int) {
	d.heap[i], d.heap[j] = d.heap[j], d.heap[i]
	d.heap[i].i = i
	d.heap[j].i = j
}

func (d *distinctSet) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !d.heap[i].less(d.heap[p]) {
			return
		}
		d.swap(i, p)
		i = p
	}
}

func (d *distinctSet) down(i int) {
	n := len(d.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && d.heap[r].less(d.heap[l]) {
			m = r
		}
		if !d.heap[m].less(d.heap[i]) {
			return
		}
		d.swap(i, m)
		i = m
	}
}
