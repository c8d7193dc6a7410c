package rulestest_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/rulestest"
)

// libraryCovered lists the rules of configs/rules/library.yaml reached by a
// scenario below; TestStarterRulesCovered adds them to the starter's.
var libraryCovered = []string{
	"memo-drug-slang-out", "memo-drug-slang-in", "memo-drug-slang-repeated-out", "memo-drug-slang-repeated-in",
	"precursor-memo", "chemical-supplier-outside-industry", "precursor-equipment-ambiguous", "chemical-supplier-repeated",
	"low-income-large-inflows", "low-income-onward", "support-purpose-large",
	"goods-payment-outside-industry", "bulk-cash-to-mexico",
	// graph_test.go
	"graph-cycle", "graph-scatter-gather", "graph-gather-scatter", "graph-gather-scatter-business", "graph-bipartite", "graph-stack",
}

// expectHit checks that rule fired on transaction tx with exactly reason.
func expectHit(t *testing.T, tr *rulestest.Tester, account string, tx *ingest.Event, rule, reason string) {
	t.Helper()
	for _, h := range tr.Hits(tx.ID) {
		if h.Rule.ID != rule {
			continue
		}
		if h.Reason != reason {
			t.Errorf("%s on %s: reason\n got %q\nwant %q", rule, tx.ID, h.Reason, reason)
		}
		return
	}
	t.Errorf("%s did not fire on %s (hits: %s)\n%s", rule, tx.ID, hitIDs(tr.Hits(tx.ID)), tr.Explain(account))
}

// expectNotFired checks that none of the rules fired on any event.
func expectNotFired(t *testing.T, tr *rulestest.Tester, account string, ruleIDs ...string) {
	t.Helper()
	for _, id := range ruleIDs {
		if tr.Fired(id) {
			t.Errorf("%s fired\n%s", id, tr.Explain(account))
		}
	}
}

// alertHas reports whether an alert about account for typology lists tx
// among its transactions.
func alertHas(tr *rulestest.Tester, account, typology, tx string) bool {
	for _, a := range tr.AlertsFor(account) {
		for _, ty := range a.Typologies {
			if ty.ID == typology && slices.Contains(a.Transactions, tx) {
				return true
			}
		}
	}
	return false
}

func withProfiles(t *testing.T, p map[string]rules.Profile) *rulestest.Tester {
	return rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: p})
}

func noErrors(t *testing.T, tr *rulestest.Tester) {
	t.Helper()
	if errs := tr.Errors(); len(errs) > 0 {
		t.Errorf("rule run-time errors: %v", errs)
	}
}

// --- drug_slang -----------------------------------------------------------

// A strong term (counterfeit M30 pills, "pressies") alerts on one payment.
func TestDrugSlangOut(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "slang-out"}
	pay := s.ev(monday, "p2p", "300.00", "CAD", cust("CA-002-100", "C-2100"), acct("CA-002-900"))
	pay.Memo = "pressies x20"
	tr.Feed(pay)
	a := tr.ExpectAlert("CA-002-100", "drug_slang")
	expectHit(t, tr, "CA-002-100", pay, "memo-drug-slang-out",
		`payment of 300.00 CAD with memo "pressies x20", which names fentanyl or counterfeit pills`)
	// The payee is not a customer: the inbound rule has no one to alert on.
	if got := hitIDs(tr.Hits(pay.ID)); got != "memo-drug-slang-out" {
		t.Errorf("hits %s, want memo-drug-slang-out only", got)
	}
	if a != nil && (a.Score != 70 || a.Transactions[0] != pay.ID) {
		t.Errorf("alert %+v", a)
	}
	noErrors(t, tr)
}

func TestDrugSlangIn(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "slang-in"}
	pay := s.ev(monday, "eft", "1200.00", "CAD", acct("CA-002-901"), cust("CA-002-110", "C-2110"))
	pay.Memo = "M30 x 40"
	tr.Feed(pay)
	tr.ExpectAlert("CA-002-110", "drug_slang")
	expectHit(t, tr, "CA-002-110", pay, "memo-drug-slang-in",
		`received 1,200.00 CAD with memo "M30 x 40", which names fentanyl or counterfeit pills`)
	if tr.Fired("memo-drug-slang-out") {
		t.Errorf("the payer is not a customer: memo-drug-slang-out should not fire\n%s", tr.Explain("CA-002-110"))
	}
}

