package graph

import (
	"context"
	"fmt"
	"time"
)

// Edge is one transfer between two accounts.
type Edge struct {
	TxID   string // idempotency: a redelivered TxID is not added twice
	From   string // sending account (the caller's key, e.g. bank + "/" + account)
	To     string // receiving account
	Amount int64  // minor units of the base currency (converted before; hops are compared by ratio)
	Time   int64  // event time, unix ms
}

// Signals are the graph patterns an edge completes, seen through the bounded
// recent edges the store keeps (see the package documentation for what the
// bounds can miss). Zero means "not seen".
type Signals struct {
	// FanIn is the number of distinct senders of To in the window, this edge included.
	FanIn int `json:"fi,omitempty"`
	// FanOut is the number of distinct receivers of From in the window, this edge included.
	FanOut int `json:"fo,omitempty"`

	// CycleHops is the length (2..MaxHops) of the shortest directed cycle this
	// edge closes: To → … → From over earlier, time-ordered edges of the window,
	// each hop's amount similar to the next, then From → To.
	CycleHops int `json:"ch,omitempty"`
	// CycleMinRatio is the smallest min/max amount ratio of two consecutive
	// hops of that cycle (1 = equal amounts).
	CycleMinRatio float64 `json:"cr,omitempty"`
	// CycleTx are the cycle's transactions, this edge first, then in the
	// order the money moved from To.
	CycleTx []string `json:"ct,omitempty"`

	// ChainHops is the number of hops of the longest chain of distinct
	// accounts ending with this edge whose earlier hops are time-ordered and
	// of similar amounts (1 = no chain).
	ChainHops int `json:"cn,omitempty"`

	// ScatterGather is, for this edge M → To, the largest number of distinct
	// intermediaries M' such that one origin O sent O → M' and M' sent
	// M' → To later in the window with a similar amount (M itself included;
	// 1 = a plain relay O → M → To).
	ScatterGather int `json:"sg,omitempty"`

	// GatherScatter is min(GatherScatterIn, GatherScatterOut) when both are
	// at least 2, else 0.
	GatherScatter int `json:"gs,omitempty"`
	// GatherScatterIn is the number of distinct senders of From (the hub) in the window.
	GatherScatterIn int `json:"gi,omitempty"`
	// GatherScatterOut is the number of distinct receivers of From in the
	// window, this edge included (equal to FanOut).
	GatherScatterOut int `json:"go,omitempty"`

	// Bipartite is min(|S|, |R|) of the many-to-many block around this edge:
	// S the senders of To and R the receivers of From in the window, reduced
	// to the senders that paid at least two of R and the receivers paid by at
	// least two of S, when both have at least 2 members and at least
	// MinDensity of the S×R pairs are paid; else 0.
	Bipartite int `json:"bp,omitempty"`
	// StackDepth is the number of consecutive many-to-many layers ending at
	// this edge: 1 when Bipartite > 0, 2 when the block's senders were
	// themselves paid by a many-to-many block (the AMLworld stack).
	StackDepth int `json:"sd,omitempty"`

	// Tx are the transactions behind the signals, this edge first, at most
	// Config.MaxTx: cycle, scatter-gather, stack, bipartite, gather-scatter,
	// fan-in, fan-out.
	Tx []string `json:"tx,omitempty"`

	// Replayed is set when the edge's TxID had been observed before: the
	// Signals are those of its first observation and nothing was added.
	Replayed bool `json:"-"`
}

// Map returns the numeric signals under the names rules use after "graph."
// (graph.cycle_hops...).
func (s *Signals) Map() map[string]any {
	return map[string]any{
		"fan_in":             s.FanIn,
		"fan_out":            s.FanOut,
		"cycle_hops":         s.CycleHops,
		"cycle_min_ratio":    s.CycleMinRatio,
		"chain_hops":         s.ChainHops,
		"scatter_gather":     s.ScatterGather,
		"gather_scatter":     s.GatherScatter,
		"gather_scatter_in":  s.GatherScatterIn,
		"gather_scatter_out": s.GatherScatterOut,
		"bipartite":          s.Bipartite,
		"stack_depth":        s.StackDepth,
	}
}

// Store keeps recent edges per account and computes Signals.
type Store interface {
	// Observe applies the batch's edges in order and returns one Signals
	// per edge. It is idempotent by TxID: an edge whose TxID was observed
	// before (in an earlier batch or earlier in this one) adds nothing and
	// gets the Signals of its first observation, with Replayed set. Edges
	// see the earlier edges of their batch exactly as if each had been
	// observed alone.
	Observe(ctx context.Context, edges []Edge) ([]Signals, error)
}

