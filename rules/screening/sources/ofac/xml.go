package ofac

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// XMLFile is the name OFAC publishes the SDN list under in XML.
const XMLFile = "sdn.xml"

// xmlEntry is one <sdnEntry>. Tags carry no namespace so both the current
// (sanctionslistservice.ofac.treas.gov) and the older (tempuri.org)
// namespaces match. Addresses, places of birth and vessel details are not
// screened and so not decoded.
type xmlEntry struct {
	UID           string   `xml:"uid"`
	FirstName     string   `xml:"firstName"`
	LastName      string   `xml:"lastName"`
	SDNType       string   `xml:"sdnType"`
	Remarks       string   `xml:"remarks"`
	Programs      []string `xml:"programList>program"`
	AKAs          []xmlAKA `xml:"akaList>aka"`
	IDs           []xmlID  `xml:"idList>id"`
	Nationalities []string `xml:"nationalityList>nationality>country"`
	Citizenships  []string `xml:"citizenshipList>citizenship>country"`
	DOBs          []string `xml:"dateOfBirthList>dateOfBirthItem>dateOfBirth"`
}

type xmlAKA struct {
	Type      string `xml:"type"`
	Category  string `xml:"category"`
	FirstName string `xml:"firstName"`
	LastName  string `xml:"lastName"`
}

type xmlID struct {
	Type    string `xml:"idType"`
	Number  string `xml:"idNumber"`
	Country string `xml:"idCountry"`
}

// LoadXMLFile reads an sdn.xml file; errors name the path and line.
func LoadXMLFile(path string) ([]lists.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ofac: %w", err)
	}
	defer f.Close()
	es, err := ReadXML(f)
	var pe *lists.ParseError
	if errors.As(err, &pe) {
		pe.File = path
	}
	return es, err
}

// ReadXML reads the SDN list in OFAC's XML form (sdn.xml) into the same
// entries Parse makes from the legacy CSV files, sorted by uid. The file is
// about 100 MB, so it is decoded one <sdnEntry> at a time. Errors are
// *lists.ParseError naming the line.
func ReadXML(r io.Reader) ([]lists.Entry, error) {
	d := xml.NewDecoder(r)
	var out []lists.Entry
	seen := map[string]bool{}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, xmlErr(d, "no <sdnList> element: not an OFAC sdn.xml file")
		}
		if err != nil {
			return nil, syntaxErr(d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "sdnList" {
					// sdn_advanced.xml and the consolidated list use other
					// schemas; say so rather than load nothing.
					return nil, xmlErr(d, fmt.Sprintf("root element is <%s>, want <sdnList> (the SDN list in sdn.xml format)", t.Name.Local))
				}
				continue
			}
			if t.Name.Local != "sdnEntry" {
				if err := d.Skip(); err != nil {
					return nil, syntaxErr(d, err)
				}
				depth--
				continue
			}
			line, _ := d.InputPos()
			var x xmlEntry
			if err := d.DecodeElement(&x, &t); err != nil {
				return nil, syntaxErr(d, err)
			}
			depth--
			e, err := x.entry()
			if err != nil {
				return nil, &lists.ParseError{File: XMLFile, Line: line, Msg: err.Error()}
			}
			if seen[e.ID] {
				return nil, &lists.ParseError{File: XMLFile, Line: line, Msg: fmt.Sprintf("uid %s appears twice", e.ID)}
			}
			seen[e.ID] = true
			out = append(out, e)
		case xml.EndElement:
			depth--
			if depth == 0 {
				sort.SliceStable(out, func(i, j int) bool { return numLess(out[i].ID, out[j].ID) })
				return out, nil
			}
		}
	}
}

// entry converts x the way Parse converts the CSV rows of the same party,
// so either format yields the same entries and the same list hash.
func (x *xmlEntry) entry() (lists.Entry, error) {
	id := strings.TrimSpace(x.UID)
	if !isNum(id) {
		return lists.Entry{}, fmt.Errorf("sdnEntry uid %q is not a number", x.UID)
	}
	name := joinName(x.LastName, x.FirstName)
	if name == "" {
		return lists.Entry{}, fmt.Errorf("sdnEntry %s has no lastName", id)
	}
	e := lists.Entry{List: ListID, ID: id, Name: name, Type: lists.NormalizeType(x.SDNType)}
	for _, p := range x.Programs {
		if p = strings.ToUpper(strings.TrimSpace(p)); p != "" {
			e.Programs = appendNew(e.Programs, p)
		}
	}
	// Older files kept some details in the remarks only; current ones leave
	// there what has no element of its own.
	rm := ParseRemarks(strings.TrimSpace(x.Remarks))
	e.Aliases, e.DOBs, e.Nationalities, e.IDs, e.Wallets = rm.Aliases, rm.DOBs, rm.Nationalities, rm.IDs, rm.Wallets
	// The CSV carries weak aliases in the remarks and strong ones in
	// alt.csv, and Parse reads the remarks first: same order here.
	for _, weak := range []bool{true, false} {
		for _, a := range x.AKAs {
			if strings.EqualFold(strings.TrimSpace(a.Category), "weak") != weak {
				continue
			}
			if n := joinName(a.LastName, a.FirstName); n != "" {
				e.Aliases = appendNew(e.Aliases, n)
			}
		}
	}
	for _, d := range x.DOBs {
		if d = strings.TrimSpace(d); d != "" {
			e.DOBs = appendNew(e.DOBs, d)
		}
	}
	for _, n := range append(x.Nationalities, x.Citizenships...) {
		if n = strings.TrimSpace(n); n != "" {
			e.Nationalities = appendNew(e.Nationalities, n)
		}
	}
	for _, i := range x.IDs {
		typ, num := strings.TrimSpace(i.Type), strings.TrimSpace(i.Number)
		if num == "" {
			continue
		}
		if strings.HasPrefix(typ, "Digital Currency Address - ") {
			e.Wallets = appendNew(e.Wallets, num)
			continue
		}
		// Rebuild the remarks form and read it like the CSV remarks, so
		// only the same identifier kinds are kept, spelt the same way.
		item := typ + " " + num
		if c := strings.TrimSpace(i.Country); c != "" {
			item += " (" + c + ")"
		}
		if m := idRe.FindStringSubmatch(item); m != nil {
			s := m[1] + " " + strings.TrimSpace(m[2])
			if m[3] != "" {
				s += " (" + m[3] + ")"
			}
			e.IDs = appendNew(e.IDs, s)
		}
	}
	return e, nil
}

// joinName writes a name as the CSV does: "LAST, First", or the last name
// alone for entities, vessels and aircraft.
func joinName(last, first string) string {
	last, first = strings.TrimSpace(last), strings.TrimSpace(first)
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return last + ", " + first
}

func xmlErr(d *xml.Decoder, msg string) error {
	line, _ := d.InputPos()
	return &lists.ParseError{File: XMLFile, Line: line, Msg: msg}
}

func syntaxErr(d *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &lists.ParseError{File: XMLFile, Line: se.Line, Msg: se.Msg}
	}
	return xmlErr(d, err.Error())
}
