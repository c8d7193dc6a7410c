// Package scoring scores each transaction: it updates the sliding windows of
// both parties (one store round trip per batch), screens their names and
// wallets, evaluates the rule set for each party's account and weighs the
// hits into typology scores. Its output, a Finding per party whose
// typologies reached their thresholds, is what the alerts package turns into
// alerts.
package scoring
