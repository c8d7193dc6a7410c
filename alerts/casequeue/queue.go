package casequeue

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sluice-aml/sluice/alerts"
)

// Case statuses.
const (
	StatusOpen    = "open"
	StatusClaimed = "claimed"
	StatusClosed  = "closed"
)

// Dispositions an analyst closes a case with.
const (
	FalsePositive = "false_positive"
	Escalated     = "escalated"
	STRFiled      = "str_filed"
)

// Errors, to be matched with errors.Is.
var (
	ErrNotFound    = errors.New("case not found")
	ErrClaimed     = errors.New("case is claimed by another analyst")
	ErrClosed      = errors.New("case is already closed")
	ErrDisposition = errors.New("unknown disposition: want false_positive, escalated or str_filed")
	ErrAnalyst     = errors.New("analyst is empty")
	ErrStatus      = errors.New("unknown status: want open, claimed or closed (or empty for all)")
)

// Queue is the case queue. Every method is safe for concurrent use.
type Queue interface {
	// Put stores alerts as cases, idempotently by id and version (see the
	// package comment), and returns once they are durable.
	Put(ctx context.Context, as []alerts.Alert) error
	// List returns cases matching f, newest alert first.
	List(ctx context.Context, f Filter) ([]Case, error)
	// Get returns one case by alert id, or ErrNotFound.
	Get(ctx context.Context, id string) (Case, error)
	// Claim assigns an open case to analyst. Claiming a case one already
	// holds is a no-op; one held by another analyst gives ErrClaimed.
	Claim(ctx context.Context, id, analyst string) error
	// Close closes an open case or one the analyst holds, with a disposition
	// and a note. Repeating the same close is a no-op (safe HTTP retries).
	Close(ctx context.Context, id, analyst, disposition, note string) error
}

// Case is an alert and the analyst's work on it.
//
// A case closed before a new version of its alert arrives is reopened: the
// new evidence must be looked at. The earlier closing is kept in
// PrevDisposition and Note.
type Case struct {
	Alert           alerts.Alert `json:"alert"`
	Status          string       `json:"status"`
	Analyst         string       `json:"analyst,omitempty"`
	Disposition     string       `json:"disposition,omitempty"`
	Note            string       `json:"note,omitempty"`
	PrevDisposition string       `json:"prev_disposition,omitempty"`
	// Claimed and Closed are wall-clock times of the analyst's actions
	// (RFC 3339, UTC); they are case-desk records, never part of an alert.
	Claimed string `json:"claimed,omitempty"`
	Closed  string `json:"closed,omitempty"`
}

// Filter selects cases for List.
type Filter struct {
	Status string // "", open, claimed or closed; "" is every case
	Limit  int    // at most this many; 0 is DefaultLimit, capped at MaxLimit
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Validate checks the filter and applies the limit defaults.
func (f *Filter) Validate() error {
	switch f.Status {
	case "", StatusOpen, StatusClaimed, StatusClosed:
	default:
		return fmt.Errorf("filter status %q: %w", f.Status, ErrStatus)
	}
	if f.Limit < 0 {
		return fmt.Errorf("filter limit %d is negative", f.Limit)
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	return nil
}

// ValidDisposition reports whether d is one of the three dispositions.
func ValidDisposition(d string) bool {
	return d == FalsePositive || d == Escalated || d == STRFiled
}

// alertTime orders cases: the event time of the alert, in Unix
// milliseconds. Event time (not arrival) keeps the order the same in a
// replay as live. An unparsable time sorts last.
func alertTime(a alerts.Alert) int64 {
	t, err := time.Parse(time.RFC3339Nano, a.Time)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// sortNewestFirst sorts by alert time descending, then id descending: the
// order of a Redis ZREVRANGE on (time, id), so both queues agree.
func sortNewestFirst(cs []Case) {
	sort.Slice(cs, func(i, j int) bool {
		ti, tj := alertTime(cs[i].Alert), alertTime(cs[j].Alert)
		if ti != tj {
			return ti > tj
		}
		return cs[i].Alert.ID > cs[j].Alert.ID
	})
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }
