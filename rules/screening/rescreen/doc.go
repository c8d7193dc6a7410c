// Package rescreen catches newly designated entities in the payment history.
//
// The stream screens every payment's parties against the lists in force when
// the payment arrives. When the lists change (a State Department FTO
// designation, an OFAC update), a counterparty the bank paid last month may
// now be designated; screening only tomorrow's payments would miss it. So the
// stream records each counterparty it sees, with the bank's customer on the
// other side and the latest transaction between them, in a Registry (Memory,
// or Redis shared by every processor) bounded by a horizon in event time
// (Config.Horizon, 90 days by default) and a size (Config.MaxEntries). When
// new lists are swapped in, Rescreen screens that history with the new lists
// and returns the confident designated matches the old lists did not have;
// Alert turns each into a designated_party alert (spec/alert.md) whose id is
// deterministic in the account, the new lists' hash, the counterparty and the
// transaction, so running the same rescreen twice raises nothing twice.
//
// Redis layout (two keys, both under the hash tag {Prefix} so a Cluster
// keeps them in one slot): Prefix:z, a sorted set of entries scored by event
// time in unix milliseconds, and Prefix:h, a hash from the same member to the
// entry's Seen. A member is 16 characters: a truncated SHA-256 of the
// counterparty and the account. Record runs one Lua script per batch, which
// keeps the latest Seen per member (an out-of-order older payment does not
// overwrite a newer one; of two at the same time, the smaller transaction
// id, however they were batched), and trims the oldest entries beyond the
// horizon or the size bound from both keys atomically: a pipeline of
// single-key commands could not delete the hash fields of what it trims
// without a second round trip.
package rescreen
