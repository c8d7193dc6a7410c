package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MemoryState keeps open alerts in memory (demo, replay, tests).
type MemoryState struct {
	mu     sync.Mutex
	opens  map[string]Open
	alerts map[string][]byte // JSON, so callers never share the stored alert
}

// NewMemoryState returns an empty state.
func NewMemoryState() *MemoryState {
	return &MemoryState{opens: map[string]Open{}, alerts: map[string][]byte{}}
}

func (s *MemoryState) Opens(_ context.Context, keys []string) ([]*Open, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Open, len(keys))
	for i, k := range keys {
		if o, ok := s.opens[k]; ok {
			out[i] = &o
		}
	}
	return out, nil
}

func (s *MemoryState) Alerts(_ context.Context, ids []string) ([]*Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Alert, len(ids))
	for i, id := range ids {
		if b, ok := s.alerts[id]; ok {
			var a Alert
			if err := json.Unmarshal(b, &a); err != nil {
				return nil, err
			}
			out[i] = &a
		}
	}
	return out, nil
}

func (s *MemoryState) Save(_ context.Context, opens map[string]Open, alerts []*Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range opens {
		s.opens[k] = o
	}
	for _, a := range alerts {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		s.alerts[a.ID] = b
	}
	return nil
}

// RedisState keeps open alerts in Redis, so a restarted or rebalanced
// processor continues the same cool-downs.
type RedisState struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewRedisState returns a Redis state. ttl bounds how long pointers and alert
// versions are kept (wall clock); it must exceed the cool-down.
func NewRedisState(rdb redis.UniversalClient, prefix string, ttl time.Duration) *RedisState {
	if prefix == "" {
		prefix = "sluice:"
	}
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	return &RedisState{rdb: rdb, prefix: prefix, ttl: ttl}
}

func (s *RedisState) openKey(k string) string   { return s.prefix + "alert-open:{" + k + "}" }
func (s *RedisState) alertKey(id string) string { return s.prefix + "alert:{" + id + "}" }

func (s *RedisState) Opens(ctx context.Context, keys []string) ([]*Open, error) {
	return getJSON[Open](ctx, s.rdb, keys, s.openKey)
}

func (s *RedisState) Alerts(ctx context.Context, ids []string) ([]*Alert, error) {
	return getJSON[Alert](ctx, s.rdb, ids, s.alertKey)
}

// getJSON fetches keys in one pipelined round trip (single-key commands, so
// it also works on Redis Cluster).
func getJSON[T any](ctx context.Context, rdb redis.UniversalClient, keys []string, name func(string) string) ([]*T, error) {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, name(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]*T, len(keys))
	for i, c := range cmds {
		b, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		out[i] = &v
	}
	return out, nil
}

func (s *RedisState) Save(ctx context.Context, opens map[string]Open, alerts []*Alert) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, o := range opens {
			b, _ := json.Marshal(o)
			p.Set(ctx, s.openKey(k), b, s.ttl)
		}
		for _, a := range alerts {
			b, err := json.Marshal(a)
			if err != nil {
				return err
			}
			p.Set(ctx, s.alertKey(a.ID), b, s.ttl)
		}
		return nil
	})
	return err
}
