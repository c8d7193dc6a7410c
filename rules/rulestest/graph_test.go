package rulestest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/rulestest"
)

// The graph-pattern rules of configs/rules/library.yaml read graph.*
// signals, which the Tester computes with the in-memory graph store exactly
// as production does (scoring/graph).

var graphRules = []string{"graph-cycle", "graph-scatter-gather", "graph-gather-scatter", "graph-bipartite", "graph-stack", "graph-gather-scatter-business"}

// expectTransactions checks that the alert lists every one of txs.
func expectTransactions(t *testing.T, tr *rulestest.Tester, account, typology string, txs ...*ingest.Event) {
	t.Helper()
	for _, a := range tr.AlertsFor(account) {
		if !slices.ContainsFunc(a.Typologies, func(ty alerts.TypologyHit) bool { return ty.ID == typology }) {
			continue
		}
		for _, e := range txs {
			if !slices.Contains(a.Transactions, e.ID) {
				t.Errorf("%s alert on %s lists %v, missing %s", typology, account, a.Transactions, e.ID)
			}
		}
		return
	}
	t.Errorf("no %s alert for %s\n%s", typology, account, tr.Explain(account))
}

// Three customers pass 10,000 round in three days, each hop 5 % less: the
// money is back with the origin.
func TestGraphCycle(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "cycle"}
	a, b, c := cust("CA-007-100", "C-7100"), cust("CA-007-110", "C-7110"), cust("CA-007-120", "C-7120")
	hops := []*ingest.Event{
		s.ev(monday, "wire", "10000.00", "CAD", a, b),
		s.ev(monday.Add(hours(26)), "eft", "9500.00", "CAD", b, c),
		s.ev(monday.Add(hours(60)), "wire", "9025.00", "CAD", c, a),
	}
	tr.Feed(hops[:2]...)
	tr.ExpectNoAlertFor("CA-007-100", "cycle")
	tr.Feed(hops[2])
	al := tr.ExpectAlert("CA-007-100", "cycle")
	expectHit(t, tr, "CA-007-100", hops[2], "graph-cycle",
		"9,025.00 CAD came back to this account after 3 hops within 7 days, each hop at least 95% of the one before")
	if al != nil && (al.Score != 80 || al.Transactions[0] != hops[2].ID) {
		t.Errorf("alert score %d on %v, want 80 raised on %s", al.Score, al.Transactions, hops[2].ID)
	}
	// The alert names every hop of the cycle, not only the closing one.
	expectTransactions(t, tr, "CA-007-100", "cycle", hops...)
	for _, e := range hops[:2] {
		if slices.Contains(splitHits(tr.Hits(e.ID)), "graph-cycle") {
			t.Errorf("graph-cycle fired on %s, before the cycle closed", e.ID)
		}
	}
	noErrors(t, tr)
}

// One origin pays four intermediaries, who each pass a similar amount on to
// one beneficiary within days.
func TestGraphScatterGather(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "sg"}
	origin, bene := cust("CA-007-200", "C-7200"), cust("CA-007-250", "C-7250")
	var scatter, gather []*ingest.Event
	for i := 0; i < 4; i++ {
		m := cust(fmt.Sprintf("CA-007-21%d", i), fmt.Sprintf("C-721%d", i))
		scatter = append(scatter, s.ev(monday.Add(hours(float64(i))), "eft", "9000.00", "CAD", origin, m))
		gather = append(gather, s.ev(monday.Add(hours(float64(30+8*i))), "p2p", []string{"8700.00", "8650.00", "8800.00", "8720.00"}[i], "CAD", m, bene))
	}
	tr.Feed(scatter...)
	tr.Feed(gather[:2]...)
	tr.ExpectNoAlertFor("CA-007-250", "scatter_gather") // two intermediaries
	tr.Feed(gather[2:]...)
	a := tr.ExpectAlert("CA-007-250", "scatter_gather")
	expectHit(t, tr, "CA-007-250", gather[2], "graph-scatter-gather",
		"money from one origin reached this account through 3 intermediaries within 7 days, in similar amounts")
	expectHit(t, tr, "CA-007-250", gather[3], "graph-scatter-gather",
		"money from one origin reached this account through 4 intermediaries within 7 days, in similar amounts")
	if a != nil && (a.Score != 75 || a.Transactions[0] != gather[2].ID) {
		t.Errorf("alert score %d on %v, want 75 raised on %s", a.Score, a.Transactions, gather[2].ID)
	}
	expectTransactions(t, tr, "CA-007-250", "scatter_gather", append(scatter, gather...)...)
	noErrors(t, tr)
}

