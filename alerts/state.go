package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MemoryState keeps open alerts in memory (demo, replay, tests).
type MemoryState struct {
	mu     sync.Mutex
	opens  map[string]Open
	alerts map[string]storedAlert
}

type storedAlert struct {
	json    []byte // so callers never share the stored alert
	version int
}

// NewMemoryState returns an empty state.
func NewMemoryState() *MemoryState {
	return &MemoryState{opens: map[string]Open{}, alerts: map[string]storedAlert{}}
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
		if sa, ok := s.alerts[id]; ok {
			var a Alert
			if err := json.Unmarshal(sa.json, &a); err != nil {
				return nil, err
			}
			out[i] = &a
		}
	}
	return out, nil
}

// Save never goes back: a pointer with an earlier Until or an alert of a
// lower version than the one stored is not saved (see RedisState.Save).
func (s *MemoryState) Save(_ context.Context, opens map[string]Open, alerts []*Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range opens {
		if cur, ok := s.opens[k]; !ok || o.Until >= cur.Until {
			s.opens[k] = o
		}
	}
	for _, a := range alerts {
		if cur, ok := s.alerts[a.ID]; ok && a.Version < cur.version {
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		s.alerts[a.ID] = storedAlert{b, a.Version}
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

// saveNewer sets KEYS[1] to ARGV[1] unless it holds a value whose field
// ARGV[2] is greater than ARGV[3]: a pointer's until, an alert's version.
var saveNewer = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local n = cjson.decode(cur)[ARGV[2]]
  if n and n > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
`

// Save stores pointers and alert versions, never going back: a pointer
// with an earlier until or an alert of a lower version than the one
// stored is left out. Batches of one processor save in order, but after a
// rebalance the partition's former owner may still be saving what the new
// one has already updated. One script call a key, so that it works on
// Redis Cluster.
func (s *RedisState) Save(ctx context.Context, opens map[string]Open, alerts []*Alert) error {
	ttl := strconv.FormatInt(s.ttl.Milliseconds(), 10)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, o := range opens {
			b, _ := json.Marshal(o)
			p.Eval(ctx, saveNewer, []string{s.openKey(k)}, b, "until", o.Until, ttl)
		}
		for _, a := range alerts {
			b, err := json.Marshal(a)
			if err != nil {
				return err
			}
			p.Eval(ctx, saveNewer, []string{s.alertKey(a.ID)}, b, "version", a.Version, ttl)
		}
		return nil
	})
	return err
}
