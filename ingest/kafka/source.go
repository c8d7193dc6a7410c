package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Handler processes one batch. Messages of one partition are in offset
// order. Returning nil makes the batch's offsets eligible for commit;
// returning an error makes the Source retry the same batch after a backoff.
// The handler must be idempotent: after a crash or rebalance, messages
// whose offsets were not yet committed are delivered again. It must not
// keep the batch slice after returning (the messages' bytes it may keep).
type Handler func(ctx context.Context, batch []Message) error

// Source consumes a topic as a member of a consumer group.
type Source struct {
	cfg     SourceConfig
	client  *kafkago.Client
	lag     atomic.Int64
	running atomic.Bool
}

// NewSource checks cfg and returns a Source; nothing connects until Run or
// Ping.
func NewSource(cfg SourceConfig) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Source{
		cfg:    cfg,
		client: &kafkago.Client{Addr: kafkago.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: cfg.Security.Transport()},
	}
	s.lag.Store(-1)
	return s, nil
}

// Lag is the consumer group's lag on the topic (end offsets minus committed
// offsets, summed over partitions) as last measured, or -1 before the first
// measurement.
func (s *Source) Lag() int64 { return s.lag.Load() }

// Ping checks that a broker answers and the topic exists, for readiness.
func (s *Source) Ping(ctx context.Context) error {
	_, err := partitions(ctx, s.client, s.cfg.Topic)
	return err
}

// Run consumes until ctx is done and returns nil then. It keeps going
// through broker outages and handler failures; it returns an error only
// when it cannot go on (Run called twice at once, the reader closed under
// it). A Source may be Run again after Run returned.
func (s *Source) Run(ctx context.Context, h Handler) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("kafka source: Run is already running")
	}
	defer s.running.Store(false)

	r := kafkago.NewReader(s.readerConfig())
	defer r.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The pump decouples fetching from handling: while the workers handle
	// batches the next ones pile up, so batches grow with load by
	// themselves. A partition's batches are handled one after the other,
	// in order, by whichever worker is free (sched); other partitions'
	// batches are handled beside them (one waits on the stores while
	// another computes).
	sc := newSched(s.cfg.Workers*s.cfg.MaxBatch, s.cfg.Workers)
	fatal := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.pump(ctx, r, sc, fatal)
	}()

	c := newCommitter(r, s.cfg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.run(ctx)
	}()

	if s.cfg.LagInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.lagLoop(ctx)
		}()
	}

	err := s.loop(ctx, h, sc, fatal, c)
	cancel()
	wg.Wait()
	// Whatever the handler finished is committed before we leave the
	// group, so a successor does not redo it.
	c.flush()
	if err == nil && s.cfg.LagInterval > 0 {
		mctx, mcancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
		if lag, lerr := s.MeasureLag(mctx); lerr == nil {
			s.lag.Store(lag)
		}
		mcancel()
	}
	return err
}

func (s *Source) readerConfig() kafkago.ReaderConfig {
	start := kafkago.FirstOffset
	if s.cfg.StartOffset == "latest" {
		start = kafkago.LastOffset
	}
	rc := kafkago.ReaderConfig{
		Brokers:           s.cfg.Brokers,
		Dialer:            s.cfg.Security.dialer(),
		GroupID:           s.cfg.GroupID,
		Topic:             s.cfg.Topic,
		QueueCapacity:     max(s.cfg.MaxBatch, 1024),
		MinBytes:          1,
		MaxBytes:          s.cfg.FetchMaxBytes,
		MaxWait:           s.cfg.FetchMaxWait,
		ReadBatchTimeout:  s.cfg.FetchMaxWait + 10*time.Second,
		ReadLagInterval:   -1, // we measure lag for the whole group ourselves
		HeartbeatInterval: s.cfg.HeartbeatInterval,
		SessionTimeout:    s.cfg.SessionTimeout,
		StartOffset:       start,
		// CommitInterval 0: CommitMessages is synchronous, so we know
		// when an offset is durable.
		WatchPartitionChanges: true,
	}
	if l := s.cfg.Logger; l != nil {
		rc.ErrorLogger = kafkago.LoggerFunc(func(msg string, args ...any) {
			l.Warn("kafka consumer", "group", s.cfg.GroupID, "topic", s.cfg.Topic, "error", fmt.Sprintf(msg, args...))
		})
	}
	return rc
}

// pump moves fetched messages to sc until ctx is done. Fetch errors other
// than the reader closing are waited out: kafka-go reconnects and rejoins
// the group by itself.
func (s *Source) pump(ctx context.Context, r *kafkago.Reader, sc *sched, fatal chan<- error) {
	backoff := s.cfg.MinBackoff
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				fatal <- fmt.Errorf("kafka source: reader closed: %w", err)
				return
			}
			s.logWarn("fetch failed, retrying", err, backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, s.cfg.MaxBackoff)
			continue
		}
		backoff = s.cfg.MinBackoff
		if !sc.put(m) {
			return
		}
	}
}

// loop runs the workers until ctx is done or the pump cannot go on.
func (s *Source) loop(ctx context.Context, h Handler, sc *sched, fatal <-chan error, c *committer) error {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.batches(wctx, h, sc, c)
		}()
	}
	// A batch being handled is finished (or abandoned, uncommitted, if its
	// handler gives up on the cancelled context) before Run goes on.
	defer func() {
		cancel()
		sc.close()
		wg.Wait()
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-fatal:
		return err
	}
}

