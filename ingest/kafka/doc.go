// Package kafka is Sluice's way in from Kafka and the dead-letter way out,
// built on segmentio/kafka-go.
//
// Source consumes a topic as a member of a consumer group and hands the
// messages to a Handler in batches. Messages of one partition are handed over
// in offset order, never concurrently, and an offset is committed only after
// the handler returned nil for the batch holding it. With Workers > 1,
// batches of different partitions are handled at once (a partition in one
// batch at a time, taken by whichever worker is free), so the handler must
// be safe for concurrent use. When the handler fails
// (Redis or the alert sink is down) the Source pauses, retries the same batch
// with exponential backoff and resumes by itself once it succeeds, so the
// stream is delivered at least once and the handler must be idempotent.
//
// DeadLetter writes rejected messages unchanged (key and value byte for byte)
// to the dead-letter topic, with headers saying why and where they came from.
// Producer loads messages into a topic fast, for demo, bench and tests.
package kafka