// An ambiguous term ("blues" is also music) alerts only when it recurs: the
// second "for the blues" payment within 14 days, not the first.
func TestDrugSlangRepeatedOut(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "blues"}
	from := cust("CA-002-120", "C-2120")
	first := s.ev(monday, "p2p", "300.00", "CAD", from, acct("CA-002-902"))
	second := s.ev(monday.Add(hours(24*9)), "p2p", "280.00", "CAD", from, acct("CA-002-902"))
	first.Memo, second.Memo = "for the blues", "for the blues"
	tr.Feed(first)
	tr.ExpectNoAlert("CA-002-120")
	if hs := hitIDs(tr.Hits(first.ID)); hs != "" {
		t.Errorf("one ambiguous memo hit %s", hs)
	}
	tr.Feed(second)
	a := tr.ExpectAlert("CA-002-120", "drug_slang")
	expectHit(t, tr, "CA-002-120", second, "memo-drug-slang-repeated-out",
		`2 payments within 14 days carry drug slang, the latest "for the blues"`)
	if got := hitIDs(tr.Hits(second.ID)); got != "memo-drug-slang-repeated-out" {
		t.Errorf("hits %s, want memo-drug-slang-repeated-out only", got)
	}
	if a != nil {
		// Both memos counted in slang_out_14d: both are the alert's evidence.
		if a.Score != 65 || a.Transactions[0] != second.ID || !slices.Contains(a.Transactions, first.ID) {
			t.Errorf("alert score %d on %v, want 65 on [%s %s]", a.Score, a.Transactions, second.ID, first.ID)
		}
	}
	noErrors(t, tr)
}

// Payments received: two ambiguous memos from different payers within 14
// days; a third customer's two such memos 15 days apart do not recur.
func TestDrugSlangRepeatedIn(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "fent-in"}
	to := cust("CA-002-130", "C-2130")
	in1 := s.ev(monday, "p2p", "450.00", "CAD", acct("CA-002-903"), to)
	in2 := s.ev(monday.Add(hours(50)), "p2p", "900.00", "CAD", acct("CA-002-904"), to)
	in1.Memo, in2.Memo = "fent", "apache 10"
	apart := cust("CA-002-140", "C-2140")
	far1 := s.ev(monday, "p2p", "60.00", "CAD", acct("CA-002-905"), apart)
	far2 := s.ev(monday.Add(hours(24*15)), "p2p", "60.00", "CAD", acct("CA-002-905"), apart)
	far1.Memo, far2.Memo = "Blues night tickets", "Blues night tickets"
	tr.Feed(in1, far1, in2, far2)
	tr.ExpectAlert("CA-002-130", "drug_slang")
	expectHit(t, tr, "CA-002-130", in2, "memo-drug-slang-repeated-in",
		`2 payments received within 14 days carry drug slang, the latest "apache 10"`)
	tr.ExpectNoAlert("CA-002-140")
	if hs := hitIDs(tr.Hits(far2.ID)); hs != "" {
		t.Errorf("memos 15 days apart hit %s\n%s", hs, tr.Explain("CA-002-140"))
	}
	noErrors(t, tr)
}

// One ambiguous memo alone, each by a different customer: no hit at all.
func TestDrugSlangAmbiguousOnce(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "once"}
	for i, memo := range []string{"Fenty Beauty order", "Jazz & Blues festival"} {
		from := cust(fmt.Sprintf("CA-002-15%d", i), fmt.Sprintf("C-215%d", i))
		e := s.ev(monday.Add(hours(float64(i))), "eft", "85.00", "CAD", from, acct("CA-SHOP-2"))
		e.Memo = memo
		tr.Feed(e)
		if hs := hitIDs(tr.Hits(e.ID)); hs != "" {
			t.Errorf("memo %q hit %s", memo, hs)
		}
		tr.ExpectNoAlert(from.Account)
	}
	noErrors(t, tr)
}

