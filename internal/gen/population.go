package gen

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// Behaviour archetypes. They drive ordinary activity and are never written to
// the profile file: a profile says what a customer declared, not what it does.
type archetype int

const (
	aEmployee archetype = iota
	aStudent
	aRetired
	aHomemaker
	aRemitter
	aCryptoHobbyist
	aHomebuyer
	aSelfEmployed
	aCashBusiness
	aChemImporter
	aProduceImporter
	aBusiness
)

// accountsPerRound is about how many customers one instance of every typology
// takes (subjects plus the accomplices of graph patterns, largest sizes).
const accountsPerRound = 70

type cust struct {
	Customer
	idx     int
	arch    archetype
	role    string // typology id when taking part in an injected pattern
	quiet   bool   // little ordinary activity (shells, mules)
	home    *city
	ccy     string
	bank    string
	nameSet string
	party   []ingest.Party // one per account

	friends      []int32
	employer     int // index of the employing customer, -1 when paid by an outside employer
	employerName string
	employerAcct string
	payPhase     int // which Friday of the fortnight is payday
	salary       float64
	rentDay      int
	rent         float64
	landlord     ingest.Party
	billDay      int
	bills        []merchant
	cardRate     float64
	employees    []int // our customers paid by this business
	extEmployees []ingest.Party
	payPer       float64
	monthDay     int    // day of month of the archetype's monthly event (support, remittance, pension, ...)
	abroad       string // country of family (students, remitters)
	relative     ingest.Party
	wallet       string
}

func (c *cust) acct() string { return c.Accounts[0] }

// ownParty is a copy of the customer as a party on its account i.
func (c *cust) ownParty(i int) *ingest.Party {
	p := c.party[i%len(c.party)]
	return &p
}

type population struct {
	custs     []*cust
	persons   map[string][]int // person customers by country
	orgs      map[string][]int
	roles     map[string][]int // typology id -> customers reserved for it
	accountIx map[string]int
}

func custID(i int) string { return "C-" + strconv.Itoa(10000+i) }

// accountNumber gives distinct 7-digit numbers: 104729 is prime and coprime
// with 9,000,000, so i -> i*104729 mod 9e6 is a permutation.
func accountNumber(k int) string {
	return strconv.Itoa(1_000_000 + (k*104729+4411902)%9_000_000)
}

func ownAccount(c *city, k int) string {
	return fmt.Sprintf("%s-%03d-%s", c.Country, c.Branch, accountNumber(k))
}

// extAccount is a stable account number at another bank for a counterparty key.
func extAccount(bic, key string) string {
	h := fnv.New64a()
	h.Write([]byte(bic))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return bic[:4] + "-" + strconv.FormatUint(100_000_000+h.Sum64()%900_000_000, 10)
}

func extParty(r *rand.Rand, name, typ, country string) ingest.Party {
	bic := pick(r, otherBanks[country])
	return ingest.Party{Account: extAccount(bic, name), Name: name, Type: typ, Country: country, Bank: bic}
}

var occupations = []string{"sales associate", "nurse", "teacher", "software developer", "warehouse worker", "accountant", "electrician", "cook", "truck driver", "office administrator", "engineer", "cashier", "mechanic", "pharmacist", "construction worker"}

