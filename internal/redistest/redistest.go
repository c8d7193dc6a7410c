// Package redistest connects tests to the real Redis that deploy/test.sh
// starts (127.0.0.1:6379, or SLUICE_TEST_REDIS), under a key prefix private
// to the test and removed when it ends. Tests talk to Redis itself, never to
// a mock, and fail with how to fix it when Redis is not there.
package redistest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the test Redis: SLUICE_TEST_REDIS, or 127.0.0.1:6379.
func Addr() string {
	if a := os.Getenv("SLUICE_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

var seq atomic.Int64

// Client returns a client of the test Redis and a key prefix unique to this
// test ("sluicetest:<name>:<n>:", no braces, so it can sit before a hash
// tag). Every key under the prefix is deleted and the client closed when
// the test ends.
func Client(tb testing.TB, name string) (*redis.Client, string) {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: Addr(), PoolSize: 16})
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		tb.Fatalf("Redis at %s is not answering: run deploy/test.sh (it starts one) or set SLUICE_TEST_REDIS: %v", Addr(), err)
	}
	name = strings.NewReplacer("{", "", "}", "", " ", "_", "/", "_").Replace(name)
	prefix := fmt.Sprintf("sluicetest:%s:%d.%d:", name, time.Now().UnixNano(), seq.Add(1))
	tb.Cleanup(func() {
		if err := Clean(ctx, client, prefix); err != nil {
			tb.Errorf("cleaning up %s: %v", prefix, err)
		}
		client.Close()
	})
	return client, prefix
}

// Clean deletes every key under prefix, including those that wrap it in a
// Redis Cluster hash tag ("{prefix...}:z").
func Clean(ctx context.Context, client redis.UniversalClient, prefix string) error {
	for _, pattern := range []string{prefix + "*", "{" + prefix + "*"} {
		if err := clean(ctx, client, pattern); err != nil {
			return err
		}
	}
	return nil
}

func clean(ctx context.Context, client redis.UniversalClient, pattern string) error {
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
