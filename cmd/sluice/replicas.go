package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// replicaWait holds each offset commit until n Redis replicas have every
// write the masters acknowledged before it (redis.wait_replicas), so that
// a failover to a replica loses nothing whose offset was committed.
//
// WAIT counts only the writes of its own connection, so it follows a write
// of its own; replication is one ordered stream per master, so a replica
// that has that write has every earlier one, whichever connection made it.
// On a Cluster each master has its own stream: each gets its own write, to
// a key of its slots, and its own WAIT.
type replicaWait struct {
	rdb     redis.UniversalClient
	key     string
	n       int
	timeout time.Duration

	mu   sync.Mutex
	keys map[string]string // cluster: a master's address -> a key it serves
}

func newReplicaWait(rdb redis.UniversalClient, key string, n int, timeout time.Duration) *replicaWait {
	return &replicaWait{rdb: rdb, key: key, n: n, timeout: timeout, keys: map[string]string{}}
}

// Wait returns nil once the replicas have the writes, or an error after
// the timeout: the commit is then retried with the next one.
func (w *replicaWait) Wait(ctx context.Context) error {
	switch c := w.rdb.(type) {
	case *redis.Client: // one server, or the master Sentinel names
		return w.waitOn(ctx, c, w.key)
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			key, err := w.keyOf(ctx, c, m.Options().Addr)
			if err == nil {
				err = w.waitOn(ctx, m, key)
			}
			if err != nil {
				w.mu.Lock()
				delete(w.keys, m.Options().Addr) // the slots may have moved
				w.mu.Unlock()
			}
			return err
		})
	}
	return fmt.Errorf("redis: cannot wait for the replicas of a %T", w.rdb)
}

func (w *replicaWait) waitOn(ctx context.Context, c *redis.Client, key string) error {
	conn := c.Conn()
	defer conn.Close()
	if err := conn.Set(ctx, key, time.Now().UnixMilli(), time.Hour).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", c.Options().Addr, err)
	}
	got, err := conn.Wait(ctx, w.n, w.timeout).Result()
	if err != nil {
		return fmt.Errorf("redis %s: WAIT: %w", c.Options().Addr, err)
	}
	if got < int64(w.n) {
		return fmt.Errorf("redis %s: %d of %d replicas acknowledged the writes within %s; the offsets wait", c.Options().Addr, got, w.n, w.timeout)
	}
	return nil
}

// keyOf returns a key of the slots the master at addr serves.
func (w *replicaWait) keyOf(ctx context.Context, c *redis.ClusterClient, addr string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k, ok := w.keys[addr]; ok {
		return k, nil
	}
	// A master serves a third of the slots of three: a few tries find one.
	for i := 0; i < 10_000; i++ {
		k := w.key + ":{" + strconv.Itoa(i) + "}"
		m, err := c.MasterForKey(ctx, k)
		if err != nil {
			return "", err
		}
		if m.Options().Addr == addr {
			w.keys[addr] = k
			return k, nil
		}
	}
	return "", errors.New("redis: no key of master " + addr + " found")
}
