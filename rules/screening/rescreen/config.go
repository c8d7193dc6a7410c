package rescreen

import (
	"fmt"
	"time"
)

// Config bounds the registry of counterparties seen.
type Config struct {
	// Prefix starts every Redis key; two registries must not share one.
	// Default "sluice:rescreen".
	Prefix string
	// Horizon is how far back in event time, from the newest entry,
	// counterparties are kept and rescreened. Default 90 days.
	Horizon time.Duration
	// MaxEntries caps the entries kept; beyond it the oldest go first.
	// Default 5,000,000 (about 1.5 GB in Redis).
	MaxEntries int
}

// Defaults.
const (
	DefaultPrefix     = "sluice:rescreen"
	DefaultHorizon    = 90 * 24 * time.Hour
	DefaultMaxEntries = 5_000_000
)

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultHorizon
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	switch {
	case c.Horizon < time.Millisecond:
		return fmt.Errorf("rescreen: Horizon %v: want a positive duration of at least 1ms, e.g. %v", c.Horizon, DefaultHorizon)
	case c.MaxEntries < 1:
		return fmt.Errorf("rescreen: MaxEntries %d: want at least 1, e.g. %d", c.MaxEntries, DefaultMaxEntries)
	}
	return nil
}
