// Package telemetry holds Sluice's OpenTelemetry metrics and tracer, exported
// to Prometheus on /metrics.
//
// The processor's hot path calls small methods (EventsIn, RuleHit,
// EndToEnd, ...) that record into instruments built once in New, with their
// attribute sets built once per label value, so a call costs a map lookup
// and an atomic add, not an allocation.
//
// Labels carry only bounded, non-personal values (topics, reasons, rule and
// typology ids, sinks). Never label a metric with an account, customer or
// name: metrics are served without authentication.
package telemetry
