package rulestest_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/rulestest"
)

var starter = []string{filepath.Join("..", "..", "configs", "rules"), filepath.Join("..", "..", "configs", "typologies")}

// Monday 3 March 2025, 09:00 in Toronto.
var monday = time.Date(2025, 3, 3, 9, 0, 0, 0, time.FixedZone("EST", -5*3600))

// scenario builds events with ids scoped to one test.
type scenario struct {
	prefix string
	n      int
}

func (s *scenario) ev(at time.Time, kind, amount, currency string, from, to *ingest.Party) *ingest.Event {
	s.n++
	return &ingest.Event{ID: fmt.Sprintf("%s-%02d", s.prefix, s.n), Time: at, Kind: kind, Amount: rulestest.Amount(amount), Currency: currency, From: from, To: to}
}

func acct(a string) *ingest.Party { return &ingest.Party{Account: a} }

func cust(a, c string) *ingest.Party { return &ingest.Party{Account: a, CustomerID: c} }

// cash is a branch cash deposit into account at a place.
func (s *scenario) cash(at time.Time, amount, currency string, to *ingest.Party, country, region, city string) *ingest.Event {
	e := s.ev(at, "cash_deposit", amount, currency, &ingest.Party{Name: "depositor"}, to)
	e.Channel = "branch"
	e.Location = &ingest.Location{Country: country, Region: region, City: city}
	return e
}

func hitIDs(hs []rules.Hit) string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.Rule.ID)
	}
	return strings.Join(ids, ",")
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// knownIssue marks a rule-config weakness found by these tests: the check
// runs, and when it fails the test is skipped with the reason (the configs'
// owner fixes it; the test then passes on its own). Checks made before it
// still fail the test.
func knownIssue(t *testing.T, failed bool, why string) {
	t.Helper()
	if failed {
		t.Skip("KNOWN CONFIG ISSUE: " + why)
	}
}

func TestStructuringCA24h(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "ca"}
	to := cust("CA-001-100", "C-100")
	deposits := []*ingest.Event{
		s.cash(monday, "4000.00", "CAD", to, "CA", "ON", "Toronto"),
		s.cash(monday.Add(hours(6)), "3500.00", "CAD", to, "CA", "ON", "Mississauga"),
	}
	tr.Feed(deposits...)
	tr.ExpectNoAlert("CA-001-100") // 7,500 so far
	last := s.cash(monday.Add(hours(20)), "3000.00", "CAD", to, "CA", "ON", "Toronto")
	deposits = append(deposits, last)
	tr.Feed(last)
	a := tr.ExpectAlert("CA-001-100", "structuring")
	if a == nil {
		return
	}
	if hitIDs(tr.Hits(last.ID)) != "cash-split-24h-ca" {
		t.Errorf("hits on %s: %s", last.ID, hitIDs(tr.Hits(last.ID)))
	}
	r := a.Rules[0]
	if r.Reason != "3 cash deposits within 24h, each under 10,000.00 CAD (largest 4,000.00), total 10,500.00 CAD" {
		t.Errorf("reason %q", r.Reason)
	}
	if a.Score != 70 || a.Transactions[0] != last.ID || !strings.HasPrefix(a.Ruleset, "sha256:") || a.Ruleset != tr.Set().Hash {
		t.Errorf("alert %+v", a)
	}
	// The alert lists every deposit the 24-hour sum counted (spec/alert.md:
	// the triggering one first, then the others in any order).
	var want []string
	for _, d := range deposits {
		want = append(want, d.ID)
	}
	if got := slices.Sorted(slices.Values(a.Transactions)); !slices.Equal(got, want) {
		t.Errorf("transactions %v, want %v", a.Transactions, want)
	}
}

// A restaurant deposits its takings every evening, each day under the
// threshold and no two deposits within 24h reaching it.
func TestStructuringCABenignRestaurant(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "resto"}
	to := cust("CA-001-200", "C-200")
	for day, amt := range []string{"4200.00", "3900.50", "5100.00", "4750.25", "4400.00", "6300.00", "2800.00"} {
		tr.Feed(s.cash(monday.Add(hours(13+24*float64(day))), amt, "CAD", to, "CA", "ON", "Toronto"))
	}
	tr.ExpectNoAlert("CA-001-200")
}

