package rescreen

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// names reads the screening package's ordinary given names and surnames.
func names(tb testing.TB) (first, last []string) {
	tb.Helper()
	read := func(file string) []string {
		p := filepath.Join("..", "testdata", file)
		f, err := os.Open(p)
		if err != nil {
			tb.Fatalf("%s is missing (%v): the benchmark draws ordinary names from it", p, err)
		}
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	return read("first_names.txt"), read("last_names.txt")
}

// bankHistory is n counterparties of 20,000 accounts over 90 days: most
// payments go to a pool of 2,000 regular payees (employers, utilities,
// suppliers), the rest to people met once; ten go to Tren de Aragua.
func bankHistory(tb testing.TB, n int) (seen []Seen, distinct int) {
	first, last := names(tb)
	rng := rand.New(rand.NewPCG(1, 2))
	person := func() string {
		return first[rng.IntN(len(first))] + " " + last[rng.IntN(len(last))] + " " + last[rng.IntN(len(last))]
	}
	regular := make([]string, 2000)
	for i := range regular {
		regular[i] = person()
		if i%3 == 0 {
			regular[i] = last[rng.IntN(len(last))] + " " + []string{"Supplies Ltd", "Holdings Inc", "Transportes S.A. de C.V.", "Trading LLC"}[i%4]
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	names := map[string]bool{}
	for i := 0; i < n; i++ {
		name := person()
		if rng.IntN(10) < 6 {
			name = regular[rng.IntN(len(regular))]
		}
		acct := fmt.Sprintf("US-002-%06d", i%20000)
		if i%(n/10) == 0 {
			name, acct = "TREN DE ARAGUA", fmt.Sprintf("VE-001-%06d", i)
		}
		names[strings.ToLower(name)] = true
		seen = append(seen, Seen{Name: name, Field: "to.name", Account: acct, CustomerID: "C" + acct,
			TxID: fmt.Sprint("tx-", i), Time: start.Add(time.Duration(i) * 90 * 24 * time.Hour / time.Duration(n))})
	}
	return seen, len(names)
}

func BenchmarkRescreen(b *testing.B) {
	const n = 100_000
	old, new := screeners(b)
	seen, distinct := bankHistory(b, n)
	for _, impl := range registries {
		b.Run(impl.name, func(b *testing.B) {
			reg := impl.new(b, Config{})
			for i := 0; i < len(seen); i += 1000 {
				if err := reg.Record(context.Background(), seen[i:min(i+1000, len(seen))]); err != nil {
					b.Fatal(err)
				}
			}
			kept := 0
			if err := reg.Scan(context.Background(), time.Time{}, func(Seen) error { kept++; return nil }); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var hits []Hit
			for b.Loop() {
				var err error
				hits, err = Rescreen(context.Background(), reg, old, new, time.Time{}, 0)
				if err != nil {
					b.Fatal(err)
				}
			}
			if len(hits) != 10 {
				b.Fatalf("%d hits, want the 10 payments to Tren de Aragua", len(hits))
			}
			b.ReportMetric(float64(kept)*float64(b.N)/b.Elapsed().Seconds(), "counterparties/s")
			b.ReportMetric(float64(distinct), "distinct-names")
		})
	}
}

func BenchmarkRecord(b *testing.B) {
	seen, _ := bankHistory(b, 100_000)
	for _, impl := range registries {
		b.Run(impl.name, func(b *testing.B) {
			reg := impl.new(b, Config{})
			const batch = 500
			i := 0
			for b.Loop() {
				j := (i * batch) % len(seen)
				if err := reg.Record(context.Background(), seen[j:j+batch]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