// A customer orders from Fenty Beauty twice in ten days: a brand name that
// recurs is still a brand name.
func TestDrugSlangRepeatedBrand(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "brand"}
	from := cust("CA-002-160", "C-2160")
	shop := &ingest.Party{Account: "CA-SHOP-3", Name: "Fenty Beauty", Type: "organization"}
	for i := 0; i < 2; i++ {
		e := s.ev(monday.Add(hours(float64(240*i))), "eft", "64.00", "CAD", from, shop)
		e.Memo = "Fenty Beauty order"
		tr.Feed(e)
	}
	noErrors(t, tr)
	knownIssue(t, len(tr.AlertsFor("CA-002-160")) > 0, "memo-drug-slang-repeated-out raises drug_slang (65) on a customer's "+
		"second \"Fenty Beauty order\" within 14 days (hits "+hitIDs(tr.Hits("brand-02"))+"): slang_out_14d counts the same "+
		"brand memo twice; e.g. leave payments to organizations out of slang_out_14d/slang_in_14d and the repeated rules "+
		"(to.type != \"organization\"), or drop \"fenty\" from drug_slang_ambiguous")
}

// Everyday memos that contain a slang word's letters but not the word.
func TestDrugSlangBenignLookAlikes(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "slang-ok"}
	from, to := cust("CA-002-200", "C-2200"), cust("CA-002-210", "C-2210")
	for i, memo := range []string{"Blue Jays tickets", "Fentress Street rent", "blue jeans", "Fenwick Ave deposit", "China Garden dinner"} {
		e := s.ev(monday.Add(hours(float64(i))), "p2p", "240.00", "CAD", from, to)
		e.Memo = memo
		tr.Feed(e)
	}
	tr.ExpectNoAlert("CA-002-200")
	tr.ExpectNoAlert("CA-002-210")
	expectNotFired(t, tr, "CA-002-200", "memo-drug-slang-out", "memo-drug-slang-in")
}

// --- precursor_purchase ---------------------------------------------------

func TestPrecursorMemo(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "cas"}
	wire := s.ev(monday, "wire", "1000.00", "USD", cust("CA-003-100", "C-3100"),
		&ingest.Party{Account: "CN-ICBC-778", Name: "Hebei Tianyu Trading", Country: "CN"})
	wire.Memo = "CAS 79099-07-3 1kg"
	tr.Feed(wire)
	a := tr.ExpectAlert("CA-003-100", "precursor_purchase")
	// USD 1,000 at 1.4420.
	expectHit(t, tr, "CA-003-100", wire, "precursor-memo",
		`paid 1,442.00 CAD to Hebei Tianyu Trading (CN) with memo "CAS 79099-07-3 1kg", naming a fentanyl precursor or pill-press equipment`)
	if a != nil && a.Score != 70 {
		t.Errorf("score %d, want 70", a.Score)
	}
	noErrors(t, tr)
}

// A chemical distributor (NAICS 424690) pays its supplier in CN for
// solvents: its business, with an invoice memo dated "4-Apr" that must not
// read as 4-AP.
func TestPrecursorBenignChemicalDistributor(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-3200": {Type: "organization", Industry: "424690", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "distrib"}
	wire := s.ev(monday, "wire", "48000.00", "USD", cust("CA-003-200", "C-3200"),
		&ingest.Party{Account: "CN-BOC-2210", Name: "Jiangsu Hengrui Chemical Co., Ltd", Country: "CN", Industry: "325199", Type: "organization"})
	wire.Purpose = "GDDS"
	wire.Memo = "Invoice HR-2291 of 4-Apr, isopropanol 20 drums"
	tr.Feed(wire)
	tr.ExpectNoAlert("CA-003-200")
	expectNotFired(t, tr, "CA-003-200", "precursor-memo", "chemical-supplier-outside-industry", "precursor-equipment-ambiguous", "goods-payment-outside-industry")
	noErrors(t, tr)
}

