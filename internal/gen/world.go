package gen

import (
	"embed"
	"math/rand/v2"
	"strings"
	"time"
)

// The static world the synthetic bank lives in: cities with their branch
// offsets, banks, merchants and name lists. Offsets are fixed standard-time
// offsets (no DST) so that output never depends on the machine's tz database.

type city struct {
	Name    string
	Country string
	Region  string
	Offset  int // hours from UTC
	Branch  int // branch number used in account ids
	loc     *time.Location
}

var cities = []*city{
	{Name: "Vancouver", Country: "CA", Region: "BC", Offset: -8, Branch: 1},
	{Name: "Surrey", Country: "CA", Region: "BC", Offset: -8, Branch: 2},
	{Name: "Richmond", Country: "CA", Region: "BC", Offset: -8, Branch: 3},
	{Name: "Burnaby", Country: "CA", Region: "BC", Offset: -8, Branch: 4},
	{Name: "Calgary", Country: "CA", Region: "AB", Offset: -7, Branch: 5},
	{Name: "Edmonton", Country: "CA", Region: "AB", Offset: -7, Branch: 6},
	{Name: "Winnipeg", Country: "CA", Region: "MB", Offset: -6, Branch: 7},
	{Name: "Toronto", Country: "CA", Region: "ON", Offset: -5, Branch: 8},
	{Name: "Mississauga", Country: "CA", Region: "ON", Offset: -5, Branch: 9},
	{Name: "Markham", Country: "CA", Region: "ON", Offset: -5, Branch: 10},
	{Name: "Ottawa", Country: "CA", Region: "ON", Offset: -5, Branch: 11},
	{Name: "Montreal", Country: "CA", Region: "QC", Offset: -5, Branch: 12},
	{Name: "Laval", Country: "CA", Region: "QC", Offset: -5, Branch: 13},
	{Name: "Halifax", Country: "CA", Region: "NS", Offset: -4, Branch: 14},
	{Name: "Seattle", Country: "US", Region: "WA", Offset: -8, Branch: 101},
	{Name: "Los Angeles", Country: "US", Region: "CA", Offset: -8, Branch: 102},
	{Name: "San Diego", Country: "US", Region: "CA", Offset: -8, Branch: 103},
	{Name: "Phoenix", Country: "US", Region: "AZ", Offset: -7, Branch: 104},
	{Name: "Denver", Country: "US", Region: "CO", Offset: -7, Branch: 105},
	{Name: "Dallas", Country: "US", Region: "TX", Offset: -6, Branch: 106},
	{Name: "Houston", Country: "US", Region: "TX", Offset: -6, Branch: 107},
	{Name: "Chicago", Country: "US", Region: "IL", Offset: -6, Branch: 108},
	{Name: "New York", Country: "US", Region: "NY", Offset: -5, Branch: 109},
	{Name: "Queens", Country: "US", Region: "NY", Offset: -5, Branch: 110},
	{Name: "Miami", Country: "US", Region: "FL", Offset: -5, Branch: 111},
	{Name: "Atlanta", Country: "US", Region: "GA", Offset: -5, Branch: 112},
	{Name: "Ciudad de México", Country: "MX", Region: "CMX", Offset: -6, Branch: 201},
	{Name: "Guadalajara", Country: "MX", Region: "JAL", Offset: -6, Branch: 202},
	{Name: "Monterrey", Country: "MX", Region: "NLE", Offset: -6, Branch: 203},
	{Name: "Tijuana", Country: "MX", Region: "BCN", Offset: -8, Branch: 204},
	{Name: "Culiacán", Country: "MX", Region: "SIN", Offset: -7, Branch: 205},
	{Name: "Cancún", Country: "MX", Region: "ROO", Offset: -5, Branch: 206},
}

// cityWeight is how many customers each country gets relative to the others.
var countryShare = []struct {
	Country string
	Share   float64
}{{"CA", 0.55}, {"US", 0.33}, {"MX", 0.12}}

func init() {
	for _, c := range cities {
		c.loc = time.FixedZone(fmtOffset(c.Offset), c.Offset*3600)
	}
}

func fmtOffset(h int) string {
	if h < 0 {
		return "UTC-" + itoa2(-h)
	}
	return "UTC+" + itoa2(h)
}

