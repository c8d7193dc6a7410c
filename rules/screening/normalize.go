package screening

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Words that carry no identity: honorifics, and the particles of Spanish,
// Portuguese, Dutch, German, French and Arabic names. They are dropped before
// matching so that "Luz del Rocio" = "Luz Rocio" and "al-Qaida" = "Qaida"
// count the same, unless a name is made of nothing else.
var stopWords = set(
	// particles and articles
	"de", "del", "la", "las", "los", "le", "les", "lo", "y", "e", "da", "das", "do", "dos", "di", "du",
	"van", "von", "der", "den", "ter", "al", "el", "bin", "ibn", "bint", "ben", "the", "of", "and", "et",
	// honorifics and titles
	"mr", "mrs", "miss", "mister", "dr", "prof", "sir", "dame", "lord", "sr", "sra", "srta",
	"don", "dona", "senor", "senora", "sheikh", "shaykh", "sheik", "haji", "hajji", "alhaj", "mullah",
	"maulana", "maulvi", "imam", "jr", "jnr", "snr", "ing", "lic", "mme", "mlle", "herr", "frau",
)

// Legal forms, removed at the end (and, for the Russian ones, the start) of a
// name. Multi-word forms are written as they appear after runs of single
// letters are joined: "S. de R.L. de C.V." becomes "s de rl de cv".
var legalSuffixes = [][]string{
	{"s", "de", "rl", "de", "cv"}, {"sapi", "de", "cv"}, {"sab", "de", "cv"}, {"sa", "de", "cv"},
	{"s", "de", "rl"}, {"sc", "de", "rl"}, {"de", "cv"}, {"co", "ltd"}, {"pvt", "ltd"}, {"pte", "ltd"},
	{"sa"}, {"sas"}, {"sc"}, {"ltd"}, {"ltda"}, {"llc"}, {"inc"}, {"corp"}, {"corporation"}, {"co"},
	{"company"}, {"limited"}, {"gmbh"}, {"ag"}, {"srl"}, {"sarl"}, {"plc"}, {"llp"}, {"lp"}, {"spa"},
	{"bv"}, {"nv"}, {"pte"}, {"pvt"}, {"jsc"}, {"ojsc"}, {"cjsc"}, {"pjsc"}, {"ooo"}, {"zao"}, {"oao"},
	{"fze"}, {"fzco"}, {"fzc"}, {"fzllc"}, {"cia"}, {"ca"}, {"sl"}, {"slu"}, {"oy"}, {"ab"}, {"kg"},
	{"eirl"}, {"sae"}, {"wll"}, {"est"}, {"establishment"},
}

var legalPrefixes = set("ooo", "zao", "oao", "pjsc", "jsc", "ojsc", "cjsc", "ao", "pao", "tov", "llc")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// tokens normalizes a name into the tokens matched against the lists: Unicode
// compatibility folding, accents removed, lower case, punctuation as space,
// apostrophes dropped ("O'Neil" = "ONeil"), single letters joined ("S.A." =
// "SA"), Han characters one token each, legal forms, honorifics and particles
// removed. Word order is kept but matching ignores it, which is what makes
// "GUZMAN LOERA, Joaquin" = "Joaquin Guzman Loera".
func tokens(s string) []string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// combining accent: dropped
		case r == '\'' || r == '’' || r == '‘' || r == '`' || r == 'ʼ':
			// apostrophe: joins ("O'Brien", "Qa'ida")
		case r == 'ß':
			b.WriteString("ss")
		case r == 'ø' || r == 'Ø':
			b.WriteByte('o')
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'ı':
			b.WriteByte('i')
		case unicode.Is(unicode.Han, r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	raw := strings.Fields(b.String())
	// Join runs of single letters: "s a de c v" -> "sa de cv", "j p morgan" -> "jp morgan".
	toks := raw[:0]
	for i := 0; i < len(raw); i++ {
		if utf8.RuneCountInString(raw[i]) == 1 && isLatin(raw[i]) {
			j := i
			var run string
			for j < len(raw) && utf8.RuneCountInString(raw[j]) == 1 && isLatin(raw[j]) {
				run += raw[j]
				j++
			}
			toks = append(toks, run)
			i = j - 1
			continue
		}
		toks = append(toks, raw[i])
	}
	toks = stripLegal(toks)
	kept := make([]string, 0, len(toks))
	for _, t := range toks {
		if !stopWords[t] {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		return toks // a name made only of particles ("LA", "THE BASE" is fine)
	}
	return kept
}

func isLatin(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r < 0x250
}

func stripLegal(toks []string) []string {
	for changed := true; changed && len(toks) > 1; {
		changed = false
		for _, suf := range legalSuffixes {
			if len(toks) > len(suf) && hasSuffix(toks, suf) {
				toks = toks[:len(toks)-len(suf)]
				changed = true
				break
			}
		}
		if len(toks) > 1 && legalPrefixes[toks[0]] {
			toks = toks[1:]
			changed = true
		}
	}
	return toks
}

func hasSuffix(toks, suf []string) bool {
	off := len(toks) - len(suf)
	for i, s := range suf {
		if toks[off+i] != s {
			return false
		}
	}
	return true
}

// normalizeWallet makes the lookup key of a digital currency address:
// trimmed, and lower case for the hex (0x...) and bech32 (bc1, ltc1...)
// forms, which are case-insensitive; base58 addresses are case-sensitive.
func normalizeWallet(s string) string {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "0x") || strings.HasPrefix(l, "bc1") || strings.HasPrefix(l, "ltc1") || strings.HasPrefix(l, "tb1") {
		return l
	}
	return s
}

// normalizeID makes the lookup key of an identifier: upper case letters and
// digits only, so "AEL-980417-S51" = "AEL980417S51".
func normalizeID(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phonetic is a coarse sound key for Latin-script tokens, so spellings of
// the same sound two edits apart still meet: Joakin/Joaquin,
// Mohamad/Muhammad's vowels aside, Yusef/Youssef, Chavez/Chaves.
func phonetic(t string) string {
	var b strings.Builder
	rs := []rune(t)
	var last rune
	emit := func(r rune) {
		if r != last {
			b.WriteRune(r)
			last = r
		}
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch r {
		case 'q':
			emit('k')
			if next == 'u' {
				i++
			}
		case 'c':
			switch next {
			case 'e', 'i', 'y':
				emit('s')
			case 'h':
				emit('x')
				i++
			case 'k':
				emit('k')
				i++
			default:
				emit('k')
			}
		case 'k':
			emit('k')
			if next == 'h' {
				i++
			}
		case 'p':
			if next == 'h' {
				emit('f')
				i++
			} else {
				emit('p')
			}
		case 's':
			if next == 'h' {
				emit('x')
				i++
			} else {
				emit('s')
			}
		case 'z':
			emit('s')
		case 'v', 'w':
			emit('b')
		case 'y', 'e':
			emit('i')
		case 'o':
			emit('u')
		case 'h':
			// silent in Spanish, a breath elsewhere: dropped
		case 'j':
			emit('j')
		default:
			emit(r)
		}
	}
	return b.String()
}
