package casequeue

import (
	"context"
	"fmt"
	"github.com/sluice-aml/sluice/internal/redistest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
)

var keySeq atomic.Int64

// newTestRedis connects, picks a key no other test uses and deletes every
// key under it when the test ends.
func newTestRedis(t *testing.T) (*Redis, *redis.Client) {
	t.Helper()
	ctx := context.Background()
	rdb, _ := redistest.Client(t, "casequeue")
	key := fmt.Sprintf("sluice-test:%d:%d:cases", os.Getpid(), keySeq.Add(1))
	q, err := NewRedis(ctx, rdb, RedisConfig{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys, err := rdb.Keys(ctx, "{"+key+"}*").Result()
		if err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return q, rdb
}

func TestRedis(t *testing.T) {
	testQueue(t, func(t *testing.T) Queue {
		q, _ := newTestRedis(t)
		return q
	})
}

// The stream holds one entry per new alert and per higher version, never
// one per write, and its consumer group follows claims and closes.
func TestRedisStream(t *testing.T) {
	ctx := context.Background()
	q, rdb := newTestRedis(t)
	as := loadAlerts(t)
	for range 3 { // redelivery: the same batch three times
		if err := q.Put(ctx, as); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.XLen(ctx, q.StreamKey()).Val(); n != int64(len(as)) {
		t.Fatalf("stream has %d entries after 3 identical puts of %d alerts, want %d", n, len(as), len(as))
	}
	v2 := as[0]
	v2.Version = 2
	if err := q.Put(ctx, []alerts.Alert{v2, v2, as[0]}); err != nil {
		t.Fatal(err)
	}
	msgs := rdb.XRange(ctx, q.StreamKey(), "-", "+").Val()
	if len(msgs) != len(as)+1 {
		t.Fatalf("stream has %d entries after an update, want %d", len(msgs), len(as)+1)
	}
	last := msgs[len(msgs)-1].Values
	if last["id"] != v2.ID || last["version"] != "2" || last["kind"] != "update" {
		t.Errorf("update entry = %v, want id %s version 2 kind update", last, v2.ID)
	}

	// An analysts' tool reading with the group sees every entry once.
	got, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: q.Group(), Consumer: "tool-1", Streams: []string{q.StreamKey(), ">"}, Count: 100, Block: -1,
	}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Messages); n != len(as)+1 {
		t.Fatalf("XREADGROUP delivered %d entries, want %d", n, len(as)+1)
	}

	// Claim moves both entries of the alert (v1 and v2) to the analyst.
	if err := q.Claim(ctx, v2.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	pend := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: q.StreamKey(), Group: q.Group(), Start: "-", End: "+", Count: 100, Consumer: "ana"}).Val()
	if len(pend) != 2 {
		t.Errorf("analyst ana holds %d pending entries after claim, want 2 (v1 and v2)", len(pend))
	}
	// An update while claimed is pending with the claimer too.
	v3 := v2
	v3.Version = 3
	if err := q.Put(ctx, []alerts.Alert{v3}); err != nil {
		t.Fatal(err)
	}
	pend = rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: q.StreamKey(), Group: q.Group(), Start: "-", End: "+", Count: 100, Consumer: "ana"}).Val()
	if len(pend) != 3 {
		t.Errorf("analyst ana holds %d pending entries after an update, want 3", len(pend))
	}
	if err := q.Close(ctx, v2.ID, "ana", Escalated, "to MLRO"); err != nil {
		t.Fatal(err)
	}
	pend = rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: q.StreamKey(), Group: q.Group(), Start: "-", End: "+", Count: 100, Consumer: "ana"}).Val()
	if len(pend) != 0 {
		t.Errorf("analyst ana holds %d pending entries after close, want 0 (acknowledged)", len(pend))
	}
}

// A Redis restart empties the script cache; Put must heal by itself.
func TestRedisScriptFlush(t *testing.T) {
	ctx := context.Background()
	q, rdb := newTestRedis(t)
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	as := loadAlerts(t)
	if err := q.Put(ctx, as); err != nil {
		t.Fatalf("Put after SCRIPT FLUSH: %v", err)
	}
	rdb.ScriptFlush(ctx)
	if err := q.Claim(ctx, as[0].ID, "ana"); err != nil {
		t.Fatalf("Claim after SCRIPT FLUSH: %v", err)
	}
}

func TestRedisConfigValidate(t *testing.T) {
	tests := []struct {
		in      RedisConfig
		wantErr bool
	}{
		{RedisConfig{}, false},
		{RedisConfig{Key: "bank:{cases}"}, true},
		{RedisConfig{WaitReplicas: -1}, true},
	}
	for _, tt := range tests {
		c := tt.in
		err := c.Validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("Validate(%+v) error %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil && (c.Key != DefaultKey || c.Group != DefaultGroup || c.WaitTimeout != DefaultWaitTimeout) {
			t.Errorf("Validate(%+v) did not fill defaults: %+v", tt.in, c)
		}
	}
}

// With WaitReplicas set and no replica, Put must report the write is not
// as durable as asked rather than return success.
func TestRedisWaitReplicas(t *testing.T) {
	ctx := context.Background()
	_, rdb := newTestRedis(t)
	key := fmt.Sprintf("sluice-test:%d:wait:cases", os.Getpid())
	q, err := NewRedis(ctx, rdb, RedisConfig{Key: key, WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		keys, _ := rdb.Keys(ctx, "{"+key+"}*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	}()
	if err := q.Put(ctx, loadAlerts(t)[:1]); err == nil {
		t.Error("Put with WaitReplicas 1 and no replica succeeded")
	}
}

func BenchmarkRedisPut(b *testing.B) {
	ctx := context.Background()
	rdb, _ := redistest.Client(b, "casequeue-bench")
	key := fmt.Sprintf("sluice-bench:%d:cases", os.Getpid())
	q, err := NewRedis(ctx, rdb, RedisConfig{Key: key})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		keys, _ := rdb.Keys(ctx, "{"+key+"}*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	}()
	base := loadAlerts(b)[0]
	batch := make([]alerts.Alert, 10)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		for j := range batch {
			a := base
			a.ID = fmt.Sprintf("al-%d", i)
			i++
			batch[j] = a
		}
		if err := q.Put(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "alerts/s")
}