func itoa2(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

func citiesIn(country string) []*city {
	var out []*city
	for _, c := range cities {
		if c.Country == country {
			out = append(out, c)
		}
	}
	return out
}

func cityNamed(name string) *city {
	for _, c := range cities {
		if c.Name == name {
			return c
		}
	}
	panic("gen: unknown city " + name)
}

// Our own bank's BIC per country, and other banks' BICs for counterparties.
var ownBank = map[string]string{"CA": "ROYCCAT2", "US": "RBCMUS33", "MX": "BNMXMXMM"}

var otherBanks = map[string][]string{
	"CA": {"TDOMCATTTOR", "BOFMCAM2", "NOSCCATT", "CIBCCATT", "CCDQCAMM"},
	"US": {"CHASUS33", "BOFAUS3N", "WFBIUS6S", "CITIUS33", "PNCCUS33"},
	"MX": {"BCMRMXMM", "BNMXMXMM", "BSMXMXMM", "AZTKMXMM", "BAJIMXMT"},
	"CN": {"BKCHCNBJ", "ICBKCNBJ", "PCBCCNBJ", "ABOCCNBJ"},
	"HK": {"HSBCHKHH", "BKCHHKHH", "SCBLHKHH"},
	"IN": {"SBININBB", "HDFCINBB", "ICICINBB"},
	"AE": {"EBILAEAD", "NBADAEAA"},
	"PH": {"BNORPHMM", "MBTCPHMM"},
	"GT": {"BIGUGTGC"},
	"DE": {"DEUTDEFF", "COBADEFF"},
	"KR": {"KOEXKRSE"},
	"SG": {"DBSSSGSG"},
	"NG": {"ZEIBNGLA", "GTBINGLA"},
}

var currencyOf = map[string]string{"CA": "CAD", "US": "USD", "MX": "MXN"}

// fxToLocal converts an amount quoted in USD into the local currency, for
// sizing amounts; rough rates are enough for a generator.
var fxToLocal = map[string]float64{"CAD": 1.36, "USD": 1.0, "MXN": 17.2}

//go:embed data/*.txt
var dataFS embed.FS

type nameList struct{ first, last []string }

var names = map[string]nameList{}

func init() {
	for _, set := range []string{"en", "es", "zh", "in"} {
		names[set] = nameList{first: readList("data/first_" + set + ".txt"), last: readList("data/last_" + set + ".txt")}
	}
}

func readList(path string) []string {
	b, err := dataFS.ReadFile(path)
	if err != nil {
		panic("gen: embedded name list missing: " + path)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// personName draws a name from a cultural set: "en", "es", "zh" or "in".
func personName(r *rand.Rand, set string) string {
	l := names[set]
	if set == "es" && r.IntN(2) == 0 {
		return pick(r, l.first) + " " + pick(r, l.last) + " " + pick(r, l.last)
	}
	return pick(r, l.first) + " " + pick(r, l.last)
}

// nameSetFor picks the cultural mix of names for a country.
func nameSetFor(r *rand.Rand, country string) string {
	x := r.Float64()
	switch country {
	case "MX":
		return "es"
	case "US":
		switch {
		case x < 0.62:
			return "en"
		case x < 0.85:
			return "es"
		case x < 0.93:
			return "zh"
		}
		return "in"
	}
	switch {
	case x < 0.64:
		return "en"
	case x < 0.80:
		return "zh"
	case x < 0.92:
		return "in"
	}
	return "es"
}

type merchant struct {
	Name     string
	Industry string // NAICS
	Min, Max float64
}

// Card merchants by country; amounts in USD, scaled to the local currency.
var merchants = map[string][]merchant{
	"CA": {
		{"Loblaws", "445110", 25, 220}, {"Sobeys", "445110", 20, 180}, {"Tim Hortons", "722515", 3, 18},
		{"Shoppers Drug Mart", "456110", 8, 90}, {"Petro-Canada", "457110", 35, 95}, {"Canadian Tire", "455110", 15, 260},
		{"Amazon.ca", "455219", 12, 180}, {"Costco Wholesale", "455211", 60, 420}, {"Starbucks", "722515", 4, 16},
		{"Cineplex", "512131", 14, 60}, {"Uber Canada", "485310", 9, 45}, {"Dollarama", "455219", 3, 40},
	},
	"US": {
		{"Walmart", "455211", 15, 240}, {"Kroger", "445110", 20, 190}, {"Target", "455110", 10, 160},
		{"CVS Pharmacy", "456110", 6, 80}, {"Shell", "457110", 30, 85}, {"Home Depot", "444110", 20, 320},
		{"Amazon.com", "455219", 10, 200}, {"Starbucks", "722515", 4, 15}, {"Chipotle", "722513", 9, 30},
		{"Netflix", "516210", 15, 23}, {"Uber", "485310", 8, 50}, {"Trader Joe's", "445110", 20, 140},
	},
	"MX": {
		{"OXXO", "445131", 2, 25}, {"Walmart de México", "455211", 15, 160}, {"Soriana", "445110", 12, 140},
		{"Farmacias Guadalajara", "456110", 4, 60}, {"Pemex", "457110", 20, 70}, {"Liverpool", "455110", 25, 300},
		{"Mercado Libre", "455219", 8, 150}, {"Sanborns", "722511", 8, 40}, {"Coppel", "455110", 15, 250},
	},
}

// Billers: utilities, telecom, insurance.
var billers = map[string][]merchant{
	"CA": {{"BC Hydro", "221122", 60, 190}, {"Rogers Communications", "517112", 70, 160}, {"Bell Canada", "517111", 60, 150}, {"Enbridge Gas", "221210", 40, 160}, {"Intact Insurance", "524126", 90, 220}, {"Hydro-Québec", "221122", 50, 170}},
	"US": {{"Con Edison", "221122", 70, 220}, {"AT&T", "517112", 60, 150}, {"Comcast Xfinity", "517111", 70, 160}, {"State Farm", "524126", 90, 240}, {"PG&E", "221122", 60, 210}, {"Verizon", "517112", 60, 140}},
	"MX": {{"CFE Suministrador", "221122", 10, 60}, {"Telcel", "517112", 12, 40}, {"Telmex", "517111", 20, 45}, {"GNP Seguros", "524126", 25, 90}, {"Izzi Telecom", "517111", 20, 45}},
}

var exchanges = map[string][]string{
	"CA": {"Shakepay Inc.", "Bitbuy Technologies", "Coinbase Canada", "Kraken (Payward Canada)"},
	"US": {"Coinbase Inc.", "Kraken (Payward Inc.)", "Gemini Trust Company", "Cash App Bitcoin"},
	"MX": {"Bitso S.A.P.I. de C.V.", "Binance México"},
}

var bitcoinATMs = []string{"Bitcoin Depot ATM", "CoinFlip ATM", "Localcoin ATM", "Bitcoin Well ATM"}

var orgSuffix = map[string][]string{
	"CA": {"Ltd.", "Inc.", "Corp."},
	"US": {"LLC", "Inc.", "Co."},
	"MX": {"S.A. de C.V.", "S. de R.L. de C.V."},
}

// industries of ordinary organizations (NAICS).
var industryNames = map[string]string{
	"722511": "full-service restaurants",
	"445131": "convenience retailers",
	"445110": "supermarkets and grocery retailers",
	"424690": "other chemical and allied products merchant wholesalers",
	"424480": "fresh fruit and vegetable merchant wholesalers",
	"448140": "family clothing retailers",
	"441310": "automotive parts and accessories retailers",
	"236118": "residential remodelers",
	"541511": "custom computer programming services",
	"484121": "general freight trucking, long-distance",
	"531210": "offices of real estate agents and brokers",
	"441120": "used car dealers",
	"811111": "general automotive repair",
	"812113": "nail salons",
	"812112": "beauty salons",
	"621210": "offices of dentists",
	"541611": "administrative management consulting services",
	"455219": "all other general merchandise retailers",
	"325199": "all other basic organic chemical manufacturing",
	"325412": "pharmaceutical preparation manufacturing",
}

var bizWords = map[string][]string{
	"722511": {"Maple Leaf Bistro", "Golden Wok", "La Cocina de Mamá", "Harbour Grill", "Bombay Spice", "Pho Saigon", "Taquería El Güero", "The Rusty Anchor"},
	"445131": {"Quick Stop", "Corner Mart", "24/7 Convenience", "Sunrise Variety", "Mini Super Lupita", "Express Mart"},
	"445110": {"Fresh Valley Market", "Green Basket Foods", "Supermercado La Esperanza", "Oriental Food Mart"},
	"424690": {"Northern Chemical Distributors", "Pacific Industrial Chemicals", "Great Lakes Chem Supply", "Química Industrial del Norte"},
	"424480": {"Sunfresh Produce", "Valle Verde Produce", "Border Fresh Imports", "Frutas Selectas"},
	"448140": {"Urban Threads", "Moda Viva", "Northside Apparel"},
	"441310": {"Parts Depot", "AutoPro Parts", "Refaccionaria El Pistón"},
	"236118": {"Solid Build Renovations", "Cedar Ridge Contracting", "Construcciones Alfa"},
	"541511": {"Bytewise Software", "Nimbus Data Labs", "Pixel Forge Systems", "Código Norte"},
	"484121": {"Trans-Canada Haulage", "Lone Star Freight", "Transportes del Bajío"},
	"531210": {"Royal Key Realty", "Skyline Homes Realty", "Inmobiliaria Horizonte"},
	"441120": {"Cross Border Auto Sales", "Premier Pre-Owned", "Autos Seminuevos del Norte"},
	"811111": {"Precision Auto Repair", "Main Street Garage", "Taller Mecánico Hermanos"},
	"812113": {"Polished Nail Studio", "Lotus Nails & Spa", "Glam Nails"},
	"812112": {"Bella Hair Studio", "Salon Lumière"},
	"621210": {"Bright Smile Dental", "Lakeshore Dental Clinic"},
	"541611": {"Apex Strategy Consulting", "Bluewater Advisory", "Consultores Delta"},
	"455219": {"Global Discount Traders", "Everything Outlet"},
}

// orgName builds a plausible organization name.
func orgName(r *rand.Rand, industry, country string) string {
	ws := bizWords[industry]
	if len(ws) == 0 {
		ws = bizWords["541611"]
	}
	return pick(r, ws) + " " + pick(r, orgSuffix[country])
}
