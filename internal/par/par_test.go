package par

import (
	"runtime"
	"sync"
	"testing"
)

func TestChunksCoverEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, min int }{{0, 64}, {1, 64}, {63, 64}, {128, 64}, {1000, 64}, {1000, 1}, {7, 0}} {
		seen := make([]int, tc.n)
		var mu sync.Mutex
		chunks := map[int][2]int{}
		Chunks(tc.n, tc.min, func(w, lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := chunks[w]; dup {
				t.Errorf("n=%d: chunk %d run twice", tc.n, w)
			}
			chunks[w] = [2]int{lo, hi}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d min=%d: index %d run %d times", tc.n, tc.min, i, c)
			}
		}
		if max := runtime.GOMAXPROCS(0); len(chunks) > max {
			t.Errorf("n=%d: %d chunks on %d cores", tc.n, len(chunks), max)
		}
		for w := range chunks {
			if w < 0 || w >= len(chunks) {
				t.Errorf("n=%d: chunk index %d out of [0, %d)", tc.n, w, len(chunks))
			}
		}
		if tc.n > 0 && tc.n < 2*max(1, tc.min) && len(chunks) != 1 {
			t.Errorf("n=%d min=%d: %d chunks, want 1 (too small to split)", tc.n, tc.min, len(chunks))
		}
	}
}
