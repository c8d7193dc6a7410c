package watchlist

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

func TestParseCSV(t *testing.T) {
	in := "id,name,type,aliases,programs,wallets,ids\n" +
		"W-1,Acme Trading SA de CV,organization,Acme Trading|ACME TRD,,bc1qxyz,RFC ATR-010101-AB1\n" +
		"W-2,\"PEREZ, Juan\",person,,sdgt,,\n"
	es, err := ParseCSV(strings.NewReader(in), "w.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Aliases[1] != "ACME TRD" || es[0].Programs[0] != "INTERNAL" || es[0].Wallets[0] != "bc1qxyz" ||
		es[1].Type != lists.Person || es[1].Programs[0] != "SDGT" || es[1].Name != "PEREZ, Juan" {
		t.Errorf("%+v", es)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct {
		name, csv, want string
		line            int
	}{
		{"column", "id,name,colour\n", `unknown column "colour"`, 1},
		{"noname", "id\nx\n", "no name column", 1},
		{"fields", "id,name\na,A\nb,B,extra\n", "got 3 fields", 3},
		{"empty id", "id,name\na,A\n,B\n", "required", 3},
		{"dup", "id,name\na,A\na,B\n", "already used at line 2", 3},
		{"quote", "id,name\na,\"A\nb,B\n", "quote", 2},
		{"empty", "", "empty file", 1},
	}
	for _, tt := range tests {
		_, err := ParseCSV(strings.NewReader(tt.csv), "w.csv")
		var pe *lists.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want line %d containing %q", tt.name, err, tt.line, tt.want)
		}
	}
}

func TestParseYAML(t *testing.T) {
	es, err := ParseYAML(strings.NewReader("list: internal\nentries:\n  - {id: a, name: Acme, type: person, wallets: [0xabc]}\n"), "w.yaml")
	if err != nil || len(es) != 1 || es[0].Type != lists.Person || es[0].Wallets[0] != "0xabc" {
		t.Errorf("%v %+v", err, es)
	}
	if _, err := ParseYAML(strings.NewReader("list: internal\nentries:\n  - {id: a, name: A, type: robot}\n"), "w.yaml"); err == nil || !strings.Contains(err.Error(), "w.yaml:3") {
		t.Errorf("bad type: %v", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add("id,name,type,aliases,programs,wallets,ids\nW-1,Acme,organization,A|B,SDGT,bc1q,RFC 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseCSV(strings.NewReader(s), "f.csv")
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

func FuzzParseYAML(f *testing.F) {
	f.Add("list: internal\nentries:\n  - {id: a, name: A}\n")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseYAML(strings.NewReader(s), "f.yaml"); err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
		}
	})
}
