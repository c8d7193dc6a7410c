package fto

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// TestShippedList checks configs/lists/fto.yaml holds every designation of
// 20 February 2025 with its date, and is well formed.
func TestShippedList(t *testing.T) {
	es, err := LoadFile(filepath.Join("..", "..", "..", "..", "configs", "lists", "fto.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]lists.Entry{}
	for _, e := range es {
		by[e.ID] = e
	}
	for _, id := range []string{"cartel-de-sinaloa", "cjng", "carteles-unidos", "cartel-del-noreste", "cartel-del-golfo", "la-nueva-familia-michoacana", "tren-de-aragua", "ms-13"} {
		e, ok := by[id]
		if !ok || e.Listed != "2025-02-20" || e.Programs[0] != "FTO" {
			t.Errorf("%s: %+v, want an FTO designated 2025-02-20", id, e)
		}
	}
	for _, id := range []string{"hizballah", "hamas", "isis", "al-qaida", "ansarallah", "cartel-de-los-soles"} {
		if _, ok := by[id]; !ok {
			t.Errorf("%s missing", id)
		}
	}
	if len(es) < 80 {
		t.Errorf("%d designations, want the whole list (80+)", len(es))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		line             int
	}{
		{"nodate", "list: us-fto\nentries:\n  - {id: a, name: A, programs: [FTO]}\n", "designation date is required", 0},
		{"noprogram", "list: us-fto\nentries:\n  - {id: a, name: A, listed: 2025-02-20}\n", "must include FTO", 0},
		{"badlist", "list: internal\nentries: []\n", `want "us-fto"`, 1},
		{"baddate", "list: us-fto\nentries:\n  - id: a\n    name: A\n  - id: b\n    name: B\n    listed: 20 Feb 2025\n", "not a YYYY-MM-DD", 5},
		{"unknownfield", "list: us-fto\nentries:\n  - id: a\n    nmae: A\n", "nmae", 4},
		{"syntax", "list: us-fto\nentries:\n  - id: [a\n", "did not find expected", 2},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.yaml), "fto.yaml")
		var pe *lists.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || (tt.line > 0 && pe.Line != tt.line) {
			t.Errorf("%s: got %v, want line %d containing %q", tt.name, err, tt.line, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("list: us-fto\nentries:\n  - {id: a, name: A, programs: [FTO], listed: 2025-02-20, aliases: [B]}\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := Parse(strings.NewReader(s), "f.yaml")
		if err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
			return
		}
		for _, e := range es {
			if e.ID == "" || e.Name == "" || e.Listed == "" {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
