package alerts

import (
	"github.com/sluice-aml/sluice/ingest"
)

// Alert is the alert of spec/alert.md. Fields may be added, never changed.
type Alert struct {
	ID           string          `json:"id"`
	Time         string          `json:"time"` // event time of the triggering transaction, RFC 3339 with its offset
	Subject      Subject         `json:"subject"`
	Score        int             `json:"score"`
	Transactions []string        `json:"transactions"`
	Typologies   []TypologyHit   `json:"typologies"`
	Rules        []RuleHit       `json:"rules"`
	Screening    []ScreeningHit  `json:"screening"`
	Ruleset      string          `json:"ruleset"`
	Lists        string          `json:"lists"`
	Source       ingest.Position `json:"source"`
	Version      int             `json:"version"`           // 1 when raised, +1 for each update within the cool-down
	Mode         string          `json:"mode,omitempty"`    // "shadow" when only shadow rules raised it
	FX           string          `json:"fx,omitempty"`      // version of the FX rate table in force
	Updated      string          `json:"updated,omitempty"` // event time of the latest evidence, when Version > 1
	// RulesOmitted counts the rule hits not listed in Rules: past
	// MaxRuleHits an alert keeps only each rule's latest hit (see merge).
	RulesOmitted int `json:"rules_omitted,omitempty"`
}

// Subject is the account (and customer) an alert is about.
type Subject struct {
	Account    string `json:"account"`
	CustomerID string `json:"customer_id,omitempty"`
	Name       string `json:"name,omitempty"`
}

// TypologyHit is one typology of spec/typologies.md matched, with its score.
type TypologyHit struct {
	ID    string `json:"id"`
	Score int    `json:"score"`
}

// RuleHit is one rule that fired: its contribution, a sentence for people and
// the values it saw.
type RuleHit struct {
	ID     string         `json:"id"`
	Score  int            `json:"score"`
	Reason string         `json:"reason"`
	Values map[string]any `json:"values"`
	Tx     string         `json:"tx,omitempty"` // the transaction it fired on
}

// ScreeningHit is a designated-entity list match.
type ScreeningHit struct {
	List        string   `json:"list"`
	Entry       string   `json:"entry"`
	ListedName  string   `json:"listed_name"`
	MatchedName string   `json:"matched_name"`
	Field       string   `json:"field"`
	Score       float64  `json:"score"`
	Programs    []string `json:"programs,omitempty"`
}
