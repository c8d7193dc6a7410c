package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/broker"
)

// recorder is a handler that remembers what it saw and checks that batches
// never run concurrently and that each partition's offsets only go up.
type recorder struct {
	t        *testing.T
	mu       sync.Mutex
	inFlight atomic.Int32
	lastOff  map[int32]int64
	seen     map[string]int // "partition/offset" -> times handled
	values   map[string]string
	total    int
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, lastOff: map[int32]int64{}, seen: map[string]int{}, values: map[string]string{}}
}

func pos(m Message) string { return fmt.Sprintf("%d/%d", m.Partition, m.Offset) }

func (r *recorder) record(batch []Message) {
	if r.inFlight.Add(1) != 1 {
		r.t.Errorf("handler called concurrently")
	}
	defer r.inFlight.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range batch {
		if last, ok := r.lastOff[m.Partition]; ok && m.Offset != last+1 {
			r.t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, last)
		}
		r.lastOff[m.Partition] = m.Offset
		r.seen[pos(m)]++
		r.values[pos(m)] = string(m.Value)
		r.total++
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

func TestSourceConsumesInPartitionOrderAndCommits(t *testing.T) {
	// One worker, and several handling partitions' batches at once: either
	// way each key's messages come in order and every offset is committed.
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) { testPartitionOrder(t, workers) })
	}
}

func testPartitionOrder(t *testing.T, workers int) {
	const n, parts = 10000, 8
	br := startBroker(t, broker.Topic{Name: "transactions", Partitions: parts})
	produce(t, br.Addr(), "transactions", numbered(n, 64))

	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "transactions", GroupID: "order", MaxBatch: 100, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if lag, err := src.MeasureLag(ctx); err != nil || lag != n {
		t.Fatalf("lag before consuming = %d, %v; want %d", lag, err, n)
	}
	if err := src.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	rec := newRecorder(t)
	keySeq := map[string]int{}
	maxBatch := 0
	var mu sync.Mutex
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		mu.Lock()
		defer mu.Unlock()
		rec.record(batch)
		maxBatch = max(maxBatch, len(batch))
		for _, m := range batch {
			// Values are "k<key>:<seq>": one key's messages must come in seq order.
			k, seq, _ := strings.Cut(string(m.Value), ":")
			var s int
			fmt.Sscan(seq, &s)
			if want := keySeq[k]; s != want {
				t.Errorf("key %s: got seq %d, want %d", k, s, want)
			}
			keySeq[k] = s + 1
			if string(m.Key) != k {
				t.Errorf("key %q carries value %q", m.Key, m.Value)
			}
		}
		if rec.count() == n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rec.count() != n || rec.total != n {
		t.Fatalf("handled %d distinct (%d total) of %d messages", rec.count(), rec.total, n)
	}
	if maxBatch > 100 {
		t.Errorf("batch of %d exceeds MaxBatch 100", maxBatch)
	}
	if len(rec.lastOff) != parts {
		t.Errorf("messages came from %d partitions, want %d", len(rec.lastOff), parts)
	}
	allCommitted(t, br.Addr(), "order", "transactions", parts)
	if lag := src.Lag(); lag != 0 {
		t.Errorf("Lag after consuming everything = %d, want 0", lag)
	}
}