func buildPopulation(cfg Config) *population {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	n := cfg.Customers
	p := &population{persons: map[string][]int{}, orgs: map[string][]int{}, roles: map[string][]int{}, accountIx: map[string]int{}}
	byCountry := map[string][]*city{}
	for _, cc := range countryShare {
		byCountry[cc.Country] = citiesIn(cc.Country)
	}
	startUnix := cfg.Start.Unix()
	for i := 0; i < n; i++ {
		c := &cust{idx: i, employer: -1}
		x := r.Float64()
		country := "MX"
		for _, cs := range countryShare {
			if x < cs.Share {
				country = cs.Country
				break
			}
			x -= cs.Share
		}
		c.home = pick(r, byCountry[country])
		c.ccy = currencyOf[country]
		c.bank = ownBank[country]
		c.nameSet = nameSetFor(r, country)
		c.CustomerID = custID(i)
		c.Country, c.Region, c.City, c.Currency, c.Bank = country, c.home.Region, c.home.Name, c.ccy, c.bank
		opened := time.Unix(startUnix-int64(60+r.IntN(365*12))*86400, 0).UTC()
		c.Opened = opened.Format("2006-01-02")
		if r.Float64() < 0.86 {
			c.Type = "person"
			c.Name = personName(r, c.nameSet)
			c.arch = personArchetype(r, cfg.LookAlikes)
			c.Occupation = pick(r, occupations)
			switch c.arch {
			case aStudent:
				c.Occupation = "student"
			case aRetired:
				c.Occupation = "retired"
			case aHomemaker:
				c.Occupation = "homemaker"
			case aSelfEmployed:
				c.Occupation = "self-employed"
			}
		} else {
			c.Type = "organization"
			c.arch, c.Industry = orgArchetype(r, cfg.LookAlikes)
			c.IndustryName = industryNames[c.Industry]
			c.Name = orgName(r, c.Industry, country)
		}
		c.Accounts = []string{ownAccount(c.home, 2*i)}
		if r.Float64() < 0.12 {
			c.Accounts = append(c.Accounts, ownAccount(c.home, 2*i+1))
		}
		p.custs = append(p.custs, c)
	}
	if cfg.Patterns {
		reserveRoles(cfg, r, p)
	}
	for _, c := range p.custs {
		c.CustomerID = custID(c.idx)
		c.Country, c.Region, c.City, c.Currency, c.Bank = c.home.Country, c.home.Region, c.home.Name, c.ccy, c.bank
		if c.Type == "person" {
			p.persons[c.Country] = append(p.persons[c.Country], c.idx)
		} else {
			p.orgs[c.Country] = append(p.orgs[c.Country], c.idx)
		}
		for _, a := range c.Accounts {
			p.accountIx[a] = c.idx
		}
		c.party = make([]ingest.Party, len(c.Accounts))
		for i, a := range c.Accounts {
			c.party[i] = ingest.Party{Account: a, CustomerID: c.CustomerID, Name: c.Name, Type: c.Type, Country: c.Country, Bank: c.bank, Industry: c.Industry}
		}
	}
	for _, c := range p.custs {
		fillHabits(r, cfg, p, c)
	}
	return p
}

func personArchetype(r *rand.Rand, lookAlikes bool) archetype {
	x := r.Float64()
	var a archetype
	switch {
	case x < 0.60:
		a = aEmployee
	case x < 0.68:
		a = aStudent
	case x < 0.80:
		a = aRetired
	case x < 0.85:
		a = aHomemaker
	case x < 0.92:
		a = aRemitter
	case x < 0.96:
		a = aCryptoHobbyist
	case x < 0.98:
		a = aHomebuyer
	default:
		a = aSelfEmployed
	}
	if !lookAlikes && (a == aRemitter || a == aCryptoHobbyist || a == aHomebuyer) {
		a = aEmployee
	}
	return a
}

var ordinaryIndustries = []string{"448140", "441310", "236118", "541511", "484121", "531210", "811111", "812113", "812112", "621210", "541611", "441120"}

func orgArchetype(r *rand.Rand, lookAlikes bool) (archetype, string) {
	x := r.Float64()
	switch {
	case lookAlikes && x < 0.14:
		return aCashBusiness, "722511"
	case lookAlikes && x < 0.24:
		return aCashBusiness, "445131"
	case lookAlikes && x < 0.30:
		return aCashBusiness, "445110"
	case lookAlikes && x < 0.35:
		return aChemImporter, "424690"
	case lookAlikes && x < 0.39:
		return aProduceImporter, "424480"
	}
	return aBusiness, pick(r, ordinaryIndustries)
}

// roleSpec is the number of customers one instance of a typology takes.
var roleSize = map[string]int{
	"cycle": 6, "scatter_gather": 10, "gather_scatter": 17, "bipartite": 10, "stack": 12,
}

// reserveRoles sets aside customers for every typology's instances and reshapes
// the subjects' declared profiles the way the sources describe them.
func reserveRoles(cfg Config, r *rand.Rand, p *population) {
	order := r.Perm(len(p.custs))
	next := 0
	take := func() *cust {
		c := p.custs[order[next]]
		next++
		return c
	}
	inst := cfg.instances()
	for _, t := range Typologies {
		size := roleSize[t]
		if size == 0 {
			size = 1
		}
		for i := 0; i < inst*size; i++ {
			c := take()
			c.role = t
			p.roles[t] = append(p.roles[t], c.idx)
			if i%size == 0 {
				shapeSubject(r, t, c)
			}
		}
	}
	// Partial patterns and look-alike subjects that must not alert.
	for i := 0; i < inst*6; i++ {
		c := take()
		c.role = "partial"
		p.roles["partial"] = append(p.roles["partial"], c.idx)
	}
}

