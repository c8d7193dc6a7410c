package rules

import "testing"

func TestTextList(t *testing.T) {
	slang := NewTextList("drug_slang", []string{"fent", "fenty", "fentanyl", "fentanilo", "M30", "china girl", "dragon's breath", "nómina"})
	cas := NewTextList("precursors", []string{"79099-07-3", "4-AP", "1-boc-4-piperidone"})
	cases := []struct {
		list *TextList
		text string
		want string // phrase found, "" for none
	}{
		// Whole words only: a street name is not slang.
		{slang, "rent 1204 Fentress Street", ""},
		{slang, "fent", "fent"},
		{slang, "for the fent, thanks", "fent"},
		{slang, "FENT!!", "fent"},
		{slang, "fenty x2", "fenty"},
		{slang, "fentanyl", "fentanyl"},
		// FENTANYL does not match "fent" (another word); it matches only
		// because "fentanyl" is in the list. The Spanish spelling needs its
		// own entry: accents are folded, spelling is not.
		{NewTextList("x", []string{"fent"}), "FENTANYL", ""},
		{slang, "FENTANYL", "fentanyl"},
		{slang, "fentanílo", "fentanilo"},
		{slang, "FENTANILO", "fentanilo"},
		{NewTextList("x", []string{"fentanyl"}), "fentanílo", ""},
		{slang, "m30s", ""},
		{slang, "10 m30 blues", "m30"},
		{slang, "M300 printer", ""},
		{slang, "China-Girl", "china girl"},
		{slang, "china   girl", "china girl"},
		{slang, "chinagirl", ""},
		{slang, "Dragon’s Breath", "dragon s breath"}, // curly apostrophe
		{slang, "dragons breath", ""},
		// Accents fold both ways.
		{slang, "NOMINA marzo", "nomina"},
		{slang, "nómina marzo", "nomina"},
		{NewTextList("x", []string{"nomina"}), "Nómina", "nomina"},
		// CAS numbers match with any separator but not inside longer numbers.
		{cas, "CAS 79099-07-3 x 5kg", "79099 07 3"},
		{cas, "cas#79099 07 3", "79099 07 3"},
		{cas, "179099-07-3", ""},
		{cas, "79099-07-31", ""},
		{cas, "790990 73", ""},
		{cas, "4-AP 1kg", "4 ap"},
		{cas, "4-ANPP", ""},
		{cas, "1-Boc-4-Piperidone, 99%", "1 boc 4 piperidone"},
		{slang, "", ""},
		{slang, "   ", ""},
	}
	for _, c := range cases {
		got, ok := c.list.Find(c.text)
		if got != c.want || ok != (c.want != "") || c.list.Match(c.text) != ok {
			t.Errorf("%s.Find(%q) = %q, %v; want %q", c.list.Name, c.text, got, ok, c.want)
		}
	}
	if l := NewTextList("empty", []string{"", "  ", "--"}); l.Match("anything -- at all") {
		t.Error("blank phrases must be dropped, not match everything")
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"Fentress Street":      "fentress street",
		"  José  Núñez-Pérez ": "jose nunez perez",
		"79099-07-3":           "79099 07 3",
		"ÅNGSTRÖM":             "angstrom",
		"王 小明":                 "王 小明",
		"a\u0301b":             "ab",
		"":                     "",
		"!!!":                  "",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzTextList(f *testing.F) {
	f.Add("fent", "Fentress Street")
	f.Add("79099-07-3", "CAS 79099-07-3")
	f.Add("nómina", "NOMINA")
	f.Fuzz(func(t *testing.T, phrase, text string) {
		l := NewTextList("f", []string{phrase})
		p, ok := l.Find(text)
		if ok && p != NormalizeText(phrase) {
			t.Fatalf("found %q for phrase %q", p, phrase)
		}
		// A phrase always matches its own text.
		if NormalizeText(phrase) != "" && !l.Match(phrase) {
			t.Fatalf("%q does not match itself", phrase)
		}
	})
}

func BenchmarkTextListMatch(b *testing.B) {
	l := NewTextList("drug_slang", []string{"fent", "fenty", "blues", "m30", "china girl", "dragon's breath", "carfentanil", "acetylfentanyl"})
	b.ReportAllocs()
	for b.Loop() {
		l.Match("Invoice 2291 for consulting services, March")
	}
}
