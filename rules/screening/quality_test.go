package screening

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// labelled is one query of the quality test.
type labelled struct {
	query, kind string
	list, entry string // the entry it must find; empty for an ordinary name
}

// listedVariants builds queries from the real lists: for a deterministic
// sample of entries, the name as a payment might carry it, one variant kind
// per entry in turn.
func listedVariants(s *Screener, n int) []labelled {
	rng := rand.New(rand.NewSource(1))
	var pool []int
	for i, e := range s.set.Entries {
		if e.Type == lists.Person || e.Type == lists.Organization {
			pool = append(pool, i)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	kinds := []string{"case", "accents", "order", "dropped", "typo", "alias", "exact"}
	var out []labelled
	for k, i := 0, 0; len(out) < n && i < len(pool); i++ {
		e := &s.set.Entries[pool[i]]
		kind := kinds[k%len(kinds)]
		q, ok := variant(rng, e, kind)
		if !ok {
			continue // this entry cannot make this kind; the next one will
		}
		k++
		out = append(out, labelled{query: q, kind: kind, list: e.List, entry: e.ID})
	}
	return out
}

func variant(rng *rand.Rand, e *lists.Entry, kind string) (string, bool) {
	name := e.Name
	words := strings.Fields(strings.NewReplacer(",", " ").Replace(name))
	switch kind {
	case "exact":
		return name, true
	case "case":
		if rng.Intn(2) == 0 {
			return strings.ToLower(name), true
		}
		return strings.Title(strings.ToLower(name)), true
	case "accents":
		r := strings.NewReplacer("a", "á", "e", "é", "i", "í", "o", "ó", "u", "ú", "n", "ñ", "A", "Á", "E", "É", "O", "Ö")
		if !strings.ContainsAny(name, "aeiouAEO") {
			return "", false
		}
		return r.Replace(name), true
	case "order":
		// People's names change order on the wire: "GUZMAN LOERA, Joaquin"
		// -> "Joaquin Guzman Loera", "ERIC BADEGE" -> "BADEGE ERIC".
		if e.Type != lists.Person {
			return "", false
		}
		if last, first, ok := strings.Cut(name, ", "); ok && !strings.Contains(first, ",") {
			return first + " " + last, true
		}
		if len(words) < 2 {
			return "", false
		}
		return strings.Join(append(words[len(words)-1:], words[:len(words)-1]...), " "), true
	case "dropped":
		// A dropped middle token, as when a wire leaves out a middle name or
		// the second surname: names of four tokens or more.
		toks := tokens(name)
		if len(toks) < 4 {
			return "", false
		}
		drop := 1 + rng.Intn(len(toks)-2)
		return strings.Join(append(append([]string{}, toks[:drop]...), toks[drop+1:]...), " "), true
	case "typo":
		// One edit in a token of six letters or more.
		toks := tokens(name)
		var long []int
		for i, t := range toks {
			if utf8.RuneCountInString(t) >= 6 && isLatin(t) {
				long = append(long, i)
			}
		}
		if len(long) == 0 || len(toks) < 2 {
			return "", false
		}
		i := long[rng.Intn(len(long))]
		r := []rune(toks[i])
		p := 1 + rng.Intn(len(r)-2)
		switch rng.Intn(3) {
		case 0: // substitution
			r[p] = rune('a' + rng.Intn(26))
		case 1: // deletion
			r = append(r[:p], r[p+1:]...)
		default: // transposition
			r[p], r[p+1] = r[p+1], r[p]
		}
		toks[i] = string(r)
		return strings.Join(toks, " "), true
	case "alias":
		var latin []string
		for _, a := range e.Aliases {
			if isLatin(a) && len(tokens(a)) > 0 {
				latin = append(latin, a)
			}
		}
		if len(latin) == 0 {
			return "", false
		}
		return strings.ToUpper(latin[rng.Intn(len(latin))]), true
	}
	return "", false
}

// ordinaryNames combines common first and family names from testdata, within
// and across language groups, into names no list holds. A generated name
// whose tokens are exactly those of a listed name or alias is a listed name,
// not an ordinary one, and is left out.
func ordinaryNames(t testing.TB, s *Screener, n int) []labelled {
	first := readNames(t, "first_names.txt")
	last := readNames(t, "last_names.txt")
	listed := map[string]bool{}
	for i := range s.names {
		listed[bagKey(tokens(s.names[i].text))] = true
	}
	rng := rand.New(rand.NewSource(2))
	groups := sortedKeys(first)
	seen := map[string]bool{}
	var out []labelled
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		g := groups[rng.Intn(len(groups))]
		fg, lg := first[g], last[g]
		if rng.Intn(5) == 0 { // mixed origin: "Wei Garcia", "Maria Haddad"
			lg = last[groups[rng.Intn(len(groups))]]
		}
		parts := []string{fg[rng.Intn(len(fg))]}
		switch rng.Intn(4) {
		case 0:
			parts = append(parts, fg[rng.Intn(len(fg))]) // middle name
		case 1:
			parts = append(parts, lg[rng.Intn(len(lg))]) // Spanish second surname
		}
		parts = append(parts, lg[rng.Intn(len(lg))])
		q := strings.Join(parts, " ")
		if rng.Intn(3) == 0 {
			q = strings.ToUpper(parts[len(parts)-1]) + ", " + strings.Join(parts[:len(parts)-1], " ")
		}
		k := bagKey(tokens(q))
		if seen[k] || listed[k] {
			continue
		}
		seen[k] = true
		out = append(out, labelled{query: q, kind: "ordinary"})
	}
	return out
}

func bagKey(toks []string) string {
	c := append([]string{}, toks...)
	sort.Strings(c)
	return strings.Join(c, " ")
}

func readNames(t testing.TB, file string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("name list: %v", err)
	}
	defer f.Close()
	out := map[string][]string{}
	group := "all"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# "):
			if g := strings.TrimPrefix(line, "# "); !strings.Contains(g, " ") {
				group = g
			}
		default:
			out[group] = append(out[group], line)
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestQuality measures recall on variants of listed names and the false
// alarm rate on ordinary names, at the configured threshold, with the cache
// off so every query is really screened.
func TestQuality(t *testing.T) {
	base := fullScreener(t)
	cfg := base.cfg
	cfg.CacheSize = -1
	s, err := New(base.set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	variants := listedVariants(s, 2100)
	ordinary := ordinaryNames(t, s, 5000)

	hits := map[string]int{}
	total := map[string]int{}
	var misses []string
	for _, l := range variants {
		total[l.kind]++
		found := false
		for _, m := range s.Screen(l.query) {
			if m.List == l.list && m.Entry == l.entry {
				found = true
				break
			}
		}
		if found {
			hits[l.kind]++
		} else if len(misses) < 25 {
			misses = append(misses, fmt.Sprintf("%s %q (%s %s)", l.kind, l.query, l.list, l.entry))
		}
	}
	var alarms []string
	fa := 0
	for _, o := range ordinary {
		if ms := s.Screen(o.query); len(ms) > 0 {
			fa++
			if len(alarms) < 25 {
				alarms = append(alarms, fmt.Sprintf("%q -> %s %s %q %.3f", o.query, ms[0].List, ms[0].Entry, ms[0].ListedName, ms[0].Score))
			}
		}
	}
	h, n := 0, 0
	for k, v := range total {
		h += hits[k]
		n += v
	}
	recall := float64(h) / float64(n)
	far := float64(fa) / float64(len(ordinary))
	for _, k := range []string{"exact", "case", "accents", "order", "dropped", "typo", "alias"} {
		t.Logf("recall %-8s %4d/%4d = %.4f", k, hits[k], total[k], float64(hits[k])/float64(total[k]))
	}
	for _, m := range misses {
		t.Logf("missed: %s", m)
	}
	for _, a := range alarms {
		t.Logf("false alarm: %s", a)
	}
	summary := fmt.Sprintf("screening quality at threshold %.2f: recall %.4f (%d/%d listed-name variants), false alarms %.4f (%d/%d ordinary names)",
		s.cfg.Threshold, recall, h, n, far, fa, len(ordinary))
	t.Log(summary)
	fmt.Println(summary) // visible in CI's go test output, -v or not
	if recall < 0.98 {
		t.Errorf("recall %.4f < 0.98", recall)
	}
	if far > 0.01 {
		t.Errorf("false alarm rate %.4f > 0.01", far)
	}
}
