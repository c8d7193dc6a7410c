package window

import (
	"slices"
	"strings"
)

// entry is the state of one key of one group. It is the one implementation
// of the semantics (see the package doc): the memory store keeps entries for
// ever, the Redis store keeps them in a bounded cache in front of Redis and
// writes what changed.
type entry struct {
	seen   bool
	newest int64 // newest event time of a non-replayed update
	feats  []feature
	days   []txDay // sorted by day
	// lined is the spec feats were last lined up with (lineUp): the same
	// spec again needs no check.
	lined *groupSpec

	// log is what changed since the last write to Redis; nil in the memory
	// store, which has nothing to write.
	log *entryLog
}

// txDay holds the idempotency records of one event day. Out values are kept
// in blocks of at most recBlock values, records one after the other, so
// recording costs no allocation per update, and a busy key's day grows by
// new blocks rather than by copying all it holds. A record is a header
// then its values: dense (header ^n, then the n values) or, when fewer
// than half are non-zero, sparse (header k, then k (index, value) pairs).
// An update of a bank's stream feeds or reads a handful of its group's
// features (Update.Only), and dense records of twenty or forty values,
// mostly zero, were most of what the stream allocated in the store and of
// what its cache held. Most keys see a few
// transactions a day: their records are found by a scan of few, and only
// a busier day gets a map.
type txDay struct {
	day  int64
	few  []txOff
	off  map[string]int32 // tx -> block*recBlock + position, once few is full
	vals [][]int64

	// Redis only: the hash fields holding the day's records, deleted with
	// the day.
	fields []string
}

type txOff struct {
	tx  string
	off int32
}

const (
	recBlock = 1 << 12
	// maxFeatures bounds a group's features so that a record fits in a
	// block.
	maxFeatures = recBlock - 1
	fewTx       = 16
)

// find returns the offset of tx's record.
func (d *txDay) find(tx string) (int32, bool) {
	if d.off != nil {
		off, ok := d.off[tx]
		return off, ok
	}
	for _, r := range d.few {
		if r.tx == tx {
			return r.off, true
		}
	}
	return 0, false
}

// put records vals (at most maxFeatures of them) under tx.
func (d *txDay) put(tx string, vals []int64) {
	off := d.add(vals)
	switch {
	case d.off != nil:
		d.off[tx] = off
	case len(d.few) < fewTx:
		d.few = append(d.few, txOff{tx, off})
	default:
		d.off = make(map[string]int32, 2*fewTx)
		for _, r := range d.few {
			d.off[r.tx] = r.off
		}
		d.off[tx] = off
		d.few = nil
	}
}

// len is the number of records.
func (d *txDay) len() int { return len(d.few) + len(d.off) }

// add records vals (at most maxFeatures of them) and returns their offset.
func (d *txDay) add(vals []int64) int32 {
	nz := 0
	for _, v := range vals {
		if v != 0 {
			nz++
		}
	}
	sparse := 2*nz < len(vals)
	size := 1 + len(vals)
	if sparse {
		size = 1 + 2*nz
	}
	last := len(d.vals) - 1
	if last < 0 || len(d.vals[last])+size > recBlock {
		d.vals = append(d.vals, make([]int64, 0, min(recBlock, 4*size)))
		last++
	}
	off := int32(last*recBlock + len(d.vals[last]))
	blk := d.vals[last]
	if sparse {
		blk = append(blk, int64(nz))
		for i, v := range vals {
			if v != 0 {
				blk = append(blk, int64(i), v)
			}
		}
	} else {
		blk = append(blk, ^int64(len(vals)))
		blk = append(blk, vals...)
	}
	d.vals[last] = blk
	return off
}