// A single large deposit is reported (LCTR), not split: no structuring.
func TestStructuringBenignSingleLargeDeposit(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "large"}
	to := cust("CA-001-300", "C-300")
	tr.Feed(
		s.cash(monday, "15000.00", "CAD", to, "CA", "ON", "Toronto"),
		s.cash(monday.Add(hours(3)), "600.00", "CAD", to, "CA", "ON", "Toronto"),
	)
	tr.ExpectNoAlert("CA-001-300")
}

func TestStructuringUSBusinessDay(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "us"}
	to := acct("US-026-100")
	first := s.cash(monday.Add(hours(1)), "6000.00", "USD", to, "US", "NY", "Buffalo")
	second := s.cash(monday.Add(hours(6)), "4500.00", "USD", to, "US", "NY", "Buffalo")
	tr.Feed(first, second)
	tr.ExpectAlert("US-026-100", "structuring")
	if !strings.Contains(hitIDs(tr.Hits(second.ID)), "cash-split-business-day-us") {
		t.Errorf("US rule did not fire: %s\n%s", hitIDs(tr.Hits(second.ID)), tr.Explain("US-026-100"))
	}
	for _, h := range tr.Hits(second.ID) {
		if h.Rule.ID == "cash-split-business-day-us" && h.Reason != "2 cash deposits at US branches on one business day, each at most USD 10,000.00, total USD 10,500.00" {
			t.Errorf("reason %q", h.Reason)
		}
	}
}

// The same two US deposits on two business days (evening, then next
// morning: 15 hours apart) are not one business day.
func TestStructuringUSBenignTwoBusinessDays(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "us2"}
	to := acct("US-026-200")
	tr.Feed(
		s.cash(monday.Add(hours(9)), "6000.00", "USD", to, "US", "NY", "Buffalo"),  // 18:00 Monday
		s.cash(monday.Add(hours(24)), "4500.00", "USD", to, "US", "NY", "Buffalo"), // 09:00 Tuesday
	)
	if tr.Fired("cash-split-business-day-us") {
		t.Errorf("US business-day rule fired across two days\n%s", tr.Explain("US-026-200"))
	}
	// USD 10,500 is CAD 15,141 within 24h: the FINTRAC 24-hour rule must not
	// apply to deposits at US branches.
	if tr.Fired("cash-split-24h-ca") {
		t.Errorf("cash-split-24h-ca fired on US-located deposits\n%s", tr.Explain("US-026-200"))
	}
	tr.ExpectNoAlert("US-026-200")
}

func TestStructuringNearThreshold7d(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "near"}
	to := acct("CA-001-400")
	for i, amt := range []string{"9500.00", "9200.00", "9800.00"} {
		tr.Feed(s.cash(monday.Add(hours(float64(i)*50)), amt, "CAD", to, "CA", "ON", "Toronto"))
	}
	tr.ExpectAlert("CA-001-400", "structuring")
	if !tr.Fired("cash-near-threshold-7d") {
		t.Error("near-threshold rule did not fire")
	}
}

func TestFunnelAccount(t *testing.T) {
	profiles := map[string]rules.Profile{"C-500": {Type: "person", Country: "CA", Region: "ON", City: "Toronto"}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "funnel"}
	f := cust("CA-001-500", "C-500")
	tr.Feed(
		s.cash(monday, "2500.00", "CAD", f, "CA", "BC", "Surrey"),
		s.cash(monday.Add(hours(30)), "2200.00", "CAD", f, "CA", "AB", "Calgary"),
		s.cash(monday.Add(hours(55)), "2700.00", "CAD", f, "CA", "QC", "Montréal"),
		s.cash(monday.Add(hours(60)), "1800.00", "CAD", f, "CA", "ON", "Toronto"), // home: not away
	)
	tr.ExpectNoAlert("CA-001-500")
	if !tr.Fired("funnel-cash-regions") {
		t.Errorf("funnel-cash-regions did not fire\n%s", tr.Explain("CA-001-500"))
	}
	wire := s.ev(monday.Add(hours(70)), "wire", "6800.00", "CAD", f, &ingest.Party{Account: "MX-BNMX-1", Country: "MX", Name: "Importadora"})
	tr.Feed(wire)
	tr.ExpectAlert("CA-001-500", "funnel_account")
	if !strings.Contains(hitIDs(tr.Hits(wire.ID)), "funnel-drain") {
		t.Errorf("funnel-drain: %s", hitIDs(tr.Hits(wire.ID)))
	}
}

