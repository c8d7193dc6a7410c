package canada

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// List ids and the program tag of the terrorist list.
const (
	SEMAListID      = "ca-sema"
	TerroristListID = "ca-terrorist"
	TerroristTag    = "CA-TERRORIST"
)

// LoadSEMAFile reads sema-lmes.xml from path.
func LoadSEMAFile(path string) ([]lists.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ca-sema: %w", err)
	}
	defer f.Close()
	return ParseSEMA(f, path)
}

// ParseSEMA reads the consolidated autonomous sanctions list XML. Records
// have no id of their own; Country (the regime), Schedule and Item together
// are unique, so the entry id is "<regime>/<schedule>/<item>".
func ParseSEMA(r io.Reader, name string) ([]lists.Entry, error) {
	dec := xml.NewDecoder(r)
	var out []lists.Entry
	seen := map[string]int{}
	inSet := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := dec.InputPos()
		if err != nil {
			return nil, &lists.ParseError{File: name, Line: line, Msg: err.Error()}
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !inSet {
			if se.Name.Local != "data-set" {
				return nil, &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("root element <%s>, want <data-set>", se.Name.Local)}
			}
			inSet = true
			continue
		}
		if se.Name.Local != "record" {
			return nil, &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("unexpected <%s>, want <record>", se.Name.Local)}
		}
		var rec struct {
			Fields []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		}
		if err := dec.DecodeElement(&rec, &se); err != nil {
			l, _ := dec.InputPos()
			return nil, &lists.ParseError{File: name, Line: l, Msg: err.Error()}
		}
		f := map[string]string{}
		for _, x := range rec.Fields {
			// "LastName-NomDeFamille" and "LastName" are the same field.
			key, _, _ := strings.Cut(x.XMLName.Local, "-")
			f[key] = strings.Join(strings.Fields(x.Value), " ")
		}
		e, err := semaEntry(f)
		if err != nil {
			return nil, &lists.ParseError{File: name, Line: line, Msg: err.Error()}
		}
		if prev, dup := seen[e.ID]; dup {
			return nil, &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("record %s repeats the record at line %d", e.ID, prev)}
		}
		seen[e.ID] = line
		out = append(out, e)
	}
	if !inSet {
		return nil, &lists.ParseError{File: name, Line: 1, Msg: "no <data-set> element: not the SEMA list"}
	}
	return out, nil
}

func semaEntry(f map[string]string) (lists.Entry, error) {
	regime := f["Country"]
	if i := strings.Index(regime, " / "); i > 0 {
		regime = regime[:i] // "Russia / Russie"
	}
	var e lists.Entry
	e.List = SEMAListID
	switch {
	case f["EntityOrShip"] != "":
		e.Name = f["EntityOrShip"]
		e.Type = lists.Organization
		if f["ShipIMONumber"] != "" {
			e.Type = lists.Vessel
			e.IDs = []string{"IMO " + f["ShipIMONumber"]}
		}
	case f["GivenName"] != "" || f["LastName"] != "":
		e.Name = strings.TrimSpace(f["GivenName"] + " " + f["LastName"])
		e.Type = lists.Person
	default:
		return e, fmt.Errorf("record has no LastName, GivenName or EntityOrShip")
	}
	if regime == "" || f["Item"] == "" {
		return e, fmt.Errorf("record %q has no Country or Item", e.Name)
	}
	e.ID = regime + "/" + f["Schedule"] + "/" + f["Item"]
	e.Programs = []string{"CA-SEMA-" + strings.ToUpper(strings.ReplaceAll(regime, " ", "-"))}
	e.Listed = f["DateOfListing"]
	if d := f["DateOfBirthOrShipBuildDate"]; d != "" && e.Type == lists.Person {
		e.DOBs = []string{d}
	}
	for _, a := range splitAliases(f["Aliases"]) {
		if a != e.Name {
			e.Aliases = append(e.Aliases, a)
		}
	}
	return e, nil
}

// splitAliases splits the Aliases field. Global Affairs separates aliases
// with ", " or ";"; a comma inside one alias is rare enough in this list that
// splitting on it finds more names than it breaks.
func splitAliases(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseTerrorist reads Canada's listed terrorist entities in the lists YAML
// format and tags every entry CA-TERRORIST.
func ParseTerrorist(r io.Reader, name string) ([]lists.Entry, error) {
	es, err := lists.ParseYAML(r, name, TerroristListID)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if !has(es[i].Programs, TerroristTag) {
			es[i].Programs = append(es[i].Programs, TerroristTag)
		}
	}
	return es, nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