func TestSourceRetriesSameBatchAndCommitsNothingPastDone(t *testing.T) {
	const n, parts, failures = 2000, 4, 5
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	produce(t, br.Addr(), "tx", numbered(n, 16))

	var waits []time.Duration
	src, err := NewSource(SourceConfig{
		Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "retry", MaxBatch: 50,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		OnRetry: func(_ error, _ int, wait time.Duration) { waits = append(waits, wait) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	rec := newRecorder(t)
	done := map[int32]int64{} // next offset after the last handled message, per partition
	calls, failed := 0, 0
	var failing []string
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		calls++
		var ps []string
		for _, m := range batch {
			ps = append(ps, pos(m))
		}
		// The third batch fails `failures` times: Redis is down.
		if calls >= 3 && failed < failures {
			if failing == nil {
				failing = ps
			} else if strings.Join(ps, ",") != strings.Join(failing, ",") {
				t.Errorf("retry %d got a different batch:\n%v\nwant\n%v", failed, ps, failing)
			}
			failed++
			// Nothing past what is done may be committed meanwhile.
			got := committed(t, br.Addr(), "retry", "tx", parts)
			for p, off := range got {
				if off > done[int32(p)] {
					t.Errorf("while failing: partition %d committed %d past done %d", p, off, done[int32(p)])
				}
			}
			return errors.New("redis: connection refused")
		}
		if failing != nil && calls == 3+failures && strings.Join(ps, ",") != strings.Join(failing, ",") {
			t.Errorf("after recovery got a different batch:\n%v\nwant\n%v", ps, failing)
		}
		rec.record(batch)
		for _, m := range batch {
			done[m.Partition] = m.Offset + 1
		}
		if rec.count() == n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if failed != failures {
		t.Fatalf("handler failed %d times, want %d", failed, failures)
	}
	if rec.count() != n || rec.total != n {
		t.Fatalf("handled %d distinct (%d total) of %d: the source did not resume", rec.count(), rec.total, n)
	}
	want := []time.Duration{10, 20, 40, 40, 40}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("backoff waits %v, want %v", waits, want)
	}
	allCommitted(t, br.Addr(), "retry", "tx", parts)
}

func TestSourceRestartResumesFromCommitted(t *testing.T) {
	const n, parts = 6000, 8
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	produce(t, br.Addr(), "tx", numbered(n, 64))
	cfg := SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "restart", MaxBatch: 200}

	// First run: handle about a third, then crash in the middle of a
	// batch (the handler fails as the process stops): that batch is
	// not committed.
	first, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	doneA := map[string]bool{}
	var lost []Message
	err = first.Run(ctx, func(_ context.Context, batch []Message) error {
		if len(doneA) >= n/3 {
			lost = append(lost, batch...)
			cancel()
			return errors.New("killed")
		}
		for _, m := range batch {
			doneA[pos(m)] = true
		}
		return nil
	})
	cancel()
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if len(lost) == 0 {
		t.Fatal("first run never reached its crash point")
	}
	after := committed(t, br.Addr(), "restart", "tx", parts)
	var sum int64
	for p := 0; p < parts; p++ {
		if after[p] > 0 {
			sum += after[p]
		}
	}
	if sum != int64(len(doneA)) {
		t.Errorf("committed %d offsets in all, handled %d", sum, len(doneA))
	}

	// Second run, same group: starts at the committed offsets, so it
	// redelivers the crashed batch but nothing that was done.
	second, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rec := newRecorder(t)
	firstOff := map[int32]int64{}
	err = second.Run(ctx, func(_ context.Context, batch []Message) error {
		for _, m := range batch {
			if _, ok := firstOff[m.Partition]; !ok {
				firstOff[m.Partition] = m.Offset
			}
			if doneA[pos(m)] {
				t.Errorf("%s handled again although committed", pos(m))
			}
		}
		rec.record(batch)
		if len(doneA)+rec.count() == n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := len(doneA) + rec.count(); got != n {
		t.Fatalf("handled %d of %d messages across the restart", got, n)
	}
	for p, off := range firstOff {
		if c := max(after[int(p)], 0); off != c {
			t.Errorf("partition %d: second run started at %d, committed was %d", p, off, c)
		}
	}
	for _, m := range lost {
		if rec.seen[pos(m)] != 1 {
			t.Errorf("uncommitted %s handled %d times after restart, want 1", pos(m), rec.seen[pos(m)])
		}
	}
}

// Two members of one group split the partitions; when one leaves, the
// other takes its partitions over from their committed offsets.
func TestSourceRebalance(t *testing.T) {
	const parts = 4
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	cfg := SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "pair", MaxBatch: 100,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 300 * time.Millisecond}
	var mu sync.Mutex
	seen := map[string]bool{}
	var byMember [2]atomic.Int64
	handler := func(member int) Handler {
		return func(_ context.Context, batch []Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range batch {
				seen[string(m.Value)] = true
			}
			byMember[member].Add(int64(len(batch)))
			return nil
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	wait := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for count() < want {
			if time.Now().After(deadline) {
				t.Fatalf("saw %d of %d messages", count(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctxA, stopA := context.WithCancel(ctx)
	errs := make(chan error, 2)
	for i, c := range []context.Context{ctxA, ctx} {
		src, err := NewSource(cfg)
		if err != nil {
			t.Fatal(err)
		}
		go func() { errs <- src.Run(c, handler(i)) }()
	}
	// Produce once both are members, so both get a share.
	deadline := time.Now().Add(20 * time.Second)
	for byMember[0].Load() == 0 || byMember[1].Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("partitions not shared: member A handled %d, B %d", byMember[0].Load(), byMember[1].Load())
		}
		produce(t, br.Addr(), "tx", numbered(8, 8))
		time.Sleep(100 * time.Millisecond)
	}
	produce(t, br.Addr(), "tx", numbered(2000, 32))
	wait(2000)
	stopA()
	if err := <-errs; err != nil {
		t.Fatalf("member A: %v", err)
	}
	more := numbered(4000, 32)[2000:] // values continue the sequences
	produce(t, br.Addr(), "tx", more)
	wait(4000)
	cancel()
	if err := <-errs; err != nil {
		t.Fatalf("member B: %v", err)
	}
}

func TestSourceConfigValidate(t *testing.T) {
	ok := SourceConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "t", GroupID: "g"}
	tests := []struct {
		name string
		edit func(*SourceConfig)
		want string // substring of the error; "" for valid
	}{
		{"valid", func(*SourceConfig) {}, ""},
		{"no brokers", func(c *SourceConfig) { c.Brokers = nil }, "brokers are required"},
		{"broker without port", func(c *SourceConfig) { c.Brokers = []string{"kafka"} }, "must be host:port"},
		{"no topic", func(c *SourceConfig) { c.Topic = "" }, "topic is required"},
		{"no group", func(c *SourceConfig) { c.GroupID = "" }, "group id is required"},
		{"negative batch", func(c *SourceConfig) { c.MaxBatch = -1 }, "max batch"},
		{"backoff inverted", func(c *SourceConfig) { c.MinBackoff, c.MaxBackoff = time.Second, time.Millisecond }, "below min backoff"},
		{"bad start", func(c *SourceConfig) { c.StartOffset = "middle" }, "start offset"},
		{"negative wait", func(c *SourceConfig) { c.MaxWait = -time.Second }, "max wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if _, err := NewSource(c); err == nil {
				t.Fatal("NewSource accepted an invalid config")
			}
		})
	}
}

// With MaxWait set, a batch lingers for more messages instead of leaving
// as soon as the fetch queue runs dry.
func TestSourceMaxWaitFillsBatch(t *testing.T) {
	const n = 500
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: 4})
	produce(t, br.Addr(), "tx", numbered(n, 16))
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "linger", MaxBatch: n, MaxWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sizes []int
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		sizes = append(sizes, len(batch))
		cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] != n {
		t.Fatalf("batch sizes %v, want one batch of %d", sizes, n)
	}
}

