package rules

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Holder holds the rule set in force and swaps in a new one atomically.
type Holder struct {
	paths  []string
	opts   Options
	loaded atomic.Pointer[string] // stamp of the files the set in force was read from
	cur    atomic.Pointer[Set]
	// OnSwap, when set, is called after each successful reload.
	OnSwap func(old, new *Set)
}

// NewHolder loads the rule set at paths; it fails when that set is invalid.
func NewHolder(paths ...string) (*Holder, error) { return NewHolderWith(Options{}, paths...) }

// NewHolderWith is NewHolder with options, kept across reloads.
func NewHolderWith(o Options, paths ...string) (*Holder, error) {
	s, err := LoadWith(o, paths...)
	if err != nil {
		return nil, err
	}
	h := &Holder{paths: paths, opts: o}
	st := h.stamp()
	h.loaded.Store(&st)
	h.cur.Store(s)
	return h, nil
}

// HolderOf wraps a set that is already compiled (tests, embedded defaults).
func HolderOf(s *Set) *Holder {
	h := &Holder{}
	h.cur.Store(s)
	return h
}

// Current returns the set in force. Callers keep the pointer for the whole
// batch, so one batch never mixes two rule sets.
func (h *Holder) Current() *Set { return h.cur.Load() }

// Reload compiles the files again. An invalid set is refused: the error is
// returned and the set in force keeps running.
func (h *Holder) Reload() (*Set, error) {
	if len(h.paths) == 0 {
		return h.Current(), nil
	}
	st := h.stamp()
	s, err := LoadWith(h.opts, h.paths...)
	if err != nil {
		return nil, err
	}
	h.loaded.Store(&st)
	old := h.cur.Swap(s)
	if h.OnSwap != nil {
		h.OnSwap(old, s)
	}
	return s, nil
}

// Watch reloads on SIGHUP and when a rule file changes (polled every
// interval, by modification time and size), until ctx is done.
func (h *Holder) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if interval <= 0 {
		interval = 2 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// Start from the files the set in force was read from, so an edit made
	// between loading and watching is not missed.
	last := ""
	if p := h.loaded.Load(); p != nil {
		last = *p
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick.C:
			st := h.stamp()
			if st == last {
				continue
			}
			last = st
		}
		old := h.Current().Hash
		s, err := h.Reload()
		if err != nil {
			log.Error("rule set refused; the previous one keeps running", "err", err.Error(), "ruleset", old)
			continue
		}
		if s.Hash != old {
			log.Info("rule set reloaded", "ruleset", s.Hash, "previous", old, "rules", len(s.Rules))
		}
	}
}

// stamp is a digest of the rule files' names and contents: a change of
// content is what matters, not of modification time.
func (h *Holder) stamp() string {
	srcs, err := readDirs(h.paths)
	if err != nil {
		return "error:" + err.Error()
	}
	d := sha256.New()
	for _, s := range srcs {
		d.Write([]byte(s.name))
		d.Write([]byte{0})
		d.Write(s.data)
		d.Write([]byte{0})
	}
	return string(d.Sum(nil))
}
