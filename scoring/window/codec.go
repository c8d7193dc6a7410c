package window

import (
	"iter"
	"slices"
	"strconv"
	"strings"
)

// Fields of a (group, key) hash, feature id being featureID (self-delimiting):
//
//	v                      version: a random token, new at every write
//	a                      newest event time, then the buckets of the count,
//	                       sum and max features: "<newest>;<id><b>=<v>,<+db>=<v>...;..."
//	                       (bucket deltas after the first), rewritten whole
//	                       when any changes: one field per write instead of
//	                       one per bucket is what makes a write cheap
//	d<feature id><member>  largest bucket a distinct member was seen in
//	T<day>:<version>       the idempotency records of one day added by the
//	                       write of that version, one after the other:
//	                       "<len(txid)>:<txid><v1,v2,...>;" (Out). One field
//	                       per write and day rather than one per record:
//	                       a script's cost in Redis goes mostly by its
//	                       arguments, and records were most of them
//	t<day>:<txid>          idempotency record: Out as "v1,v2,..." (written
//	                       before T fields; still read, and deleted with
//	                       their day)

// changed reports whether e has anything to write.
func (e *entry) changed() bool {
	l := e.log
	if l.newest || l.agg || len(l.recs) > 0 || len(l.dropped) > 0 || len(l.oldFeats) > 0 || len(l.orphans) > 0 {
		return true
	}
	for i := range e.feats {
		if len(e.feats[i].dirtyM) > 0 {
			return true
		}
	}
	return false
}

// clean forgets the changes once written.
func (e *entry) clean() {
	for i := range e.feats {
		fs := &e.feats[i]
		clear(fs.dirtyM)
		fs.dirtyM = fs.dirtyM[:0]
	}
	e.log.reset()
}

func (st *applyState) mark(from int) {
	st.marks = append(st.marks, from, len(st.buf))
}

func (st *applyState) field(kind byte, id string) int {
	from := len(st.buf)
	st.buf = append(st.buf, kind)
	st.buf = append(st.buf, id...)
	return from
}

func (st *applyState) setInt(from int, v int64) {
	st.mark(from)
	from = len(st.buf)
	st.buf = strconv.AppendInt(st.buf, v, 10)
	st.mark(from)
}

// recs encodes the records l.recs added on day into one T field named for
// the write's version, buf[v0:v1]. The day keeps the field's name, to
// delete it with the day.
func (st *applyState) recs(e *entry, day int64, v0, v1 int) {
	d := e.day(day)
	if d == nil {
		return // left the horizon in the same batch: deleted below
	}
	from := len(st.buf)
	st.buf = append(st.buf, 'T')
	st.buf = strconv.AppendInt(st.buf, day, 10)
	st.buf = append(st.buf, ':')
	st.buf = append(st.buf, st.buf[v0:v1]...)
	name := len(st.buf)
	n := 0
	for _, r := range e.log.recs {
		if r.day != day {
			continue
		}
		off, ok := d.find(r.tx)
		if !ok {
			continue
		}
		n++
		st.buf = strconv.AppendInt(st.buf, int64(len(r.tx)), 10)
		st.buf = append(st.buf, ':')
		st.buf = append(st.buf, r.tx...)
		st.rec = slices.Grow(st.rec[:0], int(r.n))[:r.n]
		d.rec(off, st.rec)
		for j, v := range st.rec {
			if j > 0 {
				st.buf = append(st.buf, ',')
			}
			st.buf = strconv.AppendInt(st.buf, v, 10)
		}
		st.buf = append(st.buf, ';')
	}
	if n == 0 {
		st.buf = st.buf[:from]
		return
	}
	st.marks = append(st.marks, from, name, name, len(st.buf))
	d.fields = append(d.fields, string(st.buf[from:name]))
}