// A handler that holds its writes back (windows' evidence, say) has them
// made durable by Flush before the offsets are committed: no offset is
// committed past what a Flush wrote, a failed Flush holds commits back, and
// everything is committed in the end.
func TestSourceCommitsOnlyAfterFlush(t *testing.T) {
	const n, parts = 3000, 4
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	produce(t, br.Addr(), "tx", numbered(n, 16))

	var mu sync.Mutex
	held := map[int32]int64{}    // next offset after the last handled message, per partition
	durable := map[int32]int64{} // the same, as of the last successful Flush
	flushes, failures := 0, 0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src, err := NewSource(SourceConfig{
		Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "flush", MaxBatch: 50,
		Flush: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			flushes++
			for p, off := range committed(t, br.Addr(), "flush", "tx", parts) {
				if off > durable[int32(p)] {
					t.Errorf("partition %d committed %d past %d, what the flushes wrote", p, off, durable[int32(p)])
				}
			}
			if flushes%4 == 2 { // the store is down now and then
				failures++
				return errors.New("redis: connection refused")
			}
			for p, off := range held {
				durable[p] = off
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		mu.Lock()
		for _, m := range batch {
			held[m.Partition] = m.Offset + 1
		}
		mu.Unlock()
		rec.record(batch)
		if rec.count() == n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if failures == 0 {
		t.Fatalf("%d flushes, none failed: the test did not exercise a failed flush", flushes)
	}
	ends := endOffsets(t, br.Addr(), "tx", parts)
	got := committed(t, br.Addr(), "flush", "tx", parts)
	for p := 0; p < parts; p++ {
		if got[p] != ends[p] || durable[int32(p)] != ends[p] {
			t.Errorf("partition %d: committed %d, flushed up to %d, end %d", p, got[p], durable[int32(p)], ends[p])
		}
	}
}

// Batches handled within CommitEvery of a commit are committed together,
// with one Flush.
func TestSourceCommitEvery(t *testing.T) {
	const n, every = 2000, 100 * time.Millisecond
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: 2})
	produce(t, br.Addr(), "tx", numbered(n, 8))
	var flushes, batches atomic.Int64
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "every", MaxBatch: 20, Workers: 1,
		CommitEvery: every, Flush: func(context.Context) error { flushes.Add(1); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rec := newRecorder(t)
	start := time.Now()
	var elapsed time.Duration
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		time.Sleep(2 * time.Millisecond) // a handler's round trips
		batches.Add(1)
		rec.record(batch)
		if rec.count() == n {
			elapsed = time.Since(start)
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// One commit at the start of each interval, and the last on the way out.
	if most := int64(elapsed/every) + 2; flushes.Load() > most {
		t.Errorf("%d flushes for %d batches in %v; want at most %d (one per %v)", flushes.Load(), batches.Load(), elapsed, most, every)
	}
	allCommitted(t, br.Addr(), "every", "tx", 2)
}

// A commit that failed (its Flush could not write) is tried again by
// itself, after a backoff, even when no batch comes after it.
func TestSourceRetriesAFailedCommitByItself(t *testing.T) {
	const n, parts = 500, 2
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	produce(t, br.Addr(), "tx", numbered(n, 8))
	var flushes atomic.Int64
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "quiet", MaxBatch: n,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Flush: func(context.Context) error {
			if flushes.Add(1) <= 3 {
				return errors.New("redis: connection refused")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rec := newRecorder(t)
	ends := endOffsets(t, br.Addr(), "tx", parts)
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(_ context.Context, batch []Message) error {
			rec.record(batch)
			return nil
		})
	}()
	// Everything is handled at once; the commits must then get through
	// with the stream quiet, before Run ends.
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := committed(t, br.Addr(), "quiet", "tx", parts)
		if got[0] == ends[0] && got[1] == ends[1] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed %v of %v after %d flushes: a failed commit was not tried again", got, ends, flushes.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if flushes.Load() < 4 {
		t.Fatalf("%d flushes; want the three failures and a success", flushes.Load())
	}
}

// A batch that takes long holds back only its own partitions: the other
// worker handles every other partition meanwhile, including those the
// held worker handled before (a worker owned the partitions p mod Workers
// before, and its other partitions waited for it).
func TestSourceFreeWorkerTakesOtherPartitions(t *testing.T) {
	const parts = 4
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	// Room for what waits behind the held batch (Workers x MaxBatch
	// messages): past it fetching pauses, every partition with it.
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "free", MaxBatch: 200, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		held    = int32(-1) // the partition of the held batch
		handled = map[int32]int{}
		release = make(chan struct{})
		holding = make(chan struct{})
	)
	errc := make(chan error, 1)
	go func() {
		errc <- src.Run(ctx, func(ctx context.Context, batch []Message) error {
			for _, m := range batch {
				if string(m.Value) == "hold" {
					mu.Lock()
					held = m.Partition
					mu.Unlock()
					close(holding)
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range batch {
				handled[m.Partition]++
			}
			return nil
		})
	}()
	produce(t, br.Addr(), "tx", []Message{{Key: []byte("h"), Value: []byte("hold")}})
	select {
	case <-holding:
	case <-ctx.Done():
		t.Fatal("the first message never reached the handler")
	}
	produce(t, br.Addr(), "tx", numbered(400, 40))
	ends := endOffsets(t, br.Addr(), "tx", parts)
	mu.Lock()
	p := held
	mu.Unlock()
	want := map[int32]int{}
	for q := range parts {
		if int32(q) != p {
			want[int32(q)] = int(ends[q])
		}
	}
	if len(want) != parts-1 || want[(p+2)%parts] == 0 {
		t.Fatalf("messages per partition %v, held %d: want some on every partition", ends, p)
	}
	// Every other partition is handled while the batch is held.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		all := true
		for q, n := range want {
			all = all && handled[q] == n
		}
		got := fmt.Sprint(handled)
		mu.Unlock()
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("while partition %d's batch was held, handled %s of %v", p, got, want)
		}
	}
	close(release)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := handled[p]
		mu.Unlock()
		if n == int(ends[int(p)]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition %d: %d of %d handled after the release", p, n, ends[int(p)])
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestSourceStartOffsetLatest: a new group set to "latest" skips what the
// topic held before it joined and takes what comes after.
func TestSourceStartOffsetLatest(t *testing.T) {
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: 2})
	produce(t, br.Addr(), "tx", numbered(50, 5))
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "latest", StartOffset: "latest", LagInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var seen atomic.Int32
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The group's start is not observable from here: keep producing
		// until one of these arrives.
		for i := 0; ctx.Err() == nil && seen.Load() == 0; i++ {
			Produce(ctx, []string{br.Addr()}, "tx", []Message{{Key: []byte("late"), Value: fmt.Appendf(nil, "late:%d", i)}})
			time.Sleep(100 * time.Millisecond)
		}
	}()
	rctx, rcancel := context.WithCancel(ctx)
	err = src.Run(rctx, func(_ context.Context, batch []Message) error {
		for _, m := range batch {
			if !strings.HasPrefix(string(m.Value), "late:") {
				t.Errorf("a group starting at latest got %q, produced before it joined", m.Value)
			}
			seen.Add(1)
		}
		rcancel()
		return nil
	})
	if err != nil || seen.Load() == 0 {
		t.Fatalf("nothing consumed (%v)", err)
	}
}

