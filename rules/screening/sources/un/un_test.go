package un

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

var dataFile = filepath.Join("..", "..", "..", "..", "..", "shared", "data", "un", "UN_consolidated.xml")

func TestLoadFileReal(t *testing.T) {
	es, err := LoadFile(dataFile)
	if err != nil {
		t.Fatalf("LoadFile(%s): %v (the test needs ../shared/data from the repository root)", dataFile, err)
	}
	people, orgs := 0, 0
	by := map[string]lists.Entry{}
	for _, e := range es {
		by[e.ID] = e
		if e.Type == lists.Person {
			people++
		} else {
			orgs++
		}
	}
	if people != 730 || orgs != 273 {
		t.Errorf("%d individuals, %d entities; want 730, 273", people, orgs)
	}
	b := by["CDi.001"]
	if b.Name != "ERIC BADEGE" || b.Programs[0] != "UN-DRC" || b.Listed != "2012-12-31" || b.Nationalities[0] != "Democratic Republic of the Congo" {
		t.Errorf("CDi.001: %+v", b)
	}
	adf := by["CDe.001"]
	if adf.Name != "ADF" || len(adf.Aliases) != 4 || adf.Aliases[0] != "Allied Democratic Forces" {
		t.Errorf("CDe.001: %+v", adf)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, xml, want string
		line            int
	}{
		{"truncated", "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DAT", "unexpected EOF", 3},
		{"mismatch", "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL></ENTITY>", "element <INDIVIDUAL>", 3},
		{"empty", "<CONSOLIDATED_LIST></CONSOLIDATED_LIST>", "no INDIVIDUAL", 0},
		{"noname", "<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>9</DATAID><REFERENCE_NUMBER>X</REFERENCE_NUMBER></ENTITY></ENTITIES></CONSOLIDATED_LIST>", "no reference number or no name", 0},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.xml), "un.xml")
		var pe *lists.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want line %d containing %q", tt.name, err, tt.line, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>A</FIRST_NAME><REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER><UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>B</ALIAS_NAME></INDIVIDUAL_ALIAS></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`)
	f.Fuzz(func(t *testing.T, s string) {
		es, err := Parse(strings.NewReader(s), "f.xml")
		if err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
			return
		}
		for _, e := range es {
			if e.ID == "" || e.Name == "" {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
