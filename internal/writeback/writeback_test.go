package writeback

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// store records what was written, failing while down is set.
type store struct {
	mu      sync.Mutex
	written []int
	calls   int
	down    bool
}

func (s *store) write(_ context.Context, items []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down {
		return errors.New("store down")
	}
	s.written = append(s.written, items...)
	return nil
}

func TestHoldsBackUntilFlush(t *testing.T) {
	ctx := context.Background()
	s := &store{}
	b := New(100, s.write)
	for i := range 10 {
		if err := b.Add(ctx, []int{2 * i, 2*i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if s.calls != 0 || b.Len() != 20 {
		t.Fatalf("before the flush: %d writes, %d held; want 0, 20", s.calls, b.Len())
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s.calls != 1 || len(s.written) != 20 || !slices.IsSorted(s.written) || b.Len() != 0 {
		t.Fatalf("after the flush: %d writes of %v, %d held; want one write of 0..19 in order", s.calls, s.written, b.Len())
	}
	if err := b.Flush(ctx); err != nil || s.calls != 1 {
		t.Fatalf("an empty flush wrote (%d writes, err %v)", s.calls, err)
	}
}

func TestFailedWriteIsKept(t *testing.T) {
	ctx := context.Background()
	s := &store{down: true}
	b := New(100, s.write)
	b.Add(ctx, []int{1, 2})
	if err := b.Flush(ctx); err == nil {
		t.Fatal("flush to a store that is down returned nil")
	}
	b.Add(ctx, []int{3})
	s.down = false
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.written, []int{1, 2, 3}) {
		t.Fatalf("written %v; want [1 2 3] (the failed items first, in order)", s.written)
	}
}

func TestBoundWritesNow(t *testing.T) {
	ctx := context.Background()
	s := &store{}
	b := New(5, s.write)
	b.Add(ctx, []int{1, 2, 3})
	if s.calls != 0 {
		t.Fatal("wrote under the bound")
	}
	if err := b.Add(ctx, []int{4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	if len(s.written) != 6 || b.Len() != 0 {
		t.Fatalf("past the bound: written %v, %d held; want all six written", s.written, b.Len())
	}
	// Past the bound with the store down, Add fails: the caller is held up.
	s.down = true
	if err := b.Add(ctx, []int{7, 8, 9, 10, 11, 12}); err == nil {
		t.Fatal("Add past the bound with the store down returned nil")
	}
	if b.Len() != 6 {
		t.Fatalf("%d held after the failed write; want 6", b.Len())
	}
}

func TestFlushWith(t *testing.T) {
	ctx := context.Background()
	s := &store{}
	b := New(10, s.write)
	b.Add(ctx, []int{1, 2, 3, 4, 5})
	var got []int
	even := func(x int) bool { return x%2 == 0 }
	for range 2 {
		called := false
		err := b.FlushWith(ctx, even, func(_ context.Context, items []int) error {
			called = true
			got = append(got, items...)
			return nil
		})
		if err != nil || !called {
			t.Fatalf("FlushWith: called %v, err %v (it must be called even with nothing to write)", called, err)
		}
	}
	if !slices.Equal(got, []int{2, 4}) || b.Len() != 3 {
		t.Fatalf("FlushWith(even) gave %v once and holds %d; want [2 4] and 3 held", got, b.Len())
	}
	if err := b.FlushWith(ctx, even, func(context.Context, []int) error { return errors.New("down") }); err == nil {
		t.Fatal("a failed FlushWith returned nil")
	}
	b.Add(ctx, []int{6})
	if err := b.FlushWith(ctx, func(int) bool { return true }, s.write); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.written, []int{1, 3, 5, 6}) || b.Len() != 0 {
		t.Fatalf("FlushWith(all) wrote %v, holds %d; want [1 3 5 6], none", s.written, b.Len())
	}
}

// A flush returning nil has written everything added before it began,
// even what a concurrent flush had taken and was still writing.
func TestConcurrentFlushesSeeEarlierAdds(t *testing.T) {
	ctx := context.Background()
	s := &store{}
	b := New(1<<20, s.write)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				v := w*1000 + i
				if err := b.Add(ctx, []int{v}); err != nil {
					t.Error(err)
					return
				}
				if i%7 == 0 {
					if err := b.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
					s.mu.Lock()
					ok := slices.Contains(s.written, v)
					s.mu.Unlock()
					if !ok {
						t.Errorf("%d added before a flush that returned nil is not written", v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	b.Flush(ctx)
	if len(s.written) != 2000 {
		t.Fatalf("%d written; want 2000", len(s.written))
	}
}

// A nil buffer is a store that holds nothing back.
func TestNilBuffer(t *testing.T) {
	var b *Buffer[int]
	if err := b.Flush(context.Background()); err != nil || b.Len() != 0 {
		t.Fatalf("nil buffer: Flush %v, Len %d", err, b.Len())
	}
}

// A FlushWith waits for a flush under way only when that flush holds an
// item it writes: a batch reading a few keys does not wait behind the
// background flush of the others.
func TestFlushWithWaitsOnlyForItsItems(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	slow := func(_ context.Context, items []int) error {
		close(started)
		<-release
		if items[0] == 1 {
			return errors.New("down")
		}
		return nil
	}
	for _, tc := range []struct {
		name     string
		inFlight []int // what the stuck flush is writing
		wait     bool
		fails    bool // the stuck flush then fails
	}{
		{"other items", []int{3, 5}, false, false},
		{"one of its items", []int{2, 3}, true, false},
		{"one of its items, failing", []int{1, 2}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release, started = make(chan struct{}), make(chan struct{})
			b := New(100, slow)
			b.Add(ctx, tc.inFlight)
			flushed := make(chan error, 1)
			go func() { flushed <- b.Flush(ctx) }()
			<-started
			b.Add(ctx, []int{4})
			even := func(x int) bool { return x%2 == 0 }
			var got []int
			done := make(chan error, 1)
			go func() {
				done <- b.FlushWith(ctx, even, func(_ context.Context, items []int) error {
					got = items
					return nil
				})
			}()
			var err error
			if tc.wait {
				select {
				case err = <-done:
					t.Fatalf("FlushWith returned (%v) while a flush of %v was under way", err, tc.inFlight)
				case <-time.After(100 * time.Millisecond):
				}
				close(release)
				err = <-done
			} else {
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("FlushWith waited for a flush of %v, none of them even", tc.inFlight)
				}
				close(release)
			}
			if ferr := <-flushed; (ferr != nil) != tc.fails {
				t.Fatalf("the stuck flush returned %v", ferr)
			}
			if tc.fails {
				if err == nil {
					t.Fatal("FlushWith returned nil though an item it must see was not written")
				}
				if b.Len() != 3 {
					t.Fatalf("%d held after the failures; want all 3 held again", b.Len())
				}
				return
			}
			if err != nil || !slices.Equal(got, []int{4}) || b.Len() != 0 {
				t.Fatalf("FlushWith wrote %v (err %v), %d held; want [4], none held", got, err, b.Len())
			}
		})
	}
}

// A Flush waits for every write under way that began before it, so when
// one of them fails, it does not report its items written.
func TestFlushWaitsForEarlierWrites(t *testing.T) {
	ctx := context.Background()
	release, started := make(chan struct{}), make(chan struct{})
	b := New(100, func(context.Context, []int) error { return nil })
	b.Add(ctx, []int{1, 2})
	with := make(chan error, 1)
	go func() {
		with <- b.FlushWith(ctx, func(int) bool { return true }, func(context.Context, []int) error {
			close(started)
			<-release
			return errors.New("down")
		})
	}()
	<-started
	flushed := make(chan error, 1)
	go func() { flushed <- b.Flush(ctx) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while an earlier write was under way", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-with; err == nil {
		t.Fatal("the failed FlushWith returned nil")
	}
	if err := <-flushed; err == nil {
		t.Fatal("Flush returned nil though an earlier write of items added before it failed")
	}
	if err := b.Flush(ctx); err != nil || b.Len() != 0 {
		t.Fatalf("the next flush: %v, %d held; want the items written", err, b.Len())
	}
}
