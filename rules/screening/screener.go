package screening

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// Match is one list entry a query matched.
type Match struct {
	List        string   `json:"list"`         // ofac-sdn, un, us-fto, ca-sema, ca-terrorist, internal
	Entry       string   `json:"entry"`        // the entry's id in its list
	ListedName  string   `json:"listed_name"`  // the listed name or alias that matched
	MatchedName string   `json:"matched_name"` // the query as given
	Score       float64  `json:"score"`        // 0..1, 1 for exact wallet and id matches
	Programs    []string `json:"programs,omitempty"`
	Type        string   `json:"type"`
	Designated  bool     `json:"designated"` // a program of Config.Designated: typology designated_party
	Explain     string   `json:"explain"`
}

// Screener matches names, wallets and identifiers against a loaded Set. It
// is immutable once built and safe for concurrent use; to change lists,
// build a new one and swap the pointer.
type Screener struct {
	cfg        Config
	set        *lists.Set
	designated map[string]bool

	// Token vocabulary over every listed name and alias.
	vocab   map[string]int32
	tokText []string
	tokRune [][]rune
	idf     []float32
	post    [][]int32          // token -> names containing it
	dels    map[string][]int32 // delete-1 variant (and the token itself) -> tokens
	phon    map[string][]int32 // phonetic key -> tokens
	tokPhon []string
	maxIDF  float32

	names   []indexedName
	wallets map[string][]int32 // normalized address -> entries
	ids     map[string][]int32 // normalized identifier -> entries

	// cache holds results by normalized query, raw by the name as given.
	cache, raw *cache
	pool       sync.Pool
}

type indexedName struct {
	entry int32
	text  string
	toks  []int32
	wsum  float32
}

// Load reads the lists cfg names and builds a Screener.
func Load(cfg Config) (*Screener, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set, err := LoadSet(cfg)
	if err != nil {
		return nil, err
	}
	return New(set, cfg)
}

// New builds a Screener over set.
func New(set *lists.Set, cfg Config) (*Screener, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Screener{
		cfg: cfg, set: set, designated: map[string]bool{},
		vocab: map[string]int32{}, dels: map[string][]int32{}, phon: map[string][]int32{},
		wallets: map[string][]int32{}, ids: map[string][]int32{},
	}
	for _, p := range cfg.Designated {
		s.designated[strings.ToUpper(p)] = true
	}
	for ei := range set.Entries {
		e := &set.Entries[ei]
		seen := map[string]bool{}
		for _, n := range e.Names() {
			toks := tokens(n)
			key := strings.Join(toks, " ")
			if len(toks) == 0 || seen[key] {
				continue
			}
			seen[key] = true
			in := indexedName{entry: int32(ei), text: n, toks: make([]int32, 0, len(toks))}
			for _, t := range toks {
				in.toks = append(in.toks, s.tokenID(t))
			}
			// "ISSA, Issa Osman": a repeated token is one piece of evidence,
			// as it is in the query.
			in.toks = uniq(in.toks)
			s.names = append(s.names, in)
		}
		for _, w := range e.Wallets {
			k := normalizeWallet(w)
			s.wallets[k] = appendEntry(s.wallets[k], int32(ei))
		}
		for _, id := range e.IDs {
			for _, k := range idKeys(id) {
				s.ids[k] = appendEntry(s.ids[k], int32(ei))
			}
		}
	}
	s.post = make([][]int32, len(s.tokText))
	for ni := range s.names {
		for _, t := range s.names[ni].toks {
			s.post[t] = append(s.post[t], int32(ni))
		}
	}
	// idf over names: a token in every name weighs ~0, one in a single name
	// weighs ln(N+1).
	n := float64(len(s.names))
	s.idf = make([]float32, len(s.tokText))
	for t, p := range s.post {
		s.idf[t] = float32(math.Log(1 + n/float64(len(p))))
		if s.idf[t] > s.maxIDF {
			s.maxIDF = s.idf[t]
		}
	}
	for ni := range s.names {
		for _, t := range s.names[ni].toks {
			s.names[ni].wsum += s.idf[t]
		}
	}
	for t, txt := range s.tokText {
		s.dels[txt] = append(s.dels[txt], int32(t))
		if utf8.RuneCountInString(txt) >= minFuzzyLen {
			for _, d := range deletes1(txt) {
				s.dels[d] = append(s.dels[d], int32(t))
			}
			k := phonetic(txt)
			s.phon[k] = append(s.phon[k], int32(t))
		}
	}
	if cfg.CacheSize > 0 {
		s.cache, s.raw = newCache(cfg.CacheSize), newCache(cfg.CacheSize)
	}
	s.pool.New = func() any {
		return &scratch{acc: make([]float32, len(s.names)), mark: make([]int32, len(s.names))}
	}
	return s, nil
}

