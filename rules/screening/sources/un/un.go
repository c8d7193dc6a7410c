package un

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// ListID is the list id of every entry this package produces.
const ListID = "un"

type consolidated struct {
	Individuals []party `xml:"INDIVIDUALS>INDIVIDUAL"`
	Entities    []party `xml:"ENTITIES>ENTITY"`
}

type party struct {
	DataID       string   `xml:"DATAID"`
	First        string   `xml:"FIRST_NAME"`
	Second       string   `xml:"SECOND_NAME"`
	Third        string   `xml:"THIRD_NAME"`
	Fourth       string   `xml:"FOURTH_NAME"`
	ListType     string   `xml:"UN_LIST_TYPE"`
	Reference    string   `xml:"REFERENCE_NUMBER"`
	ListedOn     string   `xml:"LISTED_ON"`
	Original     []string `xml:"NAME_ORIGINAL_SCRIPT"`
	Nationality  []string `xml:"NATIONALITY>VALUE"`
	IndivAliases []alias  `xml:"INDIVIDUAL_ALIAS"`
	EntAliases   []alias  `xml:"ENTITY_ALIAS"`
	Docs         []struct {
		Type   string `xml:"TYPE_OF_DOCUMENT"`
		Number string `xml:"NUMBER"`
		Issuer string `xml:"ISSUING_COUNTRY"`
	} `xml:"INDIVIDUAL_DOCUMENT"`
	Births []struct {
		Date string `xml:"DATE"`
		Year string `xml:"YEAR"`
	} `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
}

type alias struct {
	Quality string `xml:"QUALITY"`
	Name    string `xml:"ALIAS_NAME"`
}

// LoadFile reads the consolidated list from path.
func LoadFile(path string) ([]lists.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("un: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads the consolidated list XML. name is used in errors. A file with
// no INDIVIDUAL or ENTITY at all is an error: it is not the UN list.
func Parse(r io.Reader, name string) ([]lists.Entry, error) {
	dec := xml.NewDecoder(r)
	var root consolidated
	if err := dec.Decode(&root); err != nil {
		line, _ := dec.InputPos()
		if errors.Is(err, io.EOF) {
			return nil, &lists.ParseError{File: name, Line: line, Msg: "no CONSOLIDATED_LIST element"}
		}
		return nil, &lists.ParseError{File: name, Line: line, Msg: err.Error()}
	}
	if len(root.Individuals)+len(root.Entities) == 0 {
		return nil, &lists.ParseError{File: name, Msg: "no INDIVIDUAL or ENTITY elements: not a UN consolidated list"}
	}
	out := make([]lists.Entry, 0, len(root.Individuals)+len(root.Entities))
	for i := range root.Individuals {
		e, err := root.Individuals[i].entry(lists.Person, name)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	for i := range root.Entities {
		e, err := root.Entities[i].entry(lists.Organization, name)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (p *party) entry(typ, file string) (lists.Entry, error) {
	id := strings.TrimSpace(p.Reference)
	if id == "" {
		id = strings.TrimSpace(p.DataID)
	}
	var parts []string
	for _, s := range []string{p.First, p.Second, p.Third, p.Fourth} {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			parts = append(parts, s)
		}
	}
	name := strings.Join(parts, " ")
	if id == "" || name == "" {
		return lists.Entry{}, &lists.ParseError{File: file, Msg: fmt.Sprintf("%s with DATAID %q has no reference number or no name", typ, p.DataID)}
	}
	e := lists.Entry{List: ListID, ID: id, Type: typ, Name: name, Listed: strings.TrimSpace(p.ListedOn)}
	if lt := strings.TrimSpace(p.ListType); lt != "" {
		e.Programs = []string{"UN-" + strings.ToUpper(strings.ReplaceAll(lt, " ", "-"))}
	}
	for _, a := range append(p.IndivAliases, p.EntAliases...) {
		if n := strings.Join(strings.Fields(a.Name), " "); n != "" {
			e.Aliases = appendNew(e.Aliases, n)
		}
	}
	for _, o := range p.Original {
		if o = strings.TrimSpace(o); o != "" {
			e.Aliases = appendNew(e.Aliases, o)
		}
	}
	for _, n := range p.Nationality {
		if n = strings.TrimSpace(n); n != "" {
			e.Nationalities = appendNew(e.Nationalities, n)
		}
	}
	for _, d := range p.Docs {
		if num := strings.TrimSpace(d.Number); num != "" {
			id := strings.TrimSpace(d.Type) + " " + num
			if c := strings.TrimSpace(d.Issuer); c != "" {
				id += " (" + c + ")"
			}
			e.IDs = appendNew(e.IDs, strings.TrimSpace(id))
		}
	}
	for _, b := range p.Births {
		if d := strings.TrimSpace(b.Date); d != "" {
			e.DOBs = appendNew(e.DOBs, d)
		} else if y := strings.TrimSpace(b.Year); y != "" {
			e.DOBs = appendNew(e.DOBs, y)
		}
	}
	return e, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