// batches takes batches from sc and hands them to h until sc is closed.
func (s *Source) batches(ctx context.Context, h Handler, sc *sched, c *committer) {
	last := make(map[int]kafkago.Message)
	var buf []Message // batches reuse it: handlers do not keep the slice
	for {
		clear(last)
		batch, ok := sc.take(buf[:0], s.cfg.MaxBatch, s.cfg.MaxWait, last)
		if !ok {
			return
		}
		ok = s.handle(ctx, h, batch)
		clear(batch) // the messages' bytes go with their batch
		buf = batch[:0]
		if !ok {
			return // ctx done while the batch kept failing: nothing committed
		}
		done := make([]kafkago.Message, 0, len(last))
		for _, m := range last {
			done = append(done, m)
		}
		// Committed before the partitions are freed, so a later batch of
		// theirs cannot be added first.
		c.add(done)
		sc.done(last)
	}
}

// handle runs h on batch until it succeeds, backing off between attempts.
// It reports false when ctx ended first.
func (s *Source) handle(ctx context.Context, h Handler, batch []Message) bool {
	backoff := s.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		err := h(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if s.cfg.OnRetry != nil {
			s.cfg.OnRetry(err, attempt, backoff)
		}
		s.logWarn("handler failed, retrying the same batch", err, backoff)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

func (s *Source) logWarn(msg string, err error, wait time.Duration) {
	if s.cfg.Logger != nil {
		s.cfg.Logger.Warn("kafka source: "+msg, "group", s.cfg.GroupID, "topic", s.cfg.Topic, "error", err, "wait", wait)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// committer commits the offsets of handled batches in the background, so
// the next batch is handled during the commit round trip. Commits of
// several batches coalesce into one request; it never commits an offset
// the handler has not finished.
type committer struct {
	r       *kafkago.Reader
	cfg     SourceConfig
	mu      sync.Mutex
	pending map[int]kafkago.Message // last handled message per partition
	wake    chan struct{}
}

func newCommitter(r *kafkago.Reader, cfg SourceConfig) *committer {
	return &committer{r: r, cfg: cfg, pending: make(map[int]kafkago.Message), wake: make(chan struct{}, 1)}
}

func (c *committer) add(done []kafkago.Message) {
	c.mu.Lock()
	for _, m := range done {
		if p, ok := c.pending[m.Partition]; !ok || m.Offset > p.Offset {
			c.pending[m.Partition] = m
		}
	}
	c.mu.Unlock()
	c.poke()
}

func (c *committer) run(ctx context.Context) {
	backoff := c.cfg.MinBackoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		t0 := time.Now()
		wait := c.cfg.CommitEvery
		if c.commit(ctx) {
			backoff = c.cfg.MinBackoff
		} else {
			// Try again by itself, after a backoff: the stream may have
			// gone quiet, and what is pending must not wait for the next
			// batch to be committed (nor its held writes to be written).
			wait = max(wait, backoff)
			backoff = min(2*backoff, c.cfg.MaxBackoff)
			c.poke()
		}
		if !sleep(ctx, wait-time.Since(t0)) {
			return
		}
	}
}

func (c *committer) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *committer) take() []kafkago.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	out := make([]kafkago.Message, 0, len(c.pending))
	for _, m := range c.pending {
		out = append(out, m)
	}
	clear(c.pending)
	return out
}

// commit sends what is pending. On failure the offsets go back to pending
// (unless newer ones arrived) for the next attempt.
func (c *committer) commit(ctx context.Context) bool {
	ms := c.take()
	if len(ms) == 0 {
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CommitTimeout)
	// Every batch of ms was handled before take: what its handler held
	// back was given before this flush began.
	err := c.flushHeld(cctx)
	if err == nil {
		err = c.r.CommitMessages(cctx, ms...)
	}
	cancel()
	if err == nil {
		return true
	}
	// Stopping, not failing: the way out commits again (flush) with a
	// context of its own, so neither a warning nor a failure to count.
	if ctx.Err() == nil {
		c.failed(err)
	}
	c.mu.Lock()
	for _, m := range ms {
		if p, ok := c.pending[m.Partition]; !ok || m.Offset > p.Offset {
			c.pending[m.Partition] = m
		}
	}
	c.mu.Unlock()
	return false
}

func (c *committer) failed(err error) {
	if c.cfg.Logger != nil {
		c.cfg.Logger.Warn("kafka source: commit failed; offsets will be retried", "group", c.cfg.GroupID, "error", err)
	}
	if c.cfg.OnCommitError != nil {
		c.cfg.OnCommitError(err)
	}
}

func (c *committer) flushHeld(ctx context.Context) error {
	if c.cfg.Flush == nil {
		return nil
	}
	if err := c.cfg.Flush(ctx); err != nil {
		return fmt.Errorf("writing what the handler held back: %w", err)
	}
	return nil
}

// flush commits what is left, on the way out, with a context of its own
// since the Run context is already done.
func (c *committer) flush() {
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if c.commit(ctx) {
			return
		}
	}
}