// A landscaper pays a CN chemical firm USD 500: a sample-size order by a
// customer outside the chemical trade scores 50 and raises nothing alone;
// a second order whose memo names press parts ("punch and die set") adds
// 20 and alerts at 70.
func TestChemicalSupplierOutsideIndustry(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-3300": {Type: "organization", Industry: "561730", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "sample"}
	supplier := &ingest.Party{Account: "CN-BOC-5521", Name: "Wuhan Golden Wing Chemical Co., Ltd", Country: "CN"}
	wire := s.ev(monday, "wire", "500.00", "USD", cust("CA-003-300", "C-3300"), supplier)
	tr.Feed(wire)
	expectHit(t, tr, "CA-003-300", wire, "chemical-supplier-outside-industry",
		`paid 721.00 CAD to the chemical firm Wuhan Golden Wing Chemical Co., Ltd in CN, though the customer is not in the chemical trade (industry "561730")`)
	if got := hitIDs(tr.Hits(wire.ID)); got != "chemical-supplier-outside-industry" {
		t.Errorf("hits %s, want chemical-supplier-outside-industry only", got)
	}
	tr.ExpectNoAlert("CA-003-300") // 50 < 60

	parts := s.ev(monday.Add(hours(48)), "wire", "600.00", "USD", cust("CA-003-300", "C-3300"), supplier)
	parts.Memo = "punch and die set"
	tr.Feed(parts)
	a := tr.ExpectAlert("CA-003-300", "precursor_purchase")
	expectHit(t, tr, "CA-003-300", parts, "precursor-equipment-ambiguous",
		`the memo "punch and die set" names press parts or a precursor abbreviation`)
	// The second payment in 30 days to a chemical firm abroad also counts.
	expectHit(t, tr, "CA-003-300", parts, "chemical-supplier-repeated", "payments to chemical firms abroad in 30 days: 2, this one by wire")
	if got := hitIDs(tr.Hits(parts.ID)); got != "chemical-supplier-outside-industry,chemical-supplier-repeated,precursor-equipment-ambiguous" {
		t.Errorf("hits %s", got)
	}
	if a != nil && (a.Score != 90 || a.Transactions[0] != parts.ID) {
		t.Errorf("alert score %d on %v, want 90 (50 + 20 + 20) on %s", a.Score, a.Transactions, parts.ID)
	}
	noErrors(t, tr)
}

// A university lab (NAICS 541715) orders reagent samples from the same firm,
// and the landscaper pays a mid-size order (neither sample nor bulk).
func TestChemicalSupplierBenign(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{
		"C-3400": {Type: "organization", Industry: "541715", Country: "CA", Region: "ON"},
		"C-3410": {Type: "organization", Industry: "561730", Country: "CA", Region: "ON"},
	})
	s := &scenario{prefix: "lab"}
	supplier := &ingest.Party{Account: "CN-BOC-5521", Name: "Wuhan Golden Wing Chemical Co., Ltd", Country: "CN"}
	tr.Feed(
		s.ev(monday, "wire", "500.00", "USD", cust("CA-003-400", "C-3400"), supplier),
		s.ev(monday.Add(hours(24)), "wire", "3000.00", "USD", cust("CA-003-410", "C-3410"), supplier),
	)
	tr.ExpectNoAlert("CA-003-400")
	tr.ExpectNoAlert("CA-003-410")
	expectNotFired(t, tr, "CA-003-400", "chemical-supplier-outside-industry")
	if hs := hitIDs(tr.Hits("lab-01")); hs != "" {
		t.Errorf("the lab's order hit %s", hs)
	}
	noErrors(t, tr)
}

// --- underground_banking --------------------------------------------------

var student = map[string]rules.Profile{"C-4100": {Type: "person", Occupation: "student", Country: "CA", Region: "BC", City: "Vancouver"}}

