package rescreen

import (
	"context"
	"fmt"
	"github.com/sluice-aml/sluice/internal/redistest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/rules/screening"
)

// repoRoot is the repository root from this package's directory.
var repoRoot = filepath.Join("..", "..", "..")

func ofacDir(tb testing.TB) string {
	tb.Helper()
	d := filepath.Join(repoRoot, "..", "shared", "data", "ofac")
	if _, err := os.Stat(filepath.Join(d, "sdn.csv")); err != nil {
		tb.Fatalf("the OFAC SDN files are missing (%v): these tests need ../shared/data/ofac beside the repository (see its README)", err)
	}
	return d
}

var (
	listsOnce          sync.Once
	oldLists, newLists *screening.Screener
	listsErr           error
)

// screeners loads the 2021 SDN list alone (old) and with the State
// Department FTO list of configs/lists/fto.yaml (new), which adds the
// February 2025 cartel designations.
func screeners(tb testing.TB) (old, new *screening.Screener) {
	tb.Helper()
	ofac := ofacDir(tb)
	fto, err := filepath.Abs(filepath.Join(repoRoot, "configs", "lists", "fto.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(fto); err != nil {
		tb.Fatalf("configs/lists/fto.yaml is missing: %v", err)
	}
	listsOnce.Do(func() {
		base, err := os.MkdirTemp("", "rescreen-lists-")
		if err != nil {
			listsErr = err
			return
		}
		// The screeners are shared by every test of the package; the
		// directories are read once, at load.
		defer os.RemoveAll(base)
		oldDir, newDir := filepath.Join(base, "old"), filepath.Join(base, "new")
		for _, d := range []string{oldDir, newDir} {
			if listsErr = os.Mkdir(d, 0o755); listsErr != nil {
				return
			}
		}
		if listsErr = os.Symlink(fto, filepath.Join(newDir, "fto.yaml")); listsErr != nil {
			return
		}
		if oldLists, listsErr = screening.Load(screening.Config{Dir: oldDir, OFACDir: ofac}); listsErr != nil {
			return
		}
		newLists, listsErr = screening.Load(screening.Config{Dir: newDir, OFACDir: ofac})
	})
	if listsErr != nil {
		tb.Fatalf("loading the lists: %v", listsErr)
	}
	return oldLists, newLists
}

var prefixSeq atomic.Int64

// redisClient connects to the Redis the tests need (CI starts one) and
// returns a key prefix of the test's own.
func redisClient(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	rdb, _ := redistest.Client(tb, "rescreen")
	return rdb, fmt.Sprintf("sluice-test:rescreen:%d:%d:%s", os.Getpid(), prefixSeq.Add(1), tb.Name())
}

// newRedis returns a Redis registry whose keys are deleted after the test.
func newRedis(tb testing.TB, cfg Config) *Redis {
	tb.Helper()
	rdb, prefix := redisClient(tb)
	cfg.Prefix = prefix
	r, err := NewRedis(rdb, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rdb.Del(context.Background(), r.Keys()...) })
	return r
}

// registries are the implementations under the contract tests.
var registries = []struct {
	name string
	new  func(tb testing.TB, cfg Config) Registry
}{
	{"memory", func(tb testing.TB, cfg Config) Registry { return NewMemory(cfg) }},
	{"redis", func(tb testing.TB, cfg Config) Registry { return newRedis(tb, cfg) }},
	{"redis, held back", func(tb testing.TB, cfg Config) Registry {
		r := newRedis(tb, cfg)
		r.WriteBack(10_000)
		return r
	}},
}

// scanAll returns every entry seen at or after since, sorted.
func scanAll(tb testing.TB, reg Registry, since time.Time) []Seen {
	tb.Helper()
	var out []Seen
	if err := reg.Scan(context.Background(), since, func(s Seen) error {
		out = append(out, s)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	sortSeen(out)
	return out
}

// sortSeen orders entries by time, account, counterparty.
func sortSeen(ss []Seen) {
	sort.Slice(ss, func(i, j int) bool {
		a, b := &ss[i], &ss[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Counterparty() < b.Counterparty()
	})
}