// A travelling sales rep deposits cash in three provinces in a week but
// spends little of it: regions alone do not make a funnel.
func TestFunnelBenignTravellingRep(t *testing.T) {
	profiles := map[string]rules.Profile{"C-510": {Type: "person", Country: "CA", Region: "ON"}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "rep"}
	f := cust("CA-001-510", "C-510")
	tr.Feed(
		s.cash(monday, "900.00", "CAD", f, "CA", "BC", "Vancouver"),
		s.cash(monday.Add(hours(26)), "1100.00", "CAD", f, "CA", "AB", "Edmonton"),
		s.cash(monday.Add(hours(50)), "700.00", "CAD", f, "CA", "MB", "Winnipeg"),
		s.ev(monday.Add(hours(60)), "eft", "450.00", "CAD", f, acct("CA-HYDRO-1")),
		s.ev(monday.Add(hours(62)), "card", "85.20", "CAD", f, &ingest.Party{Name: "Hotel"}),
	)
	tr.ExpectNoAlert("CA-001-510")
}

func TestRapidMovement(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "rapid"}
	r := &ingest.Party{Account: "CA-001-600", Country: "CA"}
	tr.Feed(
		s.ev(monday, "wire", "25000.00", "CAD", &ingest.Party{Account: "CA-777-1", Name: "Some Co"}, r),
		s.ev(monday.Add(hours(20)), "eft", "9000.00", "CAD", r, acct("CA-002-9")),
	)
	tr.ExpectNoAlert("CA-001-600") // 36 % out so far
	out := s.ev(monday.Add(hours(30)), "wire", "12500.00", "CAD", r, &ingest.Party{Account: "HK-1", Country: "HK"})
	tr.Feed(out)
	a := tr.ExpectAlert("CA-001-600", "rapid_movement")
	if got := hitIDs(tr.Hits(out.ID)); got != "rapid-pass-through,rapid-quiet-account,rapid-abroad" {
		t.Errorf("hits %s", got)
	}
	for _, h := range tr.Hits(out.ID) {
		want := map[string]string{
			"rapid-pass-through":  "21,500.00 CAD went out within 48h, 86% of the 25,000.00 CAD that came in",
			"rapid-quiet-account": "the account has little ordinary activity: no payroll received or paid and 0 bills paid in 30 days",
			"rapid-abroad":        "the outflow of 12,500.00 CAD goes abroad to HK",
		}[h.Rule.ID]
		if h.Reason != want {
			t.Errorf("%s reason\n got %q\nwant %q", h.Rule.ID, h.Reason, want)
		}
	}
	if a != nil && a.Score != 85 {
		t.Errorf("score %d, want 85 (50 + 15 quiet + 20 abroad)", a.Score)
	}
}

// A salaried person pays rent and moves most of the pay to savings within a
// day: payroll in the last 30 days marks ordinary activity.
func TestRapidBenignPayroll(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "pay"}
	p := acct("CA-001-610")
	salary := s.ev(monday, "eft", "6200.00", "CAD", &ingest.Party{Account: "CA-EMP-1", Name: "Employer Inc", Type: "organization"}, p)
	salary.Purpose = "SALA"
	tr.Feed(
		salary,
		s.ev(monday.Add(hours(2)), "eft", "2400.00", "CAD", p, acct("CA-LANDLORD")),
		s.ev(monday.Add(hours(3)), "p2p", "2800.00", "CAD", p, acct("CA-001-611")),
	)
	tr.ExpectNoAlert("CA-001-610")
}

func TestFanIn(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "fanin"}
	to := acct("CA-001-700")
	for i := 0; i < 11; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i)*9)), "p2p", "450.00", "CAD", acct(fmt.Sprintf("CA-SEND-%02d", i)), to))
	}
	a := tr.ExpectAlert("CA-001-700", "fan_in")
	if a != nil && a.Transactions[0] != "fanin-10" {
		t.Errorf("raised on %v, want the 10th sender's payment", a.Transactions)
	}
	if a != nil && a.Version != 2 {
		t.Errorf("the 11th sender should update the alert (version 2), got version %d", a.Version)
	}
}