// A student receives three 15,000 wires marked tuition from unrelated third
// parties, then buys bank drafts for a realtor with most of it.
func TestUndergroundBankingStudent(t *testing.T) {
	tr := withProfiles(t, student)
	s := &scenario{prefix: "ub"}
	st := cust("CA-004-100", "C-4100")
	var in []*ingest.Event
	for i, from := range []*ingest.Party{
		{Account: "HK-HSBC-301", Name: "Wong Kar Trading", Country: "HK"},
		{Account: "CN-ABC-88", Name: "Li Wei", Country: "CN"},
		{Account: "CA-TD-552", Name: "Zhang Min", Country: "CA"},
	} {
		e := s.ev(monday.Add(hours(float64(i)*24)), "wire", "15000.00", "CAD", from, st)
		e.Memo = []string{"tuition", "tuition fee", "Tuition"}[i]
		in = append(in, e)
	}
	tr.Feed(in[0])
	tr.ExpectNoAlert("CA-004-100") // one inflow: 20 points
	expectHit(t, tr, "CA-004-100", in[0], "support-purpose-large", `15,000.00 CAD marked "tuition"`)
	tr.Feed(in[1], in[2])
	a := tr.ExpectAlert("CA-004-100", "underground_banking")
	expectHit(t, tr, "CA-004-100", in[1], "low-income-large-inflows",
		"a customer declared student received 2 large inflows totalling 30,000.00 CAD within 10 days")
	expectHit(t, tr, "CA-004-100", in[2], "low-income-large-inflows",
		"a customer declared student received 3 large inflows totalling 45,000.00 CAD within 10 days")
	if a != nil && (a.Score != 65 || a.Version != 2 || a.Transactions[0] != in[1].ID) {
		t.Errorf("alert: score %d version %d on %v, want 65, 2, raised on %s", a.Score, a.Version, a.Transactions, in[1].ID)
	}

	realtor := &ingest.Party{Account: "CA-009-7781", Name: "Pacific Realty Ltd in trust", Type: "organization"}
	d1 := s.ev(monday.Add(hours(72)), "cheque", "20000.00", "CAD", st, realtor)
	d2 := s.ev(monday.Add(hours(74)), "cheque", "18000.00", "CAD", st, realtor)
	d1.Memo, d2.Memo = "bank draft", "bank draft"
	tr.Feed(d1, d2)
	if strings.Contains(hitIDs(tr.Hits(d1.ID)), "low-income-onward") {
		t.Errorf("20,000 of 45,000 is under 70 %%, yet low-income-onward fired on %s", d1.ID)
	}
	expectHit(t, tr, "CA-004-100", d2, "low-income-onward",
		"a customer declared student sent on 38,000.00 CAD within 72h of receiving 45,000.00 CAD in large inflows")
	noErrors(t, tr)
	// low-income-onward (60) alerts alone on the onward drafts.
	if !alertHas(tr, "CA-004-100", "underground_banking", d2.ID) {
		t.Errorf("the onward drafts are not in an underground_banking alert\n%s", tr.Explain("CA-004-100"))
	}
}

// The same pattern without a "tuition" label: two large unlabelled wires
// (45, no alert) and drafts onward (60: an alert on the draft).
func TestUndergroundBankingUnlabelled(t *testing.T) {
	tr := withProfiles(t, student)
	s := &scenario{prefix: "ub2"}
	st := cust("CA-004-100", "C-4100")
	in2 := s.ev(monday.Add(hours(20)), "wire", "14000.00", "CAD", &ingest.Party{Account: "CN-ABC-88", Name: "Li Wei", Country: "CN"}, st)
	tr.Feed(s.ev(monday, "wire", "16000.00", "CAD", &ingest.Party{Account: "HK-HSBC-301", Name: "Wong Kar Trading", Country: "HK"}, st), in2)
	expectHit(t, tr, "CA-004-100", in2, "low-income-large-inflows",
		"a customer declared student received 2 large inflows totalling 30,000.00 CAD within 10 days")
	tr.ExpectNoAlert("CA-004-100") // the inflows alone: 45
	d := s.ev(monday.Add(hours(80)), "cheque", "25000.00", "CAD", st, &ingest.Party{Account: "CA-009-7781", Name: "Pacific Realty Ltd in trust"})
	tr.Feed(d)
	expectHit(t, tr, "CA-004-100", d, "low-income-onward",
		"a customer declared student sent on 25,000.00 CAD within 72h of receiving 30,000.00 CAD in large inflows")
	a := tr.ExpectAlert("CA-004-100", "underground_banking")
	// Raised on the draft, with the two inflows it sent on as evidence.
	if a != nil && (a.Transactions[0] != d.ID || a.Score != 60 || !slices.Contains(a.Transactions, in2.ID)) {
		t.Errorf("alert score %d on %v, want 60 raised on %s listing %s", a.Score, a.Transactions, d.ID, in2.ID)
	}
}

