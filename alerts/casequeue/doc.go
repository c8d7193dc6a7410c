// Package casequeue is the analysts' case queue: every alert the processor
// raises becomes a case that an analyst claims and closes with a
// disposition.
//
// Two implementations share one contract (queue_test.go runs the same suite
// against both): Redis, for production, where new and updated cases are
// appended to a Redis Stream with a consumer group so analysts' own tools can
// take work with XREADGROUP, and Memory, for the demo and tests.
//
// Put is idempotent by alert id and version: writing an alert twice leaves
// one case and one stream entry; a higher version replaces the stored alert
// and is appended as an update; a lower or equal version is ignored. Put
// returns only once the write is acknowledged, so the processor may commit
// its Kafka offsets after it.
package casequeue
