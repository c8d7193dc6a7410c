package rules

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeBase copies testdata/base into a temporary directory the test may edit.
func writeBase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range readBase(t) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHolderReload(t *testing.T) {
	dir := writeBase(t)
	h, err := NewHolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := h.Current()
	var swaps []string
	h.OnSwap = func(old, new *Set) { swaps = append(swaps, old.Hash+">"+new.Hash) }

	editFile(t, filepath.Join(dir, "rules.yaml"), "score: 40", "score: 45")
	second, err := h.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if h.Current() != second || second.Hash == first.Hash || second.Rules[0].Score != 45 {
		t.Fatalf("reload did not swap in the new set: %s → %s", first.Hash, h.Current().Hash)
	}
	if len(swaps) != 1 || swaps[0] != first.Hash+">"+second.Hash {
		t.Errorf("OnSwap calls %v", swaps)
	}
	if first.Rules[0].Score != 40 {
		t.Error("the old set changed under its users")
	}

	// An invalid set is refused and the old one keeps running.
	editFile(t, filepath.Join(dir, "rules.yaml"), "cash_in_24h_sum >= cash_threshold", "cash_in_24h_smu >= cash_threshold")
	s, err := h.Reload()
	if err == nil || s != nil {
		t.Fatal("an invalid set was accepted")
	}
	if !strings.Contains(err.Error(), "rules.yaml:2: rule big-cash: when: unknown name cash_in_24h_smu") {
		t.Errorf("error %q should name file, line, rule and the typo", err)
	}
	if h.Current() != second || len(swaps) != 1 {
		t.Error("the set in force changed after a refused reload")
	}
	// A deleted directory is refused too.
	os.RemoveAll(dir)
	if _, err := h.Reload(); err == nil || h.Current() != second {
		t.Error("a vanished rule directory was accepted")
	}

	if _, err := NewHolder(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("NewHolder accepted a missing directory")
	}
	fixed := HolderOf(first)
	if s, err := fixed.Reload(); err != nil || s != first {
		t.Error("a HolderOf set has no files and reloads to itself")
	}
}

// Readers never see a torn or nil set while another goroutine reloads, valid
// and invalid sets alternating. Run with -race.
func TestHolderConcurrent(t *testing.T) {
	dir := writeBase(t)
	h, err := NewHolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{h.Current().Hash: true}
	var mu sync.Mutex
	h.OnSwap = func(_, s *Set) { mu.Lock(); valid[s.Hash] = true; mu.Unlock() }
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := &Env{Kind: "cash_deposit", Subject: "to", F: make([]float64, 2)}
			env.F[0], env.F[1] = 20000, 3
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Current()
				if s == nil || len(s.Rules) != 3 || len(s.Typologies) != 3 {
					t.Error("torn set")
					return
				}
				// One batch keeps its set: evaluate with it.
				hits, errs := NewEvaluator(s).Eval(env, nil)
				if len(errs) > 0 || len(hits) != 2 {
					t.Errorf("hits %d errs %v", len(hits), errs)
					return
				}
				reads.Add(1)
			}
		}()
	}
	path := filepath.Join(dir, "rules.yaml")
	orig, _ := os.ReadFile(path)
	refused := 0
	for i := 0; i < 40; i++ {
		var b string
		if i%3 == 2 {
			b = strings.Replace(string(orig), "score: 40", "score: 0", 1) // invalid
		} else {
			b = strings.Replace(string(orig), "score: 40", "score: "+strings.Repeat("1", 1+i%2), 1)
		}
		if err := os.WriteFile(path, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Reload(); err != nil {
			refused++
		}
	}
	close(stop)
	wg.Wait()
	if refused != 13 {
		t.Errorf("%d reloads refused, want 13", refused)
	}
	if reads.Load() == 0 {
		t.Error("no reads happened")
	}
	mu.Lock()
	defer mu.Unlock()
	if !valid[h.Current().Hash] {
		t.Error("the set in force was never swapped in")
	}
}

// Watch reloads when a file changes, and keeps the old set on a bad change.
func TestHolderWatch(t *testing.T) {
	dir := writeBase(t)
	h, err := NewHolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := h.Current().Hash
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.Watch(ctx, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	defer func() { cancel(); <-done }()
	// Watch takes its first stamp when it starts, so a change made before
	// that is not seen (see the report): edit until a reload happens.
	deadline := time.Now().Add(5 * time.Second)
	for th := 51; h.Current().Hash == first; th++ {
		if time.Now().After(deadline) {
			t.Fatal("Watch did not pick up a changed file within 5s")
		}
		editFile(t, filepath.Join(dir, "typologies.yaml"), "threshold: "+strconv.Itoa(th-1), "threshold: "+strconv.Itoa(th))
		time.Sleep(50 * time.Millisecond)
	}
	second := h.Current().Hash
	editFile(t, filepath.Join(dir, "typologies.yaml"), "big-cash, weight: 2", "big-cahs, weight: 2")
	time.Sleep(200 * time.Millisecond)
	if h.Current().Hash != second {
		t.Error("Watch swapped in an invalid set")
	}
}