func setPerson(r *rand.Rand, c *cust, occupation string, arch archetype) {
	if c.Type != "person" {
		c.Type = "person"
		c.Industry, c.IndustryName = "", ""
		c.Name = personName(r, c.nameSet)
	}
	c.Occupation = occupation
	c.arch = arch
}

func setOrg(r *rand.Rand, c *cust, industry string) {
	c.Type = "organization"
	c.Occupation = ""
	c.Industry = industry
	c.IndustryName = industryNames[industry]
	c.Name = orgName(r, industry, c.home.Country)
	c.arch = aBusiness
}

func moveTo(c *cust, cityName string) {
	k := c.idx
	c.home = cityNamed(cityName)
	c.ccy = currencyOf[c.home.Country]
	c.bank = ownBank[c.home.Country]
	for i := range c.Accounts {
		c.Accounts[i] = ownAccount(c.home, 2*k+i)
	}
	if c.home.Country == "MX" {
		c.nameSet = "es"
	}
}

// shapeSubject gives a pattern's subject the profile its typology implies.
func shapeSubject(r *rand.Rand, t string, c *cust) {
	switch t {
	case "structuring":
		moveTo(c, pick(r, []string{"Toronto", "Mississauga", "Vancouver", "Surrey", "Calgary", "Montreal", "Houston", "Dallas", "Los Angeles", "New York", "Chicago", "Miami"}))
		if r.IntN(3) == 0 {
			setOrg(r, c, pick(r, []string{"441310", "236118", "448140"}))
		} else {
			setPerson(r, c, pick(r, occupations), aEmployee)
		}
		if len(c.Accounts) == 1 && r.IntN(3) == 0 {
			c.Accounts = append(c.Accounts, ownAccount(c.home, 2*c.idx+1))
		}
	case "funnel_account":
		moveTo(c, pick(r, []string{"Toronto", "Mississauga", "Montreal", "Chicago", "New York", "Atlanta"}))
		setPerson(r, c, pick(r, occupations), aEmployee)
	case "rapid_movement":
		c.quiet = true
		if r.IntN(2) == 0 {
			setOrg(r, c, "541611")
		} else {
			setPerson(r, c, pick(r, []string{"self-employed", "consultant", "unemployed"}), aEmployee)
		}
	case "money_mule":
		c.quiet = true
		setPerson(r, c, pick(r, []string{"student", "unemployed", "cashier", "student"}), aEmployee)
		if c.home.Country == "MX" {
			moveTo(c, pick(r, []string{"Toronto", "Vancouver", "Houston", "Los Angeles"}))
		}
	case "precursor_purchase":
		if r.IntN(2) == 0 {
			setOrg(r, c, pick(r, []string{"811111", "812113", "455219"}))
		} else {
			setPerson(r, c, pick(r, []string{"warehouse worker", "truck driver", "unemployed", "cook"}), aEmployee)
		}
	case "virtual_asset_cashout", "drug_slang":
		setPerson(r, c, pick(r, occupations), aEmployee)
		if c.home.Country == "MX" {
			moveTo(c, pick(r, []string{"Vancouver", "Surrey", "Calgary", "Seattle", "Phoenix", "Denver"}))
		}
	case "underground_banking":
		moveTo(c, pick(r, []string{"Vancouver", "Richmond", "Burnaby", "Toronto", "Markham", "Queens", "Los Angeles"}))
		c.nameSet = "zh"
		c.Type = "organization" // force setPerson to draw a fresh name from the set
		occ := pick(r, []string{"student", "homemaker", "retired"})
		arch := map[string]archetype{"student": aStudent, "homemaker": aHomemaker, "retired": aRetired}[occ]
		setPerson(r, c, occ, arch)
	case "trade_based":
		setOrg(r, c, pick(r, []string{"541511", "722511", "812112", "621210"}))
	case "bulk_cash":
		moveTo(c, pick(r, []string{"San Diego", "Los Angeles", "Houston", "Dallas", "Phoenix", "Chicago"}))
		c.nameSet = "es"
		setOrg(r, c, pick(r, []string{"441120", "424480", "441120"}))
	case "designated_party":
		if r.IntN(2) == 0 {
			moveTo(c, pick(r, []string{"Ciudad de México", "Guadalajara", "Tijuana", "Culiacán", "San Diego", "Houston", "Phoenix", "Toronto"}))
		}
	}
}

