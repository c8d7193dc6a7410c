package casequeue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sluice-aml/sluice/alerts"
)

// Memory is the in-process case queue of the demo and tests. It stores a
// deep copy of every alert, so a caller changing its alert afterwards does
// not change the case.
type Memory struct {
	mu    sync.Mutex
	cases map[string]*Case
}

// NewMemory returns an empty queue.
func NewMemory() *Memory { return &Memory{cases: make(map[string]*Case)} }

var _ Queue = (*Memory)(nil)

// Put implements Queue.
func (m *Memory) Put(ctx context.Context, as []alerts.Alert) error {
	copies := make([]alerts.Alert, len(as))
	for i, a := range as {
		if a.ID == "" {
			return fmt.Errorf("casequeue: alert %d of %d has no id", i+1, len(as))
		}
		c, err := cloneAlert(a)
		if err != nil {
			return err
		}
		copies[i] = c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range copies {
		c, ok := m.cases[a.ID]
		switch {
		case !ok:
			m.cases[a.ID] = &Case{Alert: a, Status: StatusOpen}
		case a.Version <= c.Alert.Version:
			continue
		default:
			c.Alert = a
			if c.Status == StatusClosed {
				reopen(c)
			}
		}
	}
	return nil
}

func reopen(c *Case) {
	c.Status = StatusOpen
	c.PrevDisposition = c.Disposition
	c.Disposition, c.Analyst, c.Claimed, c.Closed = "", "", "", ""
}

// List implements Queue.
func (m *Memory) List(ctx context.Context, f Filter) ([]Case, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Case, 0, len(m.cases))
	for _, c := range m.cases {
		if f.Status == "" || c.Status == f.Status {
			out = append(out, *c)
		}
	}
	m.mu.Unlock()
	sortNewestFirst(out)
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Get implements Queue.
func (m *Memory) Get(ctx context.Context, id string) (Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return Case{}, fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	return *c, nil
}

// Claim implements Queue.
func (m *Memory) Claim(ctx context.Context, id, analyst string) error {
	if analyst == "" {
		return ErrAnalyst
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	switch c.Status {
	case StatusClosed:
		return fmt.Errorf("case %q: %w", id, ErrClosed)
	case StatusClaimed:
		if c.Analyst != analyst {
			return fmt.Errorf("case %q held by %s: %w", id, c.Analyst, ErrClaimed)
		}
		return nil
	}
	c.Status, c.Analyst, c.Claimed = StatusClaimed, analyst, now()
	return nil
}

// Close implements Queue.
func (m *Memory) Close(ctx context.Context, id, analyst, disposition, note string) error {
	if analyst == "" {
		return ErrAnalyst
	}
	if !ValidDisposition(disposition) {
		return fmt.Errorf("disposition %q: %w", disposition, ErrDisposition)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	switch c.Status {
	case StatusClosed:
		if c.Analyst == analyst && c.Disposition == disposition && c.Note == note {
			return nil
		}
		return fmt.Errorf("case %q: %w", id, ErrClosed)
	case StatusClaimed:
		if c.Analyst != analyst {
			return fmt.Errorf("case %q held by %s: %w", id, c.Analyst, ErrClaimed)
		}
	}
	t := now()
	if c.Claimed == "" {
		c.Claimed = t
	}
	c.Status, c.Analyst, c.Disposition, c.Note, c.Closed = StatusClosed, analyst, disposition, note, t
	return nil
}

// cloneAlert deep-copies through the alert's JSON, which is also what the
// Redis queue stores, so both queues return the same values (numbers in
// RuleHit.Values come back as float64 from either).
func cloneAlert(a alerts.Alert) (alerts.Alert, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return alerts.Alert{}, fmt.Errorf("casequeue: encode alert %s: %w", a.ID, err)
	}
	var c alerts.Alert
	if err := json.Unmarshal(b, &c); err != nil {
		return alerts.Alert{}, fmt.Errorf("casequeue: decode alert %s: %w", a.ID, err)
	}
	return c, nil
}
