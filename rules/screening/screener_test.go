package screening

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

func TestTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GUZMAN LOERA, Joaquin", "guzman loera joaquin"},
		{"Cartel Jalisco Nueva Generación", "cartel jalisco nueva generacion"},
		{"CARTEL DE JALISCO NUEVA GENERACION", "cartel jalisco nueva generacion"},
		{"Comercializadora Trade Clear, S.A. de C.V.", "comercializadora trade clear"},
		{"J & P ADVERTISING, S.A. DE C.V.", "jp advertising"},
		{"Construcciones S. de R.L. de C.V.", "construcciones"},
		{"ANGLO-CARIBBEAN CO., LTD.", "anglo caribbean"},
		{"Acme Holdings LLC", "acme holdings"},
		{"Foo Inc.", "foo"},
		{"OOO Romashka", "romashka"},
		{"Dr. Ayman al-Zawahiri", "ayman zawahiri"},
		{"Sheikh Hassan O'Brien", "hassan obrien"},
		{"Luz del Rocío ARAMBULA GARCIA", "luz rocio arambula garcia"},
		{"María de la Luz", "maria luz"},
		{"  MÜLLER   Straße ", "muller strasse"},
		{"Al-Qa'ida", "qaida"},
		{"MS-13", "ms 13"},
		{"The Base", "base"},
		{"LA", "la"},
		{"李家东", "李 家 东"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(tokens(tt.in), " "); got != tt.want {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenSim(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float32
	}{
		{"guzman", "guzman", 1, 1},
		{"guzman", "guzmna", 0.83, 0.84},       // transposition: one edit
		{"generacion", "generasion", 0.9, 0.9}, // one substitution in ten
		{"joakin", "joaquin", 0.85, 0.85},      // same sound, two edits
		{"jose", "joaquin", 0, 0.5},
	}
	for _, tt := range tests {
		got := tokenSim([]rune(tt.a), []rune(tt.b), phonetic(tt.a) == phonetic(tt.b))
		if got < tt.min-1e-4 || got > tt.max+1e-4 {
			t.Errorf("tokenSim(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.min, tt.max)
		}
	}
}

// TestScreenName checks the cases the issue names against the real lists.
func TestScreenName(t *testing.T) {
	s := fullScreener(t)
	type want struct {
		list, entry string
		designated  bool
	}
	tests := []struct {
		q    string
		want []want // must all be present
		none bool   // no match at all
	}{
		{q: "joaquin guzman loera", want: []want{{"ofac-sdn", "6861", true}}},
		{q: "GUZMAN LOERA, Joaquin", want: []want{{"ofac-sdn", "6861", true}}},
		{q: "Joaquín Guzmán Loera", want: []want{{"ofac-sdn", "6861", true}}},
		{q: "Joakin Guzman Loera", want: []want{{"ofac-sdn", "6861", true}}},
		{q: "Cartel Jalisco Nueva Generación", want: []want{{"ofac-sdn", "17671", true}, {"us-fto", "cjng", true}, {"ca-terrorist", "cjng", true}}},
		{q: "CJNG", want: []want{{"us-fto", "cjng", true}}},
		{q: "Sinaloa Cartel", want: []want{{"us-fto", "cartel-de-sinaloa", true}}},
		{q: "Tren de Aragua", want: []want{{"us-fto", "tren-de-aragua", true}}},
		{q: "MS-13", want: []want{{"us-fto", "ms-13", true}}},
		{q: "Nemesio Oseguera Cervantes", want: []want{{"ofac-sdn", "17674", true}}},
		{q: "Mencho", want: []want{{"ofac-sdn", "17674", true}}},
		{q: "Anglo Caribbean Company Limited", want: []want{{"ofac-sdn", "173", false}}},
		{q: "Jose Guzman", none: true},
		{q: "John Smith", none: true},
		{q: "Guzman", none: true},
	}
	for _, tt := range tests {
		ms := s.ScreenName(tt.q)
		if tt.none {
			if len(ms) > 0 {
				t.Errorf("%q: want no match, got %s %s %q %.3f (%s)", tt.q, ms[0].List, ms[0].Entry, ms[0].ListedName, ms[0].Score, ms[0].Explain)
			}
			continue
		}
		for _, w := range tt.want {
			found := false
			for _, m := range ms {
				if m.List == w.list && m.Entry == w.entry {
					found = true
					if m.Designated != w.designated {
						t.Errorf("%q: %s %s designated %v, want %v", tt.q, w.list, w.entry, m.Designated, w.designated)
					}
					if m.Score < s.cfg.Threshold || m.Explain == "" || m.MatchedName != tt.q {
						t.Errorf("%q: bad match %+v", tt.q, m)
					}
				}
			}
			if !found {
				t.Errorf("%q: want %s %s among %v", tt.q, w.list, w.entry, brief(ms))
			}
		}
		for i := 1; i < len(ms); i++ {
			if ms[i].Score > ms[i-1].Score {
				t.Errorf("%q: matches not best first: %v", tt.q, brief(ms))
			}
		}
	}
}

func brief(ms []Match) string {
	var b []string
	for _, m := range ms {
		b = append(b, fmt.Sprintf("%s/%s %q %.3f", m.List, m.Entry, m.ListedName, m.Score))
	}
	return "[" + strings.Join(b, ", ") + "]"
}

func TestScreenWalletAndID(t *testing.T) {
	s := fullScreener(t)
	tests := []struct {
		q, entry string
	}{
		{"1Fz29BQp82pE3vXXcsZoMNQ3KSHfMzfMe3", "29703"},         // XBT in sdn.csv remarks
		{"0x8576ACC5C05D6CE88F4E49BF65BDF0C62F91353C", "29703"}, // ETH, case-insensitive
		{"18Ke1QWE9nQfXuhJijHggZuPJ5ZYxapoBK", "30518"},         // only in sdn_comments.csv
		{"CAUP590612HJCDRR09", "10321"},                         // C.U.R.P.
		{"aga-l-490105", ""},                                    // not an id of anyone
	}
	for _, tt := range tests {
		ms := s.Screen(tt.q)
		if tt.entry == "" {
			if len(ms) != 0 {
				t.Errorf("%q: want nothing, got %v", tt.q, brief(ms))
			}
			continue
		}
		if len(ms) == 0 || ms[0].Entry != tt.entry || ms[0].Score != 1 {
			t.Errorf("%q: want entry %s at score 1, got %v", tt.q, tt.entry, brief(ms))
		}
	}
	// Base58 addresses are case-sensitive.
	if ms := s.ScreenWallet(strings.ToLower("1Fz29BQp82pE3vXXcsZoMNQ3KSHfMzfMe3")); len(ms) != 0 {
		t.Errorf("lower-cased base58 address matched: %v", brief(ms))
	}
}

func TestHashIsContent(t *testing.T) {
	a := []lists.Entry{{List: "internal", ID: "1", Name: "A"}, {List: "internal", ID: "2", Name: "B"}}
	b := []lists.Entry{{List: "internal", ID: "2", Name: "B"}, {List: "internal", ID: "1", Name: "A"}}
	c := []lists.Entry{{List: "internal", ID: "1", Name: "A"}, {List: "internal", ID: "2", Name: "C"}}
	ha, hb, hc := lists.NewSet(a).Hash(), lists.NewSet(b).Hash(), lists.NewSet(c).Hash()
	if ha != hb {
		t.Errorf("order changed the hash: %s vs %s", ha, hb)
	}
	if ha == hc || !strings.HasPrefix(ha, "sha256:") || len(ha) != 71 {
		t.Errorf("hash %s / %s", ha, hc)
	}
}

// TestConcurrent screens from many goroutines at once, through the cache,
// and checks every answer equals the single-threaded one (run with -race).
func TestConcurrent(t *testing.T) {
	set := lists.NewSet([]lists.Entry{
		{List: "internal", ID: "1", Name: "Acme Trading SA de CV", Programs: []string{"SDGT"}, Wallets: []string{"bc1qexample0000000000000000000000000000"}},
		{List: "internal", ID: "2", Name: "GUZMAN LOERA, Joaquin", Type: lists.Person, Programs: []string{"SDNTK"}},
		{List: "internal", ID: "3", Name: "Jose Perez", Type: lists.Person},
	})
	s, err := New(set, Config{Dir: "unused", CacheSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	qs := []string{"acme trading", "Joaquin Guzman Loera", "jose perez", "nobody at all", "ACME TRADING S.A. DE C.V.", "BC1QEXAMPLE0000000000000000000000000000"}
	want := map[string][]Match{}
	for _, q := range qs {
		want[q] = s.Screen(q)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				q := qs[(i+g)%len(qs)]
				if got := s.Screen(q); !reflect.DeepEqual(got, want[q]) {
					t.Errorf("%q: got %v, want %v", q, brief(got), brief(want[q]))
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if n := s.cache.len(); n > 4 {
		t.Errorf("cache holds %d results, max 4", n)
	}
	if len(want["acme trading"]) != 1 || !want["acme trading"][0].Designated {
		t.Errorf("acme trading: %v", brief(want["acme trading"]))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for _, c := range []Config{{Dir: "x", Threshold: 1.5, MaxResults: 1}, {Dir: "x", Threshold: 0.5, MaxResults: -1}, {Threshold: 0.5, MaxResults: 1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	if _, err := Load(Config{Dir: "testdata", OFACDir: "testdata/nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing explicit OFAC dir: %v", err)
	}
}

// FuzzScreen feeds arbitrary queries to the normalizer and the matcher: no
// panic, scores in [threshold, 1], best first.
func FuzzScreen(f *testing.F) {
	set := lists.NewSet([]lists.Entry{
		{List: "internal", ID: "1", Name: "CARTEL DE JALISCO NUEVA GENERACION", Aliases: []string{"CJNG"}, Programs: []string{"SDNTK"}},
		{List: "internal", ID: "2", Name: "GUZMAN LOERA, Joaquin", Type: lists.Person, Wallets: []string{"0xAbC123"}, IDs: []string{"Passport OB 0243318 (Mexico)"}},
		{List: "internal", ID: "3", Name: "李家东"},
	})
	s, err := New(set, Config{Dir: "unused"})
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"Joaquín Guzmán", "S.A. de C.V.", "cjng", "0xabc123", "OB0243318", "李家东", "de la", "\xff\xfe"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		ms := s.Screen(q)
		for i, m := range ms {
			if m.Score < s.cfg.Threshold || m.Score > 1 {
				t.Fatalf("%q: score %v", q, m.Score)
			}
			if i > 0 && m.Score > ms[i-1].Score {
				t.Fatalf("%q: not best first", q)
			}
		}
	})
}
