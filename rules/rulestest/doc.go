// Package rulestest lets rule authors check a rule set against hand-made
// events without Kafka or Redis, the way goka's tester runs a processor
// without a broker.
//
// A Tester assembles the real scoring path as production's in-memory stores
// do (scoring.New over window.NewMemory, with graph.NewMemory for the
// graph.* signals and evidence.NewMemory for the transactions behind each
// alert, the FX table of configs/fx.yaml, and alerts.NewManager over
// alerts.NewMemoryState), feeds it events in order and keeps what came
// out: the alerts at their newest version and every rule hit of every
// transaction, including hits that did not reach a typology threshold.
//
//	tr := rulestest.New(t, "../../configs/rules", "../../configs/typologies")
//	tr.FeedJSON(`{"id":"t1","time":"2025-03-03T10:00:00-05:00","kind":"cash_deposit",...}`)
//	tr.ExpectAlert("CA-001-1", "structuring")
//	tr.ExpectNoAlert("CA-001-2")
package rulestest
