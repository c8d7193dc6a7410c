package screening

import (
	"path/filepath"
	"strings"
	"testing"
)

var ofacXMLSample = filepath.Join("sources", "ofac", "testdata", "sdn_sample.xml")

// TestLoadOFACXML builds a Screener from the sdn.xml sample alone (an empty
// lists directory) and screens a name and a wallet the sample lists.
func TestLoadOFACXML(t *testing.T) {
	s, err := Load(Config{Dir: t.TempDir(), OFACXML: ofacXMLSample})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Set().Counts()["ofac-sdn"]; n != 7 {
		t.Fatalf("%d ofac-sdn entries, want the sample's 7", n)
	}
	tests := []struct {
		query, entry, listed string
		designated           bool
	}{
		{"Joaquin Guzman Loera", "6861", "GUZMAN LOERA, Joaquin", true},
		{"1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo", "25308", "YAN, Xiaobing", true},
		{"CJNG", "17671", "CJNG", true},
		{"Industria Avicola Palmaseca", "4359", "INDUSTRIA AVICOLA PALMASECA S.A.", false},
	}
	for _, tt := range tests {
		ms := s.Screen(tt.query)
		if len(ms) == 0 {
			t.Errorf("%q: no match, want entry %s", tt.query, tt.entry)
			continue
		}
		m := ms[0]
		if m.List != "ofac-sdn" || m.Entry != tt.entry || m.ListedName != tt.listed || m.Score != 1 || m.Designated != tt.designated {
			t.Errorf("%q: best match %+v, want ofac-sdn %s %q with score 1, designated %v", tt.query, m, tt.entry, tt.listed, tt.designated)
		}
	}
	if ms := s.ScreenWallet("1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVx"); len(ms) != 0 {
		t.Errorf("a wallet one character off matched: %+v", ms)
	}
}

func TestOFACXMLConfig(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), OFACDir: "x", OFACXML: "y"}.WithDefaults()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "OFACXML") {
		t.Errorf("Validate with both OFAC sources: %v, want an error naming OFACXML", err)
	}
	_, err := Load(Config{Dir: t.TempDir(), OFACXML: filepath.Join(t.TempDir(), "sdn.xml")})
	if err == nil || !strings.Contains(err.Error(), "sdn.xml") {
		t.Errorf("Load with a missing sdn.xml: %v, want an error naming the file", err)
	}
}