// Config bounds the state and the work per edge. The zero value, validated,
// is the default.
type Config struct {
	// Window is how far back in event time a pattern may reach. Default 7
	// days: the AMLworld HI-Small laundering attempts span up to 6.2 days
	// (gather-scatter; fan-in 3.5, cycle 3.7, scatter-gather 3.8, stack 4),
	// so 72 hours would cut most of them.
	Window time.Duration
	// Retain is how long an edge and its idempotency record are kept beyond
	// the window: the allowed lateness plus the redelivery horizon. Default 24h.
	Retain time.Duration
	// MaxEdgesPerAccount is how many of an account's most recent edges are
	// kept per direction (in and out). Default 64.
	MaxEdgesPerAccount int
	// MaxHops is the longest cycle (and chain) searched, 2..8. Default 6.
	MaxHops int
	// MaxFrontier bounds the cycle/chain search states created per edge.
	// Default 256.
	MaxFrontier int
	// AmountTolerance is how far consecutive hops' amounts may differ:
	// min/max >= 1 - AmountTolerance. Default 0.2.
	AmountTolerance float64
	// MinDensity is the share of sender×receiver pairs a many-to-many block
	// must have paid to count as bipartite. Default 0.5.
	MinDensity float64
	// MaxTx bounds Signals.Tx. Default 50.
	MaxTx int
}

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if c.Window == 0 {
		c.Window = 7 * 24 * time.Hour
	}
	if c.Retain == 0 {
		c.Retain = 24 * time.Hour
	}
	if c.MaxEdgesPerAccount == 0 {
		c.MaxEdgesPerAccount = 64
	}
	if c.MaxHops == 0 {
		c.MaxHops = 6
	}
	if c.MaxFrontier == 0 {
		c.MaxFrontier = 256
	}
	if c.AmountTolerance == 0 {
		c.AmountTolerance = 0.2
	}
	if c.MinDensity == 0 {
		c.MinDensity = 0.5
	}
	if c.MaxTx == 0 {
		c.MaxTx = 50
	}
	switch {
	case c.Window < time.Minute || c.Window > 90*24*time.Hour:
		return fmt.Errorf("graph: window %s must be between 1m and 90d", c.Window)
	case c.Retain < 0 || c.Retain > 30*24*time.Hour:
		return fmt.Errorf("graph: retain %s must be between 0 and 30d", c.Retain)
	case c.MaxEdgesPerAccount < 2 || c.MaxEdgesPerAccount > 10_000:
		return fmt.Errorf("graph: max edges per account %d must be between 2 and 10000", c.MaxEdgesPerAccount)
	case c.MaxHops < 2 || c.MaxHops > 8:
		return fmt.Errorf("graph: max hops %d must be between 2 and 8", c.MaxHops)
	case c.MaxFrontier < 1 || c.MaxFrontier > 100_000:
		return fmt.Errorf("graph: max frontier %d must be between 1 and 100000", c.MaxFrontier)
	case c.AmountTolerance <= 0 || c.AmountTolerance >= 1:
		return fmt.Errorf("graph: amount tolerance %g must be above 0 and below 1 (0.2 = hops within 20%%)", c.AmountTolerance)
	case c.MinDensity <= 0 || c.MinDensity > 1:
		return fmt.Errorf("graph: min density %g must be above 0 and at most 1", c.MinDensity)
	case c.MaxTx < 1 || c.MaxTx > 1000:
		return fmt.Errorf("graph: max tx %d must be between 1 and 1000", c.MaxTx)
	}
	return nil
}

func checkEdges(edges []Edge) error {
	for i, e := range edges {
		switch {
		case e.TxID == "":
			return fmt.Errorf("graph: edge %d: empty TxID", i)
		case e.From == "" || e.To == "":
			return fmt.Errorf("graph: edge %d (tx %s): empty From or To account", i, e.TxID)
		case e.Amount < 0:
			return fmt.Errorf("graph: edge %d (tx %s): negative amount %d", i, e.TxID, e.Amount)
		case e.Time <= -1<<53 || e.Time >= 1<<53:
			// Redis scores are doubles: times beyond 2^53 ms would not sort exactly.
			return fmt.Errorf("graph: edge %d (tx %s): time %d ms is out of range", i, e.TxID, e.Time)
		}
	}
	return nil
}
