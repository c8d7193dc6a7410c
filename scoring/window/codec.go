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
//	t<day>:<txid>          idempotency record: Out as "v1,v2,..."

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

func (st *applyState) recField(day int64, tx string) int {
	from := len(st.buf)
	st.buf = append(st.buf, 't')
	st.buf = strconv.AppendInt(st.buf, day, 10)
	st.buf = append(st.buf, ':')
	st.buf = append(st.buf, tx...)
	return from
}

// encode appends w's new version, then the fields to set with their
// values, then the fields to delete.
func (st *applyState) encode(w *write) {
	e := &w.ce.e
	l := e.log
	from := len(st.buf)
	st.buf = appendVersion(st.buf)
	st.mark(from)
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
	for _, r := range l.recs {
		d := e.day(r.day)
		if d == nil {
			continue // left the horizon in the same batch: deleted below
		}
		off, ok := d.find(r.tx)
		if !ok {
			continue
		}
		st.mark(st.recField(r.day, r.tx))
		from := len(st.buf)
		st.rec = slices.Grow(st.rec[:0], int(r.n))[:r.n]
		d.rec(off, st.rec)
		for j, v := range st.rec {
			if j > 0 {
				st.buf = append(st.buf, ',')
			}
			st.buf = strconv.AppendInt(st.buf, v, 10)
		}
		st.mark(from)
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
		d.txs(func(tx string) { st.mark(st.recField(d.day, tx)) })
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
	case 't':
		i := strings.IndexByte(f, ':')
		if i < 0 {
			return false
		}
		day, err := strconv.ParseInt(f[1:i], 10, 64)
		if err != nil {
			return false
		}
		nf := len(s.ids)
		d := e.day(day)
		if d == nil {
			e.days = append(e.days, txDay{day: day})
			d = &e.days[len(e.days)-1]
		}
		vals := make([]int64, 0, nf)
		if !parseInts(v, nf, &vals) {
			return false
		}
		d.put(f[i+1:], vals)
		return true
	}
	return false
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
