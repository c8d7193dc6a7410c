package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// Ordinary activity. Amounts are drawn in USD-equivalents and scaled by the
// customer's currency (fxToLocal); times follow business hours in the
// customer's home city.

var p2pMemos = []string{"dinner", "rent share", "concert tickets", "groceries", "thanks!", "gas money", "birthday gift", "hockey pool", "", "", "cena", "uber", "bills"}

// payKind is the domestic low-value credit transfer of a country.
func payKind(country string) string {
	if country == "US" {
		return "ach"
	}
	return "eft"
}

func p2pKind(country string) string {
	if country == "MX" {
		return "eft" // SPEI
	}
	return "p2p" // Interac e-Transfer, Zelle
}

func isPayday(unixDay int64, phase int) bool {
	// unix day 1 (1970-01-02) was a Friday.
	return ((unixDay-1)%14+14)%14 == int64(phase*7)
}

func (e *engine) ordinary(r *rand.Rand, c *cust, d int) {
	ud := e.startDay + int64(d)
	date := e.date(d)
	dom := date.Day()
	wd := date.Weekday()
	fx := fxToLocal[c.ccy]
	h := c.home
	me := func() *ingest.Party { return c.ownParty(0) }

	// Card spend.
	for i, n := 0, poisson(r, c.cardRate); i < n; i++ {
		m := pick(r, merchants[c.Country])
		ev := e.newEvent(e.at(h, d, uniform(r, 7, 22.5)), "card", money(logUniform(r, m.Min, m.Max)*fx), c.ccy, me(),
			&ingest.Party{Name: m.Name, Type: "organization", Country: c.Country, Industry: m.Industry})
		ev.Channel = "other"
		ev.Location = &ingest.Location{Country: h.Country, Region: h.Region, City: h.Name}
	}
	// Bills and rent.
	if dom == c.billDay || dom == c.billDay+4 {
		b := c.bills[0]
		if dom != c.billDay {
			b = c.bills[1]
		}
		ev := e.newEvent(e.at(h, d, uniform(r, 1, 6)), payKind(c.Country), money(uniform(r, b.Min, b.Max)*fx), c.ccy, me(),
			&ingest.Party{Account: extAccount(otherBanks[c.Country][0], b.Name), Name: b.Name, Type: "organization", Country: c.Country, Bank: otherBanks[c.Country][0], Industry: b.Industry})
		ev.Channel = "online"
		ev.Memo = "pre-authorized debit " + strconv.Itoa(1000+c.idx%9000)
	}
	if dom == c.rentDay && !(c.quiet && c.Type == "person") {
		kind := payKind(c.Country)
		if r.IntN(5) == 0 {
			kind = "cheque"
		}
		lp := c.landlord
		ev := e.newEvent(e.at(h, d, uniform(r, 8, 20)), kind, money(c.rent), c.ccy, me(), &lp)
		ev.Channel = "online"
		ev.Memo = "rent " + date.Format("Jan 2006")
	}
	if c.Type == "organization" {
		e.business(r, c, d, ud, dom, wd)
		return
	}
	// ATM cash.
	if r.Float64() < 0.08 {
		step := 20.0
		if c.Country == "MX" {
			step = 100
		}
		ev := e.newEvent(e.at(h, d, uniform(r, 8, 23)), "cash_withdrawal", money(round(uniform(r, 40, 400)*fx, step)), c.ccy, me(), nil)
		ev.Channel = "atm"
		ev.Location = &ingest.Location{Country: h.Country, Region: h.Region, City: h.Name}
	}
	// P2P with friends.
	if len(c.friends) > 0 && r.Float64() < 0.14 {
		f := e.pop.custs[c.friends[r.IntN(len(c.friends))]]
		ev := e.newEvent(e.at(h, d, uniform(r, 9, 23)), p2pKind(c.Country), money(round(logUniform(r, 15, 260)*fx, 1)), c.ccy, me(), f.ownParty(0))
		ev.Channel = "mobile"
		ev.Memo = pick(r, p2pMemos)
	}
	if c.quiet {
		return
	}
	// Salary from an outside employer (our own employers pay in business()).
	works := c.arch == aEmployee || c.arch == aRemitter || c.arch == aCryptoHobbyist || c.arch == aHomebuyer || (c.arch == aStudent && c.idx%3 == 0)
	if works && c.employer < 0 && isPayday(ud, c.payPhase) {
		amt := c.salary
		if c.arch == aStudent {
			amt *= 0.35
		}
		from := &ingest.Party{Account: c.employerAcct, Name: c.employerName, Type: "organization", Country: c.Country, Bank: c.employerAcct[:4]}
		ev := e.newEvent(e.at(h, d, uniform(r, 0.5, 6)), payKind(c.Country), money(amt), c.ccy, from, me())
		ev.Channel = "other"
		ev.Purpose = "SALA"
		ev.Memo = "PAYROLL"
	}
	switch c.arch {
	case aRetired:
		if dom == c.monthDay%25+1 {
			payer := map[string]string{"CA": "Service Canada CPP/OAS", "US": "Social Security Administration", "MX": "IMSS Pensiones"}[c.Country]
			from := &ingest.Party{Account: extAccount("GOVT", payer), Name: payer, Type: "organization", Country: c.Country}
			ev := e.newEvent(e.at(h, d, uniform(r, 1, 5)), payKind(c.Country), money(uniform(r, 900, 2400)*fx), c.ccy, from, me())
			ev.Channel = "other"
			ev.Purpose = "PENS"
		}
	case aHomemaker:
		if isPayday(ud, c.payPhase) {
			spouse := extParty(r, pick(r, names[c.nameSet].first)+" "+lastName(c.Name), "person", c.Country)
			spouse.Account = extAccount(spouse.Bank, c.CustomerID+"spouse")
			ev := e.newEvent(e.at(h, d, uniform(r, 8, 21)), p2pKind(c.Country), money(round(uniform(r, 400, 1500)*fx, 10)), c.ccy, &spouse, me())
			ev.Channel = "mobile"
			ev.Memo = "household"
		}
	case aStudent:
		if e.cfg.LookAlikes && c.abroad != "" && dom == c.monthDay {
			// Benign look-alike of underground banking: family abroad pays
			// living expenses and tuition, the student pays the university.
			l := e.benignLabel(c, "student_support")
			rel := c.relative
			ev := e.newEvent(e.at(h, d, uniform(r, 2, 12)), "wire", money(round(uniform(r, 1500, 5000)*fx, 100)), c.ccy, &rel, me())
			ev.Channel = "swift"
			ev.Memo = pick(r, []string{"living expenses", "tuition", "tuition and rent", "for school", "living expenses " + date.Format("Jan")})
			l.add(ev)
			if c.idx%2 == 0 {
				uni := map[string]string{"CA": "University of British Columbia", "US": "New York University", "MX": "UNAM"}[c.Country]
				if h.Region == "ON" {
					uni = "University of Toronto"
				}
				to := &ingest.Party{Account: extAccount("UNIV", uni), Name: uni, Type: "organization", Country: c.Country, Industry: "611310"}
				t := e.newEvent(e.at(h, d+1, uniform(r, 9, 17)), payKind(c.Country), money(round(uniform(r, 2500, 7000)*fx, 1)), c.ccy, me(), to)
				t.Channel = "online"
				t.Memo = "tuition " + date.Format("2006") + " term"
				l.add(t)
			}
		}
	case aRemitter:
		if dom == c.monthDay || (c.idx%2 == 0 && dom == (c.monthDay+14)%28+1) {
			l := e.benignLabel(c, "remittance")
			rel := c.relative
			ev := e.newEvent(e.at(h, d, uniform(r, 10, 21)), "wire", money(round(uniform(r, 150, 800)*fx, 5)), c.ccy, me(), &rel)
			ev.Channel = "online"
			ev.Memo = pick(r, []string{"family support", "para la familia", "remesa", "gift", "school fees for kids"})
			ev.Attrs = map[string]any{"provider": pick(r, []string{"Western Union", "Remitly", "Wise", "MoneyGram"})}
			l.add(ev)
		}
	case aCryptoHobbyist:
		if r.Float64() < 0.1 {
			l := e.benignLabel(c, "crypto_hobbyist")
			ex := pick(r, exchanges[c.Country])
			to := &ingest.Party{Account: extAccount("XCHG", ex), Name: ex, Type: "organization", Country: c.Country, Industry: "523160"}
			ev := e.newEvent(e.at(h, d, uniform(r, 8, 23)), "crypto_buy", money(round(logUniform(r, 50, 900)*fx, 5)), c.ccy, me(), to)
			ev.Channel = "online"
			l.add(ev)
			if r.IntN(4) == 0 {
				from := c.ownParty(0)
				from.Wallet = c.wallet
				t := e.newEvent(ev.Time.Add(time.Duration(1+r.IntN(20))*time.Hour), "crypto_transfer", sats(uniform(r, 0.0005, 0.01)), "BTC", from, &ingest.Party{Wallet: btcAddress(r), Name: c.Name + " (cold wallet)", Type: "person"})
				t.Channel = "online"
				l.add(t)
			}
		}
	case aHomebuyer:
		if dom == c.monthDay && c.idx%4 == 0 {
			l := e.benignLabel(c, "real_estate")
			law := lastName(c.landlord.Name) + " Law " + map[string]string{"CA": "LLP in trust", "US": "PLLC escrow", "MX": "Notaría"}[c.Country]
			to := &ingest.Party{Account: extAccount(otherBanks[c.Country][1], law), Name: law, Type: "organization", Country: c.Country, Bank: otherBanks[c.Country][1], Industry: "541110"}
			ev := e.newEvent(e.at(h, d, uniform(r, 9, 16)), "wire", money(round(uniform(r, 20000, 90000)*fx, 1000)), c.ccy, me(), to)
			ev.Channel = "branch"
			ev.Location = &ingest.Location{Country: h.Country, Region: h.Region, City: h.Name}
			ev.Memo = "deposit purchase " + strconv.Itoa(100+c.idx%9000) + " " + pick(r, []string{"Oak St", "Maple Ave", "King St W", "Calle Reforma"})
			l.add(ev)
		}
	case aSelfEmployed:
		if wd != time.Saturday && wd != time.Sunday && r.Float64() < 0.35 {
			cl := extParty(r, orgName(r, pick(r, ordinaryIndustries), c.Country), "organization", c.Country)
			ev := e.newEvent(e.at(h, d, uniform(r, 9, 18)), payKind(c.Country), money(round(uniform(r, 400, 4000)*fx, 1)), c.ccy, &cl, me())
			ev.Channel = "online"
			ev.Memo = "invoice " + strconv.Itoa(100+r.IntN(900))
		}
	}
}

