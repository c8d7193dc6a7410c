// Package lists holds what every designated-entity list source produces: the
// Entry, the Set of entries from all sources with its content hash, the
// simple YAML list format shared by the State Department FTO list, Canada's
// listed terrorist entities and a bank's internal watch list, and the
// ParseError every parser returns so a broken file names its line.
//
// The parsers live in one package per publisher under
// rules/screening/sources, as moov-io/watchman does, so that a change in one
// publisher's format touches one package.
package lists