// A personal account that had little coming in gathers 4 × 5,000 from four
// senders within two days, then pays 4 × 4,700 to four receivers within a
// day: a hub.
func TestGraphGatherScatter(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "gs"}
	hub := cust("CA-007-300", "C-7300")
	prior := s.ev(monday.Add(-hours(24*20)), "p2p", "1500.00", "CAD", acct("CA-007-399"), hub)
	var in, out []*ingest.Event
	for i := 0; i < 4; i++ {
		in = append(in, s.ev(monday.Add(hours(float64(11*i))), "eft", "5000.00", "CAD", acct(fmt.Sprintf("CA-007-31%d", i)), hub))
	}
	for i := 0; i < 4; i++ {
		out = append(out, s.ev(monday.Add(hours(float64(48+6*i))), "p2p", "4700.00", "CAD", hub, acct(fmt.Sprintf("CA-007-32%d", i))))
	}
	tr.Feed(prior)
	tr.Feed(in...)
	tr.Feed(out[:3]...)
	// 14,100 of 20,000 out: under 80 %.
	tr.ExpectNoAlertFor("CA-007-300", "gather_scatter")
	tr.Feed(out[3])
	a := tr.ExpectAlert("CA-007-300", "gather_scatter")
	expectHit(t, tr, "CA-007-300", out[3], "graph-gather-scatter",
		"the account received 20,000.00 CAD from 4 senders and paid 18,800.00 CAD to 4 receivers within 7 days")
	if a != nil && (a.Score != 75 || a.Transactions[0] != out[3].ID) {
		t.Errorf("alert score %d on %v, want 75 raised on %s", a.Score, a.Transactions, out[3].ID)
	}
	expectTransactions(t, tr, "CA-007-300", "gather_scatter", append(in, out...)...)
	noErrors(t, tr)
}

// The same personal account is a hub twice within three weeks: 40,000
// gathered and passed on, then 20,000. The first run is in the second's
// 30-day inflow (a third of it is this week's), but a person has no turnover
// that looks like a hub: the second run alerts too.
func TestGraphGatherScatterSecondRun(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "gs2"}
	hub := cust("CA-007-330", "C-7330")
	run := func(start time.Time, in, out string) (all []*ingest.Event) {
		for i := 0; i < 4; i++ {
			all = append(all, s.ev(start.Add(hours(float64(11*i))), "eft", in, "CAD", acct(fmt.Sprintf("CA-007-34%d", i)), hub))
		}
		for i := 0; i < 4; i++ {
			all = append(all, s.ev(start.Add(hours(float64(48+6*i))), "p2p", out, "CAD", hub, acct(fmt.Sprintf("CA-007-35%d", i))))
		}
		return all
	}
	first := run(monday, "10000.00", "9500.00")
	second := run(monday.Add(12*24*time.Hour), "5000.00", "4700.00")
	tr.Feed(first...)
	tr.Feed(second...)
	n := 0
	for _, a := range tr.AlertsFor("CA-007-330") {
		if slices.ContainsFunc(a.Typologies, func(ty alerts.TypologyHit) bool { return ty.ID == "gather_scatter" }) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("want a gather_scatter alert for each run, got %d\n%s", n, tr.Explain("CA-007-330"))
	}
	expectHit(t, tr, "CA-007-330", second[7], "graph-gather-scatter",
		"the account received 20,000.00 CAD from 4 senders and paid 18,800.00 CAD to 4 receivers within 7 days")
	expectTransactions(t, tr, "CA-007-330", "gather_scatter", first...)
	noErrors(t, tr)
}