// Parents send 1,500 a month of living expenses; the student pays rent.
func TestUndergroundBankingBenignFamilySupport(t *testing.T) {
	tr := withProfiles(t, student)
	s := &scenario{prefix: "family"}
	st := cust("CA-004-100", "C-4100")
	parent := &ingest.Party{Account: "CN-BOC-1", Name: "Chen Hua", Country: "CN"}
	for m := 0; m < 3; m++ {
		at := monday.AddDate(0, m, 0)
		in := s.ev(at, "wire", "1500.00", "CAD", parent, st)
		in.Memo = "living expenses"
		tr.Feed(in, s.ev(at.Add(hours(30)), "eft", "1400.00", "CAD", st, acct("CA-LANDLORD-7")))
	}
	tr.ExpectNoAlert("CA-004-100")
	expectNotFired(t, tr, "CA-004-100", "low-income-large-inflows", "low-income-onward", "support-purpose-large")
}

// A student's parent wires one year's tuition, which the student pays to the
// university two days later: the commonest large "tuition" wire of all.
func TestUndergroundBankingBenignTuitionPaid(t *testing.T) {
	tr := withProfiles(t, student)
	s := &scenario{prefix: "tuition"}
	st := cust("CA-004-100", "C-4100")
	in := s.ev(monday, "wire", "24000.00", "CAD", &ingest.Party{Account: "CN-BOC-1", Name: "Chen Hua", Country: "CN"}, st)
	in.Memo = "tuition"
	out := s.ev(monday.Add(hours(48)), "eft", "23500.00", "CAD", st,
		&ingest.Party{Account: "CA-003-UBC", Name: "University of British Columbia", Type: "organization", Industry: "611310"})
	out.Purpose = "STDY"
	tr.Feed(in, out)
	tr.ExpectNoAlert("CA-004-100")
	expectNotFired(t, tr, "CA-004-100", "low-income-large-inflows", "low-income-onward")
}

// --- trade_based ----------------------------------------------------------

// A dental office receives wires from third parties in AE, then pays for
// "goods" in HK.
func TestTradeBasedDentalOffice(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-5100": {Type: "organization", Industry: "621210", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "tbml"}
	d := cust("CA-005-100", "C-5100")
	tr.Feed(
		s.ev(monday, "wire", "20000.00", "USD", &ingest.Party{Account: "AE-ENBD-4410", Name: "Gulf Star General Trading LLC", Country: "AE"}, d),
		s.ev(monday.Add(hours(24)), "wire", "15000.00", "USD", &ingest.Party{Account: "AE-MASH-0007", Name: "Al Noor Electronics FZE", Country: "AE"}, d),
	)
	tr.ExpectNoAlert("CA-005-100")
	out := s.ev(monday.Add(hours(120)), "wire", "30000.00", "USD", d, &ingest.Party{Account: "HK-HSBC-8801", Name: "Kowloon Bright Trading Ltd", Country: "HK"})
	out.Purpose = "GDDS"
	out.Memo = "Invoice KB-2291"
	tr.Feed(out)
	a := tr.ExpectAlert("CA-005-100", "trade_based")
	// 30,000 × 1.4420; 28,840 + 21,630 in.
	expectHit(t, tr, "CA-005-100", out, "goods-payment-outside-industry",
		"a business of industry 621210 paid 43,260.00 CAD for goods in HK after 50,470.00 CAD of wires from third parties abroad in 14 days")
	if a != nil && a.Score != 70 {
		t.Errorf("score %d", a.Score)
	}
	noErrors(t, tr)
}

