package gen

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// Typologies are the catalogue ids of spec/typologies.md, every one of which
// the generator injects.
var Typologies = []string{
	"structuring", "funnel_account", "rapid_movement", "fan_in", "fan_out", "cycle",
	"scatter_gather", "gather_scatter", "bipartite", "stack", "money_mule",
	"precursor_purchase", "virtual_asset_cashout", "designated_party", "drug_slang",
	"underground_banking", "trade_based", "bulk_cash",
}

// planner injects the patterns of one 30-day block.
type planner struct {
	e        *engine
	r        *rand.Rand
	d0       int // first local day of the block
	days     int // days in the block
	block    int
	instance int // index of the instance being injected
}

func (e *engine) plan(d0, days int) {
	block := d0 / blockDays
	p := &planner{e: e, r: rand.New(rand.NewPCG(uint64(e.cfg.Seed), 0xB10C0000+uint64(block))), d0: d0, days: days, block: block}
	inst := e.cfg.instances()
	injectors := map[string]func(members []*cust){
		"structuring": p.structuring, "funnel_account": p.funnelAccount, "rapid_movement": p.rapidMovement,
		"fan_in": p.fanIn, "fan_out": p.fanOut, "cycle": p.cycle, "scatter_gather": p.scatterGather,
		"gather_scatter": p.gatherScatter, "bipartite": p.bipartite, "stack": p.stack,
		"money_mule": p.moneyMule, "precursor_purchase": p.precursorPurchase,
		"virtual_asset_cashout": p.virtualAssetCashout, "designated_party": p.designatedParty,
		"drug_slang": p.drugSlang, "underground_banking": p.undergroundBanking,
		"trade_based": p.tradeBased, "bulk_cash": p.bulkCash,
	}
	for _, t := range Typologies {
		size := roleSize[t]
		if size == 0 {
			size = 1
		}
		ids := e.pop.roles[t]
		for i := 0; i < inst && (i+1)*size <= len(ids); i++ {
			members := make([]*cust, size)
			for j := range members {
				members[j] = e.pop.custs[ids[i*size+j]]
			}
			p.instance = i
			injectors[t](members)
		}
	}
	// Partial patterns that stop short of the catalogue's core, on their own
	// customers, so that false positives can be told from misses.
	partials := []func(*cust){p.partialStructuring, p.partialFunnel, p.partialRapid, p.partialFanIn, p.partialMule, p.nameLookAlike}
	for i, k := range e.pop.roles["partial"] {
		partials[i%len(partials)](e.pop.custs[k])
	}
	// Ordinary customers with look-alike memos and group payments.
	if e.cfg.LookAlikes {
		persons := e.pop.persons["CA"]
		persons = append(append(persons[:len(persons):len(persons)], e.pop.persons["US"]...), e.pop.persons["MX"]...)
		for i := 0; i < inst*2 && len(persons) > 0; i++ {
			c := e.pop.custs[persons[p.r.IntN(len(persons))]]
			if c.role != "" {
				continue
			}
			if i%2 == 0 {
				p.memoLookAlike(c)
			} else {
				p.p2pGroup(c)
			}
		}
	}
}

// start draws the first day of a pattern that lasts span days, so that it
// ends inside the block when the block is long enough.
func (p *planner) start(span int) int {
	room := p.days - span
	if room < 1 {
		room = 1
	}
	return p.d0 + p.r.IntN(room)
}

// bizHours is a time of day when branches are open.
func (p *planner) bizHours() float64 { return uniform(p.r, 9.25, 16.75) }

func (p *planner) fx(c *cust) float64 { return fxToLocal[c.ccy] }

func (p *planner) loc(c *city) *ingest.Location {
	return &ingest.Location{Country: c.Country, Region: c.Region, City: c.Name}
}

// stranger is an unrelated person at another bank.
func (p *planner) stranger(country string) *ingest.Party {
	set := nameSetFor(p.r, country)
	if country != "CA" && country != "US" && country != "MX" {
		set = map[string]string{"CN": "zh", "HK": "zh", "IN": "in"}[country]
		if set == "" {
			set = "en"
		}
	}
	name := personName(p.r, set)
	bic := pick(p.r, otherBanks[country])
	return &ingest.Party{Account: extAccount(bic, name+strconv.Itoa(p.r.IntN(1e6))), Name: name, Type: "person", Country: country, Bank: bic}
}

func (p *planner) company(name, country, industry string) *ingest.Party {
	bic := pick(p.r, otherBanks[country])
	return &ingest.Party{Account: extAccount(bic, name), Name: name, Type: "organization", Country: country, Bank: bic, Industry: industry}
}

func (p *planner) cashDeposit(c *cust, acct int, t time.Time, amt float64, at *city, depositor *ingest.Party) *ingest.Event {
	if depositor == nil {
		depositor = &ingest.Party{Name: c.Name, Type: c.Type, Country: c.Country, CustomerID: c.CustomerID}
	}
	ev := p.e.newEvent(t, "cash_deposit", money(amt), c.ccy, depositor, c.ownParty(acct))
	ev.Channel = "branch"
	if h := t.Hour(); h < 9 || h >= 17 {
		ev.Channel = "atm"
	}
	ev.Location = p.loc(at)
	return ev
}

func (p *planner) cashWithdrawal(c *cust, acct int, t time.Time, amt float64, at *city, channel string) *ingest.Event {
	ev := p.e.newEvent(t, "cash_withdrawal", money(amt), c.ccy, c.ownParty(acct), nil)
	ev.Channel = channel
	ev.Location = p.loc(at)
	return ev
}

func (p *planner) transfer(kind string, t time.Time, amt float64, ccy string, from, to *ingest.Party, channel, memo string) *ingest.Event {
	ev := p.e.newEvent(t, kind, money(amt), ccy, from, to)
	ev.Channel = channel
	ev.Memo = memo
	return ev
}

// split divides total into n positive parts that differ by up to about ±spread.
func (p *planner) split(total float64, n int, spread float64) []float64 {
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = 1 + uniform(p.r, -spread, spread)
		sum += w[i]
	}
	for i := range w {
		w[i] = math.Round(total*w[i]/sum*100) / 100
	}
	return w
}

