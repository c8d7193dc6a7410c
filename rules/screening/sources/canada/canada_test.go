package canada

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

func TestParseSEMASample(t *testing.T) {
	es, err := LoadSEMAFile(filepath.Join("testdata", "sema-lmes.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, name, typ, program string }{
		{"Belarus/1, Part 1/1", "Khazalbek Bakhtibekovich Atabekov", lists.Person, "CA-SEMA-BELARUS"},
		{"Belarus/1, Part 2/1", "Belaeronavigatsia Republican Unitary Air Navigation Services Enterprise", lists.Organization, "CA-SEMA-BELARUS"},
		{"Russia/1, Part 1/1000", "Sergei Viktorovich Lavrov", lists.Person, "CA-SEMA-RUSSIA"},
		{"Russia/1, Part 4/12", "Sparta IV", lists.Vessel, "CA-SEMA-RUSSIA"},
		{"Iran/1, Part 2/13", "Islamic Revolutionary Guard Corps", lists.Organization, "CA-SEMA-IRAN"},
	}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i, w := range want {
		e := es[i]
		if e.ID != w.id || e.Name != w.name || e.Type != w.typ || e.Programs[0] != w.program || e.List != SEMAListID {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	if es[2].Aliases[0] != "Sergey Lavrov" || es[2].DOBs[0] != "1950-03-21" || es[3].IDs[0] != "IMO 9743033" || len(es[4].Aliases) != 2 {
		t.Errorf("details: %+v %+v %+v", es[2], es[3], es[4])
	}
	// The older English-only element names read the same.
	old := `<data-set><record><Country>Belarus</Country><LastName>Atabekov</LastName><GivenName>Khazalbek</GivenName><Schedule>1, Part 1</Schedule><Item>1</Item></record></data-set>`
	es, err = ParseSEMA(strings.NewReader(old), "old.xml")
	if err != nil || len(es) != 1 || es[0].Name != "Khazalbek Atabekov" {
		t.Errorf("old format: %v %+v", err, es)
	}
}

func TestParseSEMAErrors(t *testing.T) {
	tests := []struct {
		name, xml, want string
		line            int
	}{
		{"root", "<?xml version=\"1.0\"?>\n<list></list>", "want <data-set>", 2},
		{"noname", "<data-set>\n<record><Country>X</Country><Item>1</Item></record>\n</data-set>", "no LastName", 2},
		{"dup", "<data-set>\n<record><Country>X</Country><EntityOrShip>A</EntityOrShip><Item>1</Item></record>\n<record><Country>X</Country><EntityOrShip>B</EntityOrShip><Item>1</Item></record></data-set>", "repeats the record at line 2", 3},
		{"truncated", "<data-set>\n<record><Country>X</Count", "unexpected EOF", 2},
		{"empty", "", "no <data-set>", 1},
	}
	for _, tt := range tests {
		_, err := ParseSEMA(strings.NewReader(tt.xml), "sema.xml")
		var pe *lists.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want line %d containing %q", tt.name, err, tt.line, tt.want)
		}
	}
}

func TestParseTerroristShipped(t *testing.T) {
	p := filepath.Join("..", "..", "..", "..", "configs", "lists", "ca-terrorist.yaml")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := ParseTerrorist(f, p)
	if err != nil {
		t.Fatal(err)
	}
	cartels := 0
	for _, e := range es {
		if e.List != TerroristListID || e.Programs[len(e.Programs)-1] != TerroristTag {
			t.Errorf("%+v", e)
		}
		if e.Listed == "2025-02-20" {
			cartels++
		}
	}
	if cartels != 7 {
		t.Errorf("%d entities listed on 2025-02-20, want the 7 cartels", cartels)
	}
}

func FuzzParseSEMA(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "sema-lmes.xml"))
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseSEMA(strings.NewReader(s), "f.xml")
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

func FuzzParseTerrorist(f *testing.F) {
	f.Add("list: ca-terrorist\nentries:\n  - {id: a, name: A, listed: 2025-02-20}\n")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseTerrorist(strings.NewReader(s), "f.yaml"); err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
		}
	})
}