// rec fills out with the values recorded at off (as many as out holds).
func (d *txDay) rec(off int32, out []int64) {
	b, p := int(off)/recBlock, int(off)%recBlock
	blk := d.vals[b]
	if h := blk[p]; h < 0 {
		n := copy(out, blk[p+1:p+1+int(^h)])
		clear(out[n:])
		return
	}
	clear(out)
	for k := range int(blk[p]) {
		if i := blk[p+1+2*k]; i < int64(len(out)) {
			out[i] = blk[p+2+2*k]
		}
	}
}

type feature struct {
	id string
	// count, sum, max: bucket index -> value; distinct: score -> members
	// with that score. Sorted by bucket, pruned to the window.
	bk []bucketVal
	d  *distinctSet

	// Redis only: the members changed since the last write (possibly with
	// repeats); their state now says whether to set or delete them.
	dirtyM []string
}

type bucketVal struct{ b, v int64 }

// entryLog is what an entry's field changes are made of, besides the dirty
// buckets and members of its features.
type entryLog struct {
	newest   bool      // newest changed
	agg      bool      // buckets of count, sum or max changed
	recs     []recRef  // records added
	dropped  []txDay   // days whose records left the horizon
	oldFeats []feature // features a changed group no longer has
	orphans  []string  // stored fields no feature of the group owns
}

type recRef struct {
	day int64
	tx  string
	n   int32 // values recorded
}

func (l *entryLog) reset() {
	l.newest = false
	l.agg = false
	clear(l.recs)
	l.recs = l.recs[:0]
	l.dropped = nil
	l.oldFeats = nil
	l.orphans = nil
}

func (e *entry) tracking() bool { return e.log != nil }

