// Package alerts is Sluice's way out: the alert of spec/alert.md, the
// cool-down that turns repeated evidence into updates of one alert, and the
// sinks (Kafka topic, Redis Stream case queue, JSON Lines file). Every sink is
// idempotent by alert id and version, so a redelivered event never makes a
// second alert.
package alerts
