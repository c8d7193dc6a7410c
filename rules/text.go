package rules

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// TextList is a list of words and phrases looked for in payment text (drug
// slang, precursor names, CAS numbers, mislabelled purposes). Matching is case-
// and accent-insensitive and on whole words, so "Fentress Street" does not
// match "fent".
type TextList struct {
	Name    string
	phrases []string // normalized, each padded with spaces
}

// NewTextList builds a list from its phrases.
func NewTextList(name string, phrases []string) *TextList {
	l := &TextList{Name: name}
	for _, p := range phrases {
		if n := NormalizeText(p); n != "" {
			l.phrases = append(l.phrases, " "+n+" ")
		}
	}
	return l
}

// Match reports whether text holds one of the list's phrases as whole words.
func (l *TextList) Match(text string) bool {
	_, ok := l.Find(text)
	return ok
}

// Find returns the first phrase of the list found in text.
func (l *TextList) Find(text string) (string, bool) {
	if text == "" {
		return "", false
	}
	t := " " + NormalizeText(text) + " "
	for _, p := range l.phrases {
		if strings.Contains(t, p) {
			return strings.TrimSpace(p), true
		}
	}
	return "", false
}

// HasPrefix reports whether text, normalized, starts with one of the list's
// entries: industry codes (code_in(to.profile.industry, "cash_intensive_naics")
// matches 722511 against 722).
func (l *TextList) HasPrefix(text string) bool {
	if text == "" {
		return false
	}
	t := " " + NormalizeText(text)
	for _, p := range l.phrases {
		if strings.HasPrefix(t, p[:len(p)-1]) {
			return true
		}
	}
	return false
}

// NormalizeText lower-cases, strips accents and turns every run of
// non-alphanumeric characters into one space.
func NormalizeText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		if r, _, err := transform.String(t, s); err == nil {
			s = r
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}
