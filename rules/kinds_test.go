package rules

import (
	"sort"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/ingest"
)

func TestKindsOf(t *testing.T) {
	for _, c := range []struct {
		src  string
		want string // sorted kinds, "*" for unconstrained
	}{
		{`kind == "wire"`, "wire"},
		{`kind == "wire" && amount > 5`, "wire"},
		{`amount > 5`, "*"},
		{`kind in ["wire", "eft"] && kind != "eft"`, "wire"},
		{`kind == "wire" || kind == "p2p"`, "p2p wire"},
		{`kind == "wire" || amount > 5`, "*"},
		{`!(kind in ["card", "ach", "p2p", "eft", "wire", "cash_deposit", "cash_withdrawal", "cheque", "crypto_buy", "crypto_sell", "other"])`, "crypto_transfer"},
		{`!(kind == "wire" && amount > 5)`, "*"},
		{`kind not in ["card", "ach", "p2p", "eft", "wire", "cash_deposit", "cash_withdrawal", "cheque", "crypto_buy", "crypto_transfer", "crypto_sell"]`, "other"},
	} {
		set, ok := kindsOf(c.src)
		got := "*"
		if ok {
			var ks []string
			for k := range set {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			got = strings.Join(ks, " ")
		}
		if got != c.want {
			t.Errorf("kindsOf(%s) = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestAllKindsMatchTheContract(t *testing.T) {
	have := map[string]bool{}
	for _, k := range allKinds {
		have[k] = true
	}
	for k := range ingest.Kinds {
		if !have[k] {
			t.Errorf("kind %q of spec/transaction.md is missing from rules.allKinds", k)
		}
	}
	if len(have) != len(ingest.Kinds) {
		t.Errorf("rules.allKinds has %d kinds, ingest.Kinds %d", len(have), len(ingest.Kinds))
	}
}
