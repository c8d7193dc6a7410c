package rescreen

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/internal/writeback"
)

// Redis is a Registry in Redis, shared by every processor of the stream.
type Redis struct {
	cfg  Config
	rdb  redis.UniversalClient
	z, h string
	held *writeback.Buffer[Seen] // see WriteBack
	// scratch holds *recordScratch: record runs for every flush, and its
	// working set serves the next one.
	scratch sync.Pool
}

// recordScratch is record's working set.
type recordScratch struct {
	latest map[string]int // member -> index in es
	order  []string       // members, in es's order
	es     []sighting
	buf    []byte // a chunk's stored forms, each an argument (Run does not keep them)
	ends   []int
	args   []any
}

type sighting struct {
	ms int64
	s  Seen
}

// NewRedis returns a registry on rdb under cfg.Prefix.
func NewRedis(rdb redis.UniversalClient, cfg Config) (*Redis, error) {
	if rdb == nil {
		return nil, fmt.Errorf("rescreen: no Redis client")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// One hash tag for both keys: the script touches both, and a sorted set
	// lives in one slot anyway.
	tag := "{" + cfg.Prefix + "}"
	return &Redis{cfg: cfg, rdb: rdb, z: tag + ":z", h: tag + ":h"}, nil
}

// Keys returns the registry's two Redis keys (sorted set, hash), to delete
// it or inspect it.
func (r *Redis) Keys() []string { return []string{r.z, r.h} }

// trimLimit is the fewest entries one Record may remove. A Record removes at
// most max(trimLimit, twice its batch), so the script never blocks Redis
// for long after a jump in event time, and a backlog over the bounds still
// shrinks with every batch; Scan skips what is past the horizon meanwhile.
const trimLimit = 1000

// record keeps the latest value per member and trims both keys (ZADD GT:
// Redis 6.2 or later). Of two at the same time, the smaller transaction id
// is kept, so what is kept does not depend on how sightings were batched.
// KEYS: sorted set, hash. ARGV: horizon ms, max entries, trim limit, then
// member, unix ms, value for each entry.
var record = redis.NewScript(`
local z, h = KEYS[1], KEYS[2]
-- Bytewise, as Go compares strings (Lua's < follows the server's locale).
local function less(a, b)
  for k = 1, math.min(#a, #b) do
    local x, y = string.byte(a, k), string.byte(b, k)
    if x ~= y then return x < y end
  end
  return #a < #b
end
for i = 4, #ARGV, 3 do
  -- GT CH: 1 when the member is new or its time moved on; 0 when it is
  -- older or the same time.
  if redis.call('ZADD', z, 'GT', 'CH', ARGV[i+1], ARGV[i]) == 1 then
    redis.call('HSET', h, ARGV[i], ARGV[i+2])
  elseif tonumber(redis.call('ZSCORE', z, ARGV[i])) == tonumber(ARGV[i+1]) then
    local kept = redis.call('HGET', h, ARGV[i])
    if not kept or less(cjson.decode(ARGV[i+2]).x or '', cjson.decode(kept).x or '') then
      redis.call('HSET', h, ARGV[i], ARGV[i+2])
    end
  end
end
local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
if #top == 0 then return 0 end
local limit = tonumber(ARGV[3])
local cut = tonumber(top[2]) - tonumber(ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', z, '-inf', string.format('(%.0f', cut), 'LIMIT', 0, limit)
local over = redis.call('ZCARD', z) - #gone - tonumber(ARGV[2])
if over > 0 and #gone < limit then
  local more = redis.call('ZRANGE', z, #gone, #gone + math.min(over, limit - #gone) - 1)
  for _, m in ipairs(more) do gone[#gone + 1] = m end
end
-- gone is the #gone lowest ranks: removed as a range, not looked up one by one.
if #gone > 0 then
  redis.call('ZREMRANGEBYRANK', z, 0, #gone - 1)
end
for i = 1, #gone, 500 do
  redis.call('HDEL', h, unpack(gone, i, math.min(i + 499, #gone)))
end
return #gone
`)

// WriteBack makes Record hold what it is given back (up to max sightings)
// until Flush or Scan, which write it: off the path of the batch that saw
// it, and a counterparty seen by several batches in a row written once.
// Record still checks its input at once. The caller must Flush before it
// reports those batches done (see package writeback). Call it before the
// registry is used.
func (r *Redis) WriteBack(max int) {
	r.held = writeback.New(max, r.record)
}

// Flush writes what Record held back (nothing unless WriteBack was called).
func (r *Redis) Flush(ctx context.Context) error { return r.held.Flush(ctx) }

// Held is how many sightings Record holds back now.
func (r *Redis) Held() int { return r.held.Len() }

func (r *Redis) Record(ctx context.Context, seen []Seen) error {
	if len(seen) == 0 {
		return nil
	}
	if err := checkAll(seen); err != nil {
		return err
	}
	if r.held != nil {
		return r.held.Add(ctx, seen)
	}
	return r.record(ctx, seen)
}

// recordChunk is the most entries one script call writes: the script
// holds Redis while it runs, and calls of 1,000 (a flush of many batches'
// sightings) took 1.4 ms in the median and up to 15 ms in Redis's slow
// log, every window write waiting behind them.
const recordChunk = 100

// record writes checked sightings, a script call per recordChunk entries.
func (r *Redis) record(ctx context.Context, seen []Seen) error {
	sc, _ := r.scratch.Get().(*recordScratch)
	if sc == nil {
		sc = &recordScratch{latest: map[string]int{}}
	}
	defer func() {
		clear(sc.latest)
		clear(sc.order)
		clear(sc.es)
		clear(sc.args)
		sc.order, sc.es, sc.args = sc.order[:0], sc.es[:0], sc.args[:0]
		r.scratch.Put(sc)
	}()
	// The latest of the batch per member (of the same time, the smaller
	// transaction id): the script does the same against what is stored.
	latest, order, es := sc.latest, sc.order[:0], sc.es[:0]
	for _, s := range seen {
		k, ms := s.member(), s.Time.UnixMilli()
		if i, ok := latest[k]; ok {
			if later(ms, s.TxID, es[i].ms, es[i].s.TxID) {
				es[i] = sighting{ms, s}
			}
			continue
		}
		latest[k] = len(es)
		order = append(order, k)
		es = append(es, sighting{ms, s})
	}
	sc.order, sc.es = order, es
	for lo := 0; lo < len(es); lo += recordChunk {
		hi := min(lo+recordChunk, len(es))
		buf, ends := sc.buf[:0], sc.ends[:0]
		for i := lo; i < hi; i++ {
			buf = appendSeen(buf, es[i].s)
			ends = append(ends, len(buf))
		}
		args := append(sc.args[:0], r.cfg.Horizon.Milliseconds(), r.cfg.MaxEntries, max(trimLimit, 2*(hi-lo)))
		from := 0
		for i := lo; i < hi; i++ {
			end := ends[i-lo]
			args = append(args, order[i], strconv.FormatInt(es[i].ms, 10), buf[from:end:end])
			from = end
		}
		sc.buf, sc.ends, sc.args = buf, ends, args
		if err := record.Run(ctx, r.rdb, []string{r.z, r.h}, args...).Err(); err != nil {
			return fmt.Errorf("rescreen: record %d entries in Redis %s: %w", hi-lo, r.z, err)
		}
	}
	return nil
}

// scanCount is the HSCAN page size.
const scanCount = 1000

// Scan implements Registry; what Record held back is written first.
func (r *Redis) Scan(ctx context.Context, since time.Time, fn func(Seen) error) error {
	if err := r.Flush(ctx); err != nil {
		return err
	}
	top, err := r.rdb.ZRangeWithScores(ctx, r.z, -1, -1).Result()
	if err != nil {
		return fmt.Errorf("rescreen: newest entry of %s: %w", r.z, err)
	}
	if len(top) == 0 {
		return nil
	}
	cut := int64(top[0].Score) - r.cfg.Horizon.Milliseconds()
	var cursor uint64
	for {
		kv, next, err := r.rdb.HScan(ctx, r.h, cursor, "", scanCount).Result()
		if err != nil {
			return fmt.Errorf("rescreen: scan %s: %w", r.h, err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			s, err := decodeSeen([]byte(kv[i+1]))
			if err != nil {
				return fmt.Errorf("%w (field %s of %s: delete it with HDEL)", err, kv[i], r.h)
			}
			if s.Time.UnixMilli() < cut || s.Time.Before(since) {
				continue
			}
			if err := fn(s); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
