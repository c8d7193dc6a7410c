// Package gen generates a realistic, deterministic stream of transaction
// events for a synthetic bank in Canada, the United States and Mexico:
// ordinary behaviour (payroll, card spend, bills, rent, P2P among friends,
// remittances, students' family support, cash businesses, chemical and
// produce importers, crypto hobbyists, home purchases), every typology of
// spec/typologies.md injected with the catalogue's default parameters and
// realistic variation, partial patterns that stop short of them, and benign
// look-alikes. Labels say which transactions make each injected instance, so
// that detection quality can be measured (internal/eval).
//
// The same Config (seed included) always gives byte-identical output. Events
// are produced day by day and emitted in event-time order, so memory stays
// bounded by about two days of events however long the stream.
package gen