// A wholesaler (NAICS 423690) paid by customers in MX imports from CN; and a
// dental office buys equipment in HK with no foreign money coming in.
func TestTradeBasedBenign(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{
		"C-5200": {Type: "organization", Industry: "423690", Country: "CA", Region: "ON"},
		"C-5300": {Type: "organization", Industry: "621210", Country: "CA", Region: "ON"},
	})
	s := &scenario{prefix: "import"}
	w := cust("CA-005-200", "C-5200")
	tr.Feed(
		s.ev(monday, "wire", "60000.00", "USD", &ingest.Party{Account: "MX-BBVA-12", Name: "Electrónica del Norte SA de CV", Country: "MX"}, w),
		s.ev(monday.Add(hours(26)), "wire", "25000.00", "USD", &ingest.Party{Account: "MX-BNTE-34", Name: "Distribuidora Lumen", Country: "MX"}, w),
	)
	imp := s.ev(monday.Add(hours(120)), "wire", "70000.00", "USD", w, &ingest.Party{Account: "CN-ICBC-5567", Name: "Shenzhen Volt Electronics", Country: "CN"})
	imp.Purpose = "GDDS"
	imp.Memo = "Invoice SV-88 electronics shipment"
	dental := s.ev(monday.Add(hours(130)), "wire", "12000.00", "USD", cust("CA-005-300", "C-5300"),
		&ingest.Party{Account: "HK-BOC-7720", Name: "Pearl Dental Supply Ltd", Country: "HK"})
	dental.Purpose = "GDDS"
	tr.Feed(imp, dental)
	tr.ExpectNoAlert("CA-005-200")
	tr.ExpectNoAlert("CA-005-300")
	expectNotFired(t, tr, "CA-005-200", "goods-payment-outside-industry")
}

// --- bulk_cash ------------------------------------------------------------

// A trucking firm takes two armoured-car cash pickups and wires most of the
// cash to Mexico within three days.
func TestBulkCashToMexico(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-6100": {Type: "organization", Industry: "484110", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "bulk"}
	b := cust("CA-006-100", "C-6100")
	c1 := s.cash(monday, "28000.00", "CAD", b, "CA", "ON", "Toronto")
	c2 := s.cash(monday.Add(hours(24)), "24500.00", "CAD", b, "CA", "ON", "Toronto")
	c1.Channel, c2.Channel = "other", "other"
	c1.Memo, c2.Memo = "Garda armoured car deposit", "Garda armoured car deposit"
	mx := &ingest.Party{Account: "MX-BNMX-7781", Name: "Comercializadora Rio Bravo", Country: "MX"}
	w1 := s.ev(monday.Add(hours(48)), "wire", "20000.00", "USD", b, mx)
	tr.Feed(c1, c2, w1)
	tr.ExpectNoAlert("CA-006-100") // 28,840 of 52,500: under 70 %
	w2 := s.ev(monday.Add(hours(51)), "wire", "6000.00", "USD", b, mx)
	tr.Feed(w2)
	a := tr.ExpectAlert("CA-006-100", "bulk_cash")
	expectHit(t, tr, "CA-006-100", w2, "bulk-cash-to-mexico",
		"37,492.00 CAD wired to Mexico within 72h after 52,500.00 CAD of large cash credits")
	if a != nil && (a.Score != 70 || a.Transactions[0] != w2.ID) {
		t.Errorf("alert %+v", a)
	}
	noErrors(t, tr)
}

// A grocer deposits the day's takings every evening and pays its produce
// supplier in Mexico: much cash, much to MX, but no bulk credit.
func TestBulkCashBenignGrocer(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-6200": {Type: "organization", Industry: "445110", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "grocer"}
	g := cust("CA-006-200", "C-6200")
	for day, amt := range []string{"6200.00", "5800.50", "7100.00", "6650.25", "7800.00", "5400.00", "6900.00"} {
		tr.Feed(s.cash(monday.Add(hours(12+24*float64(day))), amt, "CAD", g, "CA", "ON", "Toronto"))
	}
	pay := s.ev(monday.Add(hours(24*7)), "wire", "30000.00", "CAD", g, &ingest.Party{Account: "MX-BBVA-901", Name: "Aguacates del Valle SA", Country: "MX"})
	pay.Purpose = "GDDS"
	tr.Feed(pay)
	tr.ExpectNoAlert("CA-006-200")
	expectNotFired(t, tr, "CA-006-200", "bulk-cash-to-mexico")
}