// A shop, declared an organization, is paid by many customers.
func TestFanInBenignShop(t *testing.T) {
	profiles := map[string]rules.Profile{"C-710": {Type: "organization", Industry: "722511"}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "shop"}
	to := cust("CA-001-710", "C-710")
	for i := 0; i < 25; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i)*5)), "eft", "38.50", "CAD", acct(fmt.Sprintf("CA-CUST-%02d", i)), to))
	}
	tr.ExpectNoAlert("CA-001-710")
}

// The event itself says the payee is an organization, but the bank has no
// KYC profile loaded for it (a correspondent's customer, or profiles off).
func TestFanInBenignOrganizationWithoutProfile(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "org"}
	to := &ingest.Party{Account: "CA-001-720", Type: "organization", Name: "Corner Café"}
	for i := 0; i < 12; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i)*5)), "eft", "22.00", "CAD", acct(fmt.Sprintf("CA-CUST-%02d", i)), to))
	}
	if tr.Fired("fan-in-senders") {
		t.Errorf("fan-in-senders fired for a payee typed organization on the event\n%s", tr.Explain("CA-001-720"))
	}
	tr.ExpectNoAlert("CA-001-720")
}

func TestFanOut(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "fanout"}
	from := acct("CA-001-800")
	tr.Feed(s.ev(monday.Add(-hours(1)), "wire", "20000.00", "CAD", acct("CA-777-2"), from))
	for i := 0; i < 10; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i)*12)), "p2p", "1900.00", "CAD", from, acct(fmt.Sprintf("CA-RECV-%02d", i))))
	}
	tr.ExpectAlert("CA-001-800", "fan_out")
}

// A company runs payroll for 15 employees.
func TestFanOutBenignPayroll(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "payroll"}
	from := &ingest.Party{Account: "CA-001-810", Type: "organization"}
	tr.Feed(s.ev(monday.Add(-hours(24)), "wire", "90000.00", "CAD", acct("CA-CLIENT-1"), from))
	for i := 0; i < 15; i++ {
		e := s.ev(monday.Add(time.Duration(i)*time.Minute), "eft", "3150.00", "CAD", from, acct(fmt.Sprintf("CA-EMP-%02d", i)))
		e.Purpose = "SALA"
		tr.Feed(e)
	}
	tr.ExpectNoAlert("CA-001-810")
}

// After its payroll run the company pays one supplier: that payment is not
// payroll, and receivers_7d counts the 15 employees too.
func TestFanOutBenignPayrollThenSupplier(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "payroll2"}
	from := &ingest.Party{Account: "CA-001-820", Type: "organization"}
	tr.Feed(s.ev(monday.Add(-hours(24)), "wire", "90000.00", "CAD", acct("CA-CLIENT-1"), from))
	for i := 0; i < 15; i++ {
		e := s.ev(monday.Add(time.Duration(i)*time.Minute), "eft", "3150.00", "CAD", from, acct(fmt.Sprintf("CA-EMP-%02d", i)))
		e.Purpose = "SALA"
		tr.Feed(e)
	}
	tr.Feed(s.ev(monday.Add(hours(4)), "eft", "1200.00", "CAD", from, acct("CA-SUPPLIER-1")))
	// receivers_7d leaves out the 15 payroll receivers.
	if tr.Fired("fan-out-receivers") {
		t.Errorf("fan-out-receivers fired after a payroll run\n%s", tr.Explain("CA-001-820"))
	}
	tr.ExpectNoAlert("CA-001-820")
}

func TestMoneyMule(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "mule"}
	m := acct("CA-001-900")
	for i := 0; i < 6; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i)*3)), "p2p", "850.00", "CAD", acct(fmt.Sprintf("CA-VICTIM-%02d", i)), m))
	}
	atm := s.ev(monday.Add(hours(19)), "cash_withdrawal", "4000.00", "CAD", m, nil)
	atm.Channel = "atm"
	tr.Feed(atm)
	tr.ExpectAlert("CA-001-900", "money_mule")
	if !strings.Contains(hitIDs(tr.Hits(atm.ID)), "mule-drain") {
		t.Errorf("mule-drain did not fire on the ATM withdrawal: %s", hitIDs(tr.Hits(atm.ID)))
	}
}