// minFuzzyLen is the shortest token matched with an edit: below it, one
// edit turns a name into another name (Ali/Ari, Li/Le).
const minFuzzyLen = 4

// minFuzzySim is the lowest tokenSim of a fuzzy token match: one edit in
// four letters.
const minFuzzySim = 0.75

func (s *Screener) tokenID(t string) int32 {
	if id, ok := s.vocab[t]; ok {
		return id
	}
	id := int32(len(s.tokText))
	s.vocab[t] = id
	s.tokText = append(s.tokText, t)
	s.tokRune = append(s.tokRune, []rune(t))
	s.tokPhon = append(s.tokPhon, phonetic(t))
	return id
}

// Hash is the content hash of the loaded list data, "sha256:...", which
// alerts carry in their lists field.
func (s *Screener) Hash() string { return s.set.Hash() }

// Set returns the loaded lists.
func (s *Screener) Set() *lists.Set { return s.set }

// Config returns the configuration in force, defaults applied.
func (s *Screener) Config() Config { return s.cfg }

// IsDesignated reports whether any of programs makes a party designated
// (typology designated_party) under this screener's configuration.
func (s *Screener) IsDesignated(programs []string) bool {
	for _, p := range programs {
		if s.designated[p] {
			return true
		}
	}
	return false
}

// Screen screens a query that may be a name, a wallet address or an
// identifier: exact wallet and identifier matches first, then name matches.
func (s *Screener) Screen(q string) []Match {
	out := s.ScreenWallet(q)
	out = append(out, s.ScreenID(q)...)
	seen := map[string]bool{}
	for _, m := range out {
		seen[m.List+"\x00"+m.Entry] = true
	}
	for _, m := range s.ScreenName(q) {
		if !seen[m.List+"\x00"+m.Entry] {
			out = append(out, m)
		}
	}
	sortMatches(out)
	if len(out) > s.cfg.MaxResults {
		out = out[:s.cfg.MaxResults]
	}
	return out
}

// ScreenWallet returns the entries that list addr as a digital currency
// address, exactly (case-insensitively for hex and bech32 addresses).
func (s *Screener) ScreenWallet(addr string) []Match {
	k := normalizeWallet(addr)
	if k == "" {
		return nil
	}
	var out []Match
	for _, ei := range s.wallets[k] {
		e := &s.set.Entries[ei]
		out = append(out, s.match(e, e.Name, addr, 1, "wallet address "+addr+" listed exactly"))
	}
	return out
}

// ScreenID returns the entries that list id (passport, tax, registration,
// IMO... number) exactly, ignoring case, spaces and punctuation.
func (s *Screener) ScreenID(id string) []Match {
	k := normalizeID(id)
	if len(k) < minIDLen || !hasDigit(k) {
		return nil
	}
	var out []Match
	for _, ei := range s.ids[k] {
		e := &s.set.Entries[ei]
		listed := id
		for _, x := range e.IDs {
			for _, xk := range idKeys(x) {
				if xk == k {
					listed = x
				}
			}
		}
		out = append(out, s.match(e, e.Name, id, 1, "identifier listed exactly: "+listed))
	}
	return out
}

func (s *Screener) match(e *lists.Entry, listed, query string, score float64, explain string) Match {
	return Match{
		List: e.List, Entry: e.ID, ListedName: listed, MatchedName: query, Score: score,
		Programs: e.Programs, Type: e.Type, Designated: s.IsDesignated(e.Programs), Explain: explain,
	}
}

// ScreenName returns the entries whose name or an alias matches name at or
// above the threshold, best first, at most MaxResults. The result is the
// caller's to keep.
func (s *Screener) ScreenName(name string) []Match {
	// Counterparties repeat with the same spelling: look the raw name up
	// first, before normalizing it.
	if s.raw != nil {
		if ms, ok := s.raw.get(name); ok {
			return withQuery(ms, name)
		}
	}
	qt := tokens(name)
	if len(qt) == 0 {
		return nil
	}
	key := strings.Join(qt, " ")
	ms, ok := []Match(nil), false
	if s.cache != nil {
		ms, ok = s.cache.get(key)
	}
	if !ok {
		ms = s.screenTokens(qt)
	}
	if s.cache != nil {
		s.cache.put(key, ms)
		s.raw.put(name, ms)
	}
	return withQuery(ms, name)
}

