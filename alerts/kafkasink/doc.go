// Package kafkasink writes alerts to the alerts Kafka topic, one JSON
// message per alert keyed by the subject account, so all alerts about one
// account land on one partition in order.
//
// Writes are synchronous and wait for all in-sync replicas: when Write
// returns nil the alerts are durable and the processor may commit the
// offsets of the transactions that raised them. Kafka keeps every write, so
// an alert written twice (after a redelivery) appears twice with the same id
// and version; consumers keep the highest version per id.
package kafkasink