// steadyBusiness returns weeks of a wholesaler's ordinary turnover from
// start: two new clients pay 3,000 each every weekday, and it pays three
// suppliers 8,000 each every Thursday.
func steadyBusiness(s *scenario, biz *ingest.Party, start time.Time, weeks int) []*ingest.Event {
	var evs []*ingest.Event
	for w := 0; w < weeks; w++ {
		for d := 0; d < 5; d++ {
			day := start.Add(time.Duration(7*w+d) * 24 * time.Hour)
			for c := 0; c < 2; c++ {
				client := &ingest.Party{Account: fmt.Sprintf("CA-CLIENT-%02d-%d-%d", w, d, c), Type: "organization"}
				evs = append(evs, s.ev(day.Add(hours(float64(1+3*c))), "eft", "3000.00", "CAD", client, biz))
			}
			if d == 3 {
				for p := 0; p < 3; p++ {
					supplier := &ingest.Party{Account: fmt.Sprintf("CA-SUPPLIER-%d", p), Type: "organization"}
					evs = append(evs, s.ev(day.Add(hours(float64(6+p))), "eft", "8000.00", "CAD", biz, supplier))
				}
			}
		}
	}
	return evs
}

// A wholesaler turns over 30,000 a week, gathered from clients and paid to
// suppliers: every week is a gather-scatter in shape. In its sixth week five
// individuals pay it 14,000 each within two days and it pays 13,000 each to
// five others: 70,000 in on top of its usual week, 65,000 of it out again.
func TestGraphGatherScatterBusiness(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-7360": {Known: true, Type: "organization", Industry: "423990", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "gsb"}
	biz := &ingest.Party{Account: "CA-007-360", CustomerID: "C-7360", Name: "Lakeshore Wholesale Ltd."}
	evs := steadyBusiness(s, biz, monday, 7)
	hubWeek := monday.Add(5 * 7 * 24 * time.Hour)
	var in, out []*ingest.Event
	for i := 0; i < 5; i++ {
		in = append(in, s.ev(hubWeek.Add(hours(float64(2+9*i))), "wire", "14000.00", "CAD", cust(fmt.Sprintf("CA-007-37%d", i), fmt.Sprintf("C-737%d", i)), biz))
		out = append(out, s.ev(hubWeek.Add(hours(float64(60+4*i))), "wire", "13000.00", "CAD", biz, cust(fmt.Sprintf("CA-007-38%d", i), fmt.Sprintf("C-738%d", i))))
	}
	feedInOrder(tr, append(append(evs, in...), out...))
	// Five ordinary weeks (the first four fill the 30-day baseline), then
	// the hub week's first three payments out: 39,000 over its usual
	// outflow is not yet 60 % of the 70,000 over its usual inflow.
	for _, e := range append(evs[:5*13:5*13], out[:3]...) {
		if slices.Contains(splitHits(tr.Hits(e.ID)), "graph-gather-scatter-business") {
			t.Errorf("graph-gather-scatter-business fired on %s\n%s", e.ID, tr.Explain("CA-007-360"))
		}
	}
	expectNotFired(t, tr, "CA-007-360", "graph-gather-scatter")
	a := tr.ExpectAlert("CA-007-360", "gather_scatter")
	if a != nil && (a.Score != 75 || a.Transactions[0] != out[3].ID) {
		t.Errorf("alert score %d on %v, want 75 raised on %s", a.Score, a.Transactions, out[3].ID)
	}
	// The usual week is the weekly rate of the 23 days before this one.
	expectHit(t, tr, "CA-007-360", out[4], "graph-gather-scatter-business",
		"the business received 100,000.00 CAD from 16 senders and paid 81,000.00 CAD to 8 receivers within 7 days, "+
			"against a usual week of 31,043.48 CAD in and 24,347.83 CAD out")
	expectTransactions(t, tr, "CA-007-360", "gather_scatter", in...)
	noErrors(t, tr)
}

// Three individuals each pay the same three individuals 1,500-3,000 within
// a week: a many-to-many block.
func TestGraphBipartite(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "bp"}
	amounts := []string{"1500.00", "2250.00", "3000.00", "2800.00", "1750.00", "2400.00", "1950.00", "2600.00", "2100.00"}
	var block []*ingest.Event
	for i := 0; i < 3; i++ {
		from := cust(fmt.Sprintf("CA-007-40%d", i), fmt.Sprintf("C-740%d", i))
		for j := 0; j < 3; j++ {
			to := cust(fmt.Sprintf("CA-007-41%d", j), fmt.Sprintf("C-741%d", j))
			block = append(block, s.ev(monday.Add(hours(float64(10*(3*i+j)))), "p2p", amounts[3*i+j], "CAD", from, to))
		}
	}
	tr.Feed(block...)
	last := block[8]
	a := tr.ExpectAlert("CA-007-412", "bipartite")
	expectHit(t, tr, "CA-007-412", last, "graph-bipartite",
		"part of a many-to-many block of at least 3 senders and 3 receivers within 7 days")
	if a != nil && a.Score != 70 {
		t.Errorf("alert score %d, want 70", a.Score)
	}
	for _, e := range block[:4] {
		if slices.Contains(splitHits(tr.Hits(e.ID)), "graph-bipartite") {
			t.Errorf("graph-bipartite fired on %s, before any sender had paid two receivers", e.ID)
		}
	}
	noErrors(t, tr)
}

