// Package window keeps Sluice's sliding windows on event time: per-key counts,
// sums, maxima and distinct counts over durations from minutes to 90 days.
//
// Two stores implement Store with identical results on identical input: Redis
// (production) and memory (demo, replay, tests). The contract test suite in
// storetest runs against both.
//
// # Exactness
//
// Both stores compute exactly the same thing, defined step by step so that a
// replay gives the same numbers as the live run. For an Update at event time
// t and each feature with bucket b = BucketOf(t), n = Buckets():
//
//  1. If (Group.Name, Key, TxID) was recorded in the partition of t's event
//     day, nothing changes: Replayed is set and Out is what was recorded.
//     A redelivered event must carry the same Time.
//  2. Buckets (and distinct members whose score is) older than b-n+1 are
//     removed: the old edge is exact to one bucket, and an out-of-order event
//     reads only what its key still keeps. An event later than a whole window
//     behind the key's newest one therefore does not see buckets that newer
//     events already dropped. A feature the update neither applies nor reads
//     (Input.NoRead), or leaves out of Update.Only, is skipped: nothing of it
//     changes and its Out is 0.
//  3. If Input.Apply, the input is added to bucket b: count +1, sum +Value,
//     max keeps the larger; distinct sets the member's score to the largest
//     bucket it was seen in, then evicts, while more than DistinctCap
//     members remain, the lowest score first and among equal scores the
//     smallest member (byte order, as a Redis ZSET does).
//  4. Out is the aggregate over the kept buckets in [b-n+1, b] (0 when empty;
//     max may be negative when only negative values were applied); distinct
//     counts the members whose score is in that range.
//  5. The update is recorded with its Out.
//
// Idempotency records are kept per event day and dropped once the key's
// newest event time has moved more than the horizon (largest window of the
// group + Retain) past their day. An update whose event day is older than
// that horizon can neither be deduplicated nor usefully counted: it is read
// only (no input applied), not recorded, and Replayed is false.
//
// Both stores run the same code (entry.go) on int64: values are exact (a
// sum that overflows int64 wraps). Redis also expires keys in wall-clock
// time (largest window + Retain + a day or the largest bucket + TTLSlack
// after the key's last TTL refresh, which happens at least every
// TTLSlack/2 of writes), which only matters for a key that is idle longer
// than that.
//
// # Redis: consistency model
//
// The Redis store computes in Go on a bounded LRU cache of per-key states
// (RedisConfig.CacheEntries) and keeps the durable, shared state in Redis,
// one hash per (group, key) named P{G:K} (one Redis Cluster slot), written
// with optimistic concurrency: the hash has a version field, a random
// token replaced at every write, and every write is a small Lua script
// that applies the changed fields only if the version is still the one the
// cache was built from. A batch therefore costs one pipelined round trip
// when its keys are cached and fresh, plus one (HGETALL) for keys not in
// the cache. A key another writer (another processor on the same prefix)
// changed since this store last read or wrote it is a conflict: the script
// writes nothing and returns the key's current state, and the batch's
// updates of that key alone (keys are independent) are computed again on it
// and written in one more round trip; after 10 attempts Apply fails. Each
// key's updates are thus applied exactly once, in one order every store on
// the prefix agrees on: results equal a memory store's applying the same
// updates in that order. Concurrent Applys on one store that share keys
// take turns per key; no Apply waits while it holds keys.
//
// Work per update and feature is O(kept buckets) <= O(n) for count, sum and
// max, and O(log DistinctCap) for distinct; the default bucket (Window/48)
// keeps n at 48. A Redis write rewrites the key's count, sum and max
// buckets as one field and adds one field per changed distinct member and
// per idempotency record.
package window

import (
	"context"
	"fmt"
	"time"
)

// Op is what a feature computes over its window.
type Op string

const (
	Count    Op = "count"    // number of applied events
	Sum      Op = "sum"      // sum of Input.Value (money in minor units of the base currency)
	Max      Op = "max"      // largest Input.Value, 0 when none
	Distinct Op = "distinct" // number of distinct Input.Member, capped
)

// DefaultDistinctCap bounds the members a distinct feature keeps per key.
const DefaultDistinctCap = 1000