// A salaried tenant collects rent shares from four roommates and pays the
// landlord.
func TestMoneyMuleBenignRoommates(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "rent"}
	p := acct("CA-001-910")
	salary := s.ev(monday.Add(-hours(72)), "eft", "4100.00", "CAD", &ingest.Party{Account: "CA-EMP-9", Type: "organization"}, p)
	salary.Memo = "Payroll March"
	tr.Feed(salary)
	for i := 0; i < 4; i++ {
		tr.Feed(s.ev(monday.Add(hours(float64(i))), "p2p", "800.00", "CAD", acct(fmt.Sprintf("CA-ROOMIE-%d", i)), p))
	}
	tr.Feed(s.ev(monday.Add(hours(6)), "eft", "4000.00", "CAD", p, acct("CA-LANDLORD")))
	tr.ExpectNoAlert("CA-001-910")
}

func TestVirtualAssetCashout(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "vasp"}
	v := acct("CA-001-1000")
	tr.Feed(
		s.cash(monday, "4000.00", "CAD", v, "CA", "ON", "Toronto"),
		s.cash(monday.Add(hours(5)), "3000.00", "CAD", v, "CA", "ON", "Toronto"),
	)
	// 0.045 BTC at CAD 125,000 = CAD 5,625: 80 % of the cash.
	buy := s.ev(monday.Add(hours(30)), "crypto_buy", "0.045", "BTC", v, &ingest.Party{Name: "Exchange", Wallet: "bc1qexchange"})
	tr.Feed(buy)
	tr.ExpectAlert("CA-001-1000", "virtual_asset_cashout")
	for _, h := range tr.Hits(buy.ID) {
		if h.Rule.ID == "cash-to-crypto-48h" && h.Reason != "5,625.00 CAD went to crypto within 48h of 7,000.00 CAD cash deposits" {
			t.Errorf("reason %q", h.Reason)
		}
	}
}

// A customer reports one large cash deposit and buys a little crypto.
func TestVirtualAssetBenignSmallBuy(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "vasp2"}
	v := acct("CA-001-1010")
	tr.Feed(
		s.cash(monday, "12000.00", "CAD", v, "CA", "ON", "Toronto"),
		s.ev(monday.Add(hours(20)), "crypto_buy", "500.00", "CAD", v, &ingest.Party{Name: "Exchange"}),
	)
	tr.ExpectNoAlert("CA-001-1010")
}

// Every starter rule is reached by at least one scenario above; a new rule
// without a scenario fails here.
func TestStarterRulesCovered(t *testing.T) {
	tr := rulestest.New(t, starter...)
	covered := map[string]bool{
		"cash-split-24h-ca": true, "cash-split-business-day-us": true, "cash-near-threshold-7d": true,
		"funnel-cash-regions": true, "funnel-drain": true, "rapid-pass-through": true, "rapid-abroad": true,
		"fan-in-senders": true, "fan-out-receivers": true, "mule-drain": true, "cash-to-crypto-48h": true,
		// Covered elsewhere: customer-level split below, screening by the screening package.
		"cash-split-24h-customer": true, "designated-payee": true, "designated-payer": true,
		"cash-split-withdrawals-24h": true, "rapid-quiet-account": true, "fan-in-senders-business": true, "btm-cash-buy": true,
	}
	for _, id := range libraryCovered {
		covered[id] = true
	}
	for _, r := range tr.Set().Rules {
		if !covered[r.ID] {
			t.Errorf("rule %s has no scenario in starter_test.go or library_test.go", r.ID)
		}
	}
}

// The customer-level split: one customer's deposits into two accounts.
func TestStructuringAcrossAccounts(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "cust"}
	tr.Feed(
		s.cash(monday, "6000.00", "CAD", cust("CA-001-1100", "C-1100"), "CA", "ON", "Toronto"),
		s.cash(monday.Add(hours(4)), "5000.00", "CAD", cust("CA-001-1101", "C-1100"), "CA", "ON", "Ottawa"),
	)
	tr.ExpectAlert("CA-001-1101", "structuring")
	if !tr.Fired("cash-split-24h-customer") || tr.Fired("cash-split-24h-ca") {
		t.Errorf("want the customer rule only\n%s", tr.Explain("CA-001-1101"))
	}
}

func TestFeedJSON(t *testing.T) {
	tr := rulestest.New(t, starter...)
	tr.FeedJSON(
		`{"id":"j1","time":"2025-03-03T10:00:00-05:00","kind":"cash_deposit","amount":"6000.00","currency":"CAD","to":{"account":"CA-J"}}`,
		`{"id":"j2","time":"2025-03-03T12:00:00-05:00","kind":"cash_deposit","amount":5000,"currency":"CAD","to":{"account":"CA-J"}}`,
	)
	tr.ExpectAlert("CA-J", "structuring")
	if len(tr.Alerts()) != 1 || len(tr.Hits("j1")) != 0 || hitIDs(tr.Hits("j2")) != "cash-split-24h-ca" {
		t.Errorf("alerts %d, hits j1 %v j2 %v", len(tr.Alerts()), tr.Hits("j1"), hitIDs(tr.Hits("j2")))
	}
	if len(tr.Errors()) > 0 {
		t.Errorf("rule errors: %v", tr.Errors())
	}
}

// withdraw is a branch cash withdrawal from account at a place.
func (s *scenario) withdraw(at time.Time, amount, currency string, from *ingest.Party, country, region, city string) *ingest.Event {
	e := s.ev(at, "cash_withdrawal", amount, currency, from, nil)
	e.Channel = "branch"
	e.Location = &ingest.Location{Country: country, Region: region, City: city}
	return e
}

func TestStructuringWithdrawals(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "wd"}
	from := cust("CA-001-1200", "C-1200")
	first := s.withdraw(monday, "6000.00", "CAD", from, "CA", "ON", "Toronto")
	last := s.withdraw(monday.Add(hours(9)), "4500.00", "CAD", from, "CA", "ON", "Toronto")
	tr.Feed(first)
	tr.ExpectNoAlert("CA-001-1200")
	tr.Feed(last)
	a := tr.ExpectAlert("CA-001-1200", "structuring")
	if got := hitIDs(tr.Hits(last.ID)); got != "cash-split-withdrawals-24h" {
		t.Errorf("hits %s", got)
	}
	if a != nil && a.Rules[0].Reason != "2 cash withdrawals within 24h, each under the reporting threshold (largest 6,000.00 CAD), total 10,500.00 CAD" {
		t.Errorf("reason %q", a.Rules[0].Reason)
	}
}

// At a US branch the threshold is more than USD 10,000: USD 9,000 in two
// withdrawals (CAD 12,978) is under it; one large withdrawal is reported, not
// split.
func TestStructuringWithdrawalsBenign(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "wd2"}
	us, ca := cust("US-026-1210", "C-1210"), cust("CA-001-1220", "C-1220")
	tr.Feed(
		s.withdraw(monday, "4000.00", "USD", us, "US", "NY", "Buffalo"),
		s.withdraw(monday.Add(hours(5)), "5000.00", "USD", us, "US", "NY", "Buffalo"),
		s.withdraw(monday, "15000.00", "CAD", ca, "CA", "ON", "Toronto"),
		s.withdraw(monday.Add(hours(2)), "400.00", "CAD", ca, "CA", "ON", "Toronto"),
	)
	tr.ExpectNoAlert("US-026-1210")
	tr.ExpectNoAlert("CA-001-1220")
	if tr.Fired("cash-split-withdrawals-24h") {
		t.Errorf("withdrawal split fired\n%s%s", tr.Explain("US-026-1210"), tr.Explain("CA-001-1220"))
	}
}

// A property manager forwards the month's rent to the owner within a day,
// but pays the building's bills from the same account: a pass-through, not
// a quiet account.
func TestRapidBenignPropertyManager(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "pm"}
	pm := &ingest.Party{Account: "CA-001-620", CustomerID: "C-620", Country: "CA"}
	for i, biller := range []string{"CA-HYDRO-1", "CA-GAS-1", "CA-CITY-TAX"} {
		tr.Feed(s.ev(monday.Add(-hours(float64(100+24*i))), "ach", "640.00", "CAD", pm, acct(biller)))
	}
	tr.Feed(
		s.ev(monday, "eft", "25000.00", "CAD", &ingest.Party{Account: "CA-TENANTS-1", Name: "Tenant rents"}, pm),
		s.ev(monday.Add(hours(20)), "eft", "22000.00", "CAD", pm, &ingest.Party{Account: "CA-OWNER-1", Country: "CA"}),
	)
	tr.ExpectNoAlert("CA-001-620")
	if !tr.Fired("rapid-pass-through") || tr.Fired("rapid-quiet-account") {
		t.Errorf("want the pass-through without the quiet account\n%s", tr.Explain("CA-001-620"))
	}
}

