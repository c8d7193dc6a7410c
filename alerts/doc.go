// Package alerts is Sluice's way out: the alert of spec/alert.md, the
// cool-down that turns repeated evidence into updates of one alert, and the
// sinks (Kafka topic, Redis Stream case queue, JSON Lines file). Every sink is
// idempotent by alert id and version, so a redelivered event never makes a
// second alert. The alert state (State: memory, or Redis shared by every
// processor of the stream) is reserved before the alerts are written, so
// that processors raising on one subject at once make one alert, at
// consecutive versions (Manager.Raise).
package alerts
