package graph

import "math/bits"

// state is one step of the backward search from the edge's sender: the
// path reaches node by an edge leaving node with amount and time.
type state struct {
	node   string
	amount int64
	time   int64
	edge   half // node -> parent.node; unset for the root
	parent *state
	depth  int     // edges of the path from node to From
	ratio  float64 // smallest consecutive-hop ratio of the path, the new edge included
}

func (st *state) onPath(a string) bool {
	for p := st; p != nil; p = p.parent {
		if p.node == a {
			return true
		}
	}
	return false
}

// search computes the Signals of one new edge of a batch, level by level.
type search struct {
	b        *batch
	vc       *viewCache // of the worker running the search's current level
	st       stats      // the search's own counts, summed into the batch's at the end
	i        int
	e        Edge
	from     int64 // window start: e.Time - Window
	sig      Signals
	frontier []*state // states created at the previous level, expanded at this one
	origins  []*state // depth-1 states: the origins O -> From for scatter-gather
	bipCand  []string // senders of To whose out edges the bipartite test reads
	cycleLvl int
	created  int        // states created, at most MaxFrontier
	tx       [][]string // contributing tx lists in Signals.Tx order, by kind
}

const (
	txCycle = iota
	txScatterGather
	txStack
	txBipartite
	txGatherScatter
	txFanIn
	txFanOut
	txKinds
)

// need returns the accounts level must have read.
func (s *search) need(level int) []string {
	var out []string
	if level <= s.b.cfg.MaxHops-1 || level == 2 {
		for _, st := range s.frontier {
			out = append(out, st.node)
		}
	}
	if level == 2 {
		out = append(out, s.bipCand...)
	}
	return out
}

func (s *search) in(account string) []half {
	return window(s.b.view(s.vc, account, true, s.i), s.from, s.e.Time)
}

func (s *search) out(account string) []half {
	return window(s.b.view(s.vc, account, false, s.i), s.from, s.e.Time)
}

func (s *search) similar(a, b int64) bool {
	return ratio(a, b) >= 1-s.b.cfg.AmountTolerance
}

func (s *search) step(level int) {
	if s.tx == nil {
		s.tx = make([][]string, txKinds)
	}
	switch level {
	case 1:
		s.fans()
		s.sig.ChainHops = 1
		s.frontier = []*state{{node: s.e.From, amount: s.e.Amount, time: s.e.Time, ratio: 1}}
		s.expand(1)
		s.origins = s.frontier
	case 2:
		s.scatterGather()
		s.bipartite()
		fallthrough
	default:
		if level <= s.b.cfg.MaxHops-1 {
			s.expand(level)
		} else {
			s.frontier = nil
		}
	}
}

// withEdge returns l plus this edge as seen from its other end.
func (s *search) withEdge(l []half, peer string) []half {
	return append(append(make([]half, 0, len(l)+1), l...), newHalf(peer, s.e.Amount, s.e.Time, s.e.TxID))
}

func (s *search) fans() {
	// In and out lists below are without this edge, which is newer than
	// all of them: it counts first.
	e := s.e
	inT := s.in(e.To)
	outF := s.out(e.From)
	inF := s.in(e.From)
	s.st.scanned += len(inT) + len(outF) + len(inF) + 2
	s.sig.FanIn = s.distinct(inT, e.From)
	s.sig.FanOut = s.distinct(outF, e.To)
	s.sig.GatherScatterIn = s.distinct(inF, "")
	s.sig.GatherScatterOut = s.sig.FanOut
	if s.sig.GatherScatterIn >= 2 && s.sig.GatherScatterOut >= 2 {
		s.sig.GatherScatter = min(s.sig.GatherScatterIn, s.sig.GatherScatterOut)
		s.tx[txGatherScatter] = append(txs(inF, ""), txs(outF, e.TxID)...)
	}
	if s.sig.FanIn >= 2 {
		s.tx[txFanIn] = txs(inT, e.TxID)
	}
	if s.sig.FanOut >= 2 {
		s.tx[txFanOut] = txs(outF, e.TxID)
	}
	// The bipartite block needs the out edges of To's other senders.
	if s.sig.FanIn >= 2 && s.sig.FanOut >= 2 {
		s.vc.next()
		for k := len(inT) - 1; k >= 0; k-- {
			if p := inT[k].Peer; p != e.From && s.vc.seen[p] != s.vc.mark {
				s.vc.seen[p] = s.vc.mark
				s.bipCand = append(s.bipCand, p)
			}
		}
	}
}