// fillHabits draws the ordinary habits of a customer.
func fillHabits(r *rand.Rand, cfg Config, p *population, c *cust) {
	fx := fxToLocal[c.ccy]
	c.payPhase = r.IntN(2)
	c.rentDay = 1
	c.billDay = 3 + r.IntN(20)
	c.monthDay = 1 + r.IntN(27)
	c.bills = []merchant{pick(r, billers[c.Country]), pick(r, billers[c.Country])}
	if c.Type == "person" {
		c.cardRate = 2.9
		switch c.arch {
		case aStudent:
			c.cardRate = 2.4
		case aRetired:
			c.cardRate = 2.0
		case aHomemaker:
			c.cardRate = 3.1
		}
		if c.quiet {
			c.cardRate = 0.4
		}
		c.salary = (1300 + r.Float64()*2900) * fx
		if c.Country == "MX" {
			c.salary = (300 + r.Float64()*900) * fx
		}
		c.rent = (800 + r.Float64()*1800) * fx
		if c.Country == "MX" {
			c.rent = (250 + r.Float64()*600) * fx
		}
		c.landlord = extParty(r, personName(r, nameSetFor(r, c.Country)), "person", c.Country)
		if r.IntN(3) == 0 {
			c.landlord = extParty(r, pick(r, []string{"Greenview Property Management", "Parkside Rentals", "Metro Living Residences", "Inmobiliaria Los Arcos"})+" "+pick(r, orgSuffix[c.Country]), "organization", c.Country)
		}
		c.employerName = orgName(r, pick(r, ordinaryIndustries), c.Country)
		c.employerAcct = extAccount(pick(r, otherBanks[c.Country]), c.employerName)
		nf := 2 + r.IntN(6)
		for i := 0; i < nf && len(p.persons[c.Country]) > 1; i++ {
			f := p.persons[c.Country][r.IntN(len(p.persons[c.Country]))]
			if f != c.idx {
				c.friends = append(c.friends, int32(f))
			}
		}
		switch c.arch {
		case aStudent:
			c.abroad = pick(r, []string{"CN", "CN", "IN", "IN", "MX", "KR"})
		case aRemitter:
			c.abroad = pick(r, []string{"MX", "MX", "IN", "PH", "GT", "CN"})
		}
		if c.abroad != "" {
			set := map[string]string{"CN": "zh", "IN": "in", "MX": "es", "KR": "zh", "PH": "en", "GT": "es"}[c.abroad]
			rel := personName(r, set)
			if c.arch == aStudent && set == c.nameSet {
				rel = pick(r, names[set].first) + " " + lastName(c.Name)
			}
			c.relative = extParty(r, rel, "person", c.abroad)
		}
		if c.arch == aCryptoHobbyist || c.role == "virtual_asset_cashout" {
			c.wallet = btcAddress(r)
		}
		// Employees of our own business customers are paid by them (payroll
		// fan-outs); the rest by outside employers.
		if cfg.LookAlikes && (c.arch == aEmployee || c.arch == aRemitter || c.arch == aCryptoHobbyist) && !c.quiet && r.IntN(3) == 0 {
			if orgs := p.orgs[c.Country]; len(orgs) > 0 {
				e := p.custs[orgs[r.IntN(len(orgs))]]
				if e.role == "" && len(e.employees) < 30 {
					c.employer = e.idx
					c.employerName = e.Name
					e.employees = append(e.employees, c.idx)
				}
			}
		}
		return
	}
	c.cardRate = 0.8
	c.rent = (2500 + r.Float64()*9000) * fx
	c.landlord = extParty(r, pick(r, []string{"Brookfield Properties", "RioCan REIT", "Plaza Comercial del Valle", "Westfield Commercial"})+" "+pick(r, orgSuffix[c.Country]), "organization", c.Country)
	c.payPer = (1100 + r.Float64()*1600) * fx
	if c.Country == "MX" {
		c.payPer = (300 + r.Float64()*500) * fx
	}
	if !c.quiet {
		ne := 3 + r.IntN(14)
		for i := 0; i < ne; i++ {
			c.extEmployees = append(c.extEmployees, extParty(r, personName(r, nameSetFor(r, c.Country)), "person", c.Country))
		}
	}
}

func lastName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == ' ' {
			return full[i+1:]
		}
	}
	return full
}

const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// btcAddress draws a syntactically plausible bech32 address (not a real one).
func btcAddress(r *rand.Rand) string {
	const cs = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	b := []byte("bc1q")
	for i := 0; i < 38; i++ {
		b = append(b, cs[r.IntN(len(cs))])
	}
	return string(b)
}
