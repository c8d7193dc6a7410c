// Package rules is Sluice's rule language: named window features, rules whose
// conditions are expr expressions over the event, its parties and those
// features, and typologies that weigh rules into a score with a threshold.
//
// A rule set is loaded from YAML files (configs/rules, configs/typologies),
// compiled once against a typed environment so that a misspelt field, feature
// or parameter is a load error naming the file, line and rule, and hashed so
// that every alert names the exact rule set that raised it. Holder swaps a
// new set in atomically on reload and keeps the old one when the new one is
// invalid.
package rules
