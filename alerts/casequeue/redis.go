package casequeue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
)

// RedisConfig says where the Redis queue keeps its cases.
type RedisConfig struct {
	// Key is the base of every key, wrapped in a hash tag so all of them
	// live in one Redis Cluster slot (the scripts touch several at once):
	// "{sluice:cases}:stream", "{sluice:cases}:case:<id>", ...
	// Case volume is alerts, not transactions, so one slot is plenty.
	Key string
	// Group is the stream's consumer group analysts' tools read with
	// XREADGROUP; Claim and Close move entries through it.
	Group string
	// WaitReplicas, when > 0, makes Put wait (Redis WAIT) until that many
	// replicas acknowledged the write, up to WaitTimeout. With 0, Put
	// returns once the primary applied it; run Redis with appendonly yes
	// and appendfsync always for a write that survives a Redis crash.
	// (WAIT has no key, so this is for a standalone or Sentinel primary.)
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Defaults.
const (
	DefaultKey         = "sluice:cases"
	DefaultGroup       = "analysts"
	DefaultWaitTimeout = 2 * time.Second
)

// Validate checks the config and fills in defaults.
func (c *RedisConfig) Validate() error {
	if c.Key == "" {
		c.Key = DefaultKey
	}
	if strings.ContainsAny(c.Key, "{}") {
		return fmt.Errorf("casequeue: key %q must not contain braces; the queue adds its own hash tag", c.Key)
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.WaitReplicas < 0 {
		return fmt.Errorf("casequeue: wait_replicas %d is negative", c.WaitReplicas)
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	return nil
}

// Redis is the production case queue.
type Redis struct {
	rdb redis.UniversalClient
	cfg RedisConfig
	tag string // "{key}"
}

var _ Queue = (*Redis)(nil)

// NewRedis checks cfg, creates the stream and its consumer group if they do
// not exist, and loads the scripts.
func NewRedis(ctx context.Context, rdb redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	q := &Redis{rdb: rdb, cfg: cfg, tag: "{" + cfg.Key + "}"}
	err := rdb.XGroupCreateMkStream(ctx, q.StreamKey(), cfg.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil, fmt.Errorf("casequeue: create consumer group %s on %s: %w", cfg.Group, q.StreamKey(), err)
	}
	for _, s := range []*redis.Script{putScript, claimScript, closeScript} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			return nil, fmt.Errorf("casequeue: load script: %w", err)
		}
	}
	return q, nil
}

// StreamKey is the Redis Stream of new and updated cases. Each entry has
// the fields id, version, kind ("new" or "update") and alert (its JSON).
func (q *Redis) StreamKey() string { return q.tag + ":stream" }

// Group is the stream's consumer group.
func (q *Redis) Group() string { return q.cfg.Group }

func (q *Redis) caseKey(id string) string { return q.tag + ":case:" + id }

func (q *Redis) indexKey(status string) string {
	if status == "" {
		status = "all"
	}
	return q.tag + ":idx:" + status
}

// The scripts keep a case's hash, its status indexes and the stream in step,
// which is what makes a duplicate Put leave one stream entry.
//
// Hash fields: alert (JSON), version, status, analyst, disposition, note,
// prev_disposition, claimed, closed, entries (comma-separated stream ids of
// every version, so Claim and Close can XCLAIM and XACK all of them).
// Indexes are sorted sets scored by alert event time in ms.
var putScript = redis.NewScript(`
local h, stream, all, open, claimed, closed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, v, alert, score, group = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local cur = redis.call('HGET', h, 'version')
if cur and tonumber(cur) >= v then return 0 end
local kind = 'new'
if cur then kind = 'update' end
local sid = redis.call('XADD', stream, '*', 'id', id, 'version', ARGV[2], 'kind', kind, 'alert', alert)
redis.call('HSET', h, 'alert', alert, 'version', ARGV[2])
redis.call('ZADD', all, score, id)
if not cur then
  redis.call('HSET', h, 'status', 'open', 'entries', sid)
  redis.call('ZADD', open, score, id)
  return 1
end
redis.call('HSET', h, 'entries', redis.call('HGET', h, 'entries') .. ',' .. sid)
local st = redis.call('HGET', h, 'status')
if st == 'claimed' then
  redis.call('ZADD', claimed, score, id)
  redis.call('XCLAIM', stream, group, redis.call('HGET', h, 'analyst'), 0, sid, 'FORCE', 'JUSTID')
elseif st == 'closed' then
  redis.call('HSET', h, 'status', 'open', 'prev_disposition', redis.call('HGET', h, 'disposition'))
  redis.call('HDEL', h, 'disposition', 'analyst', 'claimed', 'closed')
  redis.call('ZREM', closed, id)
  redis.call('ZADD', open, score, id)
else
  redis.call('ZADD', open, score, id)
end
return 2
`)

var claimScript = redis.NewScript(`
local h, stream, all, open, claimed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, analyst, group, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local st = redis.call('HGET', h, 'status')
if not st then return 'notfound' end
if st == 'closed' then return 'closed' end
if st == 'claimed' then
  local an = redis.call('HGET', h, 'analyst')
  if an == analyst then return 'ok' end
  return 'claimed:' .. an
end
redis.call('HSET', h, 'status', 'claimed', 'analyst', analyst, 'claimed', now)
redis.call('ZREM', open, id)
redis.call('ZADD', claimed, redis.call('ZSCORE', all, id), id)
-- unpack must come last in a Lua argument list, or it yields one value.
local args = {stream, group, analyst, 0}
for s in string.gmatch(redis.call('HGET', h, 'entries'), '[^,]+') do args[#args+1] = s end
args[#args+1] = 'FORCE'
args[#args+1] = 'JUSTID'
redis.call('XCLAIM', unpack(args))
return 'ok'
`)

var closeScript = redis.NewScript(`
local h, stream, all, open, claimed, closed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, analyst, disposition, note, group, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local st = redis.call('HGET', h, 'status')
if not st then return 'notfound' end
local an = redis.call('HGET', h, 'analyst')
if st == 'closed' then
  if an == analyst and redis.call('HGET', h, 'disposition') == disposition and (redis.call('HGET', h, 'note') or '') == note then
    return 'ok'
  end
  return 'closed'
end
if st == 'claimed' and an ~= analyst then return 'claimed:' .. an end
if not redis.call('HGET', h, 'claimed') then redis.call('HSET', h, 'claimed', now) end
redis.call('HSET', h, 'status', 'closed', 'analyst', analyst, 'disposition', disposition, 'note', note, 'closed', now)
redis.call('ZREM', open, id)
redis.call('ZREM', claimed, id)
redis.call('ZADD', closed, redis.call('ZSCORE', all, id), id)
local args = {stream, group}
for s in string.gmatch(redis.call('HGET', h, 'entries'), '[^,]+') do args[#args+1] = s end
redis.call('XACK', unpack(args))
return 'ok'
`)

// Put implements Queue: one pipelined round trip for the batch.
func (q *Redis) Put(ctx context.Context, as []alerts.Alert) error {
	if len(as) == 0 {
		return nil
	}
	type call struct {
		keys []string
		args []any
	}
	calls := make([]call, len(as))
	for i, a := range as {
		if a.ID == "" {
			return fmt.Errorf("casequeue: alert %d of %d has no id", i+1, len(as))
		}
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("casequeue: encode alert %s: %w", a.ID, err)
		}
		calls[i] = call{
			keys: []string{q.caseKey(a.ID), q.StreamKey(), q.indexKey(""), q.indexKey(StatusOpen), q.indexKey(StatusClaimed), q.indexKey(StatusClosed)},
			args: []any{a.ID, a.Version, b, alertTime(a), q.cfg.Group},
		}
	}
	run := func() error {
		pipe := q.rdb.Pipeline()
		for _, c := range calls {
			putScript.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	err := run()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Redis restarted or its script cache was flushed. The script is
		// idempotent, so running the whole batch again is safe.
		if err = putScript.Load(ctx, q.rdb).Err(); err == nil {
			err = run()
		}
	}
	if err != nil {
		return fmt.Errorf("casequeue: put %d alerts: %w", len(as), err)
	}
	if q.cfg.WaitReplicas > 0 {
		n, err := q.rdb.Do(ctx, "WAIT", q.cfg.WaitReplicas, q.cfg.WaitTimeout.Milliseconds()).Int64()
		if err != nil {
			return fmt.Errorf("casequeue: wait for replicas: %w", err)
		}
		if n < int64(q.cfg.WaitReplicas) {
			return fmt.Errorf("casequeue: only %d of %d replicas acknowledged within %s", n, q.cfg.WaitReplicas, q.cfg.WaitTimeout)
		}
	}
	return nil
}

// List implements Queue.
func (q *Redis) List(ctx context.Context, f Filter) ([]Case, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ids, err := q.rdb.ZRevRange(ctx, q.indexKey(f.Status), 0, int64(f.Limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("casequeue: list: %w", err)
	}
	if len(ids) == 0 {
		return []Case{}, nil
	}
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, q.caseKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("casequeue: list: %w", err)
	}
	out := make([]Case, 0, len(ids))
	for i, cmd := range cmds {
		c, err := decodeCase(ids[i], cmd.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Get implements Queue.
func (q *Redis) Get(ctx context.Context, id string) (Case, error) {
	m, err := q.rdb.HGetAll(ctx, q.caseKey(id)).Result()
	if err != nil {
		return Case{}, fmt.Errorf("casequeue: get %q: %w", id, err)
	}
	if len(m) == 0 {
		return Case{}, fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	return decodeCase(id, m)
}

func decodeCase(id string, m map[string]string) (Case, error) {
	c := Case{
		Status:          m["status"],
		Analyst:         m["analyst"],
		Disposition:     m["disposition"],
		Note:            m["note"],
		PrevDisposition: m["prev_disposition"],
		Claimed:         m["claimed"],
		Closed:          m["closed"],
	}
	if err := json.Unmarshal([]byte(m["alert"]), &c.Alert); err != nil {
		return Case{}, fmt.Errorf("casequeue: case %q holds a bad alert: %w", id, err)
	}
	return c, nil
}

// Claim implements Queue.
func (q *Redis) Claim(ctx context.Context, id, analyst string) error {
	if analyst == "" {
		return ErrAnalyst
	}
	keys := []string{q.caseKey(id), q.StreamKey(), q.indexKey(""), q.indexKey(StatusOpen), q.indexKey(StatusClaimed)}
	res, err := q.runScript(ctx, claimScript, keys, id, analyst, q.cfg.Group, now())
	if err != nil {
		return fmt.Errorf("casequeue: claim %q: %w", id, err)
	}
	return scriptResult(id, res)
}

// Close implements Queue.
func (q *Redis) Close(ctx context.Context, id, analyst, disposition, note string) error {
	if analyst == "" {
		return ErrAnalyst
	}
	if !ValidDisposition(disposition) {
		return fmt.Errorf("disposition %q: %w", disposition, ErrDisposition)
	}
	keys := []string{q.caseKey(id), q.StreamKey(), q.indexKey(""), q.indexKey(StatusOpen), q.indexKey(StatusClaimed), q.indexKey(StatusClosed)}
	res, err := q.runScript(ctx, closeScript, keys, id, analyst, disposition, note, q.cfg.Group, now())
	if err != nil {
		return fmt.Errorf("casequeue: close %q: %w", id, err)
	}
	return scriptResult(id, res)
}

func (q *Redis) runScript(ctx context.Context, s *redis.Script, keys []string, args ...any) (string, error) {
	// Run tries EVALSHA and falls back to EVAL, so a flushed script cache
	// heals itself.
	return s.Run(ctx, q.rdb, keys, args...).Text()
}

func scriptResult(id, res string) error {
	switch {
	case res == "ok":
		return nil
	case res == "notfound":
		return fmt.Errorf("case %q: %w", id, ErrNotFound)
	case res == "closed":
		return fmt.Errorf("case %q: %w", id, ErrClosed)
	case strings.HasPrefix(res, "claimed:"):
		return fmt.Errorf("case %q held by %s: %w", id, strings.TrimPrefix(res, "claimed:"), ErrClaimed)
	}
	return errors.New("casequeue: unexpected script result " + strconv.Quote(res))
}
