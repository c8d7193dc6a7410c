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
	"sync"
)

// Buffer holds items back for write. It is safe for concurrent use.
type Buffer[T any] struct {
	write func(ctx context.Context, items []T) error
	max   int

	mu      sync.Mutex
	pending []T
	spare   []T // the last written slice, reused (write does not keep it)

	// One write at a time: a Flush that returns nil has then written
	// everything added before it began, even items another flush had
	// taken and was still writing.
	writing sync.Mutex
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
	b.writing.Lock()
	defer b.writing.Unlock()
	b.mu.Lock()
	items := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	if err := b.write(ctx, items); err != nil {
		b.putBack(items)
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
// must see them.
func (b *Buffer[T]) FlushWith(ctx context.Context, which func(T) bool, fn func(ctx context.Context, items []T) error) error {
	b.writing.Lock()
	defer b.writing.Unlock()
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
	b.mu.Unlock()
	if err := fn(ctx, items); err != nil {
		b.putBack(items)
		return err
	}
	return nil
}

// putBack holds items that could not be written again, before what was
// added meanwhile.
func (b *Buffer[T]) putBack(items []T) {
	b.mu.Lock()
	b.pending = append(items, b.pending...)
	b.mu.Unlock()
}
