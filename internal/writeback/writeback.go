// Package writeback holds a store's writes back so that the writes of many
// batches go to the store together, off the path of the batches that made
// them: a batch's latency no longer waits for them, and a key written by
// several batches in a row is written once.
//
// Holding writes back moves the point at which they are durable: the caller
// must Flush before it reports the batches that made them done (a Kafka
// source commits their offsets only after a Flush returned nil; the writes
// are idempotent, so a crash before it redoes them from the redelivered
// messages). A read that must see the held writes flushes first, in the
// same round trip when it can (FlushWith).
package writeback

import (
	"context"
	"slices"
	"sync"
)

// Buffer holds items back for write. It is safe for concurrent use.
type Buffer[T any] struct {
	write func(ctx context.Context, items []T) error
	max   int

	mu      sync.Mutex
	pending []T
	spare   []T // the last written slice, reused (write does not keep it)
	// The writes under way, oldest first. A Flush waits for all that began
	// before it, so one that returns nil has written everything added
	// before it began, even items another flush had taken and was still
	// writing. A FlushWith waits only for those holding an item it writes:
	// a batch that reads a few keys does not wait behind the background
	// flush of every other key (which may take several round trips).
	flights []*flight[T]
}

// flight is a write under way.
type flight[T any] struct {
	items []T
	done  chan struct{} // closed when the write has ended, err then set
	err   error
}

// New returns a buffer that writes with write and holds at most max items
// back: an Add that takes it past max writes them all before it returns,
// so a store that stays down stops the caller instead of the buffer
// growing without bound. write must not keep the slice.
func New[T any](max int, write func(ctx context.Context, items []T) error) *Buffer[T] {
	return &Buffer[T]{write: write, max: max}
}

// Add holds items back until the next flush (or writes them now, with
// everything else held, past the bound).
func (b *Buffer[T]) Add(ctx context.Context, items []T) error {
	if len(items) == 0 {
		return nil
	}
	b.mu.Lock()
	if b.pending == nil {
		b.pending, b.spare = b.spare, nil
	}
	b.pending = append(b.pending, items...)
	n := len(b.pending)
	b.mu.Unlock()
	if n > b.max {
		return b.Flush(ctx)
	}
	return nil
}

// Len is how many items are held (0 for a nil buffer: a store that holds
// nothing back).
func (b *Buffer[T]) Len() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Flush writes every item added before it was called. On error the items
// are held again for the next flush. A nil buffer has nothing to flush.
func (b *Buffer[T]) Flush(ctx context.Context) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	items := b.pending
	b.pending = nil
	f, earlier := b.begin(items, nil)
	b.mu.Unlock()
	err := b.wait(ctx, earlier)
	if err == nil && len(items) > 0 {
		err = b.write(ctx, items)
	}
	b.end(f, err)
	if err != nil {
		return err
	}
	clear(items)
	b.mu.Lock()
	if cap(items) > cap(b.spare) {
		b.spare = items[:0]
	}
	b.mu.Unlock()
	return nil
}

// FlushWith writes with fn, in place of the buffer's write, the items held
// for which which reports true, and every such item added before it was
// called; the others stay held. fn is called even when it has nothing to
// write: it writes the items and may read, in the same round trip, what
// must see them. It waits only for the writes under way that hold such
// items, so fn may run beside a flush of other items: the store's writes
// of different items must not depend on each other's order.
func (b *Buffer[T]) FlushWith(ctx context.Context, which func(T) bool, fn func(ctx context.Context, items []T) error) error {
	b.mu.Lock()
	// The others stay in place, in their order.
	var items []T
	rest := b.pending[:0]
	for _, it := range b.pending {
		if which(it) {
			items = append(items, it)
		} else {
			rest = append(rest, it)
		}
	}
	clear(b.pending[len(rest):])
	b.pending = rest
	f, earlier := b.begin(items, which)
	b.mu.Unlock()
	err := b.wait(ctx, earlier)
	if err == nil {
		err = fn(ctx, items)
	}
	b.end(f, err)
	return err
}

// begin records a write of items under way and returns it with the writes
// before it that it must wait for: those holding an item for which which
// reports true, or all of them when which is nil. b.mu must be held.
func (b *Buffer[T]) begin(items []T, which func(T) bool) (*flight[T], []*flight[T]) {
	var earlier []*flight[T]
	for _, e := range b.flights {
		if which == nil || slices.ContainsFunc(e.items, which) {
			earlier = append(earlier, e)
		}
	}
	f := &flight[T]{items: items, done: make(chan struct{})}
	b.flights = append(b.flights, f)
	return f, earlier
}

// wait waits for the writes fs. One that failed put its items back, so
// they are not written yet: the write waiting for it fails too, and the
// next flush writes them.
func (b *Buffer[T]) wait(ctx context.Context, fs []*flight[T]) error {
	for _, e := range fs {
		select {
		case <-e.done:
			if e.err != nil {
				return e.err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// end ends the write f: with err, its items are held again (before what
// was added meanwhile) before anyone waiting for it hears of the failure.
func (b *Buffer[T]) end(f *flight[T], err error) {
	b.mu.Lock()
	if err != nil && len(f.items) > 0 {
		b.pending = append(f.items, b.pending...)
	}
	b.flights = slices.DeleteFunc(b.flights, func(e *flight[T]) bool { return e == f })
	b.mu.Unlock()
	f.err = err
	close(f.done)
}
