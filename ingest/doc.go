// Package ingest is Sluice's way in: the canonical transaction event of
// spec/transaction.md, its strict decoder, and the sources that feed events to
// the scoring path (Kafka in production, JSON Lines files for replay).
//
// Every rejection is a *DecodeError naming the field and a machine-readable
// reason; sources route rejected input, unchanged, to the dead-letter
// destination with that reason so that bad input never stops the stream.
package ingest