// sortedOffsets draws n sorted durations in [lo, hi].
func (p *planner) sortedOffsets(n int, lo, hi time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + time.Duration(p.r.Int64N(int64(hi-lo)+1))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// citiesOfRegion returns the branch cities of a region.
func citiesOfRegion(country, region string) []*city {
	var out []*city
	for _, c := range cities {
		if c.Country == country && c.Region == region {
			out = append(out, c)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// structuring
//
// Catalogue core: ≥ 2 cash deposits (or withdrawals) for one account/customer
// within 24 h (CA: total >= CAD 10,000) or one business day (US: total > USD
// 10,000), each under the threshold; or several just-below deposits (≥ 80 %
// of the threshold) within 3–7 days; across branches and accounts.
//
// Variants (subjects live in CA or US; amounts in the home currency):
//   - split_24h (50 %): 2–5 deposits of 2,000–9,900, together at or above
//     10,000 (CA) / above 10,000 (US); CA within 23 h of the first, US on one
//     weekday; branches of the home region (ATM after hours); a second
//     account of the customer gets some deposits when it has one; 30 % of
//     deposits made by third parties.
//   - just_below (30 %): 3–5 deposits each 8,000–9,990 on distinct days
//     within 3–7 days, different branches.
//   - split_withdrawals (20 %): split_24h with cash withdrawals, after an
//     incoming wire that funds them (the wire is not part of the label).
func (p *planner) structuring(m []*cust) {
	c := m[0]
	r := p.r
	const thr = 10000.0
	us := c.Country == "US"
	branches := citiesOfRegion(c.Country, c.Region)
	branch := func() *city {
		if r.IntN(10) < 6 {
			return c.home
		}
		return pick(r, branches)
	}
	acct := func() int {
		if len(c.Accounts) > 1 && r.IntN(2) == 0 {
			return 1
		}
		return 0
	}
	x := r.Float64()
	switch {
	case x < 0.8 && x >= 0.5: // just_below
		span := 3 + r.IntN(5)
		k := 3 + r.IntN(3)
		if k > span {
			k = span
		}
		d := p.start(span + 1)
		l := p.e.label("structuring", "just_below_"+strconv.Itoa(span)+"d", c)
		dayOffs := append([]int{0, span - 1}, r.Perm(span - 2)[:k-2]...)
		for i := range dayOffs[2:] {
			dayOffs[2+i]++
		}
		sort.Ints(dayOffs)
		for _, off := range dayOffs {
			amt := round(uniform(r, 0.80*thr, 0.999*thr), 10)
			ev := p.cashDeposit(c, acct(), p.e.at(c.home, d+off, p.bizHours()), amt, branch(), nil)
			l.add(ev)
		}
	default: // split_24h or split_withdrawals
		withdraw := x >= 0.8
		k := 2 + r.IntN(4)
		var amts []float64
		for try := 0; ; try++ {
			total := uniform(r, thr+10, math.Min(2.6*thr, 9700*float64(k)))
			amts = p.split(total, k, 0.45)
			ok := true
			var sum float64
			for i := range amts {
				amts[i] = round(amts[i], 10)
				sum += amts[i]
				if amts[i] < 1000 || amts[i] >= thr*0.99 {
					ok = false
				}
			}
			if ok && sum > thr || try > 100 {
				break
			}
		}
		d := p.start(3)
		var times []time.Time
		if us {
			for wd := p.e.date(d).Weekday(); wd == time.Saturday || wd == time.Sunday; wd = p.e.date(d).Weekday() {
				d++
			}
			for _, off := range p.sortedOffsets(k, hours(9.1), hours(16.9)) {
				times = append(times, p.e.at(c.home, d, 0).Add(off))
			}
		} else {
			t0 := p.e.at(c.home, d, p.bizHours())
			times = append(times, t0)
			for _, off := range p.sortedOffsets(k-1, hours(0.3), hours(23)) {
				times = append(times, t0.Add(off))
			}
		}
		variant := "split_24h"
		if us {
			variant = "split_business_day"
		}
		if withdraw {
			variant += "_withdrawals"
			var sum float64
			for _, a := range amts {
				sum += a
			}
			payer := p.company(orgName(r, pick(r, ordinaryIndustries), c.Country), c.Country, "")
			p.transfer("wire", times[0].Add(-hours(uniform(r, 20, 60))), round(sum*uniform(r, 1.02, 1.2), 1), c.ccy, payer, c.ownParty(0), "other", "INV-"+strconv.Itoa(1000+r.IntN(9000)))
		}
		l := p.e.label("structuring", variant, c)
		for i, t := range times {
			var ev *ingest.Event
			if withdraw {
				ev = p.cashWithdrawal(c, 0, t, amts[i], branch(), "branch")
			} else {
				var dep *ingest.Party
				if r.IntN(10) < 3 {
					dep = p.stranger(c.Country)
					dep.Account, dep.Bank = "", ""
				}
				ev = p.cashDeposit(c, acct(), t, amts[i], branch(), dep)
			}
			l.add(ev)
		}
	}
}

// partialStructuring: one deposit just under the threshold, or two that
// together stay under it. Must not alert.
func (p *planner) partialStructuring(c *cust) {
	r := p.r
	fx := p.fx(c)
	d := p.start(2)
	l := p.e.label("benign:partial_structuring", "", c)
	if r.IntN(2) == 0 {
		l.Variant = "single_just_below"
		l.add(p.cashDeposit(c, 0, p.e.at(c.home, d, p.bizHours()), round(uniform(r, 8200, 9800)*fx, 10), c.home, nil))
		return
	}
	l.Variant = "two_under_total"
	total := uniform(r, 4000, 8500) * fx
	t0 := p.e.at(c.home, d, p.bizHours())
	for i, a := range p.split(total, 2, 0.3) {
		l.add(p.cashDeposit(c, 0, t0.Add(hours(float64(i)*uniform(r, 2, 20))), round(a, 10), c.home, nil))
	}
}

// ---------------------------------------------------------------------------
// funnel_account
//
// Catalogue core: cash deposits into one account in ≥ 3 regions other than the
// account's home within 7 days, followed within days by withdrawals or wires
// (to MX or abroad) of most of the inflow.
//
// Injected: 3–5 distinct non-home regions, 1 deposit in each plus 0–3 more,
// each 1,500–9,500 by third-party depositors, over at most 7 days; then, 6–72 h
// after the last deposit, 80–95 % of the total leaves: wires to Mexico
// (always), plus cash withdrawals at home half of the time.
func (p *planner) funnelAccount(m []*cust) {
	c := m[0]
	r := p.r
	var regions []string
	seen := map[string]bool{c.Region: true}
	for _, ct := range cities {
		if ct.Country == c.Country && !seen[ct.Region] {
			seen[ct.Region] = true
			regions = append(regions, ct.Region)
		}
	}
	r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	nr := 3 + r.IntN(3)
	if nr > len(regions) {
		nr = len(regions)
	}
	regions = regions[:nr]
	k := nr + r.IntN(4)
	d := p.start(11)
	l := p.e.label("funnel_account", strconv.Itoa(nr)+"_regions", c)
	var total float64
	var last time.Time
	dayOffs := make([]int, k)
	for i := range dayOffs {
		dayOffs[i] = r.IntN(7)
	}
	sort.Ints(dayOffs)
	for i := 0; i < k; i++ {
		region := regions[i%nr]
		if i >= nr {
			region = pick(r, regions)
		}
		at := pick(r, citiesOfRegion(c.Country, region))
		amt := round(uniform(r, 1500, 9500), 10)
		dep := p.stranger(c.Country)
		dep.Account, dep.Bank = "", ""
		t := p.e.at(at, d+dayOffs[i], p.bizHours())
		l.add(p.cashDeposit(c, 0, t, amt, at, dep))
		total += amt
		if t.After(last) {
			last = t
		}
	}
	drain := total * uniform(r, 0.80, 0.95)
	t := last.Add(hours(uniform(r, 6, 72)))
	wires := drain
	if r.IntN(2) == 0 {
		wires = drain * uniform(r, 0.5, 0.8)
		cash := drain - wires
		for _, a := range p.split(cash, 1+int(cash/2500), 0.2) {
			t = t.Add(hours(uniform(r, 0.2, 5)))
			l.add(p.cashWithdrawal(c, 0, t, round(a, 20), c.home, pick(r, []string{"atm", "branch"})))
		}
	}
	for _, a := range p.split(wires, 1+r.IntN(2), 0.3) {
		t = t.Add(hours(uniform(r, 0.5, 8)))
		var to *ingest.Party
		if r.IntN(2) == 0 {
			to = p.stranger("MX")
		} else {
			to = p.company("Comercializadora "+pick(r, []string{"del Pacífico", "Nortena", "Santa Fe", "Los Altos"})+" S.A. de C.V.", "MX", "")
		}
		l.add(p.transfer("wire", t, math.Round(a), c.ccy, c.ownParty(0), to, "online", pick(r, []string{"", "family support", "payment", "prestamo"})))
	}
}

// partialFunnel: deposits in two other regions by the customer himself (a
// travelling worker), with no drain. Must not alert.
func (p *planner) partialFunnel(c *cust) {
	r := p.r
	var other []*city
	for _, ct := range citiesIn(c.Country) {
		if ct.Region != c.Region {
			other = append(other, ct)
		}
	}
	d := p.start(7)
	l := p.e.label("benign:partial_funnel_account", "two_regions_no_drain", c)
	a, b := pick(r, other), pick(r, other)
	for i, at := range []*city{a, b} {
		l.add(p.cashDeposit(c, 0, p.e.at(at, d+2*i, p.bizHours()), round(uniform(r, 300, 2500)*p.fx(c), 10), at, nil))
	}
}

// ---------------------------------------------------------------------------
// rapid_movement
//
// Catalogue core: ≥ 80–90 % of an inflow leaves within 24–48 h, especially to
// third parties or abroad; little ordinary activity.
//
// Injected on a quiet account (no payroll, no bills, little card spend): 1–2
// waves, each an inflow of 15,000–90,000 (wire or EFT, from a third party at
// home or abroad) and, 2–40 h later, 1–3 outgoing wires to third parties
// (MX, HK, AE, US or domestic) of 85–98 % of it.
func (p *planner) rapidMovement(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	waves := 1 + r.IntN(2)
	d := p.start(4 + 6*waves)
	l := p.e.label("rapid_movement", strconv.Itoa(waves)+"_waves", c)
	for w := 0; w < waves; w++ {
		in := round(uniform(r, 15000, 90000)*fx, 100)
		var from *ingest.Party
		if r.IntN(2) == 0 {
			from = p.company(orgName(r, pick(r, ordinaryIndustries), c.Country), c.Country, "")
		} else {
			from = p.stranger(pick(r, []string{c.Country, c.Country, "US", "HK", "AE"}))
		}
		kind := pick(r, []string{"wire", "wire", payKind(c.Country)})
		t := p.e.at(c.home, d+w*6, p.bizHours())
		l.add(p.transfer(kind, t, in, c.ccy, from, c.ownParty(0), "other", pick(r, []string{"", "consulting services", "loan", "investment"})))
		t = t.Add(hours(uniform(r, 2, 40)))
		for _, a := range p.split(in*uniform(r, 0.85, 0.98), 1+r.IntN(3), 0.35) {
			to := p.stranger(pick(r, []string{"MX", "HK", "AE", "US", c.Country}))
			if r.IntN(2) == 0 {
				to = p.company(pick(r, []string{"Golden Harbour Trading Ltd.", "Al Noor General Trading LLC", "Pacific Rim Holdings Inc.", "Inversiones Delta S.A. de C.V."}), to.Country, "")
			}
			l.add(p.transfer("wire", t, math.Round(a), c.ccy, c.ownParty(0), to, "online", pick(r, []string{"", "services", "repayment"})))
			t = t.Add(hours(uniform(r, 0.1, 3)))
		}
	}
}

// partialRapid: an inflow of which only 30–50 % leaves, 4–6 days later.
func (p *planner) partialRapid(c *cust) {
	r := p.r
	fx := p.fx(c)
	d := p.start(8)
	l := p.e.label("benign:partial_rapid_movement", "slow_partial_outflow", c)
	in := round(uniform(r, 10000, 40000)*fx, 100)
	from := p.company(orgName(r, pick(r, ordinaryIndustries), c.Country), c.Country, "")
	t := p.e.at(c.home, d, p.bizHours())
	l.add(p.transfer(payKind(c.Country), t, in, c.ccy, from, c.ownParty(0), "other", "bonus"))
	l.add(p.transfer(payKind(c.Country), t.Add(hours(uniform(r, 96, 144))), math.Round(in*uniform(r, 0.3, 0.5)), c.ccy, c.ownParty(0), p.stranger(c.Country), "online", "car"))
}

// ---------------------------------------------------------------------------
// fan_in
//
// Catalogue core: ≥ N distinct senders to one account within W.
// Injected: 10–16 distinct senders (strangers and organizations at other
// banks, or other customers of ours) within 2–4 days, 800–6,000 each, by
// EFT, wire or P2P.
func (p *planner) fanIn(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	n := 10 + r.IntN(7)
	w := 2 + r.IntN(3)
	d := p.start(w + 1)
	l := p.e.label("fan_in", strconv.Itoa(n)+"_senders_"+strconv.Itoa(w)+"d", c)
	t0 := p.e.at(c.home, d, uniform(r, 7, 12))
	// The label promises n distinct senders: one of our customers or a
	// company name drawn twice would make it n-1, below what the catalogue
	// calls this pattern.
	seen := map[string]bool{}
	for _, off := range p.sortedOffsets(n, 0, time.Duration(w)*24*time.Hour-time.Hour) {
		from := p.sender(c)
		for seen[from.Account] {
			from = p.sender(c)
		}
		seen[from.Account] = true
		kind := pick(r, []string{"eft", "wire", p2pKind(c.Country), payKind(c.Country)})
		l.add(p.transfer(kind, t0.Add(off), round(uniform(r, 800, 6000)*fx, 1), c.ccy, from, c.ownParty(0), "online", pick(r, []string{"", "invoice", "payment", "order"})))
	}
}

// sender is a counterparty that is a stranger, an organization, or (one time
// in four) one of our own ordinary customers.
func (p *planner) sender(c *cust) *ingest.Party {
	r := p.r
	if r.IntN(4) == 0 {
		ps := p.e.pop.persons[c.Country]
		if o := p.e.pop.custs[ps[r.IntN(len(ps))]]; o.role == "" && o.idx != c.idx {
			return o.ownParty(0)
		}
	}
	if r.IntN(3) == 0 {
		return p.company(orgName(r, pick(r, ordinaryIndustries), c.Country), c.Country, "")
	}
	return p.stranger(c.Country)
}

// partialFanIn: 4–6 senders over a week.
func (p *planner) partialFanIn(c *cust) {
	r := p.r
	n := 4 + r.IntN(3)
	d := p.start(8)
	l := p.e.label("benign:partial_fan_in", strconv.Itoa(n)+"_senders_7d", c)
	t0 := p.e.at(c.home, d, 9)
	for _, off := range p.sortedOffsets(n, 0, 7*24*time.Hour) {
		l.add(p.transfer(payKind(c.Country), t0.Add(off), round(uniform(r, 200, 3000)*p.fx(c), 1), c.ccy, p.sender(c), c.ownParty(0), "online", "invoice"))
	}
}

// ---------------------------------------------------------------------------
// fan_out
//
// Catalogue core: ≥ N distinct receivers from one account within W.
// Injected: an inflow of 30,000–120,000, then 2–24 h later 10–16 distinct
// receivers (mostly strangers, some abroad) within 1–3 days sharing 85–97 %
// of it, by EFT, P2P or wire. No SALA purpose, no payroll memo.
func (p *planner) fanOut(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	n := 10 + r.IntN(7)
	w := 1 + r.IntN(3)
	d := p.start(w + 2)
	l := p.e.label("fan_out", strconv.Itoa(n)+"_receivers_"+strconv.Itoa(w)+"d", c)
	in := round(uniform(r, 30000, 120000)*fx, 100)
	t := p.e.at(c.home, d, p.bizHours())
	l.add(p.transfer("wire", t, in, c.ccy, p.company(orgName(r, pick(r, ordinaryIndustries), c.Country), c.Country, ""), c.ownParty(0), "other", ""))
	t = t.Add(hours(uniform(r, 2, 24)))
	amts := p.split(in*uniform(r, 0.85, 0.97), n, 0.3)
	for i, off := range p.sortedOffsets(n, 0, time.Duration(w)*24*time.Hour) {
		to := p.stranger(pick(r, []string{c.Country, c.Country, c.Country, "MX", "US"}))
		kind := pick(r, []string{p2pKind(c.Country), payKind(c.Country), "wire"})
		l.add(p.transfer(kind, t.Add(off), math.Round(amts[i]), c.ccy, c.ownParty(0), to, "online", ""))
	}
}

// ---------------------------------------------------------------------------
// Graph patterns (AMLworld / AMLSim). Every account taking part is one of our
// customers, so the whole pattern is visible to the bank. Amounts stay in the
// originator's currency along the pattern.

// cycle: A -> ... -> A of 2–6 hops (weights 10/30/25/20/15 %), first amount
// 8,000–60,000, each hop 0.5–10 % smaller than the one before, hops 3–26 h
// apart (so the whole cycle closes within 6.5 days).
func (p *planner) cycle(m []*cust) {
	r := p.r
	x := r.Float64()
	hops := 6
	for i, w := range []float64{0.10, 0.40, 0.65, 0.85} {
		if x < w {
			hops = 2 + i
			break
		}
	}
	ring := m[:hops]
	accts := make([]string, hops)
	for i, c := range ring {
		accts[i] = c.acct()
	}
	a := ring[0]
	d := p.start(8)
	l := p.e.label("cycle", strconv.Itoa(hops)+"_hops", a, accts...)
	amt := round(uniform(r, 8000, 60000)*p.fx(a), 10)
	t := p.e.at(a.home, d, p.bizHours())
	for i := 0; i < hops; i++ {
		from, to := ring[i], ring[(i+1)%hops]
		kind := "wire"
		if from.Country == to.Country && r.IntN(2) == 0 {
			kind = payKind(from.Country)
		}
		l.add(p.transfer(kind, t, amt, a.ccy, from.ownParty(0), to.ownParty(0), "online", pick(r, []string{"", "consulting fee", "loan repayment", "invoice " + strconv.Itoa(100+r.IntN(900))})))
		t = t.Add(hours(uniform(r, 3, 26)))
		amt = math.Round(amt*uniform(r, 0.90, 0.995)*100) / 100
	}
}

// scatterGather: origin O -> 4–8 intermediaries -> beneficiary B (the
// subject). O scatters 3,000–15,000 to each over 36 h; each intermediary
// passes on 90–99 % 12–72 h after receiving.
func (p *planner) scatterGather(m []*cust) {
	r := p.r
	b, o := m[0], m[1]
	k := 4 + r.IntN(5)
	mids := m[2 : 2+k]
	accts := []string{o.acct()}
	for _, c := range mids {
		accts = append(accts, c.acct())
	}
	d := p.start(6)
	l := p.e.label("scatter_gather", strconv.Itoa(k)+"_intermediaries", b, accts...)
	t0 := p.e.at(o.home, d, p.bizHours())
	for i, off := range p.sortedOffsets(k, 0, 36*time.Hour) {
		amt := round(uniform(r, 3000, 15000)*p.fx(o), 10)
		t := t0.Add(off)
		l.add(p.transfer(payKind(o.Country), t, amt, o.ccy, o.ownParty(0), mids[i].ownParty(0), "online", ""))
		l.add(p.transfer(payKind(o.Country), t.Add(hours(uniform(r, 12, 72))), math.Round(amt*uniform(r, 0.90, 0.99)), o.ccy, mids[i].ownParty(0), b.ownParty(0), "online", ""))
	}
}

// gatherScatter: 4–8 origins -> hub H (the subject) -> 4–8 beneficiaries.
// Origins pay 4,000–20,000 each within 2 days; 6–48 h after the last, H pays
// out 90–98 % of the total in parts over up to 36 h.
func (p *planner) gatherScatter(m []*cust) {
	r := p.r
	h := m[0]
	kin, kout := 4+r.IntN(5), 4+r.IntN(5)
	ins, outs := m[1:1+kin], m[1+kin:1+kin+kout]
	var accts []string
	for _, c := range append(append([]*cust{}, ins...), outs...) {
		accts = append(accts, c.acct())
	}
	d := p.start(6)
	l := p.e.label("gather_scatter", strconv.Itoa(kin)+"_in_"+strconv.Itoa(kout)+"_out", h, accts...)
	t0 := p.e.at(h.home, d, p.bizHours())
	var total float64
	var last time.Time
	for i, off := range p.sortedOffsets(kin, 0, 48*time.Hour) {
		amt := round(uniform(r, 4000, 20000)*p.fx(h), 10)
		total += amt
		last = t0.Add(off)
		l.add(p.transfer(pick(r, []string{"wire", payKind(ins[i].Country)}), last, amt, h.ccy, ins[i].ownParty(0), h.ownParty(0), "online", ""))
	}
	t := last.Add(hours(uniform(r, 6, 48)))
	amts := p.split(total*uniform(r, 0.90, 0.98), kout, 0.3)
	for i, off := range p.sortedOffsets(kout, 0, 36*time.Hour) {
		l.add(p.transfer(pick(r, []string{"wire", payKind(h.Country)}), t.Add(off), math.Round(amts[i]), h.ccy, h.ownParty(0), outs[i].ownParty(0), "online", ""))
	}
}

// bipartite: 3–5 originators each pay 3–5 beneficiaries (every pair, one
// edge dropped one time in five), 1,000–9,000 each, within 1–4 days. The
// subject is the first beneficiary.
func (p *planner) bipartite(m []*cust) {
	r := p.r
	no, nb := 3+r.IntN(3), 3+r.IntN(3)
	bens, origs := m[:nb], m[5:5+no]
	var accts []string
	for _, c := range append(append([]*cust{}, bens[1:]...), origs...) {
		accts = append(accts, c.acct())
	}
	w := 1 + r.IntN(4)
	d := p.start(w + 1)
	l := p.e.label("bipartite", strconv.Itoa(no)+"x"+strconv.Itoa(nb), bens[0], accts...)
	drop := -1
	if r.IntN(5) == 0 {
		drop = r.IntN(no * nb)
	}
	offs := p.sortedOffsets(no*nb, 0, time.Duration(w)*24*time.Hour)
	order := r.Perm(no * nb)
	t0 := p.e.at(bens[0].home, d, 8)
	for i, e := range order {
		if e == drop {
			continue
		}
		o, b := origs[e/nb], bens[e%nb]
		l.add(p.transfer(pick(r, []string{"wire", payKind(o.Country)}), t0.Add(offs[i]), round(uniform(r, 1000, 9000)*p.fx(o), 1), o.ccy, o.ownParty(0), b.ownParty(0), "online", ""))
	}
}

// stack: three layers of 3–4 accounts; every account of layer 1 pays every
// account of layer 2 (1,000–8,000, within a day), and 12–48 h later every
// account of layer 2 pays every account of layer 3, passing on 90–98 % of
// what it received. The subject is the first account of layer 2.
func (p *planner) stack(m []*cust) {
	r := p.r
	n1, n2, n3 := 3+r.IntN(2), 3+r.IntN(2), 3+r.IntN(2)
	l2, l1, l3 := m[0:n2], m[4:4+n1], m[8:8+n3]
	var accts []string
	for _, c := range append(append(append([]*cust{}, l2[1:]...), l1...), l3...) {
		accts = append(accts, c.acct())
	}
	d := p.start(4)
	l := p.e.label("stack", strconv.Itoa(n1)+"-"+strconv.Itoa(n2)+"-"+strconv.Itoa(n3), l2[0], accts...)
	t0 := p.e.at(l2[0].home, d, 8)
	recv := make([]float64, n2)
	var last time.Time
	offs := p.sortedOffsets(n1*n2, 0, 24*time.Hour)
	for i := 0; i < n1*n2; i++ {
		a, b := l1[i/n2], i%n2
		amt := round(uniform(r, 1000, 8000)*p.fx(l2[0]), 1)
		recv[b] += amt
		last = t0.Add(offs[i])
		l.add(p.transfer(payKind(a.Country), last, amt, l2[0].ccy, a.ownParty(0), l2[b].ownParty(0), "online", ""))
	}
	t := last.Add(hours(uniform(r, 12, 48)))
	for b := 0; b < n2; b++ {
		for i, a := range p.split(recv[b]*uniform(r, 0.90, 0.98), n3, 0.25) {
			t = t.Add(hours(uniform(r, 0.1, 2)))
			l.add(p.transfer(payKind(l2[b].Country), t, math.Round(a), l2[0].ccy, l2[b].ownParty(0), l3[i].ownParty(0), "online", ""))
		}
	}
}

// ---------------------------------------------------------------------------
// money_mule
//
// Catalogue core: many small P2P/e-transfer credits from unrelated senders,
// drained within hours by ATM cash or transfers to third parties; no payroll.
//
// Injected on a quiet person account (no payroll): 2–3 waves at least 3 days
// apart; each wave 6–14 P2P credits of 150–950 from distinct strangers within
// 6–30 h, then 0.5–6 h after the last credit 85–100 % leaves: ATM withdrawals
// of at most 1,000 (in 20s) at 1–3 ATMs minutes apart (60 %), or 1–2
// transfers to third parties (40 %).
func (p *planner) moneyMule(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	waves := 2 + r.IntN(2)
	d := p.start(4*waves + 1)
	l := p.e.label("money_mule", strconv.Itoa(waves)+"_waves", c)
	for w := 0; w < waves; w++ {
		k := 6 + r.IntN(9)
		t0 := p.e.at(c.home, d+4*w, uniform(r, 8, 14))
		var sum float64
		var last time.Time
		for _, off := range p.sortedOffsets(k, 0, hours(uniform(r, 6, 30))) {
			amt := round(uniform(r, 150, 950)*fx, 5)
			sum += amt
			last = t0.Add(off)
			from := p.stranger(pick(r, []string{c.Country, c.Country, c.Country, "US", "CA"}))
			l.add(p.transfer(p2pKind(c.Country), last, amt, c.ccy, from, c.ownParty(0), "mobile", pick(r, []string{"", "", "rent", "thanks", "for the item", "marketplace", "loan"})))
		}
		drain := sum * uniform(r, 0.85, 1.0)
		t := last.Add(hours(uniform(r, 0.5, 6)))
		if r.IntN(10) < 6 {
			atms := []*city{c.home, pick(r, citiesOfRegion(c.Country, c.Region)), pick(r, citiesOfRegion(c.Country, c.Region))}
			for drain >= 20 {
				a := math.Min(drain, round(uniform(r, 500, 1000), 20))
				a = math.Floor(a/20) * 20
				if a < 20 {
					break
				}
				l.add(p.cashWithdrawal(c, 0, t, a, pick(r, atms), "atm"))
				drain -= a
				t = t.Add(time.Duration(5+r.IntN(35)) * time.Minute)
			}
		} else {
			for _, a := range p.split(drain, 1+r.IntN(2), 0.3) {
				to := p.stranger(pick(r, []string{c.Country, "MX", "NG", "US"}))
				l.add(p.transfer(pick(r, []string{p2pKind(c.Country), "wire"}), t, math.Round(a), c.ccy, c.ownParty(0), to, "mobile", ""))
				t = t.Add(hours(uniform(r, 0.2, 2)))
			}
		}
	}
}

// partialMule: a few P2P credits from strangers (selling furniture online),
// kept in the account.
func (p *planner) partialMule(c *cust) {
	r := p.r
	d := p.start(4)
	l := p.e.label("benign:partial_money_mule", "marketplace_sales", c)
	t0 := p.e.at(c.home, d, 10)
	for _, off := range p.sortedOffsets(3+r.IntN(3), 0, 72*time.Hour) {
		l.add(p.transfer(p2pKind(c.Country), t0.Add(off), round(uniform(r, 40, 400)*p.fx(c), 5), c.ccy, p.stranger(c.Country), c.ownParty(0), "mobile", pick(r, []string{"couch", "bike", "marketplace", "desk"})))
	}
}

// p2pGroup: friends paying back their share of a cottage or a dinner, then
// the organizer paying the bill.
func (p *planner) p2pGroup(c *cust) {
	r := p.r
	if len(c.friends) == 0 {
		return
	}
	d := p.start(3)
	l := p.e.label("benign:p2p_group", "", c)
	t0 := p.e.at(c.home, d, 18)
	share := round(uniform(r, 30, 180)*p.fx(c), 1)
	memo := pick(r, []string{"cottage weekend", "dinner", "bachelor party", "ski trip", "concert"})
	for i, off := range p.sortedOffsets(4+r.IntN(5), 0, 30*time.Hour) {
		var from *ingest.Party
		if i < len(c.friends) {
			from = p.e.pop.custs[c.friends[i]].ownParty(0)
		} else {
			from = p.stranger(c.Country)
		}
		l.add(p.transfer(p2pKind(c.Country), t0.Add(off), share, c.ccy, from, c.ownParty(0), "mobile", memo))
	}
	ev := p.e.newEvent(t0.Add(hours(40)), "card", money(share*6), c.ccy, c.ownParty(0), &ingest.Party{Name: "Airbnb", Type: "organization", Country: "US", Industry: "721199"})
	ev.Channel = "online"
	l.add(ev)
}

// ---------------------------------------------------------------------------
// precursor_purchase
//
// Catalogue core: wires/P2P/VC to chemical or pharma firms (CN esp.
// Hebei/Hubei, HK, IN; via SG, KR, HK) by a customer outside the chemical
// industry; amounts under 1,000 or over 10,000; many-to-one to the same
// supplier; press/die/pump purchases; precursor names or CAS numbers in memos.
//
// Injected: subjects are persons or organizations outside NAICS 325/4246;
// 2–4 payments over up to 18 days, half under 1,000 (250–990 USD-eq.) and
// half over 10,000 (10,500–45,000 USD-eq.); wire by SWIFT (60 %), through a
// SG/KR/HK intermediary (15 %) or BTC to the supplier's wallet (25 %); two
// subjects share each supplier; 60 % of memos name a precursor, a CAS number
// or a press part.
func (p *planner) precursorPurchase(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	s := precursorSuppliers[(p.instance/2)%len(precursorSuppliers)]
	n := 2 + r.IntN(3)
	d := p.start(19)
	l := p.e.label("precursor_purchase", s.country, c)
	t := p.e.at(c.home, d, p.bizHours())
	for i := 0; i < n; i++ {
		usd := uniform(r, 250, 990)
		if r.IntN(2) == 0 {
			usd = uniform(r, 10500, 45000)
		}
		memo := pick(r, []string{"sample order", "invoice " + strconv.Itoa(1000+r.IntN(9000)), "payment for goods", "order #" + strconv.Itoa(r.IntN(99999))})
		if r.IntN(10) < 6 {
			memo = pick(r, precursorMemos)
		}
		x := r.IntN(20)
		var ev *ingest.Event
		switch {
		case x < 5:
			from := c.ownParty(0)
			ev = p.transfer("crypto_transfer", t, 0, "BTC", from, &ingest.Party{Name: s.name, Type: "organization", Country: s.country, Wallet: s.wallet, Industry: s.industry}, "online", memo)
			ev.Amount = sats(usd / uniform(r, 60000, 90000))
		case x < 8:
			via := pick(r, []struct{ name, country string }{{"Lucky Star Trading Pte. Ltd.", "SG"}, {"Hanil Global Co., Ltd.", "KR"}, {"Everbright Import & Export Ltd.", "HK"}})
			to := p.company(via.name, via.country, "425120")
			ev = p.transfer("wire", t, round(usd*fx, 1), c.ccy, c.ownParty(0), to, "swift", memo+" for "+s.name)
		default:
			to := &ingest.Party{Account: s.account, Name: s.name, Type: "organization", Country: s.country, Bank: s.bank, Industry: s.industry}
			ev = p.transfer("wire", t, round(usd*fx, 1), c.ccy, c.ownParty(0), to, "swift", memo)
		}
		ev.Purpose = "GDDS"
		l.add(ev)
		t = t.Add(hours(uniform(r, 24, 144)))
	}
}

type supplier struct{ name, country, city, industry, bank, account, wallet string }

// Fictional suppliers; any likeness to a real firm is unintended.
var precursorSuppliers = []supplier{
	{"Hebei Shengxiang Biotech Co., Ltd.", "CN", "Shijiazhuang", "325412", "BKCHCNBJ", "6217000130012345678", "bc1q9h6mq8v5wz3k2x7s4d0n8c5r3t6y1u9p2e4f7a"},
	{"Wuhan Lianxin Pharmtech Co., Ltd.", "CN", "Wuhan", "325199", "ICBKCNBJ", "6222023202056789012", "bc1qw4x8c2v6b0n3m7k5j9h1g4f8d2s6a0p3l5q7r"},
	{"Hong Kong Jinhe Chemical Trading Ltd.", "HK", "Hong Kong", "424690", "HSBCHKHH", "004-512-345678-001", "bc1qz7y5x3w1v9u7t5s3r1q9p7n5m3l1k9j7h5g3f"},
	{"Anvik Chem Labs Pvt. Ltd.", "IN", "Hyderabad", "325412", "HDFCINBB", "50200012345678", "bc1qa2s4d6f8g0h2j4k6l8z0x2c4v6b8n0m2q4w6e"},
	{"Shijiazhuang Rongtai Tablet Machinery Co., Ltd.", "CN", "Shijiazhuang", "333248", "ABOCCNBJ", "6228480012345678912", "bc1qm3n5b7v9c1x3z5l7k9j1h3g5f7d9s1a3p5o7i"},
}

var precursorMemos = []string{
	"1-boc-4-piperidone 1kg", "CAS 79099-07-3", "4-AP 500g", "4-anilinopiperidine CAS 23056-29-3",
	"NPP 2kg", "N-phenethyl-4-piperidone CAS 39742-60-4", "4-ANPP 100g", "norfentanyl sample",
	"1-boc-4-AP CAS 125541-22-2", "TDP-5 tablet press", "punch and die set 8mm", "vacuum pump",
	"tablet press molds M30", "CAS 21409-26-7",
}

// ---------------------------------------------------------------------------
// virtual_asset_cashout
//
// Catalogue core: cash deposits followed within ~48 h by crypto buys or
// transfers to exchanges or private wallets of most of the amount; Bitcoin
// ATM cash buys.
//
// Injected: exchange variant (70 %): 2–4 cash deposits of 2,000–9,500 within
// 24 h at home-region branches/ATMs, then 3–40 h after the last a crypto_buy
// at an exchange of 85–100 % of the cash, then 1–12 h later a
// crypto_transfer of the BTC bought to a private wallet. BTM variant (30 %):
// 2–3 cash withdrawals of 2,000–6,000 then, within 0.3–6 h of each, a
// crypto_buy at a Bitcoin ATM (channel atm) of 90–100 % of it.
func (p *planner) virtualAssetCashout(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	d := p.start(4)
	branches := citiesOfRegion(c.Country, c.Region)
	if r.IntN(10) < 7 {
		l := p.e.label("virtual_asset_cashout", "cash_to_exchange_to_wallet", c)
		k := 2 + r.IntN(3)
		t0 := p.e.at(c.home, d, p.bizHours())
		var sum float64
		var last time.Time
		for i, off := range p.sortedOffsets(k, 0, 23*time.Hour) {
			if i == 0 {
				off = 0
			}
			amt := round(uniform(r, 2000, 9500)*fx, 10)
			sum += amt
			last = t0.Add(off)
			l.add(p.cashDeposit(c, 0, last, amt, pick(r, branches), nil))
		}
		ex := pick(r, exchanges[c.Country])
		to := &ingest.Party{Account: extAccount("XCHG", ex), Name: ex, Type: "organization", Country: c.Country, Industry: "523160"}
		buy := sum * uniform(r, 0.85, 1.0)
		t := last.Add(hours(uniform(r, 3, 40)))
		l.add(p.transfer("crypto_buy", t, math.Round(buy), c.ccy, c.ownParty(0), to, "online", ""))
		from := c.ownParty(0)
		from.Wallet = c.wallet
		if from.Wallet == "" {
			from.Wallet = btcAddress(r)
		}
		ev := p.transfer("crypto_transfer", t.Add(hours(uniform(r, 1, 12))), 0, "BTC", from, &ingest.Party{Wallet: btcAddress(r)}, "online", "")
		ev.Amount = sats(buy / fx / uniform(r, 60000, 90000) * 0.995)
		l.add(ev)
		return
	}
	l := p.e.label("virtual_asset_cashout", "bitcoin_atm", c)
	t := p.e.at(c.home, d, uniform(r, 10, 15))
	for i, n := 0, 2+r.IntN(2); i < n; i++ {
		at := pick(r, branches)
		amt := round(uniform(r, 2000, 6000)*fx, 20)
		l.add(p.cashWithdrawal(c, 0, t, amt, at, "branch"))
		op := pick(r, bitcoinATMs)
		buy := p.transfer("crypto_buy", t.Add(hours(uniform(r, 0.3, 6))), math.Round(amt*uniform(r, 0.9, 1.0)), c.ccy, c.ownParty(0), &ingest.Party{Name: op, Type: "organization", Country: c.Country, Industry: "523160"}, "atm", "")
		buy.Location = p.loc(at)
		buy.Attrs = map[string]any{"btm": true, "funding": "cash"}
		l.add(buy)
		t = t.Add(hours(uniform(r, 16, 30)))
	}
}

// ---------------------------------------------------------------------------
// designated_party
//
// Catalogue core: name, alias or wallet address of from/to matches a list
// entry at or above the screening threshold.
//
// Injected: 1–2 payments per subject, 2,000–40,000 USD-eq. by wire (75 %
// outgoing, 25 % incoming), to or from a spelling variant of a listed name
// (OFAC SDN 2021: CJNG 17671, Sinaloa Cartel 11440, Guzman Loera 6861,
// Zambada Garcia 7226, Los Cuinis 17672, SDNTK fronts 7156/7157), or (30 %)
// a BTC transfer to a listed XBT address (SDNTK entries 25308, 26236, 26323).
func (p *planner) designatedParty(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	d := p.start(12)
	t := p.e.at(c.home, d, p.bizHours())
	if r.IntN(10) < 3 {
		w := pick(r, listedWallets)
		l := p.e.label("designated_party", "wallet:"+w.entry, c)
		from := c.ownParty(0)
		from.Wallet = btcAddress(r)
		ev := p.transfer("crypto_transfer", t, 0, "BTC", from, &ingest.Party{Wallet: w.address}, "online", "")
		ev.Amount = sats(uniform(r, 0.02, 0.6))
		l.add(ev)
		return
	}
	n := 1 + r.IntN(2)
	v := pick(r, listedNames)
	l := p.e.label("designated_party", "name:"+v.entry, c)
	for i := 0; i < n; i++ {
		other := &ingest.Party{Name: v.name, Type: v.typ, Country: "MX"}
		bic := pick(r, otherBanks["MX"])
		other.Bank, other.Account = bic, extAccount(bic, v.name)
		amt := round(uniform(r, 2000, 40000)*fx, 10)
		var ev *ingest.Event
		if r.IntN(4) == 0 {
			ev = p.transfer("wire", t, amt, c.ccy, other, c.ownParty(0), "swift", pick(r, []string{"", "pago", "servicios"}))
		} else {
			ev = p.transfer("wire", t, amt, c.ccy, c.ownParty(0), other, "swift", pick(r, []string{"", "pago factura", "anticipo", "services"}))
		}
		l.add(ev)
		t = t.Add(hours(uniform(r, 24, 200)))
	}
}

type listedName struct{ entry, name, typ string }

// Spelling variants a bank's payment text really carries: accents, order,
// punctuation, legal-form abbreviations.
var listedNames = []listedName{
	{"17671", "Cartel de Jalisco Nueva Generación", "organization"},
	{"17671", "CARTEL JALISCO NUEVA GENERACION", "organization"},
	{"17671", "Cártel de Jalisco Nueva Generacion", "organization"},
	{"6861", "Joaquín Guzmán Loera", "person"},
	{"6861", "GUZMAN LOERA JOAQUIN", "person"},
	{"6861", "Joaquin Guzman-Loera", "person"},
	{"11440", "Sinaloa Cartel", "organization"},
	{"7226", "Ismael Zambada García", "person"},
	{"17672", "Los Cuinis", "organization"},
	{"7157", "Farmacia Vida Suprema SA de CV", "organization"},
	{"7156", "Distribuidora Imperial de Baja California, S.A. de C.V.", "organization"},
}

type listedWallet struct{ entry, address string }

var listedWallets = []listedWallet{
	{"25308", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"},
	{"25308", "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo"},
	{"26236", "17ezuJoT3XBbdcwFZbkTnrXbup11F4uhiy"},
	{"26323", "33Kja69SQVc8kozpoP7Qw6HFtGxHkiWzTz"},
}

// nameLookAlike: payments to businesses whose names share words with listed
// ones but are not listed. Must not alert at a sound screening threshold.
func (p *planner) nameLookAlike(c *cust) {
	r := p.r
	name := pick(r, []string{"Jalisco Grill & Cantina", "Guzman Landscaping LLC", "Nueva Generación Muebles S.A. de C.V.", "Sinaloa Seafood Market", "Loera Auto Repair", "Vida Dental Supply"})
	d := p.start(2)
	l := p.e.label("benign:name_lookalike", name, c)
	to := p.company(name, c.Country, "")
	l.add(p.transfer(payKind(c.Country), p.e.at(c.home, d, p.bizHours()), round(uniform(r, 40, 900)*p.fx(c), 1), c.ccy, c.ownParty(0), to, "online", "invoice"))
}

// ---------------------------------------------------------------------------
// drug_slang
//
// Catalogue core: memo/remittance text contains fentanyl slang or chemical
// names (fent, fenty, blues, M30, china girl, dragon's breath, carfentanil,
// acetylfentanyl).
//
// Injected: 3–6 P2P payments over up to 9 days (70 % incoming from
// strangers, 30 % outgoing to one supplier), 40–2,500 USD-eq.; four in five
// carry a slang memo, in varied case and spelling.
func (p *planner) drugSlang(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	n := 3 + r.IntN(4)
	d := p.start(10)
	l := p.e.label("drug_slang", "", c)
	dealer := p.stranger(c.Country)
	t0 := p.e.at(c.home, d, 12)
	for i, off := range p.sortedOffsets(n, 0, 9*24*time.Hour) {
		memo := pick(r, slangMemos)
		if i > 0 && r.IntN(5) == 0 {
			memo = ""
		}
		amt := round(uniform(r, 40, 2500)*fx, 5)
		if r.IntN(10) < 7 {
			l.add(p.transfer(p2pKind(c.Country), t0.Add(off), amt, c.ccy, p.stranger(c.Country), c.ownParty(0), "mobile", memo))
		} else {
			l.add(p.transfer(p2pKind(c.Country), t0.Add(off), amt, c.ccy, c.ownParty(0), dealer, "mobile", memo))
		}
	}
}

var slangMemos = []string{"for the blues", "30 blues", "m30s x20", "M30", "fenty", "FENT", "china girl", "dragon's breath",
	"carfentanil", "acetylfentanyl", "Fent 2g", "pressies m30", "fenty x10", "China Girl 💊", "blues + fent"}

// memoLookAlike: ordinary memos that share letters with slang but not words.
func (p *planner) memoLookAlike(c *cust) {
	r := p.r
	d := p.start(2)
	memo := pick(r, []string{"Fentress Street rent", "Blue Jays tickets", "china cabinet deposit", "M3 screws", "dragon fruit smoothies", "blueberries", "Fentanes family reunion"})
	l := p.e.label("benign:memo_lookalike", memo, c)
	to := p.stranger(c.Country)
	l.add(p.transfer(p2pKind(c.Country), p.e.at(c.home, d, uniform(r, 9, 21)), round(uniform(r, 20, 400)*p.fx(c), 1), c.ccy, c.ownParty(0), to, "mobile", memo))
}

// ---------------------------------------------------------------------------
// underground_banking
//
// Catalogue core: customer of low-income profile (student, homemaker,
// retired) with large cash or wire inflows marked "tuition"/"living
// expenses", then cashier's cheques, real-estate payments or transfers to
// unrelated people.
//
// Injected: subject declared student/homemaker/retired in Vancouver,
// Richmond, Burnaby, Toronto, Markham, Queens or Los Angeles; 3–6 inflows
// over up to 10 days, each 9,000–60,000 USD-eq.: large cash deposits (50 %)
// or wires/EFTs from unrelated people (domestic or CN/HK) marked "tuition" or
// "living expenses"; then, 1–5 days after the last, 2–5 outflows of 85–100 %
// of the total: bank drafts (cheque), a real-estate deposit to a law firm's
// trust account, transfers to unrelated people.
func (p *planner) undergroundBanking(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	d := p.start(20)
	l := p.e.label("underground_banking", c.Occupation, c)
	var sum float64
	var last time.Time
	for _, off := range p.sortedOffsets(3+r.IntN(4), 0, 10*24*time.Hour) {
		t := p.e.at(c.home, d, 9.5).Add(off)
		if h := t.Hour(); h >= 17 {
			t = t.Add(-8 * time.Hour)
		}
		var ev *ingest.Event
		if r.IntN(2) == 0 {
			amt := round(uniform(r, 9000, 48000)*fx, 100)
			ev = p.cashDeposit(c, 0, t, amt, c.home, nil)
			ev.Channel = "branch"
			if r.IntN(2) == 0 {
				ev.Memo = pick(r, []string{"tuition", "living expenses"})
			}
		} else {
			from := p.stranger(pick(r, []string{c.Country, c.Country, "CN", "HK"}))
			from.Name = personName(r, "zh")
			kind := "wire"
			if from.Country == c.Country {
				kind = payKind(c.Country)
			}
			ev = p.transfer(kind, t, round(uniform(r, 10000, 60000)*fx, 100), c.ccy, from, c.ownParty(0), "online", pick(r, []string{"tuition", "living expenses", "tuition fee", "living expenses for son", "学费 tuition"}))
		}
		sum += ev.Amount.Float64()
		last = t
		l.add(ev)
	}
	t := last.Add(hours(uniform(r, 24, 120)))
	outs := p.split(sum*uniform(r, 0.85, 1.0), 2+r.IntN(4), 0.4)
	for i, a := range outs {
		switch (i + r.IntN(3)) % 3 {
		case 0:
			payee := p.stranger(c.Country)
			ev := p.transfer("cheque", t, math.Round(a), c.ccy, c.ownParty(0), payee, "branch", pick(r, []string{"bank draft", "cashier's cheque"}))
			ev.Location = p.loc(c.home)
			l.add(ev)
		case 1:
			firm := personName(r, "zh")
			firm = lastName(firm) + " & Associates " + map[string]string{"CA": "Law Corporation in trust", "US": "Escrow Services"}[c.Country]
			to := p.company(firm, c.Country, "541110")
			l.add(p.transfer("wire", t, math.Round(a), c.ccy, c.ownParty(0), to, "branch", "deposit "+strconv.Itoa(1000+r.IntN(8999))+" "+pick(r, []string{"No. 3 Rd", "W 41st Ave", "Highway 7 E", "Main St"})))
		default:
			to := p.stranger(c.Country)
			to.Name = personName(r, "zh")
			l.add(p.transfer(payKind(c.Country), t, math.Round(a), c.ccy, c.ownParty(0), to, "online", ""))
		}
		t = t.Add(hours(uniform(r, 2, 30)))
	}
}

// ---------------------------------------------------------------------------
// trade_based
//
// Catalogue core: payments for goods inconsistent with the customer's
// industry, third-party payments for trade, export wires to/from MX, CN, HK,
// AE with no inventory purchases.
//
// Injected: subject an IT firm, restaurant, beauty salon or dental office;
// 2–4 incoming wires of 25,000–180,000 USD-eq. from unrelated third parties
// in MX, HK, AE or CN ("on behalf of" another firm), each followed 1–4 days
// later by 1–2 outgoing GDDS wires for electronics, phones, vehicles or
// textiles to traders in CN, HK, AE or MX; no domestic inventory purchases.
func (p *planner) tradeBased(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	d := p.start(20)
	l := p.e.label("trade_based", c.Industry, c)
	t := p.e.at(c.home, d, p.bizHours())
	for i, n := 0, 2+r.IntN(3); i < n; i++ {
		payer := pick(r, tradePayers)
		in := round(uniform(r, 25000, 180000)*fx, 100)
		ev := p.transfer("wire", t, in, c.ccy, p.company(payer.name, payer.country, ""), c.ownParty(0), "swift", "payment on behalf of "+pick(r, []string{"Grupo Orión", "Sunrise Electronics", "Estrella Motors", "Kingdom Textiles"})+" INV-"+strconv.Itoa(10000+r.IntN(89999)))
		ev.Purpose = "GDDS"
		l.add(ev)
		tt := t.Add(hours(uniform(r, 24, 96)))
		for _, a := range p.split(in*uniform(r, 0.85, 0.98), 1+r.IntN(2), 0.3) {
			s := pick(r, tradeSellers)
			out := p.transfer("wire", tt, math.Round(a), c.ccy, c.ownParty(0), p.company(s.name, s.country, "423690"), "swift", pick(r, []string{"electronics", "mobile phones", "used vehicles export", "textiles", "auto parts", "laptops lot 44"}))
			out.Purpose = "GDDS"
			l.add(out)
			tt = tt.Add(hours(uniform(r, 1, 20)))
		}
		t = t.Add(hours(uniform(r, 72, 120)))
	}
}

var tradePayers = []struct{ name, country string }{
	{"Importadora del Pacífico S.A. de C.V.", "MX"}, {"Golden Dragon Trading Ltd.", "HK"},
	{"Al Noor General Trading LLC", "AE"}, {"Shenzhen Hengda Import Export Co., Ltd.", "CN"},
	{"Comercial Fronteriza del Norte S.A. de C.V.", "MX"},
}

var tradeSellers = []struct{ name, country string }{
	{"Guangzhou Yisheng Electronics Co., Ltd.", "CN"}, {"Kowloon Bay Mobile Wholesale Ltd.", "HK"},
	{"Dubai Gold Souk Traders FZE", "AE"}, {"Autos y Refacciones Culiacán S.A. de C.V.", "MX"},
	{"Yiwu Starlight Textile Co., Ltd.", "CN"},
}

// ---------------------------------------------------------------------------
// bulk_cash
//
// Catalogue core: large cash credits (armoured car, vault) for MX-linked
// businesses followed by rapid wires to MX.
//
// Injected: subject a used-car dealer or produce wholesaler in a US border or
// hub city; 1–2 waves 5 days apart, each 1–3 armoured-car cash credits of
// 40,000–250,000 within a day, then 4–48 h later 1–3 wires to Mexico
// (casas de cambio, produce firms, persons) of 85–100 % of the cash.
func (p *planner) bulkCash(m []*cust) {
	c := m[0]
	r := p.r
	fx := p.fx(c)
	waves := 1 + r.IntN(2)
	d := p.start(3 + 5*waves)
	l := p.e.label("bulk_cash", strconv.Itoa(waves)+"_waves", c)
	for w := 0; w < waves; w++ {
		t0 := p.e.at(c.home, d+5*w, uniform(r, 7, 11))
		var sum float64
		var last time.Time
		for _, off := range p.sortedOffsets(1+r.IntN(3), 0, 20*time.Hour) {
			amt := round(uniform(r, 40000, 250000)*fx, 100)
			sum += amt
			last = t0.Add(off)
			ev := p.cashDeposit(c, 0, last, amt, c.home, &ingest.Party{Name: pick(r, []string{"Brink's", "Loomis", "Garda"}), Type: "organization", Country: c.Country})
			ev.Channel = "other"
			ev.Memo = pick(r, []string{"armoured car deposit", "vault deposit", "cash pickup"})
			ev.Attrs = map[string]any{"source": "armored_car"}
			l.add(ev)
		}
		t := last.Add(hours(uniform(r, 4, 48)))
		for _, a := range p.split(sum*uniform(r, 0.85, 1.0), 1+r.IntN(3), 0.3) {
			to := p.company(pick(r, []string{"Casa de Cambio Tiber S.A. de C.V.", "Centro Cambiario del Norte S.A. de C.V.", "Agroexportadora Sinaloense S.A. de C.V.", "Autos Premier de Jalisco S.A. de C.V."}), "MX", "")
			if r.IntN(4) == 0 {
				to = p.stranger("MX")
			}
			l.add(p.transfer("wire", t, math.Round(a), c.ccy, c.ownParty(0), to, "swift", pick(r, []string{"", "pago proveedores", "compra vehiculos", "produce"})))
			t = t.Add(hours(uniform(r, 0.5, 6)))
		}
	}
}
