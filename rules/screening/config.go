package screening

import (
	"errors"
	"fmt"
	"path/filepath"
)

// Config says which lists to load and how to match.
type Config struct {
	// Dir holds the YAML lists (fto.yaml, ca-terrorist.yaml, any other
	// *.yaml in the lists YAML format), internal watch lists (*.csv), and by
	// default the downloaded official files in ofac/, un/ and ca/.
	Dir string
	// OFACDir holds sdn.csv (+ alt.csv, add.csv, sdn_comments.csv). Empty
	// means Dir/ofac, loaded only if present; set, it must exist.
	OFACDir string
	// OFACXML is the SDN list as OFAC's sdn.xml. Set, it is loaded instead
	// of the CSV files, and OFACDir must be empty.
	OFACXML string
	// UNFile is the UN consolidated list XML. Empty means
	// Dir/un/UN_consolidated.xml if present.
	UNFile string
	// SEMAFile is Canada's sema-lmes.xml. Empty means Dir/ca/sema-lmes.xml
	// if present.
	SEMAFile string
	// Threshold is the lowest score reported as a match, in (0, 1].
	Threshold float64
	// MaxResults caps the matches returned per query.
	MaxResults int
	// CacheSize is the number of recent queries whose results are kept; 0
	// means the default, negative disables the cache.
	CacheSize int
	// Designated are the program tags that make a match a designated party
	// (typology designated_party).
	Designated []string
}

// Defaults.
const (
	DefaultDir        = "configs/lists"
	DefaultThreshold  = 0.86
	DefaultMaxResults = 10
	DefaultCacheSize  = 10000
)

// DefaultDesignated are the programs of typology designated_party
// (spec/typologies.md): FTO, SDGT, SDNTK, EO 14059 and Canada's listed
// terrorist entities.
var DefaultDesignated = []string{"FTO", "SDGT", "SDNTK", "ILLICIT-DRUGS-EO14059", "CA-TERRORIST"}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MaxResults == 0 {
		c.MaxResults = DefaultMaxResults
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Designated == nil {
		c.Designated = DefaultDesignated
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("screening: Dir is empty: set the lists directory (default configs/lists)")
	case c.Threshold <= 0 || c.Threshold > 1:
		return fmt.Errorf("screening: Threshold %v out of range: want a score in (0, 1], e.g. %v", c.Threshold, DefaultThreshold)
	case c.OFACDir != "" && c.OFACXML != "":
		return fmt.Errorf("screening: both OFACDir (%s) and OFACXML (%s) are set: give one source for the SDN list", c.OFACDir, c.OFACXML)
	case c.MaxResults < 1:
		return fmt.Errorf("screening: MaxResults %d: want at least 1", c.MaxResults)
	}
	return nil
}

func (c Config) ofacDir() (string, bool) {
	if c.OFACDir != "" {
		return c.OFACDir, true
	}
	return filepath.Join(c.Dir, "ofac"), false
}

func (c Config) unFile() (string, bool) {
	if c.UNFile != "" {
		return c.UNFile, true
	}
	return filepath.Join(c.Dir, "un", "UN_consolidated.xml"), false
}

func (c Config) semaFile() (string, bool) {
	if c.SEMAFile != "" {
		return c.SEMAFile, true
	}
	return filepath.Join(c.Dir, "ca", "sema-lmes.xml"), false
}
