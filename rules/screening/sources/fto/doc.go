// Package fto reads the US State Department's Foreign Terrorist Organization
// list. The Department publishes it as a web page only, so Sluice ships it as
// configs/lists/fto.yaml in the lists YAML format, written from the public
// record with each designation date; this package enforces what makes that
// file trustworthy: list id "us-fto", the FTO program on every entry, and a
// designation date on every entry.
package fto
