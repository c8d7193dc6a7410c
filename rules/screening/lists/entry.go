package lists

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Entry types. Lists spell them many ways; sources map theirs onto these.
const (
	Person       = "person"
	Organization = "organization"
	Vessel       = "vessel"
	Aircraft     = "aircraft"
)

// Entry is one designated party as a list publishes it.
type Entry struct {
	List          string   `json:"list"`               // ofac-sdn, un, ca-sema, ca-terrorist, us-fto, internal
	ID            string   `json:"id"`                 // the publisher's id (OFAC ent_num, UN reference number...)
	Type          string   `json:"type"`               // Person, Organization, Vessel, Aircraft
	Name          string   `json:"name"`               // primary name as published
	Aliases       []string `json:"aliases,omitempty"`  // a.k.a., f.k.a., original script
	Programs      []string `json:"programs,omitempty"` // FTO, SDGT, SDNTK, ILLICIT-DRUGS-EO14059, ...
	Wallets       []string `json:"wallets,omitempty"`  // digital currency addresses, as published
	IDs           []string `json:"ids,omitempty"`      // "Passport 123 (Mexico)"-style identifiers, kind first
	DOBs          []string `json:"dobs,omitempty"`
	Nationalities []string `json:"nationalities,omitempty"`
	Listed        string   `json:"listed,omitempty"` // designation date, YYYY-MM-DD when known
}

// Names returns the primary name followed by the aliases.
func (e *Entry) Names() []string {
	out := make([]string, 0, 1+len(e.Aliases))
	out = append(out, e.Name)
	return append(out, e.Aliases...)
}

// ParseError is what every list parser returns for a malformed file: the file,
// the line (1-based, 0 when unknown) and what is wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	f := e.File
	if f == "" {
		f = "list"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", f, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", f, e.Msg)
}

// Set is every entry loaded from every source, with the hash alerts carry.
type Set struct {
	Entries []Entry
	hash    string
}

// NewSet sorts the entries by list and id (so the hash does not depend on the
// order files were read in) and computes the content hash.
func NewSet(entries []Entry) *Set {
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].List != entries[j].List {
			return entries[i].List < entries[j].List
		}
		return entries[i].ID < entries[j].ID
	})
	h := sha256.New()
	enc := json.NewEncoder(h)
	for i := range entries {
		// Encoding a struct cannot fail.
		_ = enc.Encode(&entries[i])
	}
	return &Set{Entries: entries, hash: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// Hash is "sha256:" and the hex digest of the canonical JSON of the entries.
func (s *Set) Hash() string { return s.hash }

// Counts returns the number of entries per list id.
func (s *Set) Counts() map[string]int {
	m := map[string]int{}
	for i := range s.Entries {
		m[s.Entries[i].List]++
	}
	return m
}

// NormalizeType maps a publisher's type word onto Person, Organization,
// Vessel or Aircraft; anything unknown is an organization, since lists only
// mark the exceptions.
func NormalizeType(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "individual", "person", "people", "indiv":
		return Person
	case "vessel", "ship":
		return Vessel
	case "aircraft":
		return Aircraft
	default:
		return Organization
	}
}
