package window

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// dayMs partitions idempotency records by event day so they can be dropped
// (memory) or expire (Redis) a day at a time.
const dayMs = 24 * 60 * 60 * 1000

// floorDiv divides rounding towards negative infinity, so event times before
// 1970 fall into the right bucket or day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// groupSpec is what both stores derive once per *Group: the checks are done
// once and the hot path only does arithmetic.
type groupSpec struct {
	ids      []string // featureID per feature
	n        []int64  // buckets per feature
	bucketMs []int64
	horizon  int64 // ms: largest window + Retain, how long idempotency records are kept
}

func newGroupSpec(g *Group) (*groupSpec, error) {
	if g == nil {
		return nil, errors.New("window: update has no group")
	}
	if g.Name == "" {
		return nil, errors.New("window: group has no name")
	}
	if strings.ContainsAny(g.Name, ":{}") {
		return nil, fmt.Errorf("window: group name %q must not contain ':', '{' or '}' (they delimit store keys)", g.Name)
	}
	if len(g.Features) > maxFeatures {
		return nil, fmt.Errorf("window: group %s has %d features; at most %d", g.Name, len(g.Features), maxFeatures)
	}
	if g.Retain < 0 {
		return nil, fmt.Errorf("window: group %s: retain %s must not be negative", g.Name, g.Retain)
	}
	s := &groupSpec{
		ids:      make([]string, len(g.Features)),
		n:        make([]int64, len(g.Features)),
		bucketMs: make([]int64, len(g.Features)),
	}
	var largest int64
	seen := make(map[string]bool, len(g.Features))
	for i := range g.Features {
		f := &g.Features[i]
		switch f.Op {
		case Count, Sum, Max, Distinct:
		default:
			return nil, fmt.Errorf("window: group %s feature %s: op %q is not count, sum, max or distinct", g.Name, f.Name, f.Op)
		}
		if f.Bucket.Milliseconds() < 1 || f.Window < f.Bucket {
			return nil, fmt.Errorf("window: group %s feature %s: bucket %s / window %s invalid (call Feature.Validate)", g.Name, f.Name, f.Bucket, f.Window)
		}
		if f.Op == Distinct && f.DistinctCap < 1 {
			return nil, fmt.Errorf("window: group %s feature %s: distinct cap %d must be >= 1 (call Feature.Validate)", g.Name, f.Name, f.DistinctCap)
		}
		id := featureID(f)
		if seen[id] {
			return nil, fmt.Errorf("window: group %s: feature %s appears twice with the same op and bucket", g.Name, f.Name)
		}
		seen[id] = true
		s.ids[i] = id
		s.n[i] = f.Buckets()
		s.bucketMs[i] = f.Bucket.Milliseconds()
		if w := f.Window.Milliseconds(); w > largest {
			largest = w
		}
	}
	s.horizon = largest + g.Retain.Milliseconds()
	return s, nil
}

// featureID names a feature's state: a feature whose op or bucket changes
// starts afresh instead of misreading old buckets. It is
// "<len(name)>:<name><op letter><bucketMs>:", unambiguous whatever the name
// holds, as it starts the feature's field names in Redis.
func featureID(f *Feature) string {
	op := map[Op]string{Count: "c", Sum: "s", Max: "m", Distinct: "d"}[f.Op]
	return strconv.Itoa(len(f.Name)) + ":" + f.Name + op + strconv.FormatInt(f.Bucket.Milliseconds(), 10) + ":"
}

// specCache maps *Group to its spec. Groups are configuration: they must not
// change after their first use.
type specCache[T any] struct {
	m    sync.Map
	make func(*Group) (T, error)
}

type specEntry[T any] struct {
	v   T
	err error
}

func (c *specCache[T]) get(g *Group) (T, error) {
	if e, ok := c.m.Load(g); ok {
		se := e.(*specEntry[T])
		return se.v, se.err
	}
	v, err := c.make(g)
	if g != nil {
		c.m.Store(g, &specEntry[T]{v, err})
	}
	return v, err
}

func checkUpdate(u *Update, nf int) error {
	switch {
	case u.Only != nil:
		if len(u.Inputs) != len(u.Only) {
			return fmt.Errorf("window: update %s on group %s has %d inputs for %d features listed in Only", u.TxID, u.Group.Name, len(u.Inputs), len(u.Only))
		}
		for k, i := range u.Only {
			if i < 0 || int(i) >= nf || k > 0 && i <= u.Only[k-1] {
				return fmt.Errorf("window: update %s on group %s: Only must list feature indexes below %d in ascending order, got %v", u.TxID, u.Group.Name, nf, u.Only)
			}
		}
	case len(u.Inputs) != nf:
		return fmt.Errorf("window: update %s on group %s has %d inputs for %d features", u.TxID, u.Group.Name, len(u.Inputs), nf)
	}
	if u.TxID == "" {
		return fmt.Errorf("window: update on %s has no TxID", u.Group.Name)
	}
	return nil
}