// apply applies one update: the steps of the package doc.
func (e *entry) apply(u *Update, s *groupSpec) {
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
			if off, ok := e.days[i].find(u.TxID); ok {
				e.days[i].rec(off, out)
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
		if e.log != nil {
			e.log.newest = true
		}
		cut := floorDiv(u.Time-s.horizon, dayMs)
		k := 0
		for k < len(e.days) && e.days[k].day < cut {
			k++
		}
		if k > 0 {
			if e.log != nil {
				e.log.dropped = append(e.log.dropped, e.days[:k]...)
			}
			e.days = append(e.days[:0], e.days[k:]...)
			di = -1
		}
	}

	e.lineUp(g, s)
	if u.Only == nil {
		for i := range g.Features {
			out[i] = e.applyFeature(g, s, i, &u.Inputs[i], u.Time, beyond)
		}
	} else {
		clear(out)
		for k, i := range u.Only {
			out[i] = e.applyFeature(g, s, int(i), &u.Inputs[k], u.Time, beyond)
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
		e.days[i] = txDay{day: day}
		di = i
	}
	d := &e.days[di]
	tx := u.TxID // kept as given (Update.TxID)
	d.put(tx, out)
	if e.log != nil {
		e.log.recs = append(e.log.recs, recRef{day, tx, int32(nf)})
	}
}

// applyFeature does steps 2-4 of the package doc for feature i and
// returns its Out.
func (e *entry) applyFeature(g *Group, s *groupSpec, i int, in *Input, t int64, beyond bool) int64 {
	apply := in.Apply && !beyond
	if !apply && in.NoRead {
		// Nothing to add and nobody to tell: the feature is left as it is
		// (its old buckets go at its next update).
		return 0
	}
	f := &g.Features[i]
	b := floorDiv(t, s.bucketMs[i])
	fs := &e.feats[i]
	var v int64
	if f.Op == Distinct {
		if fs.d == nil {
			fs.d = &distinctSet{pos: make(map[string]*dmember)}
		}
		var dirty *[]string
		if e.log != nil {
			dirty = &fs.dirtyM
		}
		v = fs.d.apply(&fs.bk, b, s.n[i], in.Member, apply, f.DistinctCap, dirty)
	} else {
		var dirty *bool
		if e.log != nil {
			dirty = &e.log.agg
		}
		v = applyAgg(&fs.bk, f.Op, b, s.n[i], in.Value, apply, dirty)
	}
	if in.NoRead {
		return 0
	}
	return v
}

// lineUp makes e.feats match g.Features by position. Normally a pointer
// comparison per feature; a changed group keeps the state of the features
// it still has (same name, op and bucket).
func (e *entry) lineUp(g *Group, s *groupSpec) {
	if e.lined == s {
		return
	}
	e.lined = s
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
	e.feats = make([]feature, len(g.Features))
	for i := range g.Features {
		e.feats[i].id = s.ids[i]
	}
	for j := range old {
		kept := false
		for i := range e.feats {
			if old[j].id == e.feats[i].id {
				e.feats[i] = old[j]
				kept = true
			}
		}
		if !kept && e.log != nil {
			e.log.oldFeats = append(e.log.oldFeats, old[j])
		}
	}
}

// pruneBuckets drops buckets below lo.
func pruneBuckets(bk []bucketVal, lo int64, dirty *bool) []bucketVal {
	k := 0
	for k < len(bk) && bk[k].b < lo {
		k++
	}
	if k == 0 {
		return bk
	}
	if dirty != nil {
		*dirty = true
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

// applyAgg does steps 2-4 for count, sum and max: prune the buckets older
// than the update's window, apply, aggregate [b-n+1, b].
func applyAgg(bk *[]bucketVal, op Op, b, n, value int64, apply bool, dirty *bool) int64 {
	*bk = pruneBuckets(*bk, b-n+1, dirty)
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
		if dirty != nil {
			*dirty = true
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

// distinctSet is a set of members with their largest bucket seen, evicting
// as a Redis ZSET orders: lowest score first, ties by smallest member
// (bytes), so that the semantics do not depend on the store.
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
// Members added, moved or removed are appended to dirty when it is not nil.
func (d *distinctSet) apply(hist *[]bucketVal, b, n int64, member string, apply bool, limit int, dirty *[]string) int64 {
	lo := b - n + 1
	for len(d.heap) > 0 && d.heap[0].score < lo {
		x := d.pop()
		if dirty != nil {
			*dirty = append(*dirty, x.member)
		}
	}
	*hist = pruneBuckets(*hist, lo, nil)
	if apply {
		if x, ok := d.pos[member]; ok {
			if old := x.score; b > old {
				histAdd(hist, old, -1)
				x.score = b
				d.down(x.i)
				histAdd(hist, b, 1)
				if dirty != nil {
					*dirty = append(*dirty, x.member)
				}
			}
		} else {
			x := &dmember{score: b, member: strings.Clone(member), i: len(d.heap)}
			d.pos[x.member] = x
			d.heap = append(d.heap, x)
			d.up(x.i)
			histAdd(hist, b, 1)
			if dirty != nil {
				*dirty = append(*dirty, x.member)
			}
		}
		for len(d.heap) > limit {
			x := d.pop()
			histAdd(hist, x.score, -1)
			if dirty != nil {
				*dirty = append(*dirty, x.member)
			}
		}
	}
	v := int64(len(d.heap))
	for i := len(*hist) - 1; i >= 0 && (*hist)[i].b > b; i-- {
		v -= (*hist)[i].v
	}
	return v
}

// add puts a member loaded from Redis; init must follow the last add.
func (d *distinctSet) add(member string, score int64) {
	if x, ok := d.pos[member]; ok {
		x.score = max(x.score, score)
		return
	}
	x := &dmember{score: score, member: member}
	d.pos[member] = x
	d.heap = append(d.heap, x)
}

// init orders the heap after adds (a sorted slice is a heap) and returns the
// score histogram.
func (d *distinctSet) init(hist []bucketVal) []bucketVal {
	slices.SortFunc(d.heap, func(a, b *dmember) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
	hist = hist[:0]
	for i, x := range d.heap {
		x.i = i
		if n := len(hist); n > 0 && hist[n-1].b == x.score {
			hist[n-1].v++
		} else {
			hist = append(hist, bucketVal{x.score, 1})
		}
	}
	return hist
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