// encode appends w's new version, then the fields to set with their
// values, then the fields to delete.
func (st *applyState) encode(w *write) {
	e := &w.ce.e
	l := e.log
	v0 := len(st.buf)
	st.buf = appendVersion(st.buf)
	v1 := len(st.buf)
	st.mark(v0)
	n0 := len(st.marks)

	if l.newest || l.agg || len(l.oldFeats) > 0 {
		st.mark(st.field('a', ""))
		from := len(st.buf)
		st.buf = appendAgg(st.buf, e)
		st.mark(from)
	}
	for i := range e.feats {
		fs := &e.feats[i]
		slices.Sort(fs.dirtyM)
		fs.dirtyM = slices.Compact(fs.dirtyM)
		for _, m := range fs.dirtyM {
			if x, ok := fs.d.pos[m]; ok {
				f := st.field('d', fs.id)
				st.buf = append(st.buf, m...)
				st.setInt(f, x.score)
			}
		}
	}
	st.days = st.days[:0]
	for _, r := range l.recs {
		if !slices.Contains(st.days, r.day) { // a write's records span few days
			st.days = append(st.days, r.day)
			st.recs(e, r.day, v0, v1)
		}
	}
	w.nset = (len(st.marks) - n0) / 2

	n0 = len(st.marks)
	for i := range e.feats {
		fs := &e.feats[i]
		for _, m := range fs.dirtyM {
			if _, ok := fs.d.pos[m]; !ok {
				f := st.field('d', fs.id)
				st.buf = append(st.buf, m...)
				st.mark(f)
			}
		}
	}
	for _, d := range l.dropped {
		for _, f := range d.fields {
			from := len(st.buf)
			st.buf = append(st.buf, f...)
			st.mark(from)
		}
	}
	for i := range l.oldFeats {
		fs := &l.oldFeats[i]
		if fs.d == nil {
			continue // its buckets were in a, rewritten without it
		}
		for m := range fs.d.pos {
			f := st.field('d', fs.id)
			st.buf = append(st.buf, m...)
			st.mark(f)
		}
		for _, m := range fs.dirtyM {
			f := st.field('d', fs.id)
			st.buf = append(st.buf, m...)
			st.mark(f)
		}
	}
	for _, f := range l.orphans {
		from := len(st.buf)
		st.buf = append(st.buf, f...)
		st.mark(from)
	}
	w.ndel = (len(st.marks) - n0) / 2
}

// appendAgg encodes the a field.
func appendAgg(buf []byte, e *entry) []byte {
	if e.seen {
		buf = strconv.AppendInt(buf, e.newest, 10)
	}
	for i := range e.feats {
		fs := &e.feats[i]
		if fs.d != nil || len(fs.bk) == 0 {
			continue
		}
		buf = append(buf, ';')
		buf = append(buf, fs.id...)
		for j, x := range fs.bk {
			if j == 0 {
				buf = strconv.AppendInt(buf, x.b, 10)
			} else {
				buf = append(buf, ',')
				buf = strconv.AppendInt(buf, x.b-fs.bk[j-1].b, 10)
			}
			buf = append(buf, '=')
			buf = strconv.AppendInt(buf, x.v, 10)
		}
	}
	return buf
}

// decodeAgg reads the a field; it reports false when some of it is
// unreadable or belongs to features the group no longer has, so that the
// next write rewrites it.
func decodeAgg(e *entry, s *redisSpec, v string) bool {
	ok := true
	head, rest, _ := strings.Cut(v, ";")
	if head != "" {
		t, err := strconv.ParseInt(head, 10, 64)
		if err != nil {
			return false
		}
		e.seen, e.newest = true, t
	}
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ";")
		id, bs, good := splitID(part)
		i, known := s.byID[id]
		if !good || !known || s.distinct[i] {
			ok = false
			continue
		}
		fs := &e.feats[i]
		var prev int64
		for j := 0; bs != ""; j++ {
			var x string
			x, bs, _ = strings.Cut(bs, ",")
			b, val, _ := strings.Cut(x, "=")
			bn, err1 := strconv.ParseInt(b, 10, 64)
			vn, err2 := strconv.ParseInt(val, 10, 64)
			if err1 != nil || err2 != nil || (j > 0 && bn <= 0) {
				ok = false
				break
			}
			if j > 0 {
				bn += prev
			}
			prev = bn
			fs.bk = append(fs.bk, bucketVal{bn, vn})
		}
	}
	return ok
}

func (e *entry) day(day int64) *txDay {
	for i := range e.days {
		if e.days[i].day == day {
			return &e.days[i]
		}
	}
	return nil
}

// decodeEntry rebuilds ce from its hash h, as written by encode. Fields it
// cannot place (features the group no longer has, records of another
// length) are deleted by the entry's next write. A hash that has fields
// but no version was not written by this store: it reports false.
func decodeEntry(ce *cacheEntry, h iter.Seq2[string, string]) bool {
	s := ce.spec
	e := &ce.e
	l := e.log
	nf := len(s.ids)
	e.feats = make([]feature, nf)
	e.lined = nil
	for i := range e.feats {
		e.feats[i].id = s.ids[i]
	}
	ce.loaded = true
	fields := 0
	for f, v := range h {
		fields++
		if f == "v" {
			ce.version = v
			continue
		}
		if !decodeField(e, s, f, v) {
			l.orphans = append(l.orphans, f)
		}
	}
	for i := range e.feats {
		fs := &e.feats[i]
		if fs.d != nil {
			fs.bk = fs.d.init(fs.bk)
			continue
		}
		slices.SortFunc(fs.bk, func(a, b bucketVal) int {
			switch {
			case a.b < b.b:
				return -1
			case a.b > b.b:
				return 1
			}
			return 0
		})
	}
	slices.SortFunc(e.days, func(a, b txDay) int {
		switch {
		case a.day < b.day:
			return -1
		case a.day > b.day:
			return 1
		}
		return 0
	})
	return fields == 0 || ce.version != ""
}

