package storetest

import (
	"sort"

	"github.com/sluice-aml/sluice/scoring/window"
)

const dayMs = 24 * 60 * 60 * 1000

// model is the window semantics written the slow, obvious way (every input
// kept as an item, members sorted on every eviction). The differential test
// checks stores against it, so that the memory store is checked against
// something other than itself.
type model struct {
	keys map[[2]string]*modelKey
}

type modelKey struct {
	seen   bool
	newest int64
	recs   map[recID][]int64
	items  map[int][]item // feature index -> applied inputs still kept
	scores map[int]map[string]int64
}

type recID struct {
	tx  string
	day int64
}

type item struct{ b, v int64 }

func newModel() *model { return &model{keys: map[[2]string]*modelKey{}} }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (m *model) apply(u *window.Update) (out []int64, replayed bool) {
	g := u.Group
	k := m.keys[[2]string{g.Name, u.Key}]
	if k == nil {
		k = &modelKey{recs: map[recID][]int64{}, items: map[int][]item{}, scores: map[int]map[string]int64{}}
		m.keys[[2]string{g.Name, u.Key}] = k
	}
	day := floorDiv(u.Time, dayMs)
	if r, ok := k.recs[recID{u.TxID, day}]; ok {
		return append([]int64(nil), r...), true
	}
	var horizon int64
	for _, f := range g.Features {
		horizon = max(horizon, f.Window.Milliseconds())
	}
	horizon += g.Retain.Milliseconds()
	beyond := k.seen && day < floorDiv(k.newest-horizon, dayMs)
	if !beyond && (!k.seen || u.Time > k.newest) {
		k.seen, k.newest = true, u.Time
		for id := range k.recs {
			if id.day < floorDiv(u.Time-horizon, dayMs) {
				delete(k.recs, id)
			}
		}
	}
	out = make([]int64, len(g.Features))
	inputs := u.Inputs
	if u.Only != nil {
		// Left out: neither applied nor read.
		inputs = make([]window.Input, len(g.Features))
		for i := range inputs {
			inputs[i] = window.Input{NoRead: true}
		}
		for k, i := range u.Only {
			inputs[i] = u.Inputs[k]
		}
	}
	for i := range g.Features {
		f := &g.Features[i]
		in := inputs[i]
		b, n := f.BucketOf(u.Time), f.Buckets()
		lo := b - n + 1
		apply := in.Apply && !beyond
		if in.NoRead && !apply {
			continue // untouched, Out 0
		}
		if f.Op == window.Distinct {
			sc := k.scores[i]
			if sc == nil {
				sc = map[string]int64{}
				k.scores[i] = sc
			}
			for mem, s := range sc {
				if s < lo {
					delete(sc, mem)
				}
			}
			if apply {
				if s, ok := sc[in.Member]; !ok || b > s {
					sc[in.Member] = b
				}
				if len(sc) > f.DistinctCap {
					type ms struct {
						m string
						s int64
					}
					all := make([]ms, 0, len(sc))
					for mem, s := range sc {
						all = append(all, ms{mem, s})
					}
					sort.Slice(all, func(a, c int) bool {
						if all[a].s != all[c].s {
							return all[a].s < all[c].s
						}
						return all[a].m < all[c].m
					})
					for _, x := range all[:len(all)-f.DistinctCap] {
						delete(sc, x.m)
					}
				}
			}
			for _, s := range sc {
				if s >= lo && s <= b {
					out[i]++
				}
			}
			continue
		}
		var kept []item
		for _, it := range k.items[i] {
			if it.b >= lo {
				kept = append(kept, it)
			}
		}
		if apply {
			kept = append(kept, item{b, in.Value})
		}
		k.items[i] = kept
		found := false
		for _, it := range kept {
			if it.b > b {
				continue
			}
			switch f.Op {
			case window.Count:
				out[i]++
			case window.Sum:
				out[i] += it.v
			case window.Max:
				if !found || it.v > out[i] {
					out[i] = it.v
				}
				found = true
			}
		}
	}
	for i, in := range inputs {
		if in.NoRead {
			out[i] = 0 // applied but not read
		}
	}
	if !beyond {
		k.recs[recID{u.TxID, day}] = append([]int64(nil), out...)
	}
	return out, false
}