// A business we bank pays the same three individuals as two individuals do,
// 1,500-3,000 each within a week: a layering block with a company in it.
func TestGraphBipartiteBusinessSender(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-7420": {Known: true, Type: "organization", Industry: "541611", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "bpb"}
	senders := []*ingest.Party{cust("CA-007-430", "C-7430"), cust("CA-007-431", "C-7431"), cust("CA-007-420", "C-7420")}
	var block []*ingest.Event
	for i, from := range senders {
		for j := 0; j < 3; j++ {
			to := cust(fmt.Sprintf("CA-007-44%d", j), fmt.Sprintf("C-744%d", j))
			block = append(block, s.ev(monday.Add(hours(float64(10*(3*i+j)))), "eft", fmt.Sprintf("%d.00", 1500+300*(i+j)), "CAD", from, to))
		}
	}
	tr.Feed(block...)
	tr.ExpectAlert("CA-007-442", "bipartite")
	expectHit(t, tr, "CA-007-442", block[8], "graph-bipartite",
		"part of a many-to-many block of at least 3 senders and 3 receivers within 7 days")
	noErrors(t, tr)
}

// Three retirees are paid by the same pension plan, benefits programme and
// insurer at other banks (organizations on the payments), and by the
// payroll of three businesses we bank: blocks, but not layering.
func TestGraphBenignPayersOfIndividuals(t *testing.T) {
	org := rules.Profile{Known: true, Type: "organization", Industry: "561330", Country: "CA", Region: "ON"}
	tr := withProfiles(t, map[string]rules.Profile{"C-7450": org, "C-7451": org, "C-7452": org})
	s := &scenario{prefix: "payers"}
	external := []*ingest.Party{
		{Account: "CA-PENSION-1", Name: "Ontario Teachers' Pension Plan", Type: "organization"},
		{Account: "CA-GOVT-1", Name: "Service Canada CPP/OAS", Type: "organization"},
		{Account: "CA-INSURER-1", Name: "Sun Life Assurance", Type: "organization"},
	}
	employers := []*ingest.Party{cust("CA-007-450", "C-7450"), cust("CA-007-451", "C-7451"), cust("CA-007-452", "C-7452")}
	var evs []*ingest.Event
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			to := cust(fmt.Sprintf("CA-007-46%d", j), fmt.Sprintf("C-746%d", j))
			evs = append(evs, s.ev(monday.Add(hours(float64(3*i+j))), "eft", "1650.00", "CAD", external[i], to))
			pay := s.ev(monday.Add(hours(float64(48+3*i+j))), "eft", "2400.00", "CAD", employers[i], to)
			pay.Purpose = "SALA"
			evs = append(evs, pay)
		}
	}
	feedInOrder(tr, evs)
	for j := 0; j < 3; j++ {
		tr.ExpectNoAlertFor(fmt.Sprintf("CA-007-46%d", j), "bipartite")
	}
	expectNotFired(t, tr, "CA-007-462", "graph-bipartite")
	noErrors(t, tr)
}

