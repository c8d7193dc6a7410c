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

// Reserve implements State, with the same rules as RedisState.Reserve.
func (s *MemoryState) Reserve(_ context.Context, claims []Claim, changes []Change) (bool, error) {
	js := make([][]byte, len(changes))
	for i, c := range changes {
		b, err := json.Marshal(c.Alert)
		if err != nil {
			return false, err
		}
		js[i] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := true
	for i, c := range changes {
		v := 0
		if cur, found := s.alerts[c.Alert.ID]; found {
			v = cur.version
		}
		if !mayChange(v, c.Read) {
			ok = false
			continue
		}
		if c.Alert.Version >= v {
			s.alerts[c.Alert.ID] = storedAlert{js[i], c.Alert.Version}
		}
	}
	for _, c := range claims {
		cur, found := s.opens[c.Key]
		switch {
		case found && cur.ID != c.Open.ID && cur.Until > c.At && cur.ID != c.Replace:
			ok = false
		case found && cur.ID == c.Open.ID && cur.Until > c.Open.Until:
		default:
			s.opens[c.Key] = c.Open
		}
	}
	return ok, nil
}

// mayChange reports whether an alert stored at version v may be replaced
// by a change made over version read: nobody changed it since (v not
// above read), or read is 0 (a new alert) and v is 1, a first version of
// the same id (the ids are deterministic): an earlier try of the batch.
func mayChange(v, read int) bool {
	return v <= read || (read == 0 && v == 1)
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

// reserveAlert stores KEYS[1] = ARGV[1] (an alert of version ARGV[2],
// changed over version ARGV[3]) unless the stored one has moved on since
// (mayChange), and never replaces a higher version. 1 when allowed.
var reserveAlert = `
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = cjson.decode(cur)['version'] or 0 end
local new, read = tonumber(ARGV[2]), tonumber(ARGV[3])
if not (v <= read or (read == 0 and v == 1)) then return 0 end
if new >= v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4]) end
return 1
`

// claimOpen stores the pointer KEYS[1] = ARGV[1] (alert ARGV[2], until
// ARGV[3], opened by an event at ARGV[4]) unless another alert's pointer
// is open at that time (but the one to take over, ARGV[6]); its own
// pointer only moves forward. 1 when allowed. ("until" is a word of
// Lua's: indexed as a string.)
var claimOpen = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local c = cjson.decode(cur)
  if c['id'] ~= ARGV[2] and c['until'] > tonumber(ARGV[4]) and c['id'] ~= ARGV[6] then return 0 end
  if c['id'] == ARGV[2] and c['until'] > tonumber(ARGV[3]) then return 1 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
return 1
`

// Reserve implements State in one round trip, one script call a key (so
// it works on Redis Cluster): the alerts first, then the pointers, so that
// a pointer never names an alert that was not stored (a crash between the
// two leaves an alert no pointer names, which its batch, redelivered,
// takes up again by its id).
func (s *RedisState) Reserve(ctx context.Context, claims []Claim, changes []Change) (bool, error) {
	ttl := strconv.FormatInt(s.ttl.Milliseconds(), 10)
	var cmds []*redis.Cmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range changes {
			b, err := json.Marshal(c.Alert)
			if err != nil {
				return err
			}
			cmds = append(cmds, p.Eval(ctx, reserveAlert, []string{s.alertKey(c.Alert.ID)}, b, c.Alert.Version, c.Read, ttl))
		}
		for _, c := range claims {
			b, _ := json.Marshal(c.Open)
			cmds = append(cmds, p.Eval(ctx, claimOpen, []string{s.openKey(c.Key)}, b, c.Open.ID, c.Open.Until, c.At, ttl, c.Replace))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	ok := true
	for _, c := range cmds {
		if n, _ := c.Int(); n != 1 {
			ok = false
		}
	}
	return ok, nil
}
