// Package filesink writes alerts as JSON Lines (spec/alert.md), one
// json.Marshal of alerts.Alert per line, for replay and for a file copy of a
// live run. The bytes depend only on the alerts, so two replays of the same
// stream give identical files.
//
// The sink is idempotent by alert id and version: an alert version written
// once is not written again (a redelivered event, a replay of an overlap),
// while a higher version of the same alert is written as a new line.
package filesink
