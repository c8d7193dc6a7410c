package screening

// deletes1 returns s with each one of its runes deleted: the symmetric
// delete neighbourhood that finds every token within one edit (insertion,
// deletion, substitution or adjacent transposition) by exact lookups.
func deletes1(s string) []string {
	r := []rune(s)
	out := make([]string, 0, len(r))
	buf := make([]rune, 0, len(r))
	for i := range r {
		buf = append(buf[:0], r[:i]...)
		buf = append(buf, r[i+1:]...)
		out = append(out, string(buf))
	}
	return out
}

// osa is the optimal string alignment distance (Levenshtein plus adjacent
// transpositions) of two tokens.
func osa(a, b []rune) int {
	la, lb := len(a), len(b)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	var buf [3][32]int
	if lb >= 32 {
		return max(la, lb)
	}
	prev2, prev, cur := buf[0][:lb+1], buf[1][:lb+1], buf[2][:lb+1]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// tokenSim is how alike two different tokens are, 0..1: one minus the edit
// distance over the longer length, so one typo in "guzman" costs more than
// one in "generacion", raised to phoneticSim for tokens that sound the same.
func tokenSim(a, b []rune, samePhon bool) float32 {
	d := osa(a, b)
	sim := 1 - float32(d)/float32(max(len(a), len(b)))
	if samePhon && sim < phoneticSim {
		sim = phoneticSim
	}
	return sim
}

// phoneticSim is the similarity of two spellings with the same sound key.
const phoneticSim = 0.85
