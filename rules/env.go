package rules

import "time"

// Env is what a rule expression sees. Field names are the expression names
// (expr tags); features and parameters are added as plain identifiers at
// compile time.
type Env struct {
	ID         string             `expr:"id"`
	Kind       string             `expr:"kind"`
	Amount     float64            `expr:"amount"`      // in the event's currency, for display-grade comparisons
	Currency   string             `expr:"currency"`    // ISO 4217 or crypto ticker
	AmountBase float64            `expr:"amount_base"` // converted to the base currency with the FX table
	Base       string             `expr:"base_currency"`
	FX         map[string]float64 `expr:"fx"` // units of the base currency per unit of each currency
	Channel    string             `expr:"channel"`
	Purpose    string             `expr:"purpose"`
	Memo       string             `expr:"memo"`
	Hour       int                `expr:"hour"`    // local hour of the event time (0-23), in its own offset
	Weekday    int                `expr:"weekday"` // 0 = Sunday
	Location   Location           `expr:"location"`
	From       Party              `expr:"from"`
	To         Party              `expr:"to"`
	Attrs      map[string]any     `expr:"attrs"`
	Subject    string             `expr:"subject"` // "from" or "to": which party the rule is evaluated for

	// Graph holds the graph-pattern signals of this transfer (from.account →
	// to.account), when the scorer keeps a graph.
	Graph Graph `expr:"graph"`

	// F holds the subject party's window features, in feature order; rules
	// name them directly (cash_in_24h_sum) and the compiler rewrites the name
	// to an index.
	F []float64 `expr:"F"`
	// Text holds, per text list (drug_slang, precursors...), whether the memo
	// or purpose matched it; rules use memo_has("drug_slang").
	Text map[string]bool `expr:"-"`
	// Time is the event time.
	Time time.Time `expr:"-"`
}

// Location is the event's location in rule expressions.
type Location struct {
	Country string `expr:"country"`
	Region  string `expr:"region"`
	City    string `expr:"city"`
}

// Party is one party in rule expressions, with its screening result and the
// customer's declared profile when the party is a known customer.
type Party struct {
	Account    string `expr:"account"`
	CustomerID string `expr:"customer_id"`
	Name       string `expr:"name"`
	Type       string `expr:"type"`
	Country    string `expr:"country"`
	Bank       string `expr:"bank"`
	Wallet     string `expr:"wallet"`
	Industry   string `expr:"industry"`
	// Own is true for the bank's own customer (a customer_id is given), and
	// for every party of a data set that carries no customer ids at all
	// (AMLworld, AMLSim), so that rules using it stay portable.
	Own     bool    `expr:"own"`
	Screen  Screen  `expr:"screen"`
	Profile Profile `expr:"profile"`
}

// Screen is the best designated-entity list match of a party's name or wallet.
type Screen struct {
	Score      float64  `expr:"score"`      // 0 when nothing matched at or above the threshold
	Designated bool     `expr:"designated"` // the match carries an FTO, SDGT, SDNTK or equivalent program
	Programs   []string `expr:"programs"`
	List       string   `expr:"list"`
	Name       string   `expr:"name"` // the listed name
}

// Profile is the customer's declared profile (KYC), empty for non-customers.
type Profile struct {
	Known      bool   `expr:"known"`
	Type       string `expr:"type"`       // person or organization
	Industry   string `expr:"industry"`   // NAICS code or text
	Occupation string `expr:"occupation"` // student, homemaker, retired...
	Country    string `expr:"country"`
	Region     string `expr:"region"`
	City       string `expr:"city"`
	// AgeDays is how long the customer has banked here at the event's time
	// (0 when the opening date is unknown): a baseline means something
	// only for a customer with history.
	AgeDays float64   `expr:"age_days"`
	Opened  time.Time `expr:"-"`
}

// Graph is what the graph-pattern store saw for a transfer (see
// scoring/graph for the exact semantics and bounds of each signal).
type Graph struct {
	FanIn            int     `expr:"fan_in"`             // distinct senders of to.account in the window
	FanOut           int     `expr:"fan_out"`            // distinct receivers of from.account in the window
	CycleHops        int     `expr:"cycle_hops"`         // length of the cycle this transfer closes, 0 if none
	CycleMinRatio    float64 `expr:"cycle_min_ratio"`    // smallest amount ratio between consecutive hops
	ChainHops        int     `expr:"chain_hops"`         // hops of the longest similar-amount chain ending here
	ScatterGather    int     `expr:"scatter_gather"`     // intermediaries between one origin and to.account
	GatherScatter    int     `expr:"gather_scatter"`     // min(senders into, receivers out of) from.account
	GatherScatterIn  int     `expr:"gather_scatter_in"`  // senders into from.account
	GatherScatterOut int     `expr:"gather_scatter_out"` // receivers out of from.account
	Bipartite        int     `expr:"bipartite"`          // smaller side of a many-to-many block around the transfer
	StackDepth       int     `expr:"stack_depth"`        // layers of such blocks (AMLworld stack)
}