func withQuery(ms []Match, q string) []Match {
	if len(ms) == 0 {
		return nil
	}
	out := make([]Match, len(ms))
	copy(out, ms)
	for i := range out {
		out[i].MatchedName = q
	}
	return out
}

// qtok is a query token with the listed tokens it may stand for.
type qtok struct {
	text  string
	w     float32
	cands []tokSim
	best  float32
}

type tokSim struct {
	tok int32
	sim float32
}

type scratch struct {
	acc     []float32
	mark    []int32
	touched []int32
	epoch   int32
}

func (s *Screener) screenTokens(qt []string) []Match {
	q := make([]qtok, 0, len(qt))
	var qw float32
	for _, t := range uniq(qt) {
		x := s.lookup(t)
		q = append(q, x)
		qw += x.w
	}
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	sc.touched = sc.touched[:0]
	// Blocking: only names sharing a (possibly fuzzy) token with the query
	// are looked at, and only those whose matched query weight could still
	// reach the threshold are scored.
	for i := range q {
		sc.epoch++
		if sc.epoch == math.MaxInt32 {
			for j := range sc.mark {
				sc.mark[j] = 0
			}
			sc.epoch = 1
		}
		for _, c := range q[i].cands {
			for _, ni := range s.post[c.tok] {
				if sc.mark[ni] == sc.epoch {
					continue
				}
				if sc.mark[ni] == 0 && sc.acc[ni] == 0 {
					sc.touched = append(sc.touched, ni)
				}
				sc.mark[ni] = sc.epoch
				sc.acc[ni] += q[i].w * q[i].best
			}
		}
	}
	need := float32(s.cfg.Threshold)*qw - 1e-4
	best := map[int32]Match{}
	for _, ni := range sc.touched {
		ub := sc.acc[ni]
		sc.acc[ni], sc.mark[ni] = 0, 0
		if ub < need {
			continue
		}
		score, _ := s.score(q, qw, &s.names[ni], false)
		if score < s.cfg.Threshold {
			continue
		}
		n := &s.names[ni]
		if prev, ok := best[n.entry]; ok && (prev.Score > round3(score) || prev.Score == round3(score) && prev.ListedName <= n.text) {
			continue
		}
		_, explain := s.score(q, qw, n, true)
		e := &s.set.Entries[n.entry]
		if n.text != e.Name {
			explain += "; alias of " + e.Name
		}
		best[n.entry] = s.match(e, n.text, "", round3(score), explain)
	}
	out := make([]Match, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sortMatches(out)
	if len(out) > s.cfg.MaxResults {
		out = out[:s.cfg.MaxResults]
	}
	return out
}

// lookup finds the listed tokens a query token may stand for: itself, and
// for tokens of minFuzzyLen runes or more, every listed token within one
// edit whose Jaro-Winkler similarity is at least minFuzzySim.
func (s *Screener) lookup(t string) qtok {
	x := qtok{text: t}
	if id, ok := s.vocab[t]; ok {
		x.cands = append(x.cands, tokSim{id, 1})
		x.w, x.best = s.idf[id], 1
	}
	if utf8.RuneCountInString(t) >= minFuzzyLen {
		r := []rune(t)
		seen := map[int32]bool{}
		if len(x.cands) > 0 {
			seen[x.cands[0].tok] = true
		}
		pk := phonetic(t)
		add := func(id int32) {
			if seen[id] {
				return
			}
			seen[id] = true
			if utf8.RuneCountInString(s.tokText[id]) < minFuzzyLen {
				return
			}
			sim := tokenSim(r, s.tokRune[id], s.tokPhon[id] == pk)
			if sim < minFuzzySim {
				return
			}
			x.cands = append(x.cands, tokSim{id, sim})
			if sim > x.best {
				x.best = sim
			}
			if len(x.cands) == 1 || x.cands[0].sim < 1 && s.idf[id] > x.w {
				x.w = s.idf[id]
			}
		}
		for _, id := range s.dels[t] {
			add(id)
		}
		for _, d := range deletes1(t) {
			for _, id := range s.dels[d] {
				add(id)
			}
		}
		for _, id := range s.phon[pk] {
			add(id)
		}
	}
	if x.w == 0 {
		// Unknown to every list: as telling as the rarest listed token.
		x.w = s.maxIDF
	}
	return x
}

// score compares the query with one listed name. Tokens are paired one to
// one, best similarity first, ignoring order. Each side's coverage is the
// idf-weighted share of its tokens that found a partner; the score is the
// query's coverage times a factor that forgives a dropped listed token only
// in part, so "Joaquin Guzman" still meets "Joaquin GUZMAN LOERA" while
// "Jose Guzman", whose matched token is one of several common ones, does not.
func (s *Screener) score(q []qtok, qw float32, n *indexedName, explain bool) (float64, string) {
	type pair struct {
		qi, li int
		sim    float32
	}
	var buf [32]pair
	pairs := buf[:0]
	for qi := range q {
		for li, lt := range n.toks {
			for _, c := range q[qi].cands {
				if c.tok == lt {
					pairs = append(pairs, pair{qi, li, c.sim})
					break
				}
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].sim > pairs[j].sim })
	var qUsed, lUsed uint64
	var qm, lm float32
	var b strings.Builder
	matched := 0
	for _, p := range pairs {
		if p.qi >= 64 || p.li >= 64 || qUsed&(1<<p.qi) != 0 || lUsed&(1<<p.li) != 0 {
			continue
		}
		qUsed |= 1 << p.qi
		lUsed |= 1 << p.li
		matched++
		lt := n.toks[p.li]
		qm += q[p.qi].w * p.sim
		lm += s.idf[lt] * p.sim
		if !explain {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if p.sim == 1 {
			fmt.Fprintf(&b, "%s=%s (exact, w %.1f)", q[p.qi].text, s.tokText[lt], s.idf[lt])
		} else {
			fmt.Fprintf(&b, "%s~%s (%.2f, w %.1f)", q[p.qi].text, s.tokText[lt], p.sim, s.idf[lt])
		}
	}
	if matched == 0 || qw == 0 || n.wsum == 0 {
		return 0, ""
	}
	qCov := float64(qm / qw)
	lCov := float64(lm / n.wsum)
	// Three or more tokens in common is strong evidence on its own: a wire
	// that leaves out a middle name or a second surname costs less.
	pen := dropPenalty
	if matched >= 3 {
		pen = dropPenaltyStrong
	}
	score := qCov * (1 - pen*(1-lCov))
	// One shared token is never enough against a name of several tokens.
	if matched == 1 && len(n.toks) > 1 {
		score *= 0.75
	}
	if !explain {
		return score, ""
	}
	var miss []string
	for li, lt := range n.toks {
		if lUsed&(1<<li) == 0 {
			miss = append(miss, s.tokText[lt])
		}
	}
	for qi := range q {
		if qUsed&(1<<qi) == 0 {
			miss = append(miss, q[qi].text+"(query)")
		}
	}
	if len(miss) > 0 {
		fmt.Fprintf(&b, "; unmatched: %s", strings.Join(miss, " "))
	}
	fmt.Fprintf(&b, "; query coverage %.2f, listed coverage %.2f", qCov, lCov)
	return score, b.String()
}

// dropPenalty is how much an unmatched listed token costs, as a share of its
// weight.
const (
	dropPenalty       = 0.45
	dropPenaltyStrong = 0.3
)

func sortMatches(ms []Match) {
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Score != ms[j].Score {
			return ms[i].Score > ms[j].Score
		}
		if ms[i].List != ms[j].List {
			return ms[i].List < ms[j].List
		}
		return ms[i].Entry < ms[j].Entry
	})
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// uniq keeps the first of each value, in order.
func uniq[T comparable](ts []T) []T {
	out := make([]T, 0, len(ts))
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func appendEntry(list []int32, e int32) []int32 {
	for _, x := range list {
		if x == e {
			return list
		}
	}
	return append(list, e)
}

// minIDLen is the shortest identifier matched: shorter numbers collide.
const minIDLen = 6

// idKeys returns the lookup keys of a listed identifier such as "Passport
// OB 0243318 (Democratic Republic of the Congo)": every tail of its words
// that starts at or before the first word with a digit, so both "0243318"
// and "OB 0243318" find it.
func idKeys(id string) []string {
	if i := strings.Index(id, " ("); i > 0 {
		id = id[:i]
	}
	words := strings.Fields(id)
	var out []string
	for i := len(words) - 1; i >= 0; i-- {
		k := normalizeID(strings.Join(words[i:], ""))
		if len(k) >= minIDLen && hasDigit(k) {
			out = append(out, k)
		}
	}
	return out
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}
