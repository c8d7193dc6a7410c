package screening

// jaroWinkler is the Jaro-Winkler similarity of two tokens, 0..1. Typos in
// names fall mostly near the end (transliteration variants: Guzman/Guzmán,
// Mohammed/Muhammad), which is what the prefix bonus rewards.
func jaroWinkler(a, b []rune) float64 {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > lb {
		a, b, la, lb = b, a, lb, la
	}
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb [64]bool
	if lb > 64 {
		return 0
	}
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := i-window, i+window+1
		if lo < 0 {
			lo = 0
		}
		if hi > lb {
			hi = lb
		}
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	trans, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			trans++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(trans)/2)/m) / 3
	prefix := 0
	for prefix < 4 && prefix < la && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

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
