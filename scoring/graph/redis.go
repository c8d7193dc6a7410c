package graph

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

// ttlSlack is added to every key's TTL so that a key outlives, in wall-clock
// time, the event time that still needs it when the stream lags a little.
const ttlSlack = time.Hour

// Redis is the production Store. Keys, for prefix P:
//
//	P{<account>}:i  ZSET of the account's kept in edges, member
//	                "<len(peer)>:<peer>|<amount>|<time>|<tx>", score = time
//	P{<account>}:o  the same for out edges
//	Px:<tx>         the Signals recorded for a tx (JSON)
//
// All keys expire Window + Retain + 1h after their last write. A batch costs
// at most max(2, MaxHops-1) pipelined read round trips (round 1: records and
// the endpoints' edges; round L: the accounts level L of the search reached,
// for every edge of the batch at once) and one pipelined write.
//
// The read-compute-write is not atomic across processes: two processes
// writing edges of the same account at the same moment do not see each
// other's edges in that batch (the edges themselves are kept, and the
// idempotency record is written with SET NX, so the first result wins).
type Redis struct {
	client redis.UniversalClient
	cfg    Config
	prefix string
	ttl    time.Duration
	last   atomic.Pointer[stats]
}

// NewRedis returns a Redis store. The caller owns client. prefix starts
// every key (default "sluice:g:") and must not contain '{' or '}'.
func NewRedis(client redis.UniversalClient, cfg Config, prefix string) (*Redis, error) {
	if client == nil {
		return nil, errors.New("graph: redis client is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "sluice:g:"
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("graph: redis prefix %q must not contain '{' or '}'", prefix)
	}
	return &Redis{client: client, cfg: cfg, prefix: prefix, ttl: cfg.Window + cfg.Retain + ttlSlack}, nil
}

// Observe implements Store.
func (r *Redis) Observe(ctx context.Context, edges []Edge) ([]Signals, error) {
	out, st, err := observe(ctx, &r.cfg, (*redisBackend)(r), edges)
	r.last.Store(&st)
	return out, err
}

// Ping reports whether Redis is reachable.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("graph: redis ping: %w", err)
	}
	return nil
}

type redisBackend Redis

func (r *redisBackend) key(account string, in bool) string {
	if in {
		return r.prefix + "{" + account + "}:i"
	}
	return r.prefix + "{" + account + "}:o"
}

func (r *redisBackend) read(ctx context.Context, txs, accounts []string, lo int64) (map[string]Signals, map[string]*adjacency, error) {
	pipe := r.client.Pipeline()
	recCmds := make([]*redis.StringCmd, len(txs))
	for i, tx := range txs {
		recCmds[i] = pipe.Get(ctx, r.prefix+"x:"+tx)
	}
	by := &redis.ZRangeBy{Min: strconv.FormatInt(lo, 10), Max: "+inf"}
	adjCmds := make([][2]*redis.StringSliceCmd, len(accounts))
	for i, a := range accounts {
		adjCmds[i][0] = pipe.ZRangeByScore(ctx, r.key(a, true), by)
		adjCmds[i][1] = pipe.ZRangeByScore(ctx, r.key(a, false), by)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("graph: redis read: %w", err)
	}
	recs := map[string]Signals{}
	for i, c := range recCmds {
		b, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("graph: redis read record of tx %s: %w", txs[i], err)
		}
		s, err := decodeSignals(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (key %sx:%s)", err, r.prefix, txs[i])
		}
		recs[txs[i]] = s
	}
	adj := make(map[string]*adjacency, len(accounts))
	for i, a := range accounts {
		x := &adjacency{}
		for d, l := range []*[]half{&x.in, &x.out} {
			members, err := adjCmds[i][d].Result()
			if err != nil {
				return nil, nil, fmt.Errorf("graph: redis read edges: %w", err)
			}
			if len(members) == 0 {
				continue
			}
			*l = make([]half, len(members))
			for k, m := range members {
				h, err := decodeMember(m)
				if err != nil {
					return nil, nil, fmt.Errorf("graph: redis key %s: member %q: %v", adjCmds[i][d].Args()[1], m, err)
				}
				(*l)[k] = h
			}
		}
		adj[a] = x
	}
	return recs, adj, nil
}

func (r *redisBackend) write(ctx context.Context, w *writeSet) error {
	pipe := r.client.Pipeline()
	n := int64(r.cfg.MaxEdgesPerAccount)
	for _, lw := range w.lists {
		k := r.key(lw.account, lw.in)
		zs := make([]redis.Z, len(lw.add))
		for i, h := range lw.add {
			zs[i] = redis.Z{Score: float64(h.Time), Member: h.member}
		}
		pipe.ZAdd(ctx, k, zs...)
		pipe.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(lw.cutoff, 10))
		pipe.ZRemRangeByRank(ctx, k, 0, -n-1)
		pipe.PExpire(ctx, k, r.ttl)
	}
	for _, rec := range w.records {
		b, err := encodeSignals(&rec.sig)
		if err != nil {
			return err
		}
		pipe.SetNX(ctx, r.prefix+"x:"+rec.tx, b, r.ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("graph: redis write: %w", err)
	}
	return nil
}
