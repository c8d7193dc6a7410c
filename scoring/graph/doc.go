// Package graph finds money-laundering graph patterns in the stream, one
// transfer at a time: cycles, scatter-gather, gather-scatter, bipartite
// (many-to-many) blocks, stacks of them, chains and fans (the AMLworld and
// AMLSim typologies of spec/typologies.md). It keeps a bounded list of
// recent edges per account and, for each new edge From -> To, reports the
// Signals rules test as graph.cycle_hops, graph.scatter_gather...
//
// Two stores implement Store with identical Signals on identical input:
// Redis (production) and Memory (demo, replay, tests). They share the
// engine; only the storage differs. The contract suite in graphtest runs
// against both.
//
// # Semantics
//
// Times are event times. An edge at time t sees the kept edges of its
// accounts with time in [t-Window, t], plus the earlier edges of its own
// batch, exactly as if every edge had been observed alone and in batch
// order. Paths are time-respecting: each hop of a cycle, chain or relay is
// no later than the next. Two consecutive hops are "similar" when the
// smaller amount is at least 1-AmountTolerance of the larger (0.8 by
// default, both directions: a hop may shrink or grow by up to 20 %). Fans,
// gather-scatter, bipartite and stack ignore amounts: AMLworld's amounts in
// those patterns vary by orders of magnitude.
//
// Cycles and chains come from one backward search from From over in edges
// (To is the target), breadth first, so the shortest cycle is found; among
// cycles of that length the one with the highest CycleMinRatio, then the
// first in search order (newest edges first), is reported.
//
// Edges are idempotent by TxID: a redelivered edge adds nothing and gets the
// recorded Signals of its first observation, Replayed set.
//
// # Bounds, and what they can miss
//
// Per account and direction only the newest MaxEdgesPerAccount (64) edges
// are kept (by event time, then by the encoded edge). Work per edge is
// therefore bounded whatever an account's degree: it reads at most
// 2 + MaxEdgesPerAccount + MaxFrontier accounts, creates at most
// MaxFrontier (256) search states, and scans a few lists of at most
// MaxEdgesPerAccount+1 edges per account read. A hub with 100,000 counterparties costs what a
// hub with 64 costs. The price:
//
//   - Fan degrees saturate: FanIn, FanOut and GatherScatterIn/Out count at
//     most MaxEdgesPerAccount earlier edges (plus this one), and count only
//     the newest ones when an account had more in the window.
//   - A cycle, chain or relay whose earlier hop was pushed out of an account's
//     list by newer edges of that account is not seen. Busy accounts on the
//     path (a payroll processor, an exchange) can hide a cycle through them:
//     an account with more than 64 in edges in the window keeps only the
//     newest 64.
//   - The search stops creating states after MaxFrontier per edge, newest
//     edges first: in a dense neighbourhood of similar amounts a cycle
//     reached only through older edges is missed. Cycles longer than MaxHops
//     (6) are not searched; ChainHops saturates at MaxHops.
//   - Scatter-gather sees an origin's newest 64 out edges; bipartite reads
//     the out edges of To's senders (at most 64) and stack their in edges, so
//     blocks wider than 64 on a side are seen partially.
//   - StackDepth is at most 2 (the block and the layer below it).
//   - Edges older than Window+Retain behind an account's newest edge are
//     dropped, and the memory store forgets idle accounts and idempotency
//     records Window+Retain behind the newest event; Redis forgets them by
//     TTL (Window+Retain+1h of wall-clock idleness). An edge more than Retain
//     late may therefore miss older edges, may differ between the stores,
//     and if redelivered after its record is gone is counted again.
//   - Across processes the read-compute-write of a batch is not atomic: two
//     batches touching the same account at the same moment do not see each
//     other (each edge is still stored once).
//
// # Cost in Redis
//
// A batch costs at most max(2, MaxHops-1) pipelined read round trips (5 by
// default), however many edges it has: round 1 reads the idempotency
// records and the edges of every endpoint; round L reads the accounts that
// level L of every edge's search reached. Then one pipelined write: per
// touched list ZADD, ZREMRANGEBYSCORE, ZREMRANGEBYRANK, PEXPIRE, and a SET NX
// of each new edge's record.
package graph
