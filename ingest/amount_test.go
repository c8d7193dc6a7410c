package ingest

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in       string
		want     Amount
		decimals int
		str      string
		err      error
	}{
		{"9450.00", Amount{9450, 0}, 2, "9450.00", nil},
		{"9450", Amount{9450, 0}, 0, "9450.00", nil},
		{"0.01", Amount{0, 10_000_000_000_000_000}, 2, "0.01", nil},
		{"0.5", Amount{0, 500_000_000_000_000_000}, 1, "0.50", nil},
		{"007.10", Amount{7, 100_000_000_000_000_000}, 2, "7.10", nil},
		{"0.000000000000000001", Amount{0, 1}, 18, "0.000000000000000001", nil},
		{"0.123456789012345678", Amount{0, 123456789012345678}, 18, "0.123456789012345678", nil},
		{"999999999999999.999999999999999999", Amount{999999999999999, 999999999999999999}, 18, "999999999999999.999999999999999999", nil},
		{"0", Amount{}, 0, "0.00", nil},
		{"0000000000000000000001", Amount{1, 0}, 0, "1.00", nil}, // leading zeros do not count against the range
		{"1000000000000000", Amount{}, 0, "", errAmountRange},
		{"0.1234567890123456789", Amount{}, 0, "", errAmountDigits},
		{"-1", Amount{}, 0, "", errAmountNegative},
		{"-0.00", Amount{}, 0, "", errAmountNegative},
		{"", Amount{}, 0, "", errAmountSyntax},
		{".", Amount{}, 0, "", errAmountSyntax},
		{".5", Amount{}, 0, "", errAmountSyntax},
		{"5.", Amount{}, 0, "", errAmountSyntax},
		{"1e3", Amount{}, 0, "", errAmountSyntax},
		{"1E3", Amount{}, 0, "", errAmountSyntax},
		{"+1", Amount{}, 0, "", errAmountSyntax},
		{"1,000.00", Amount{}, 0, "", errAmountSyntax},
		{"1 000", Amount{}, 0, "", errAmountSyntax},
		{" 1", Amount{}, 0, "", errAmountSyntax},
		{"1.2.3", Amount{}, 0, "", errAmountSyntax},
		{"0x1F", Amount{}, 0, "", errAmountSyntax},
		{"Inf", Amount{}, 0, "", errAmountSyntax},
		{"١٢", Amount{}, 0, "", errAmountSyntax}, // Arabic-Indic digits
	}
	for _, c := range cases {
		a, d, err := ParseAmount(c.in)
		if err != c.err {
			t.Errorf("ParseAmount(%q) error %v, want %v", c.in, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if a != c.want || d != c.decimals {
			t.Errorf("ParseAmount(%q) = %+v, %d decimals; want %+v, %d", c.in, a, d, c.want, c.decimals)
		}
		if a.String() != c.str {
			t.Errorf("ParseAmount(%q).String() = %q, want %q", c.in, a.String(), c.str)
		}
	}
}

func TestAmountMinor(t *testing.T) {
	cases := []struct {
		in       string
		decimals int
		want     int64
	}{
		{"9450.00", 2, 945000},
		{"9450.999", 2, 945099}, // truncated toward zero
		{"0.01", 2, 1},
		{"0.009", 2, 0},
		{"15000", 0, 15000},
		{"1.125", 3, 1125},
		{"0.123456789012345678", 18, 123456789012345678},
		{"0.00012", 8, 12000}, // satoshis
		{"999999999999999.99", 2, 99999999999999999},
	}
	for _, c := range cases {
		a, _, err := ParseAmount(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Minor(c.decimals); got != c.want {
			t.Errorf("%s.Minor(%d) = %d, want %d", c.in, c.decimals, got, c.want)
		}
	}
}

func TestAmountMulRate(t *testing.T) {
	cases := []struct {
		amount, rate string
		decimals     int
		want         int64
	}{
		// Fast path: whole amount, rate with at most 6 decimals.
		{"100", "1.4420", 2, 14420},
		{"1", "0.005", 2, 1},   // half a cent rounds away from zero
		{"1", "0.00499", 2, 0}, // just under half a cent
		{"15000", "0.00960", 2, 14400},
		{"3", "0.000350", 2, 0},
		{"5", "125000", 2, 62500000},
		{"2147483647", "1", 2, 214748364700},
		{"5", "125000", 8, 62_500_000_000_000}, // more decimals than the fast path keeps
		{"5", "1.4420", 0, 7},
		// Big-int path: fractional amount or a rate with more than 6 decimals.
		{"0.123456789012345678", "125000", 2, 1543210}, // 15432.0986265432097500
		{"0.123456789012345678", "125000", 6, 15432098627},
		{"0.00012", "125000", 2, 1500},
		{"9999.99", "1.4420", 2, 1441999}, // 14419.98558
		{"0.005", "1", 2, 1},
		{"0.004999999999999999", "1", 2, 0},
		{"1", "0.0000001", 2, 0},
		{"1", "1.0000005", 6, 1000001},
		// Large amounts at large rates must not overflow in the fast path.
		{"100000000", "125000", 2, 1_250_000_000_000_000},
		{"999999999999", "1.4420", 2, 144_199_999_999_856},
		{"999999999999", "3100", 2, 309_999_999_999_690_000},
	}
	for _, c := range cases {
		a, _, err := ParseAmount(c.amount)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := ParseAmount(c.rate)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.MulRate(r, c.decimals); got != c.want {
			t.Errorf("%s × %s in 10^-%d = %d, want %d", c.amount, c.rate, c.decimals, got, c.want)
		}
		if ref, ok := mulRateRef(a, r, c.decimals); !ok || ref != c.want {
			t.Errorf("reference %s × %s = %d (%v); the table is wrong", c.amount, c.rate, ref, ok)
		}
	}
}

// TestMulRateOverflow: a decodable amount (under the 1e12 absurd limit in its
// own currency) times a large rate can exceed int64 minor units; the result
// must saturate instead of wrapping to a negative or small number.
func TestMulRateOverflow(t *testing.T) {
	a, _, _ := ParseAmount("900000000000") // 9e11 BTC passes Decode
	r, _, _ := ParseAmount("125000")
	if got := a.MulRate(r, 2); got != math.MaxInt64 {
		t.Errorf("9e11 × 125000 in cents = %d, want saturation at MaxInt64", got)
	}
	a, _, _ = ParseAmount("900000000000.5")
	if got := a.MulRate(r, 2); got != math.MaxInt64 {
		t.Errorf("9e11.5 × 125000 in cents = %d, want saturation at MaxInt64", got)
	}
}

// mulRateRef is MulRate with big.Rat: exact product, rounded half away from zero.
func mulRateRef(a, r Amount, decimals int) (int64, bool) {
	x := new(big.Rat).Mul(amountRat(a), amountRat(r))
	x.Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(x.Num(), x.Denom())
	return q.Int64(), q.IsInt64()
}

func amountRat(a Amount) *big.Rat {
	return new(big.Rat).Add(new(big.Rat).SetInt64(a.Int), big.NewRat(a.Frac, fracScale))
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"9450.00", "0.123456789012345678", "1e3", "-1", "", "007.10", "999999999999999.999999999999999999", "1000000000000000", ".5", "0.0", "5."} {
		f.Add(s, "125000")
	}
	f.Add("100", "1.4420")
	f.Add("0.005", "1")
	f.Fuzz(func(t *testing.T, s, rate string) {
		a, d, err := ParseAmount(s)
		if err != nil {
			return
		}
		if a.Int < 0 || a.Frac < 0 || a.Frac >= fracScale || d < 0 || d > MaxFracDigits {
			t.Fatalf("ParseAmount(%q) = %+v, %d", s, a, d)
		}
		// Exact: the same number as big.Rat reads it.
		want, ok := new(big.Rat).SetString(s)
		if !ok || want.Cmp(amountRat(a)) != 0 {
			t.Fatalf("ParseAmount(%q) = %+v, big.Rat says %v", s, a, want)
		}
		// The canonical string parses back to the same amount.
		b, _, err := ParseAmount(a.String())
		if err != nil || b != a {
			t.Fatalf("%q → %s → %+v, %v", s, a, b, err)
		}
		if strings.HasPrefix(a.String(), "0") && a.Int != 0 {
			t.Fatalf("String %q has a leading zero", a.String())
		}
		r, _, err := ParseAmount(rate)
		if err != nil {
			return
		}
		for _, dec := range []int{0, 2, 6, 8} {
			ref, fits := mulRateRef(a, r, dec)
			got := a.MulRate(r, dec)
			if fits && got != ref {
				t.Fatalf("%s × %s in 10^-%d = %d, exact %d", a, r, dec, got, ref)
			}
			if !fits && got != math.MaxInt64 {
				t.Fatalf("%s × %s in 10^-%d = %d, want saturation", a, r, dec, got)
			}
		}
	})
}

func BenchmarkMulRate(b *testing.B) {
	for _, c := range []struct{ name, amount, rate string }{
		{"fast", "9450", "1.4420"},
		{"big", "0.123456789012345678", "125000"},
	} {
		a, _, _ := ParseAmount(c.amount)
		r, _, _ := ParseAmount(c.rate)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.MulRate(r, 2)
			}
		})
	}
}