// Two 3 × 3 blocks stacked: the receivers of the first block are the
// senders of the second.
func TestGraphStack(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "stack"}
	layer := func(from, to string, start float64) []*ingest.Event {
		var out []*ingest.Event
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				out = append(out, s.ev(monday.Add(hours(start+float64(3*i+j)*2)), "p2p", fmt.Sprintf("%d.00", 1800+100*(i+j)), "CAD",
					cust(fmt.Sprintf("%s%d", from, i), "C-"+from+fmt.Sprint(i)), cust(fmt.Sprintf("%s%d", to, j), "C-"+to+fmt.Sprint(j))))
			}
		}
		return out
	}
	first := layer("CA-007-50", "CA-007-51", 0)
	second := layer("CA-007-51", "CA-007-52", 30)
	tr.Feed(first...)
	for j := 0; j < 3; j++ {
		tr.ExpectNoAlertFor(fmt.Sprintf("CA-007-51%d", j), "stack") // one layer is a bipartite block, not a stack
	}
	tr.Feed(second...)
	a := tr.ExpectAlert("CA-007-522", "stack")
	expectHit(t, tr, "CA-007-522", second[8], "graph-stack", "2 stacked many-to-many layers of transfers within 7 days")
	if a != nil && a.Score != 75 {
		t.Errorf("alert score %d, want 75", a.Score)
	}
	noErrors(t, tr)
}

// Four friends settle shared bills by e-transfer over two weeks: dinner,
// a cabin, groceries, concert tickets. Whoever paid is paid back a share.
func TestGraphBenignFriendsSplittingBills(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "friends"}
	ana, ben, cleo, dev := cust("CA-007-600", "C-7600"), cust("CA-007-610", "C-7610"), cust("CA-007-620", "C-7620"), cust("CA-007-630", "C-7630")
	friends := []*ingest.Party{ana, ben, cleo, dev}
	payBack := func(at float64, payer *ingest.Party, shares ...string) {
		k := 0
		for _, f := range friends {
			if f == payer {
				continue
			}
			e := s.ev(monday.Add(hours(at+float64(k))), "p2p", shares[k], "CAD", f, payer)
			e.Memo = "your share"
			tr.Feed(e)
			k++
		}
	}
	payBack(0, ana, "42.50", "38.00", "45.75")     // Friday dinner, Ana paid
	payBack(26, ben, "210.00", "210.00", "210.00") // the cabin, Ben booked it
	payBack(50, cleo, "35.00", "35.00", "35.00")   // groceries, Cleo shopped
	payBack(24*7, dev, "96.00", "96.00", "96.00")  // concert tickets, Dev bought
	payBack(24*9, ana, "40.00", "44.00", "39.50")  // next dinner, Ana again
	expectNotFired(t, tr, "CA-007-620", graphRules[1:]...)
	noErrors(t, tr)
	var fired []string
	for _, f := range friends {
		for _, a := range tr.AlertsFor(f.Account) {
			for _, ty := range a.Typologies {
				if ty.ID != "cycle" {
					t.Errorf("unexpected %s alert for %s\n%s", ty.ID, f.Account, tr.Explain(f.Account))
				}
			}
		}
		for _, a := range tr.AlertsFor(f.Account) {
			fired = append(fired, a.Transactions[0])
		}
	}
	knownIssue(t, len(fired) > 0, fmt.Sprintf("graph-cycle raises a cycle alert (80) on friends paying back shares of 35-210 CAD "+
		"(raised on %v): two friends who paid each other back similar shares within 7 days form a 2-hop cycle, and "+
		"the rule has no amount floor; add `amount_base >= cycle_min_amount` (e.g. 1,000, as bipartite_min_amount) "+
		"and/or set cycle_min_hops: 3", fired))
}

