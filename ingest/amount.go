package ingest

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// MaxFracDigits is the most decimals an amount may carry (crypto, 18).
const MaxFracDigits = 18

const fracScale = 1_000_000_000_000_000_000 // 10^18

// Amount is an exact, non-negative decimal: Int + Frac/10^18. Money is never
// held as a float: window sums and thresholds work on integer minor units.
type Amount struct {
	Int  int64 // whole units
	Frac int64 // 10^-18 units, 0 <= Frac < 10^18
}

var (
	errAmountSyntax   = errors.New("not a decimal number")
	errAmountNegative = errors.New("must be positive")
	errAmountDigits   = errors.New("too many decimals")
	errAmountRange    = errors.New("too large")
)

// ParseAmount parses a plain decimal such as "9450.00" or "0.00012". Exponents,
// signs other than a rejected minus, spaces and hex are not accepted.
func ParseAmount(s string) (Amount, int, error) {
	if s == "" {
		return Amount{}, 0, errAmountSyntax
	}
	if s[0] == '-' {
		return Amount{}, 0, errAmountNegative
	}
	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && fracPart == "") || !allDigits(intPart) || !allDigits(fracPart) {
		return Amount{}, 0, errAmountSyntax
	}
	if len(fracPart) > MaxFracDigits {
		return Amount{}, 0, errAmountDigits
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 15 { // beyond 10^15 units no real payment exists
		return Amount{}, 0, errAmountRange
	}
	var a Amount
	if intPart != "" {
		a.Int, _ = strconv.ParseInt(intPart, 10, 64)
	}
	decimals := len(fracPart)
	if fracPart != "" {
		f, _ := strconv.ParseInt(fracPart, 10, 64)
		for i := len(fracPart); i < MaxFracDigits; i++ {
			f *= 10
		}
		a.Frac = f
	}
	return a, decimals, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.Int == 0 && a.Frac == 0 }

// String writes the shortest exact decimal, with at least two decimals.
func (a Amount) String() string {
	frac := strconv.FormatInt(a.Frac+fracScale, 10)[1:] // 18 digits, zero padded
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return strconv.FormatInt(a.Int, 10) + "." + frac
}

// MarshalJSON writes the amount as a JSON string, as the contract's example does.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// Float64 is for display and comparisons in rule expressions only.
func (a Amount) Float64() float64 { return float64(a.Int) + float64(a.Frac)/fracScale }

// Minor returns the amount in minor units of 10^-decimals, truncated toward zero.
func (a Amount) Minor(decimals int) int64 {
	div := int64(1)
	for i := decimals; i < MaxFracDigits; i++ {
		div *= 10
	}
	mul := int64(1)
	for i := 0; i < decimals; i++ {
		mul *= 10
	}
	return a.Int*mul + a.Frac/div
}

// MulRate multiplies the amount by rate (both exact) and returns the result in
// minor units of 10^-decimals, rounded half away from zero. Used for currency
// conversion, where deterministic integer results matter more than speed.
func (a Amount) MulRate(rate Amount, decimals int) int64 {
	if a.Frac%10_000_000_000_000_000 == 0 && rate.Frac%1_000_000_000_000 == 0 && rate.Int < 1<<40 && decimals <= 6 {
		// Fast path: an amount with at most 2 decimals, a rate with at most
		// 6, and a product that fits in int64 (1e8 BTC × 125000 does not).
		cents := a.Int*100 + a.Frac/10_000_000_000_000_000    // 10^-2
		r := rate.Int*1_000_000 + rate.Frac/1_000_000_000_000 // 10^-6
		if a.Int < 1<<52 && (r == 0 || cents < (1<<62)/r) {
			v := cents * r // 10^-8 units
			shift := int64(1)
			for i := decimals; i < 8; i++ {
				shift *= 10
			}
			return (v + shift/2) / shift
		}
	}
	x := a.big()
	x.Mul(x, rate.big()) // 10^-36 units
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(36-decimals)), nil)
	half := new(big.Int).Rsh(div, 1)
	x.Add(x, half)
	x.Quo(x, div)
	if !x.IsInt64() {
		// Decode bounds amounts in their own currency only; an absurd crypto
		// amount at a large rate saturates rather than wrapping negative.
		return math.MaxInt64
	}
	return x.Int64()
}

func (a Amount) big() *big.Int {
	x := big.NewInt(a.Int)
	x.Mul(x, big.NewInt(fracScale))
	return x.Add(x, big.NewInt(a.Frac))
}