// Feature is one windowed aggregate. Values are exact to one bucket width at
// the window's old edge: an update at time t sees the buckets
// [b(t)-n+1, b(t)] where b(t) = floor(unixMillis(t) / Bucket) and
// n = ceil(Window / Bucket).
type Feature struct {
	Name        string
	Op          Op
	Window      time.Duration
	Bucket      time.Duration // granularity; Validate sets Window/48 (>= 1 minute) when 0
	DistinctCap int           // for Distinct; DefaultDistinctCap when 0
}

// Validate checks the feature and fills defaults.
func (f *Feature) Validate() error {
	switch f.Op {
	case Count, Sum, Max, Distinct:
	default:
		return fmt.Errorf("feature %s: op %q is not count, sum, max or distinct", f.Name, f.Op)
	}
	if f.Window < time.Minute || f.Window > 400*24*time.Hour {
		return fmt.Errorf("feature %s: window %s must be between 1m and 400d", f.Name, f.Window)
	}
	if f.Bucket == 0 {
		f.Bucket = f.Window / 48
		if f.Bucket < time.Minute {
			f.Bucket = time.Minute
		}
		f.Bucket = f.Bucket.Truncate(time.Second)
	}
	if f.Bucket < time.Second || f.Bucket > f.Window {
		return fmt.Errorf("feature %s: bucket %s must be between 1s and the window %s", f.Name, f.Bucket, f.Window)
	}
	if f.DistinctCap == 0 {
		f.DistinctCap = DefaultDistinctCap
	}
	if f.DistinctCap < 1 || f.DistinctCap > 100_000 {
		return fmt.Errorf("feature %s: distinct cap %d must be between 1 and 100000", f.Name, f.DistinctCap)
	}
	return nil
}

// Buckets returns n, the number of buckets the window spans.
func (f *Feature) Buckets() int64 {
	w, b := int64(f.Window), int64(f.Bucket)
	return (w + b - 1) / b
}

// BucketOf returns b(t), the bucket index of an event time in unix ms.
func (f *Feature) BucketOf(unixMilli int64) int64 {
	bm := f.Bucket.Milliseconds()
	if unixMilli >= 0 {
		return unixMilli / bm
	}
	return (unixMilli - bm + 1) / bm
}

// Group is the set of features kept under one kind of key (the receiving
// account, the sending account, the customer...). All features of a group are
// read and written in one store operation per event.
type Group struct {
	Name     string    // e.g. "to.account"; part of the store key
	Features []Feature // validated
	// Retain is how long an event's idempotency record and state outlive the
	// window: the allowed lateness plus the redelivery horizon.
	Retain time.Duration
}

// Input is one event's contribution to one feature.
type Input struct {
	Apply  bool   // false when the event does not pass the feature's filter: it is read, not written
	Value  int64  // Sum and Max: amount in minor units; ignored by Count and Distinct
	Member string // Distinct: the value counted (a counterparty, a city...)
	// NoRead says the caller does not need this feature's value: its Out is
	// 0 (the input is still applied), and when the input does not apply
	// either the feature is not touched (step 2 of the package doc).
	NoRead bool
}

// Update is one event's work on one key of one group.
type Update struct {
	Group  *Group
	Key    string  // the entity, e.g. the account id
	TxID   string  // idempotency: an update whose (Group, Key, TxID) was applied before changes nothing; kept as given, so pass a string of its own (not a slice of a larger one)
	Time   int64   // event time, unix ms
	Inputs []Input // one per Group.Features, same order; or one per Only
	// Only, when set, lists (ascending) the indexes in Group.Features of
	// the Inputs, one each: the features it leaves out are as NoRead with
	// no Apply (not touched, Out 0). A caller whose events feed or read a
	// few features of a large group passes only those.
	Only []int32

	// Set by Apply:
	Out      []int64 // one per Group.Features: the window value at Time, after this update
	Replayed bool    // the update had been applied before; Out is what was returned then
}

// Store keeps windows. Apply must be safe for concurrent use.
type Store interface {
	// Apply applies a batch of updates, in order, and fills each Out. It is
	// atomic per update and idempotent by (Group, Key, TxID): a redelivered
	// update returns the values recorded at its first application, so a
	// restarted processor sees exactly what a clean run saw. Redis implements a
	// batch of cached keys as one round trip.
	Apply(ctx context.Context, updates []*Update) error
	// Ping reports whether the store is reachable (for readiness).
	Ping(ctx context.Context) error
	Close() error
}