var foodSuppliers = map[string][]string{
	"CA": {"Sysco Canada", "Gordon Food Service", "Saputo Dairy", "Bimbo Canada"},
	"US": {"Sysco Corporation", "US Foods", "Coca-Cola Bottling", "McLane Company"},
	"MX": {"Distribuidora Sigma Alimentos", "Grupo Bimbo", "Coca-Cola FEMSA"},
}

var chemSuppliers = []struct{ name, country, city, memo string }{
	{"Shandong Haihua Chemical Trading Co., Ltd.", "CN", "Weifang", "sodium hydroxide flakes 99%"},
	{"Zhejiang Jiahua Industrial Materials Co., Ltd.", "CN", "Jiaxing", "citric acid monohydrate 25kg bags"},
	{"Jiangsu Sopo Chemical Co., Ltd.", "CN", "Zhenjiang", "titanium dioxide rutile grade"},
	{"Gujarat Alkalies Export Pvt. Ltd.", "IN", "Vadodara", "caustic potash flakes"},
	{"Deepak Specialty Chemicals Pvt. Ltd.", "IN", "Pune", "isopropyl alcohol IBC totes"},
	{"Brenntag Export GmbH", "DE", "Essen", "glycerin USP drums"},
}

var produceFarms = []string{"Agrícola Los Pinos S.P.R. de R.L.", "Huertos del Valle de Sinaloa S.A. de C.V.", "Empaque Michoacán Aguacates S.A. de C.V.", "Berries de Jalisco S.A. de C.V."}

func (e *engine) business(r *rand.Rand, c *cust, d int, ud int64, dom int, wd time.Weekday) {
	fx := fxToLocal[c.ccy]
	h := c.home
	me := func() *ingest.Party { return c.ownParty(0) }
	loc := &ingest.Location{Country: h.Country, Region: h.Region, City: h.Name}
	weekday := wd != time.Saturday && wd != time.Sunday
	// Customer payments in and supplier payments out.
	if !c.quiet {
		acq := map[string]string{"CA": "Moneris Solutions", "US": "Square Inc.", "MX": "Clip Pagos"}[c.Country]
		if c.arch == aCashBusiness || c.Industry == "448140" || c.Industry == "441310" || c.Industry == "812113" || c.Industry == "812112" {
			from := &ingest.Party{Account: extAccount("ACQR", acq), Name: acq, Type: "organization", Country: c.Country}
			ev := e.newEvent(e.at(h, d, uniform(r, 2, 5)), payKind(c.Country), money(uniform(r, 800, 7000)*fx), c.ccy, from, me())
			ev.Channel = "other"
			ev.Memo = "card settlement " + e.date(d).Format("2006-01-02")
		}
		if weekday {
			for i, n := 0, poisson(r, 1.2); i < n; i++ {
				cl := extParty(r, orgName(r, pick(r, ordinaryIndustries), c.Country), "organization", c.Country)
				kind := payKind(c.Country)
				if r.IntN(6) == 0 {
					kind = "cheque"
				}
				ev := e.newEvent(e.at(h, d, uniform(r, 8, 18)), kind, money(round(logUniform(r, 300, 15000)*fx, 1)), c.ccy, &cl, me())
				ev.Channel = "online"
				ev.Memo = "INV-" + strconv.Itoa(10000+r.IntN(89999))
			}
			for i, n := 0, poisson(r, 0.6); i < n; i++ {
				sup := extParty(r, orgName(r, pick(r, ordinaryIndustries), c.Country), "organization", c.Country)
				if c.arch == aCashBusiness {
					sup = extParty(r, pick(r, foodSuppliers[c.Country]), "organization", c.Country)
				}
				ev := e.newEvent(e.at(h, d, uniform(r, 8, 18)), payKind(c.Country), money(round(logUniform(r, 400, 12000)*fx, 1)), c.ccy, me(), &sup)
				ev.Channel = "online"
				ev.Memo = "PO " + strconv.Itoa(1000+r.IntN(8999))
			}
		}
		for i, n := 0, poisson(r, c.cardRate); i < n; i++ {
			m := pick(r, merchants[c.Country])
			ev := e.newEvent(e.at(h, d, uniform(r, 7, 20)), "card", money(logUniform(r, m.Min, m.Max*2)*fx), c.ccy, me(),
				&ingest.Party{Name: m.Name, Type: "organization", Country: c.Country, Industry: m.Industry})
			ev.Channel = "other"
			ev.Location = loc
		}
	}
	switch c.arch {
	case aCashBusiness:
		// Benign look-alike of structuring and bulk cash: the day's takings
		// deposited at the branch (or picked up by armoured car for grocers),
		// every day but Sunday, sized by the kind of business.
		if wd != time.Sunday {
			lo, hi := 800.0, 4500.0
			switch c.Industry {
			case "445131":
				lo, hi = 1200, 5200
			case "445110":
				lo, hi = 4000, 9400
			}
			if wd == time.Saturday || wd == time.Friday {
				lo, hi = lo*1.3, hi*1.3
			}
			l := e.benignLabel(c, "cash_business")
			ev := e.newEvent(e.at(h, d, uniform(r, 9.5, 16.5)), "cash_deposit", money(round(uniform(r, lo, hi)*fx, 5)), c.ccy, me(), me())
			ev.Channel = "branch"
			ev.Location = loc
			if c.Industry == "445110" && c.idx%2 == 0 {
				ev.Channel = "other"
				ev.Memo = "armoured car pickup - Brinks"
				ev.Attrs = map[string]any{"source": "armored_car"}
			}
			l.add(ev)
		}
	case aChemImporter:
		// Benign look-alike of precursor purchases: an importer in the
		// chemical trade paying its usual suppliers in CN, IN and DE.
		// About one supplier wire a week, on the importer's own weekday.
		if wd == time.Weekday(1+c.idx%5) {
			s := chemSuppliers[(c.idx+r.IntN(3))%len(chemSuppliers)]
			l := e.benignLabel(c, "chemical_importer")
			bic := pick(r, otherBanks[s.country])
			to := &ingest.Party{Account: extAccount(bic, s.name), Name: s.name, Type: "organization", Country: s.country, Bank: bic, Industry: "325199"}
			ev := e.newEvent(e.at(h, d, uniform(r, 8, 16)), "wire", money(round(uniform(r, 15000, 180000)*fx, 1)), c.ccy, me(), to)
			ev.Channel = "swift"
			ev.Purpose = "GDDS"
			ev.Memo = "PO " + strconv.Itoa(4000+r.IntN(5000)) + " " + s.memo
			l.add(ev)
		}
	case aProduceImporter:
		if weekday && r.Float64() < 0.3 {
			l := e.benignLabel(c, "importer")
			farm := pick(r, produceFarms)
			bic := pick(r, otherBanks["MX"])
			to := &ingest.Party{Account: extAccount(bic, farm), Name: farm, Type: "organization", Country: "MX", Bank: bic, Industry: "111219"}
			ev := e.newEvent(e.at(h, d, uniform(r, 8, 16)), "wire", money(round(uniform(r, 8000, 60000)*fx, 1)), c.ccy, me(), to)
			ev.Channel = "swift"
			ev.Purpose = "GDDS"
			ev.Memo = "produce invoice " + strconv.Itoa(200+r.IntN(800))
			l.add(ev)
		}
	}
	// Payroll every other Friday: a fan-out to every employee, the benign
	// look-alike of fan_out.
	if !c.quiet && isPayday(ud, c.payPhase) {
		if e.cfg.LookAlikes {
			var l *labelBuild
			if len(c.employees)+len(c.extEmployees) >= 5 {
				l = e.label("benign:payroll", "", c)
			}
			t := e.at(h, d, uniform(r, 0.5, 3))
			pay := func(to *ingest.Party) {
				ev := e.newEvent(t, payKind(c.Country), money(c.payPer*uniform(r, 0.8, 1.25)), c.ccy, me(), to)
				ev.Channel = "other"
				ev.Purpose = "SALA"
				ev.Memo = "payroll " + e.date(d).Format("2006-01-02")
				if l != nil {
					l.add(ev)
				}
			}
			for _, k := range c.employees {
				pay(e.pop.custs[k].ownParty(0))
			}
			for i := range c.extEmployees {
				p := c.extEmployees[i]
				pay(&p)
			}
		} else {
			prov := "ADP Payroll Services"
			to := &ingest.Party{Account: extAccount("ADPP", prov), Name: prov, Type: "organization", Country: c.Country}
			ev := e.newEvent(e.at(h, d, uniform(r, 0.5, 3)), payKind(c.Country), money(c.payPer*float64(len(c.extEmployees)+1)), c.ccy, me(), to)
			ev.Channel = "other"
			ev.Purpose = "SALA"
		}
	}
}
