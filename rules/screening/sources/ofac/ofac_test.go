package ofac

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

var dataDir = filepath.Join("..", "..", "..", "..", "..", "shared", "data", "ofac")

func TestLoadDirReal(t *testing.T) {
	es, err := LoadDir(dataDir)
	if err != nil {
		t.Fatalf("LoadDir(%s): %v (the test needs ../shared/data from the repository root)", dataDir, err)
	}
	if len(es) != 8976 {
		t.Errorf("%d entries, want 8976", len(es))
	}
	by := map[string]lists.Entry{}
	narco, wallets := 0, 0
	for _, e := range es {
		by[e.ID] = e
		for _, p := range e.Programs {
			if p == "SDNTK" || strings.HasPrefix(p, "ILLICIT-DRUGS") {
				narco++
				break
			}
		}
		wallets += len(e.Wallets)
	}
	if narco != 1770 {
		t.Errorf("%d SDNTK/ILLICIT-DRUGS entries, want 1770 (data README)", narco)
	}
	g := by["6861"]
	if g.Name != "GUZMAN LOERA, Joaquin" || g.Type != lists.Person || !reflect.DeepEqual(g.Programs, []string{"SDNTK"}) || !reflect.DeepEqual(g.DOBs, []string{"25 Dec 1954"}) {
		t.Errorf("6861: %+v", g)
	}
	if m := by["17674"]; !contains(m.Aliases, "Mencho") {
		t.Errorf("17674 aliases %v, want Mencho from the remarks", m.Aliases)
	}
	if c := by["306"]; !contains(c.Aliases, "NATIONAL BANK OF CUBA") || !contains(c.Aliases, "BNC") {
		t.Errorf("306 aliases %v, want alt.csv and remarks aliases", c.Aliases)
	}
	// 30518's wallets continue in sdn_comments.csv.
	if w := by["30518"].Wallets; !contains(w, "18Ke1QWE9nQfXuhJijHggZuPJ5ZYxapoBK") {
		t.Errorf("30518 wallets %v, want the XBT address from sdn_comments.csv", w)
	}
	if wallets < 15 {
		t.Errorf("%d wallets, want at least 15", wallets)
	}
	if ids := by["10321"].IDs; !contains(ids, "C.U.R.P. CAUP590612HJCDRR09 (Mexico)") {
		t.Errorf("10321 ids %v", ids)
	}
	if p := by["4697"].Programs; !reflect.DeepEqual(p, []string{"FTO", "SDGT", "SYRIA"}) && !contains(p, "FTO") {
		t.Errorf("HIZBALLAH programs %v", p)
	}
}

func TestParseRemarks(t *testing.T) {
	r := ParseRemarks("DOB 17 Jul 1966; alt. DOB 17 Jul 1964; nationality Mexico; a.k.a. 'Mencho'; f.k.a. \"EL SENOR\"; Passport 96140045817 (Mexico); alt. Digital Currency Address - XBT 1QJUiNsNfji6mR1FjAwf6Eg9NxxHPoxpWL; Digital Currency Address - ETH 0xabc; Linked To: CARTEL DE JALISCO NUEVA GENERACION.")
	want := Remarks{
		Aliases:       []string{"Mencho", "EL SENOR"},
		DOBs:          []string{"17 Jul 1966", "17 Jul 1964"},
		Nationalities: []string{"Mexico"},
		IDs:           []string{"Passport 96140045817 (Mexico)"},
		Wallets:       []string{"1QJUiNsNfji6mR1FjAwf6Eg9NxxHPoxpWL", "0xabc"},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, sdn, wantMsg string
		line               int
	}{
		{"fields", "1,\"A\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n2,\"B\",-0-\n", "got 3 fields", 2},
		{"quote", "1,\"A\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n2,\"B\"x,-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n", "quote", 2},
		{"id", "x1,\"A\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n", "not a number", 1},
		{"name", "\n\n7,-0- ,-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n", "no SDN_Name", 3},
		{"dup", "1,\"A\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n1,\"B\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n", "twice", 2},
	}
	for _, tt := range tests {
		_, err := Parse(Files{SDN: strings.NewReader(tt.sdn)})
		var pe *lists.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(err.Error(), tt.wantMsg) || pe.File != SDNFile {
			t.Errorf("%s: got %v, want %s line %d containing %q", tt.name, err, SDNFile, tt.line, tt.wantMsg)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("6861,\"GUZMAN LOERA, Joaquin\",\"individual\",\"SDNTK\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 25 Dec 1954; a.k.a. 'X'; Digital Currency Address - XBT 1abc.\"\n", "6861,1,\"aka\",\"CHAPO\",-0- \n", "6861,\"; Passport 1 (Mexico).\"\n")
	f.Add("1,\"A\"\n", "", "")
	f.Fuzz(func(t *testing.T, sdn, alt, comments string) {
		es, err := Parse(Files{SDN: strings.NewReader(sdn), Alt: strings.NewReader(alt), Comments: strings.NewReader(comments)})
		if err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
			return
		}
		for _, e := range es {
			if e.ID == "" || e.Name == "" || e.List != ListID {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzParseRemarks(f *testing.F) {
	f.Add("DOB 17 Jul 1966; a.k.a. 'Mencho'; Passport 96140045817 (Mexico); Digital Currency Address - XBT 1QJU.")
	f.Fuzz(func(t *testing.T, s string) { ParseRemarks(s) })
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
