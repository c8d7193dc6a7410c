package lists

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML list format, used for lists written by hand (FTO, Canada's listed
// terrorist entities, internal watch lists):
//
//	list: us-fto
//	source: https://www.state.gov/foreign-terrorist-organizations/
//	entries:
//	  - id: "2025-02-20-sinaloa"
//	    name: Cartel de Sinaloa
//	    type: organization
//	    aliases: [Sinaloa Cartel]
//	    programs: [FTO, SDGT]
//	    listed: 2025-02-20
//	    wallets: []
//	    ids: []
type yamlFile struct {
	List    string      `yaml:"list"`
	Source  string      `yaml:"source"`
	Note    string      `yaml:"note"`
	Entries []yaml.Node `yaml:"entries"`
}

type yamlEntry struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Type          string   `yaml:"type"`
	Aliases       []string `yaml:"aliases"`
	Programs      []string `yaml:"programs"`
	Wallets       []string `yaml:"wallets"`
	IDs           []string `yaml:"ids"`
	DOBs          []string `yaml:"dobs"`
	Nationalities []string `yaml:"nationalities"`
	Listed        string   `yaml:"listed"`
	Note          string   `yaml:"note"`
}

var entryFields = map[string]bool{"id": true, "name": true, "type": true, "aliases": true, "programs": true, "wallets": true, "ids": true, "dobs": true, "nationalities": true, "listed": true, "note": true}

var (
	listIDRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	dateRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// ParseYAML reads a list in the YAML format. name is used in errors. When
// wantList is not empty the file's list id must equal it.
func ParseYAML(r io.Reader, name, wantList string) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	var f yamlFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if err == io.EOF {
			return nil, &ParseError{File: name, Line: 1, Msg: "empty file: want a mapping with list and entries"}
		}
		return nil, &ParseError{File: name, Line: yamlLine(err), Msg: err.Error()}
	}
	if !listIDRe.MatchString(f.List) {
		return nil, &ParseError{File: name, Line: 1, Msg: fmt.Sprintf("list: %q is not a list id (lower case letters, digits and '-')", f.List)}
	}
	if wantList != "" && f.List != wantList {
		return nil, &ParseError{File: name, Line: 1, Msg: fmt.Sprintf("list: got %q, want %q", f.List, wantList)}
	}
	seen := map[string]int{}
	out := make([]Entry, 0, len(f.Entries))
	for i := range f.Entries {
		n := &f.Entries[i]
		if n.Kind != yaml.MappingNode {
			return nil, &ParseError{File: name, Line: n.Line, Msg: fmt.Sprintf("entry %d: want a mapping with id and name", i+1)}
		}
		for k := 0; k+1 < len(n.Content); k += 2 {
			if key := n.Content[k]; !entryFields[key.Value] {
				return nil, &ParseError{File: name, Line: key.Line, Msg: fmt.Sprintf("entry %d: unknown field %q (known: id, name, type, aliases, programs, wallets, ids, dobs, nationalities, listed, note)", i+1, key.Value)}
			}
		}
		var y yamlEntry
		if err := n.Decode(&y); err != nil {
			return nil, &ParseError{File: name, Line: n.Line, Msg: fmt.Sprintf("entry %d: %v", i+1, err)}
		}
		bad := func(msg string) error {
			return &ParseError{File: name, Line: n.Line, Msg: fmt.Sprintf("entry %d (%s): %s", i+1, y.ID, msg)}
		}
		y.ID, y.Name = strings.TrimSpace(y.ID), strings.TrimSpace(y.Name)
		switch {
		case y.ID == "":
			return nil, bad("id is missing")
		case y.Name == "":
			return nil, bad("name is missing")
		case y.Listed != "" && !dateRe.MatchString(y.Listed):
			return nil, bad(fmt.Sprintf("listed: %q is not a YYYY-MM-DD date", y.Listed))
		}
		if prev, dup := seen[y.ID]; dup {
			return nil, bad(fmt.Sprintf("id %q already used at line %d", y.ID, prev))
		}
		seen[y.ID] = n.Line
		t := Organization
		if y.Type != "" {
			t = NormalizeType(y.Type)
			if t == Organization && !strings.EqualFold(y.Type, "organization") && !strings.EqualFold(y.Type, "entity") {
				return nil, bad(fmt.Sprintf("type: %q, want person, organization, vessel or aircraft", y.Type))
			}
		}
		out = append(out, Entry{
			List: f.List, ID: y.ID, Type: t, Name: y.Name,
			Aliases: clean(y.Aliases), Programs: upper(clean(y.Programs)),
			Wallets: clean(y.Wallets), IDs: clean(y.IDs), DOBs: clean(y.DOBs),
			Nationalities: clean(y.Nationalities), Listed: y.Listed,
		})
	}
	return out, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscanf(m[1], "%d", &n)
	return n
}

func clean(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func upper(in []string) []string {
	for i := range in {
		in[i] = strings.ToUpper(in[i])
	}
	return in
}