// A business with a few customer payments a week for three weeks, then 12
// new senders within four days: a burst against its own history.
func TestFanInBusinessBurst(t *testing.T) {
	profiles := map[string]rules.Profile{"C-730": {Known: true, Type: "organization", Industry: "424690", Opened: monday.AddDate(-3, 0, 0)}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "burst"}
	to := cust("CA-001-730", "C-730")
	for i := 0; i < 6; i++ { // history: two regular customers, three weeks
		tr.Feed(s.ev(monday.Add(hours(float64(i)*84)), "eft", "900.00", "CAD", acct(fmt.Sprintf("CA-REG-%d", i%2)), to))
	}
	start := monday.Add(21 * 24 * time.Hour)
	var last *ingest.Event
	for i := 0; i < 12; i++ {
		last = s.ev(start.Add(hours(float64(i)*7)), "wire", "3200.00", "CAD", acct(fmt.Sprintf("US-NEW-%02d", i)), to)
		tr.Feed(last)
	}
	a := tr.ExpectAlert("CA-001-730", "fan_in")
	expectHit(t, tr, "CA-001-730", last, "fan-in-senders-business",
		"13 distinct senders paid this business within 7 days: 12 transfers within 96 hours, against 0.9 in a usual 96 hours of the previous 26 days")
	if a != nil && len(a.Transactions) < 10 {
		t.Errorf("the alert should list the senders' payments, got %v", a.Transactions)
	}
}

// The same business whose customers pay every week: once the 30-day window
// holds its history, no burst.
func TestFanInBusinessSteadyCustomers(t *testing.T) {
	profiles := map[string]rules.Profile{"C-740": {Known: true, Type: "organization", Industry: "424690", Opened: monday.AddDate(-3, 0, 0)}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "steady"}
	to := cust("CA-001-740", "C-740")
	var lastWeek []*ingest.Event
	for week := 0; week < 6; week++ {
		for c := 0; c < 12; c++ {
			e := s.ev(monday.Add(time.Duration(week)*7*24*time.Hour+hours(float64(c)*9)), "eft", "1200.00", "CAD", acct(fmt.Sprintf("CA-CLIENT-%02d", c)), to)
			tr.Feed(e)
			if week == 5 {
				lastWeek = append(lastWeek, e)
			}
		}
	}
	for _, e := range lastWeek {
		if strings.Contains(hitIDs(tr.Hits(e.ID)), "fan-in-senders-business") {
			t.Errorf("a business paid by the same customers every week is not a fan-in (%s)\n%s", e.ID, tr.Explain("CA-001-740"))
		}
	}
}

// busyBusiness returns a convenience store's ordinary days: its takings
// deposited in cash every day but Sunday, and four transfers from distinct
// clients every weekday, for the given number of days from start.
func busyBusiness(s *scenario, to *ingest.Party, start time.Time, days int) (all, transfers []*ingest.Event) {
	for d := 0; d < days; d++ {
		day := start.Add(time.Duration(d) * 24 * time.Hour)
		if day.Weekday() != time.Sunday {
			all = append(all, s.cash(day.Add(hours(15)), "2400.00", "CAD", to, "CA", "BC", "Vancouver"))
		}
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			continue
		}
		for c := 0; c < 4; c++ {
			e := s.ev(day.Add(hours(float64(9+2*c))), "eft", "850.00", "CAD", acct(fmt.Sprintf("CA-CL-%s-%02d-%d", s.prefix, d, c)), to)
			all = append(all, e)
			transfers = append(transfers, e)
		}
	}
	return all, transfers
}

// feedInOrder feeds events in event-time order.
func feedInOrder(tr *rulestest.Tester, evs []*ingest.Event) {
	slices.SortStableFunc(evs, func(a, b *ingest.Event) int { return a.Time.Compare(b.Time) })
	tr.Feed(evs...)
}

