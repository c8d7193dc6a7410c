// Package fx converts amounts between currencies with a configured, versioned
// rate table, so that thresholds and window sums compare like with like. The
// conversion is exact integer arithmetic: the same input always gives the
// same minor units.
package fx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/sluice-aml/sluice/ingest"
)

// Table is a rate table: how many units of Base one unit of each currency is worth.
type Table struct {
	Base    string
	Version string // the table's own version label plus its content hash
	rates   map[string]ingest.Amount
	floats  map[string]float64
}

type file struct {
	Base    string            `yaml:"base"`
	Version string            `yaml:"version"`
	Rates   map[string]string `yaml:"rates"`
}

// Load reads a YAML rate table:
//
//	base: CAD
//	version: "2025-03-03"
//	rates: {USD: "1.4420", MXN: "0.0706", BTC: "121000"}
func Load(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse reads a YAML rate table from memory.
func Parse(b []byte) (*Table, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if !ingest.KnownCurrency(f.Base) {
		return nil, fmt.Errorf("base: %q is not a known currency", f.Base)
	}
	if f.Version == "" {
		return nil, fmt.Errorf("version: is required (auditors replay with the table in force)")
	}
	t := &Table{Base: f.Base, rates: map[string]ingest.Amount{}, floats: map[string]float64{}}
	codes := make([]string, 0, len(f.Rates))
	for c := range f.Rates {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", f.Base)
	for _, c := range codes {
		if !ingest.KnownCurrency(c) {
			return nil, fmt.Errorf("rates.%s: not a known currency", c)
		}
		a, _, err := ingest.ParseAmount(f.Rates[c])
		if err != nil || a.IsZero() {
			return nil, fmt.Errorf("rates.%s: %q is not a positive decimal", c, f.Rates[c])
		}
		t.rates[c] = a
		t.floats[c] = a.Float64()
		fmt.Fprintf(h, "%s=%s\n", c, a.String())
	}
	t.rates[f.Base] = ingest.Amount{Int: 1}
	t.floats[f.Base] = 1
	t.Version = f.Version + "+sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
	return t, nil
}

// ToBase converts an amount to minor units (cents) of the base currency. It
// reports false when the table has no rate for the currency.
func (t *Table) ToBase(a ingest.Amount, currency string) (int64, bool) {
	r, ok := t.rates[currency]
	if !ok {
		return 0, false
	}
	return a.MulRate(r, 2), true
}

// Rates returns the rates as floats, for rule expressions (fx.USD).
func (t *Table) Rates() map[string]float64 { return t.floats }
