package fx

import (
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/ingest"
)

func TestToBase(t *testing.T) {
	tb, err := Parse([]byte("base: CAD\nversion: \"2025-03-03\"\nrates: {USD: \"1.4420\", BTC: \"125000\", JPY: \"0.00960\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		amount, ccy string
		want        int64 // CAD cents
	}{
		{"100.00", "USD", 14420},
		{"0.01", "USD", 1}, // 1.442 cents, rounded half away from zero
		{"9450", "CAD", 945000},
		{"0.00012345", "BTC", 1543}, // 15.43125 CAD
		{"1000", "JPY", 960},
	} {
		a, _, err := ingest.ParseAmount(c.amount)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tb.ToBase(a, c.ccy)
		if !ok || got != c.want {
			t.Errorf("%s %s = %d cents (%v), want %d", c.amount, c.ccy, got, ok, c.want)
		}
	}
	if _, ok := tb.ToBase(ingest.Amount{Int: 1}, "EUR"); ok {
		t.Error("a currency without a rate must be reported, not converted at 0")
	}
	if !strings.HasPrefix(tb.Version, "2025-03-03+sha256:") {
		t.Errorf("version %q must carry the table's label and content hash", tb.Version)
	}
	other, _ := Parse([]byte("base: CAD\nversion: \"2025-03-03\"\nrates: {USD: \"1.4421\"}\n"))
	if other.Version == tb.Version {
		t.Error("a different table under the same label must have a different version")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"base: XXX\nversion: v\n", "base"},
		{"base: CAD\n", "version"},
		{"base: CAD\nversion: v\nrates: {USD: \"-1\"}\n", "rates.USD"},
		{"base: CAD\nversion: v\nrates: {ZZZ: \"1\"}\n", "rates.ZZZ"},
		{"base: CAD\nversion: v\nrate: {}\n", "rate"},
	} {
		if _, err := Parse([]byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one naming %s", c.yaml, err, c.want)
		}
	}
}

func TestShippedTable(t *testing.T) {
	tb, err := Load("../../configs/fx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"CAD", "USD", "MXN", "CNY", "EUR", "BTC"} {
		if _, ok := tb.Rates()[c]; !ok {
			t.Errorf("configs/fx.yaml has no rate for %s", c)
		}
	}
}

// FuzzParse: a rate table file, whatever it holds, is a table or an
// error, and a table converts its own base at par.
func FuzzParse(f *testing.F) {
	f.Add([]byte("base: CAD\nversion: \"2025-03-03\"\nrates: {USD: \"1.4420\", BTC: \"125000\", JPY: \"0.00960\"}\n"))
	f.Add([]byte("base: USD\nversion: v\nrates: {}\n"))
	f.Add([]byte("base: XXX\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := Parse(b)
		if err != nil {
			return
		}
		a, _, err := ingest.ParseAmount("12.34")
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := tb.ToBase(a, tb.Base); !ok || got != 1234 {
			t.Fatalf("12.34 %s in its own base: %d, %v", tb.Base, got, ok)
		}
	})
}