// A busy business (20 transfers a week from its clients, and its daily cash
// takings) has a fan-in of 15 new senders, and another three weeks later:
// the first one sits in the second's 30-day baseline, yet the second is a
// burst within 96 hours as well. A weekly count would miss it: 35 of the 30
// days' 116 transfers is under half.
func TestFanInBusinessSecondBurst(t *testing.T) {
	profiles := map[string]rules.Profile{"C-735": {Known: true, Type: "organization", Industry: "445131", Opened: monday.AddDate(-3, 0, 0)}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "burst2"}
	to := cust("CA-001-735", "C-735")
	day := func(d int) time.Time { return monday.Add(time.Duration(d) * 24 * time.Hour) }
	// Thirty days of history before the first burst, as a bank that has
	// been running has.
	evs, ordinary := busyBusiness(s, to, monday, 56)
	var bursts []*ingest.Event
	for b, start := range []time.Time{day(30), day(51)} {
		for i := 0; i < 15; i++ {
			e := s.ev(start.Add(hours(float64(1+i*5))), "wire", "2900.00", "CAD", acct(fmt.Sprintf("US-NEW-%d-%02d", b, i)), to)
			evs = append(evs, e)
			if i == 14 {
				bursts = append(bursts, e)
			}
		}
	}
	feedInOrder(tr, evs)
	for _, e := range bursts {
		if !strings.Contains(hitIDs(tr.Hits(e.ID)), "fan-in-senders-business") {
			t.Errorf("fan-in-senders-business did not fire on %s\n%s", e.ID, tr.Explain("CA-001-735"))
		}
	}
	for _, e := range ordinary {
		// Between the bursts, once the first one's 96 hours are past (the
		// first 30 days fill the windows).
		if e.Time.Before(day(35)) || e.Time.After(day(51)) {
			continue
		}
		if strings.Contains(hitIDs(tr.Hits(e.ID)), "fan-in-senders-business") {
			t.Errorf("fan-in-senders-business fired on %s, a client's ordinary payment\n%s", e.ID, tr.Explain("CA-001-735"))
		}
	}
}

// The same busy business with no fan-in: once its 30-day history is in the
// windows, its clients and cash takings never make a burst.
func TestFanInBusyBusinessNoBurst(t *testing.T) {
	profiles := map[string]rules.Profile{"C-736": {Known: true, Type: "organization", Industry: "445131", Opened: monday.AddDate(-3, 0, 0)}}
	tr := rulestest.NewWith(t, rulestest.Config{Paths: starter, Profiles: profiles})
	s := &scenario{prefix: "busy"}
	evs, transfers := busyBusiness(s, cust("CA-001-736", "C-736"), monday, 60)
	feedInOrder(tr, evs)
	for _, e := range transfers {
		if e.Time.Before(monday.Add(30 * 24 * time.Hour)) {
			continue
		}
		if strings.Contains(hitIDs(tr.Hits(e.ID)), "fan-in-senders-business") {
			t.Errorf("fan-in-senders-business fired on %s, a client's ordinary payment\n%s", e.ID, tr.Explain("CA-001-736"))
		}
	}
}

// Cash out of the account, then most of it into a Bitcoin ATM.
func TestBitcoinATMCashBuy(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "btm"}
	from := cust("CA-001-750", "C-750")
	w := s.ev(monday, "cash_withdrawal", "4000.00", "CAD", from, nil)
	w.Channel = "branch"
	buy := s.ev(monday.Add(hours(2)), "crypto_buy", "3800.00", "CAD", from, &ingest.Party{Name: "Bitcoin Well ATM", Type: "organization"})
	buy.Channel = "atm"
	tr.Feed(w, buy)
	a := tr.ExpectAlert("CA-001-750", "virtual_asset_cashout")
	expectHit(t, tr, "CA-001-750", buy, "btm-cash-buy",
		"3,800.00 CAD of crypto bought at a Bitcoin ATM after 4,000.00 CAD of cash withdrawn within 24h")
	if a != nil && (len(a.Transactions) != 2 || a.Transactions[0] != buy.ID) {
		t.Errorf("the alert should list the buy, then the withdrawal: %v", a.Transactions)
	}
}

// A small Bitcoin ATM buy paid from the account, with no cash withdrawn.
func TestBitcoinATMBenignSmallBuy(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "btm-small"}
	buy := s.ev(monday, "crypto_buy", "300.00", "CAD", cust("CA-001-760", "C-760"), &ingest.Party{Name: "Bitcoin Well ATM", Type: "organization"})
	buy.Channel = "atm"
	tr.Feed(buy)
	tr.ExpectNoAlert("CA-001-760")
}
