package screening

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedData is the project's real public data (see ../shared/data/README.md
// from the repository root).
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

var (
	fullOnce sync.Once
	fullScr  *Screener
	fullErr  error
)

// fullConfig screens against the full SDN + UN lists in shared/data plus
// the lists in configs/lists.
func fullConfig(t testing.TB) Config {
	t.Helper()
	for _, p := range []string{filepath.Join(sharedData, "ofac", "sdn.csv"), filepath.Join(sharedData, "un", "UN_consolidated.xml")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("real list data missing: %v (the tests need ../shared/data from the repository root; see its README)", err)
		}
	}
	return Config{
		Dir:     filepath.Join("..", "..", "configs", "lists"),
		OFACDir: filepath.Join(sharedData, "ofac"),
		UNFile:  filepath.Join(sharedData, "un", "UN_consolidated.xml"),
	}
}

// fullScreener is built once per test binary: the index over ~25,000 names
// takes a fraction of a second, but many tests share it.
func fullScreener(t testing.TB) *Screener {
	t.Helper()
	cfg := fullConfig(t)
	fullOnce.Do(func() { fullScr, fullErr = Load(cfg) })
	if fullErr != nil {
		t.Fatalf("Load: %v", fullErr)
	}
	return fullScr
}