func decodeField(e *entry, s *redisSpec, f, v string) bool {
	if f == "" {
		return false
	}
	switch f[0] {
	case 'v':
		return f == "v"
	case 'a':
		if f != "a" {
			return false
		}
		if !decodeAgg(e, s, v) {
			e.log.agg = true // rewritten by the next write
		}
		return true
	case 'd':
		id, member, ok := splitID(f[1:])
		if !ok {
			return false
		}
		i, ok := s.byID[id]
		if !ok || !s.distinct[i] {
			return false
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		fs := &e.feats[i]
		if fs.d == nil {
			fs.d = &distinctSet{pos: make(map[string]*dmember)}
		}
		fs.d.add(member, x)
		return true
	case 't', 'T':
		i := strings.IndexByte(f, ':')
		if i < 0 {
			return false
		}
		day, err := strconv.ParseInt(f[1:i], 10, 64)
		if err != nil {
			return false
		}
		nf := len(s.ids)
		vals := make([]int64, 0, nf)
		if f[0] == 't' {
			if !parseInts(v, nf, &vals) {
				return false
			}
			d := e.dayOrNew(day)
			d.put(f[i+1:], vals)
			d.fields = append(d.fields, f)
			return true
		}
		// A field is kept whole or not at all: check it before recording.
		if !eachRec(v, nf, &vals, nil) {
			return false
		}
		d := e.dayOrNew(day)
		eachRec(v, nf, &vals, d.put)
		d.fields = append(d.fields, f)
		return true
	}
	return false
}

func (e *entry) dayOrNew(day int64) *txDay {
	if d := e.day(day); d != nil {
		return d
	}
	e.days = append(e.days, txDay{day: day})
	return &e.days[len(e.days)-1]
}

// eachRec reads the records of a T field, "<len(tx)>:<tx><v1,...,vn>;"
// each, and calls put (when not nil) with each; it reports whether all
// are well formed.
func eachRec(v string, nf int, vals *[]int64, put func(tx string, vals []int64)) bool {
	if v == "" {
		return false
	}
	for v != "" {
		i := strings.IndexByte(v, ':')
		if i <= 0 {
			return false
		}
		n, err := strconv.Atoi(v[:i])
		if err != nil || n < 0 || i+1+n > len(v) {
			return false
		}
		tx := v[i+1 : i+1+n]
		v = v[i+1+n:]
		j := strings.IndexByte(v, ';')
		if j < 0 {
			return false
		}
		*vals = (*vals)[:0]
		if !parseInts(v[:j], nf, vals) {
			return false
		}
		if put != nil {
			put(tx, *vals)
		}
		v = v[j+1:]
	}
	return true
}

// splitID splits "<len>:<name><op><bucketMs>:rest" after the id.
func splitID(f string) (id, rest string, ok bool) {
	i := strings.IndexByte(f, ':')
	if i <= 0 {
		return "", "", false
	}
	n, err := strconv.Atoi(f[:i])
	if err != nil || n < 0 || i+1+n+1 >= len(f) {
		return "", "", false
	}
	j := i + 1 + n + 1
	k := strings.IndexByte(f[j:], ':')
	if k < 0 {
		return "", "", false
	}
	return f[:j+k+1], f[j+k+1:], true
}

// parseInts appends the n values of "v1,v2,..." to out.
func parseInts(s string, n int, out *[]int64) bool {
	if n == 0 {
		return s == ""
	}
	for i := 0; i < n; i++ {
		j := strings.IndexByte(s, ',')
		if i == n-1 {
			if j >= 0 {
				return false
			}
			j = len(s)
		} else if j < 0 {
			return false
		}
		v, err := strconv.ParseInt(s[:j], 10, 64)
		if err != nil {
			return false
		}
		*out = append(*out, v)
		if j < len(s) {
			s = s[j+1:]
		}
	}
	return true
}