// expand follows, from every frontier state, the in edges of its node that
// are older than the state's edge and of a similar amount.
func (s *search) expand(level int) {
	cfg := s.b.cfg
	var next []*state
	for _, st := range s.frontier {
		l := s.in(st.node)
		s.st.scanned += len(l)
		for k := len(l) - 1; k >= 0; k-- {
			h := l[k]
			if h.Time > st.time || h.Peer == st.node || !s.similar(h.Amount, st.amount) {
				continue
			}
			r := min(st.ratio, ratio(h.Amount, st.amount))
			if h.Peer == s.e.To {
				s.closeCycle(level, st, h, r)
				continue
			}
			if s.created >= cfg.MaxFrontier || st.onPath(h.Peer) {
				continue
			}
			s.created++
			s.st.states++
			next = append(next, &state{node: h.Peer, amount: h.Amount, time: h.Time, edge: h,
				parent: st, depth: st.depth + 1, ratio: r})
			s.sig.ChainHops = max(s.sig.ChainHops, st.depth+2)
		}
	}
	s.frontier = next
}

// closeCycle records the cycle closed by h (To -> st.node) unless a shorter
// one, or one as short with amounts at least as close, was found before.
func (s *search) closeCycle(level int, st *state, h half, r float64) {
	if s.cycleLvl != 0 && (s.cycleLvl < level || r <= s.sig.CycleMinRatio) {
		return
	}
	s.cycleLvl = level
	s.sig.CycleHops = level + 1
	s.sig.CycleMinRatio = r
	tx := []string{s.e.TxID, h.Tx}
	for p := st; p.parent != nil; p = p.parent {
		tx = append(tx, p.edge.Tx)
	}
	s.sig.CycleTx = tx
}

// scatterGather counts, for each origin O that paid From (this edge's M)
// before with a similar amount, the intermediaries M' that O paid and that
// later paid To a similar amount; it keeps the largest count.
func (s *search) scatterGather() {
	e := s.e
	if len(s.origins) == 0 {
		return
	}
	inT := s.in(e.To)
	byPeer := make(map[string][]half, len(inT))
	for _, g := range inT {
		byPeer[g.Peer] = append(byPeer[g.Peer], g)
	}
	best := 0
	var bestTx []string
	done := make(map[string]bool, len(s.origins))
	seen := make(map[string]bool, 8)
	for _, o := range s.origins {
		if done[o.node] {
			continue
		}
		done[o.node] = true
		count, tx := 1, []string{o.edge.Tx}
		clear(seen)
		seen[e.From] = true
		l := s.out(o.node)
		s.st.scanned += len(l)
		for k := len(l) - 1; k >= 0; k-- {
			h := l[k]
			if seen[h.Peer] || h.Peer == e.To || h.Peer == o.node {
				continue
			}
			for _, g := range byPeer[h.Peer] {
				if g.Time >= h.Time && s.similar(h.Amount, g.Amount) {
					seen[h.Peer] = true
					count++
					tx = append(tx, h.Tx, g.Tx)
					break
				}
			}
		}
		if count > best {
			best, bestTx = count, tx
		}
	}
	s.sig.ScatterGather = best
	if best >= 2 {
		s.tx[txScatterGather] = bestTx
	}
}

// bipartite finds the many-to-many block around this edge; see Signals.Bipartite.
// Who paid which of From's receivers is kept as bitsets over those
// receivers: a hub's candidates would otherwise cost a map each.
func (s *search) bipartite() {
	e := s.e
	if s.sig.FanIn < 2 || s.sig.FanOut < 2 {
		return
	}
	outF := s.withEdge(s.out(e.From), e.To)
	idx := make(map[string]int, len(outF)) // From's receivers, newest first
	var recv []string
	for k := len(outF) - 1; k >= 0; k-- {
		if p := outF[k].Peer; !has(idx, p) {
			idx[p] = len(recv)
			recv = append(recv, p)
		}
	}
	words := (len(recv) + 63) / 64
	cands := append([]string{e.From}, s.bipCand...)
	outs := make([][]half, len(cands))
	paid := make([]uint64, len(cands)*words)
	outs[0] = outF
	for j := range recv {
		paid[j/64] |= 1 << (j % 64)
	}
	for ci := 1; ci < len(cands); ci++ {
		l := s.out(cands[ci])
		s.st.scanned += len(l)
		outs[ci] = l
		for _, h := range l {
			if j, ok := idx[h.Peer]; ok {
				paid[ci*words+j/64] |= 1 << (j % 64)
			}
		}
	}
	row := func(ci int) []uint64 { return paid[ci*words : (ci+1)*words] }
	var S []int
	for ci := range cands {
		if ones(row(ci), nil) >= 2 {
			S = append(S, ci)
		}
	}
	if len(S) < 2 {
		return
	}
	inR := make([]uint64, words)
	nR := 0
	for j := range recv {
		n := 0
		for _, ci := range S {
			if row(ci)[j/64]&(1<<(j%64)) != 0 {
				n++
			}
		}
		if n >= 2 {
			inR[j/64] |= 1 << (j % 64)
			nR++
		}
	}
	if nR < 2 {
		return
	}
	pairs := 0
	for _, ci := range S {
		pairs += ones(row(ci), inR)
	}
	if float64(pairs) < s.b.cfg.MinDensity*float64(len(S)*nR) {
		return
	}
	s.sig.Bipartite = min(len(S), nR)
	s.sig.StackDepth = 1
	var tx []string
	names := make([]string, len(S))
	for k, ci := range S {
		names[k] = cands[ci]
		l := outs[ci]
		for m := len(l) - 1; m >= 0; m-- {
			if j, ok := idx[l[m].Peer]; ok && inR[j/64]&(1<<(j%64)) != 0 {
				tx = append(tx, l[m].Tx)
			}
		}
	}
	s.tx[txBipartite] = tx
	s.stack(names)
}

