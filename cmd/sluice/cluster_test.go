package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts/casequeue"
	"github.com/sluice-aml/sluice/internal/config"
)

// startRedisCluster starts a Redis Cluster of the test's own, of masters
// with replicas each, and returns the nodes' addresses once every slot is
// served and every replica is in sync.
func startRedisCluster(t *testing.T, masters, replicas int) []string {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli is not installed: run deploy/test.sh (it installs Debian's redis-server and redis-tools)")
	}
	var addrs []string
	for i := 0; i < masters*(1+replicas); i++ {
		port, dir := freePort(t), t.TempDir()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		runRedis(t, &redis.Options{Addr: addr}, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", dir+"/nodes.conf", "--save", "", "--appendonly", "no", "--dir", dir)
		addrs = append(addrs, addr)
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		synced := func() bool {
			info := c.Info(ctx, "replication").Val()
			return !strings.Contains(info, "role:master") || strings.Count(info, "state=online") == replicas
		}
		for !strings.Contains(c.ClusterInfo(ctx).Val(), "cluster_state:ok") || !synced() {
			if ctx.Err() != nil {
				t.Fatalf("cluster never became ok at %s", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return addrs
}

// TestRedisCluster runs the processor with every store (windows, graph,
// evidence, alert state, counterparty history) and the case queue on a
// real Redis Cluster of three masters, through the client sluice run makes
// from several addresses. Every script and pipeline must keep to one slot
// (a CROSSSLOT error fails the run), and the alerts and every window value
// must be those of the memory stores on the same stream.
func TestRedisCluster(t *testing.T) {
	evs, raw := testStream(t, 300, 9)
	p, cfg, mem, memSt := cleanRun(t, raw, func(cfg *config.Config) (stores, error) { return memoryStores(cfg), nil })
	cfg.Redis.Addrs = startRedisCluster(t, 3, 0)
	rdb := redisOf(t, cfg)
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("several addresses gave a %T, not a cluster client", rdb)
	}
	clusterSt, err := redisStores(cfg, rdb, "sluice-test:", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pc, c := onStream(t, p, cfg, raw)
	clu := newRunSink()
	consumeUntil(t, pc, c, clusterSt, clu, len(raw), false)
	sameAsClean(t, p, evs, mem, memSt, clu, clusterSt, "on the cluster (the clean run: the memory stores)")

	ctx := context.Background()
	cases, err := casequeue.NewRedis(ctx, rdb, casequeue.RedisConfig{Key: "sluice-test:cases"})
	if err != nil {
		t.Fatal(err)
	}
	as := mem.sorted()
	if err := cases.Put(ctx, as); err != nil {
		t.Fatal(err)
	}
	got, err := cases.List(ctx, casequeue.Filter{Limit: casequeue.MaxLimit})
	if err != nil || len(got) != len(as) {
		t.Errorf("case queue on the cluster: %d cases of %d alerts, %v", len(got), len(as), err)
	}

	// The keys must be spread over the masters, or this proved nothing
	// about slots.
	cc := rdb.(*redis.ClusterClient)
	var (
		mu    sync.Mutex
		sizes []int64
	)
	cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { // at once, on every master
		n := c.DBSize(ctx).Val()
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, n)
		return nil
	})
	if len(sizes) != 3 {
		t.Errorf("%d masters answered, want 3", len(sizes))
	}
	for _, n := range sizes {
		if n == 0 {
			t.Errorf("a master holds no key (%v): the keys did not spread over the slots", sizes)
		}
	}
	t.Logf("%d events, %d alerts identical; keys per master %v", len(raw), len(mem.alerts), sizes)
}

// TestReplicaWaitCluster: on a Cluster, redis.wait_replicas waits on every
// master for its own replicas.
func TestReplicaWaitCluster(t *testing.T) {
	cfg := testConfig(t)
	cfg.Redis.Addrs = startRedisCluster(t, 3, 1)
	rdb := redisOf(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Writes on every master, then the wait.
	for i := 0; i < 100; i++ {
		if err := rdb.Set(ctx, "sluice-test:k"+strconv.Itoa(i), i, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	w := newReplicaWait(rdb, "sluice-test:durable", 1, 2*time.Second)
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("one replica a master: %v", err)
	}
	if len(w.keys) != 3 {
		t.Errorf("waited on %d masters, want 3", len(w.keys))
	}
	if err := newReplicaWait(rdb, "sluice-test:durable", 2, 200*time.Millisecond).Wait(ctx); err == nil || !strings.Contains(err.Error(), "1 of 2 replicas") {
		t.Errorf("two replicas asked of masters that have one: %v", err)
	}
}