// --- word lists -----------------------------------------------------------

// testdata/benign_memos.txt holds everyday memos that must match neither the
// drug-slang nor the precursor list.
func TestBenignMemosFromFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "benign_memos.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "memo"}
	memos := map[string]string{}
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := s.ev(monday.Add(hours(float64(i))), "wire", "640.00", "CAD", cust("CA-002-300", "C-2300"), cust("CA-002-310", "C-2310"))
		e.Memo = line
		memos[e.ID] = line
		tr.Feed(e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(memos) < 10 {
		t.Fatalf("only %d memos in testdata/benign_memos.txt", len(memos))
	}
	for id, memo := range memos {
		if hs := hitIDs(tr.Hits(id)); hs != "" {
			t.Errorf("memo %q hit %s", memo, hs)
		}
	}
	tr.ExpectNoAlert("CA-002-300")
	tr.ExpectNoAlert("CA-002-310")
}

// Shop names, places and trade words that are also ambiguous list entries,
// each paid once by a different customer: the slang ones hit nothing, the
// tool ones score 20 (precursor-equipment-ambiguous) and alert on nothing.
func TestWordListsBenignNames(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "names"}
	tests := []struct {
		memo string
		hits string
	}{
		{"Fenty Beauty order", ""},
		{"Goodfellas Pizzeria", ""},
		{"Apache Junction motel", ""},
		{"Jackpot City casino", ""},
		{"Jazz & Blues festival", ""},
		{"HVAC vacuum pump", "precursor-equipment-ambiguous"},
		{"die set for lathe", "precursor-equipment-ambiguous"},
	}
	for i, tt := range tests {
		from := cust(fmt.Sprintf("CA-002-4%02d", i), fmt.Sprintf("C-24%02d", i))
		e := s.ev(monday.Add(hours(float64(i))), "eft", "85.00", "CAD", from, acct("CA-SHOP-1"))
		e.Memo = tt.memo
		tr.Feed(e)
		if got := hitIDs(tr.Hits(e.ID)); got != tt.hits {
			t.Errorf("memo %q: hits %q, want %q", tt.memo, got, tt.hits)
		}
		tr.ExpectNoAlert(from.Account)
	}
	noErrors(t, tr)
}

// A customer outside the chemical trade paying a chemical firm abroad in
// crypto: alerts on the first payment. A distributor in the trade paying its
// supplier the same way, repeatedly, does not.
func TestChemicalSupplierCrypto(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{
		"C-3500": {Type: "person", Occupation: "student", Country: "CA", Region: "ON"},
		"C-3510": {Type: "organization", Industry: "424690", Country: "CA", Region: "ON"},
	})
	s := &scenario{prefix: "chem-btc"}
	supplier := &ingest.Party{Wallet: "bc1qexamplewallet0000000000000000000000", Name: "Hebei Shengxiang Biotech Co., Ltd.", Country: "CN", Industry: "325412"}
	pay := s.ev(monday, "crypto_transfer", "0.01000000", "BTC", cust("CA-003-500", "C-3500"), supplier) // 867 USD: a sample
	tr.Feed(pay)
	tr.ExpectAlert("CA-003-500", "precursor_purchase")
	expectHit(t, tr, "CA-003-500", pay, "chemical-supplier-repeated", "payments to chemical firms abroad in 30 days: 1, this one by crypto_transfer")
	for i := 0; i < 3; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(24*(i+1)))), "wire", "48000.00", "USD", cust("CA-003-510", "C-3510"), supplier))
	}
	tr.ExpectNoAlert("CA-003-510")
}
