package window

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures the Redis store.
type RedisConfig struct {
	// Prefix starts every key; default "sluice:". It must not contain '{' or
	// '}', which would move the Redis Cluster hash tag.
	Prefix string
	// TTLSlack is added to every key's expiry (Window + Bucket + Retain for
	// window keys, one day + largest window + Retain for idempotency keys,
	// counted from the creation of the newest bucket or day) so that
	// a key outlives, in wall-clock time, the event time that still needs it
	// when the stream lags a little. Default one hour.
	TTLSlack time.Duration
}

// Validate checks the config and fills defaults.
func (c *RedisConfig) Validate() error {
	if c.Prefix == "" {
		c.Prefix = "sluice:"
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		return fmt.Errorf("window: redis prefix %q must not contain '{' or '}'", c.Prefix)
	}
	if c.TTLSlack == 0 {
		c.TTLSlack = time.Hour
	}
	if c.TTLSlack < 0 {
		return fmt.Errorf("window: redis ttl slack %s must not be negative", c.TTLSlack)
	}
	return nil
}

// Redis is the production Store. Each Update runs one Lua script on the
// keys of its (group, key), all under the hash tag {group:key} so the script
// touches one Redis Cluster slot; a whole Apply batch is one pipelined round
// trip.
//
// Keys, for prefix P, group G and key K:
//
//	P{G:K}:m                        newest event time of the key (string)
//	P{G:K}:x:<day>                  HASH txid -> recorded Out ("v1,v2,..."), per event day
//	P{G:K}:w:<name>:<op>:<bucketMs> HASH bucket -> value (count, sum, max)
//	                                ZSET member -> largest bucket (distinct)
//
// Every key has a TTL, so the state of an idle key goes away; buckets and
// members older than the window are removed by the script as it goes.
//
// Values are computed in Lua, whose numbers are doubles: a window's value is
// exact while its magnitude stays below 2^53 (9.007e15 minor units, about 90
// trillion in a two-decimal currency); stored buckets themselves are exact
// int64 (HINCRBY).
type Redis struct {
	client redis.UniversalClient
	cfg    RedisConfig
	specs  specCache[*redisSpec]
	loaded atomic.Bool // script loaded once, so batches do not all start with NOSCRIPT
}

// redisSpec is the per-group part of the script arguments that does not
// change between updates.
type redisSpec struct {
	*groupSpec
	suffix  []string // ":w:<name>:<op>:<bucketMs>"
	static  [][4]any // op code, n, cap, ttl ms
	txTTL   string
	horizon string
}

// NewRedis returns a Redis store. The caller owns client: Close does not
// close it.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if client == nil {
		return nil, errors.New("window: redis client is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Redis{client: client, cfg: cfg}
	r.specs.make = r.newSpec
	return r, nil
}

func (r *Redis) newSpec(g *Group) (*redisSpec, error) {
	gs, err := newGroupSpec(g)
	if err != nil {
		return nil, err
	}
	s := &redisSpec{groupSpec: gs}
	slack := r.cfg.TTLSlack.Milliseconds()
	for i := range g.Features {
		f := &g.Features[i]
		s.suffix = append(s.suffix, ":w:"+gs.ids[i])
		op := map[Op]string{Count: "c", Sum: "s", Max: "m", Distinct: "d"}[f.Op]
		ttl := f.Window.Milliseconds() + f.Bucket.Milliseconds() + g.Retain.Milliseconds() + slack
		s.static = append(s.static, [4]any{op, strconv.FormatInt(gs.n[i], 10),
			strconv.Itoa(f.DistinctCap), strconv.FormatInt(ttl, 10)})
	}
	s.txTTL = strconv.FormatInt(dayMs+gs.horizon+slack, 10)
	s.horizon = strconv.FormatInt(gs.horizon, 10)
	return s, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("window: redis ping: %w", err)
	}
	return nil
}

// Close implements Store. It does not close the client.
func (r *Redis) Close() error { return nil }