func has(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// ones counts the bits of set, within mask when mask is not nil.
func ones(set, mask []uint64) int {
	n := 0
	for w, x := range set {
		if mask != nil {
			x &= mask[w]
		}
		n += bits.OnesCount64(x)
	}
	return n
}

// stack looks one layer down: whether the senders S of the block were
// themselves paid by a many-to-many block of other accounts.
func (s *search) stack(S []string) {
	inS := map[string]bool{}
	for _, b := range S {
		inS[b] = true
	}
	paidBy := map[string]map[string]bool{} // a -> members of S it paid
	ins := map[string][]half{}
	for _, b := range S {
		l := s.in(b)
		s.st.scanned += len(l)
		ins[b] = l
		for _, h := range l {
			if inS[h.Peer] || h.Peer == s.e.To {
				continue
			}
			if paidBy[h.Peer] == nil {
				paidBy[h.Peer] = map[string]bool{}
			}
			paidBy[h.Peer][b] = true
		}
	}
	var A []string
	for a, set := range paidBy {
		if len(set) >= 2 {
			A = append(A, a)
		}
	}
	if len(A) < 2 {
		return
	}
	inA := map[string]bool{}
	for _, a := range A {
		inA[a] = true
	}
	var B []string
	pairs := 0
	for _, b := range S {
		n := 0
		for _, a := range A {
			if paidBy[a][b] {
				n++
			}
		}
		if n >= 2 {
			B = append(B, b)
			pairs += n
		}
	}
	if len(B) < 2 || float64(pairs) < s.b.cfg.MinDensity*float64(len(A)*len(B)) {
		return
	}
	s.sig.StackDepth = 2
	var tx []string
	for _, b := range B {
		l := ins[b]
		for k := len(l) - 1; k >= 0; k-- {
			if inA[l[k].Peer] {
				tx = append(tx, l[k].Tx)
			}
		}
	}
	s.tx[txStack] = tx
}

// finish fills Signals.Tx and drops the search state.
func (s *search) finish() {
	s.frontier, s.origins = nil, nil
	total := 1 + len(s.sig.CycleTx)
	for _, l := range s.tx {
		total += len(l)
	}
	total = min(total, s.b.cfg.MaxTx)
	vc := s.vc
	vc.next()
	tx := make([]string, 0, total)
	add := func(l []string) {
		for _, t := range l {
			if len(tx) < s.b.cfg.MaxTx && vc.seen[t] != vc.mark {
				vc.seen[t] = vc.mark
				tx = append(tx, t)
			}
		}
	}
	add([]string{s.e.TxID})
	add(s.sig.CycleTx)
	for _, l := range s.tx {
		add(l)
	}
	s.sig.Tx = tx
}

// distinct counts the peers of l and extra (when not ""), with the worker's
// scratch set: a new mark empties it without clearing it.
func (s *search) distinct(l []half, extra string) int {
	vc := s.vc
	vc.next()
	n := 0
	if extra != "" {
		vc.seen[extra] = vc.mark
		n++
	}
	for _, h := range l {
		if vc.seen[h.Peer] != vc.mark {
			vc.seen[h.Peer] = vc.mark
			n++
		}
	}
	return n
}

// txs returns the tx ids of l, newest first.
// txs returns first (when not "") and the tx ids of l, newest first.
func txs(l []half, first string) []string {
	out := make([]string, 0, len(l)+1)
	if first != "" {
		out = append(out, first)
	}
	for k := len(l) - 1; k >= 0; k-- {
		out = append(out, l[k].Tx)
	}
	return out
}