// Stopping while a commit is in flight is not a failed commit: the commit
// cut short by the stop is neither logged as a failure nor counted, and
// the way out commits its offsets.
func TestSourceStopMidCommitIsNoFailure(t *testing.T) {
	const n, parts = 400, 2
	br := startBroker(t, broker.Topic{Name: "tx", Partitions: parts})
	produce(t, br.Addr(), "tx", numbered(n, 8))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var handled atomic.Int64
	var failures atomic.Int64
	var stopping atomic.Bool
	var log syncBuffer
	src, err := NewSource(SourceConfig{
		Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "stop", MaxBatch: 50,
		Logger:        slog.New(slog.NewTextHandler(&log, nil)),
		OnCommitError: func(error) { failures.Add(1) },
		Flush: func(fctx context.Context) error {
			if handled.Load() < n || !stopping.CompareAndSwap(false, true) {
				return nil
			}
			// The store is slow at the moment the service is stopped.
			cancel()
			<-fctx.Done()
			return fctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = src.Run(ctx, func(_ context.Context, batch []Message) error {
		handled.Add(int64(len(batch)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if handled.Load() != n {
		t.Fatalf("handled %d of %d", handled.Load(), n)
	}
	if failures.Load() != 0 || strings.Contains(log.String(), "commit failed") {
		t.Errorf("a commit cut short by the stop was reported as failed (%d counted):\n%s", failures.Load(), log.String())
	}
	allCommitted(t, br.Addr(), "stop", "tx", parts)
}

// syncBuffer is a bytes.Buffer a logger may write from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
