// Package broker runs an in-process Kafka-protocol broker (franz-go's kfake)
// on 127.0.0.1, so that `sluice demo`, `sluice bench` and the tests talk the
// real Kafka wire protocol over TCP without anything installed.
//
// It is a test and demo broker: everything is kept in memory and lost on
// Close. Production deployments point Sluice at a real Kafka cluster.
package broker