// A print shop with steady weekly turnover: four clients pay it every
// Monday, it pays four suppliers later in the week. In the fourth week it
// passes on 86 % of the week's takings, like a hub, but that week's inflow
// is a quarter of its 30-day inflow: turnover, not a spike.
func TestGraphBenignSteadyBusiness(t *testing.T) {
	tr := withProfiles(t, map[string]rules.Profile{"C-7700": {Type: "organization", Industry: "323111", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "shop"}
	shop := &ingest.Party{Account: "CA-007-700", CustomerID: "C-7700", Type: "organization", Name: "Maple Print Shop"}
	for week := 0; week < 4; week++ {
		start := monday.Add(hours(float64(24 * 7 * week)))
		for c := 0; c < 4; c++ {
			client := &ingest.Party{Account: fmt.Sprintf("CA-007-71%d", c), Type: "organization"}
			tr.Feed(s.ev(start.Add(hours(float64(2*c))), "eft", "5000.00", "CAD", client, shop))
		}
		// Suppliers on Thursday; in the fourth week a larger order, paid Friday.
		pay, day := "3500.00", 3.0
		if week == 3 {
			pay, day = "4300.00", 4
		}
		for p := 0; p < 4; p++ {
			supplier := &ingest.Party{Account: fmt.Sprintf("CA-007-72%d", p), Type: "organization"}
			tr.Feed(s.ev(start.Add(hours(24*day+float64(p))), "eft", pay, "CAD", shop, supplier))
		}
	}
	tr.ExpectNoAlert("CA-007-700")
	expectNotFired(t, tr, "CA-007-700", graphRules...)
	noErrors(t, tr)
}

// Four households pay the same hydro and gas companies, and their property
// tax instalment (over 1,000) to the city, in the same week. The billers
// bank here too and the payments say they are organizations: a 4 × 3 block
// that is bills, not layering.
func TestGraphBenignSharedBillers(t *testing.T) {
	tr := rulestest.New(t, starter...)
	s := &scenario{prefix: "bills"}
	billers := []*ingest.Party{
		{Account: "CA-HYDRO-TOR", CustomerID: "C-HYDRO", Name: "Toronto Hydro", Type: "organization"},
		{Account: "CA-GAS-ENB", CustomerID: "C-GAS", Name: "Enbridge Gas", Type: "organization"},
		{Account: "CA-CITY-TOR", CustomerID: "C-CITY", Name: "City of Toronto property tax", Type: "organization"},
	}
	payBills(tr, s, billers)
	for h := 0; h < 4; h++ {
		tr.ExpectNoAlert(fmt.Sprintf("CA-007-80%d", h))
	}
	for _, b := range billers {
		tr.ExpectNoAlert(b.Account)
	}
	expectNotFired(t, tr, "CA-CITY-TOR", graphRules...)
	noErrors(t, tr)
}

// The same bills when the payments do not type the billers: the bank knows
// them as organizations from their KYC profiles only.
func TestGraphBenignBillersKnownByProfile(t *testing.T) {
	org := rules.Profile{Type: "organization", Industry: "221122", Country: "CA", Region: "ON"}
	tr := withProfiles(t, map[string]rules.Profile{"C-HYDRO": org, "C-GAS": org, "C-CITY": {Type: "organization", Industry: "921130", Country: "CA", Region: "ON"}})
	s := &scenario{prefix: "bills2"}
	payBills(tr, s, []*ingest.Party{
		{Account: "CA-HYDRO-TOR", CustomerID: "C-HYDRO", Name: "Toronto Hydro"},
		{Account: "CA-GAS-ENB", CustomerID: "C-GAS", Name: "Enbridge Gas"},
		{Account: "CA-CITY-TOR", CustomerID: "C-CITY", Name: "City of Toronto property tax"},
	})
	expectNotFired(t, tr, "CA-CITY-TOR", "graph-cycle", "graph-scatter-gather", "graph-gather-scatter", "graph-stack")
	noErrors(t, tr)
	knownIssue(t, tr.Fired("graph-bipartite"), "graph-bipartite alerts on four households paying the same three billers "+
		"when the events do not type the billers, though their KYC profiles say organization: the rule tests to.type "+
		"and from.type only; add `to.profile.type != \"organization\" && from.profile.type != \"organization\"` "+
		"as fan-in-senders does\n"+tr.Explain("CA-CITY-TOR"))
	tr.ExpectNoAlert("CA-CITY-TOR")
}

// payBills has four households (CA-007-800..803) each pay every biller
// once within four days: hydro and gas by pre-authorized debit, the city's
// property tax instalment by EFT.
func payBills(tr *rulestest.Tester, s *scenario, billers []*ingest.Party) {
	amounts := [][]string{{"142.10", "96.40", "1850.00"}, {"188.75", "120.00", "2210.00"}, {"131.00", "84.30", "1640.00"}, {"205.60", "133.90", "2475.00"}}
	for h := 0; h < 4; h++ {
		payer := cust(fmt.Sprintf("CA-007-80%d", h), fmt.Sprintf("C-780%d", h))
		for b, biller := range billers {
			kind := "ach"
			if b == 2 {
				kind = "eft"
			}
			tr.Feed(s.ev(monday.Add(hours(float64(5*h+30*b))), kind, amounts[h][b], "CAD", payer, biller))
		}
	}
}

func splitHits(hs []rules.Hit) []string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.Rule.ID)
	}
	return ids
}