// Apply implements Store: one pipelined round trip for the batch.
func (r *Redis) Apply(ctx context.Context, updates []*Update) error {
	if len(updates) == 0 {
		return nil
	}
	type call struct {
		keys []string
		args []any
	}
	calls := make([]call, len(updates))
	for i, u := range updates {
		s, err := r.specs.get(u.Group)
		if err != nil {
			return err
		}
		if err := checkUpdate(u, len(s.n)); err != nil {
			return err
		}
		calls[i].keys, calls[i].args = r.scriptArgs(u, s)
	}
	if !r.loaded.Load() {
		if err := applyScript.Load(ctx, r.client).Err(); err != nil {
			return fmt.Errorf("window: redis script load: %w", err)
		}
		r.loaded.Store(true)
	}
	cmds := make([]*redis.Cmd, len(updates))
	pipe := r.client.Pipeline()
	for i := range calls {
		cmds[i] = applyScript.EvalSha(ctx, pipe, calls[i].keys, calls[i].args...)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && redis.HasErrorPrefix(firstErr(cmds), "NOSCRIPT") {
		// The server lost its script cache (restart, SCRIPT FLUSH): run the
		// failed updates again with the source, which also caches it. Only
		// if another client reloaded the script in the middle of this batch
		// could a failed update run after a later one of the same key.
		pipe := r.client.Pipeline()
		for i := range calls {
			if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
				cmds[i] = applyScript.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
			}
		}
		_, err = pipe.Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("window: redis apply: %w", err)
	}
	for i, u := range updates {
		if err := readResult(cmds[i], u, len(u.Group.Features)); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(cmds []*redis.Cmd) error {
	for _, c := range cmds {
		if c.Err() != nil {
			return c.Err()
		}
	}
	return nil
}

func (r *Redis) scriptArgs(u *Update, s *redisSpec) ([]string, []any) {
	nf := len(s.n)
	base := r.cfg.Prefix + "{" + u.Group.Name + ":" + u.Key + "}"
	keys := make([]string, 2+nf)
	keys[0] = base + ":m"
	keys[1] = base + ":x:" + strconv.FormatInt(floorDiv(u.Time, dayMs), 10)
	args := make([]any, 6, 6+7*nf)
	args[0] = u.TxID
	args[1] = strconv.FormatInt(u.Time, 10)
	args[2] = s.horizon
	args[3] = s.txTTL
	args[4] = base + ":x:"
	args[5] = strconv.Itoa(nf)
	for i := 0; i < nf; i++ {
		keys[2+i] = base + s.suffix[i]
		in := &u.Inputs[i]
		st := &s.static[i]
		apply := "0"
		if in.Apply {
			apply = "1"
		}
		var x any = ""
		if in.Apply {
			if st[0] == "d" {
				x = in.Member
			} else {
				x = strconv.FormatInt(in.Value, 10)
			}
		}
		b := strconv.FormatInt(floorDiv(u.Time, s.bucketMs[i]), 10)
		args = append(args, st[0], st[1], b, apply, x, st[2], st[3])
	}
	return keys, args
}

func readResult(cmd *redis.Cmd, u *Update, nf int) error {
	res, err := cmd.Slice()
	if err != nil {
		return fmt.Errorf("window: redis apply %s: %w", u.TxID, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("window: redis apply %s: script returned %d values", u.TxID, len(res))
	}
	flag, _ := res[0].(int64)
	vals, _ := res[1].(string)
	if len(u.Out) != nf {
		u.Out = make([]int64, nf)
	}
	u.Replayed = flag == 1
	if !parseInts(vals, u.Out) {
		return fmt.Errorf("window: redis apply %s: cannot read %q as %d values (features of the group changed?)", u.TxID, vals, nf)
	}
	return nil
}

// parseInts reads "v1,v2,..." into out, which must match in length.
func parseInts(s string, out []int64) bool {
	if len(out) == 0 {
		return s == ""
	}
	for i := range out {
		j := strings.IndexByte(s, ',')
		if i == len(out)-1 {
			if j >= 0 {
				return false
			}
			j = len(s)
		} else if j < 0 {
			return false
		}
		v, err := strconv.ParseInt(s[:j], 10, 64)
		if err != nil {
			return false
		}
		out[i] = v
		if j < len(s) {
			s = s[j+1:]
		}
	}
	return true
}

// applyScript applies one Update. Its steps mirror Memory.apply exactly; the
// two must change together.
//
// KEYS[1] newest event time, KEYS[2] idempotency partition of the event's
// day, KEYS[2+i] feature i.
// ARGV: txid, t, horizon ms, idempotency TTL ms, idempotency key prefix
// (older days are derived from it, same hash tag), number of features; then
// per feature: op (c s m d), n, bucket, apply (1/0), value or member, cap,
// TTL ms.
var applyScript = redis.NewScript(`
local DAY = 86400000
local txid = ARGV[1]
local t = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local txttl = ARGV[4]
local nf = tonumber(ARGV[6])

local rec = redis.call('HGET', KEYS[2], txid)
if rec then return {1, rec} end

local beyond = false
local prev = redis.call('GET', KEYS[1])
if prev then
  prev = tonumber(prev)
  local cut = math.floor((prev - horizon) / DAY)
  if math.floor(t / DAY) < cut then
    beyond = true
  elseif t > prev then
    -- drop the partitions that left the horizon; none exists after prev's day
    local newcut = math.floor((t - horizon) / DAY)
    local last = math.floor(prev / DAY)
    if newcut > last + 1 then newcut = last + 1 end
    for d = cut, newcut - 1 do
      redis.call('DEL', ARGV[5] .. string.format('%d', d))
    end
  end
end
if not beyond then
  if (not prev) or t > prev then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', txttl)
  else
    redis.call('PEXPIRE', KEYS[1], txttl)
  end
end

local out = {}
local a = 7
for i = 1, nf do
  local key = KEYS[2 + i]
  local op = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  local bs = ARGV[a + 2]
  local b = tonumber(bs)
  local apply = (ARGV[a + 3] == '1') and not beyond
  local x = ARGV[a + 4]
  local cap = tonumber(ARGV[a + 5])
  local ttl = ARGV[a + 6]
  a = a + 7
  local lo = b - n + 1
  local v = 0
  if op == 'd' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', lo))
    if apply then
      -- a member added or moved to a newer bucket: the size may have
      -- grown and the key must live a window from this bucket
      if redis.call('ZADD', key, 'GT', 'CH', bs, x) > 0 then
        local c = redis.call('ZCARD', key)
        if c > cap then
          redis.call('ZREMRANGEBYRANK', key, 0, string.format('%d', c - cap - 1))
        end
        redis.call('PEXPIRE', key, ttl)
      end
    end
    v = redis.call('ZCOUNT', key, string.format('%d', lo), bs)
  else
    local all = redis.call('HGETALL', key)
    local del = {}
    local cur = nil
    local found = false
    for j = 1, #all, 2 do
      local bj = tonumber(all[j])
      if bj < lo then
        del[#del + 1] = all[j]
      elseif bj <= b then
        local xj = tonumber(all[j + 1])
        if bj == b then cur = xj end
        if op == 'm' then
          if (not found) or xj > v then v = xj end
          found = true
        else
          v = v + xj
        end
      end
    end
    for j = 1, #del, 4000 do
      redis.call('HDEL', key, unpack(del, j, math.min(j + 3999, #del)))
    end
    if apply then
      if op == 'c' then
        redis.call('HINCRBY', key, bs, 1)
        v = v + 1
      elseif op == 's' then
        redis.call('HINCRBY', key, bs, x)
        v = v + tonumber(x)
      else
        local xv = tonumber(x)
        if cur == nil or xv > cur then redis.call('HSET', key, bs, x) end
        if (not found) or xv > v then v = xv end
      end
      -- the TTL counts from the newest bucket's creation (it includes a
      -- bucket width), so writes to an existing bucket need not refresh it
      if cur == nil then redis.call('PEXPIRE', key, ttl) end
    end
  end
  out[i] = string.format('%.0f', v)
end
local s = table.concat(out, ',')
if not beyond then
  redis.call('HSET', KEYS[2], txid, s)
  -- the partition of prev's day exists since prev was recorded there, and
  -- got its TTL (a day longer than the horizon) when it was created
  if (not prev) or math.floor(t / DAY) ~= math.floor(prev / DAY) then
    redis.call('PEXPIRE', KEYS[2], txttl)
  end
end
return {0, s}
`)
