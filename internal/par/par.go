// Package par spreads independent work over the cores: decoding a batch,
// preparing and evaluating its events, a level of graph searches.
package par

import (
	"runtime"
	"sync"
)

// Chunks runs fn over [0, n) in contiguous chunks and waits for them: one
// chunk per core, but none smaller than minChunk (below that, goroutines
// cost more than they save). w numbers the chunks from 0, so fn can keep
// per-chunk state; chunks run at once, so fn must be safe for that.
func Chunks(n, minChunk int, fn func(w, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(1, minChunk))
	if workers <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	size := (n + workers - 1) / workers
	for w, lo := 0, 0; lo < n; w, lo = w+1, lo+size {
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			fn(w, lo, hi)
		}(w, lo, min(lo+size, n))
	}
	wg.Wait()
}
