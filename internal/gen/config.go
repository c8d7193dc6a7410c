package gen

import (
	"errors"
	"fmt"
	"time"
)

// Config says what to generate. Start from DefaultConfig: the zero value of the
// booleans switches patterns and look-alikes off.
type Config struct {
	Customers int       // customers of the bank (persons and organizations); default 2,000
	Days      int       // length of the stream in days; default 30
	Start     time.Time // first day (its date is used, at local midnight of each branch); default 2025-03-01
	Seed      int64     // same seed, same config: byte-identical output

	Patterns   bool // inject the typologies of spec/typologies.md
	LookAlikes bool // include benign look-alikes (cash businesses, chemical importers, remittances, students with family support, payroll fan-outs, ...)

	// PatternRate is how many instances of each typology are injected per
	// customer per 30 days (at least MinInstances each); default 0.003, so
	// 6 instances of every typology for 2,000 customers and 60 for 20,000.
	PatternRate float64
	// MinInstances is the least number of instances of each typology; default 2.
	MinInstances int
}

// DefaultConfig is 2,000 customers over 30 days from 2025-03-01, seed 1, with
// patterns and benign look-alikes.
func DefaultConfig() Config {
	return Config{
		Customers:    2000,
		Days:         30,
		Start:        time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		Seed:         1,
		Patterns:     true,
		LookAlikes:   true,
		PatternRate:  0.003,
		MinInstances: 2,
	}
}

// MinCustomers is the smallest population that has room for every typology's
// subjects and accomplices next to ordinary customers.
const MinCustomers = 300

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Customers < MinCustomers:
		return fmt.Errorf("customers: %d is too few, need at least %d", c.Customers, MinCustomers)
	case c.Customers > 5_000_000:
		return fmt.Errorf("customers: %d is more than the 5,000,000 account numbers available", c.Customers)
	case c.Days < 1:
		return fmt.Errorf("days: %d, need at least 1", c.Days)
	case c.Days > 3660:
		return fmt.Errorf("days: %d, at most 3660 (use Stream for an endless stream)", c.Days)
	case c.Start.IsZero():
		return errors.New("start: not set (DefaultConfig sets 2025-03-01)")
	case c.Start.Year() < 1971 || c.Start.Year() > 2190:
		return fmt.Errorf("start: year %d out of range", c.Start.Year())
	case c.PatternRate < 0 || c.PatternRate > 0.02:
		return fmt.Errorf("pattern rate: %g, must be between 0 and 0.02 instances per customer per typology", c.PatternRate)
	case c.MinInstances < 0:
		return fmt.Errorf("min instances: %d, must not be negative", c.MinInstances)
	}
	if c.Patterns {
		if need := c.instances() * accountsPerRound; need > c.Customers/2 {
			return fmt.Errorf("pattern rate: %d instances per typology need about %d accomplice customers, more than half of %d customers; lower the rate or add customers", c.instances(), need, c.Customers)
		}
	}
	return nil
}

// instances per typology per 30-day block.
func (c Config) instances() int {
	n := int(c.PatternRate*float64(c.Customers) + 0.5)
	if n < c.MinInstances {
		n = c.MinInstances
	}
	return n
}

// Label marks one injected pattern instance, or one benign look-alike, in the
// generated stream. Written one per line to <out>.labels.jsonl.
type Label struct {
	// Typology is a catalogue id (spec/typologies.md), or "benign:<kind>" for
	// look-alikes and for partial patterns that should not alert
	// ("benign:partial_structuring").
	Typology string `json:"typology"`
	// Subject is the account the pattern is about: the account a rule is
	// expected to alert on.
	Subject    string `json:"subject"`
	CustomerID string `json:"customer_id,omitempty"`
	// Accounts lists every bank account taking part, the subject first (the
	// other accounts of the customer, the accomplices of graph patterns).
	Accounts []string `json:"accounts"`
	// Transactions are the ids of the events that make the pattern, in time order.
	Transactions []string `json:"transactions"`
	Start        string   `json:"start"` // time of the first transaction, RFC 3339
	End          string   `json:"end"`   // time of the last transaction, RFC 3339
	Variant      string   `json:"variant,omitempty"`
}

// Labels are the labels of one generated stream, ordered by start time.
type Labels []Label

// Customer is the declared profile of a customer, one per line in
// <out>.customers.jsonl: the event contract carries no profile, so the
// scoring path loads this.
type Customer struct {
	CustomerID   string   `json:"customer_id"`
	Accounts     []string `json:"accounts"`
	Type         string   `json:"type"` // person or organization
	Name         string   `json:"name"`
	Industry     string   `json:"industry,omitempty"` // NAICS code, organizations
	IndustryName string   `json:"industry_name,omitempty"`
	Occupation   string   `json:"occupation,omitempty"` // persons: employee, student, homemaker, retired, self-employed, unemployed, ...
	Country      string   `json:"country"`
	Region       string   `json:"region"`
	City         string   `json:"city"`
	Currency     string   `json:"currency"`
	Bank         string   `json:"bank"`
	Opened       string   `json:"opened"` // YYYY-MM-DD
}
