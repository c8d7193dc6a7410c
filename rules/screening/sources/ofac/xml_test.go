package ofac

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

var sampleXML = filepath.Join("testdata", "sdn_sample.xml")

// TestXMLMatchesCSV checks that every entry of the XML sample loads to the
// same entry as the real CSV files give for its uid: the two formats must be
// interchangeable, down to the list hash.
func TestXMLMatchesCSV(t *testing.T) {
	fromXML, err := LoadXMLFile(sampleXML)
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := LoadDir(dataDir)
	if err != nil {
		t.Fatalf("LoadDir(%s): %v (the test needs ../shared/data from the repository root)", dataDir, err)
	}
	csvBy := map[string]lists.Entry{}
	for _, e := range fromCSV {
		csvBy[e.ID] = e
	}
	var ids []string
	for _, x := range fromXML {
		ids = append(ids, x.ID)
		c, ok := csvBy[x.ID]
		if !ok {
			t.Errorf("uid %s is not in sdn.csv", x.ID)
			continue
		}
		if !reflect.DeepEqual(x, c) {
			t.Errorf("uid %s:\nxml %+v\ncsv %+v", x.ID, x, c)
		}
	}
	want := []string{"4243", "4359", "6861", "10321", "17671", "17674", "25308"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v in uid order", ids, want)
	}
	if len(fromXML) > 0 && lists.NewSet(fromXML).Hash() != lists.NewSet(pick(fromCSV, want)).Hash() {
		t.Error("XML and CSV entries give different list hashes")
	}
}

// TestReadXMLFields pins the conversion itself, independent of the CSV.
func TestReadXMLFields(t *testing.T) {
	es, err := LoadXMLFile(sampleXML)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]lists.Entry{}
	for _, e := range es {
		by[e.ID] = e
	}
	tests := []struct {
		id   string
		want lists.Entry
	}{
		{"4243", lists.Entry{List: ListID, ID: "4243", Type: lists.Vessel, Name: "SAND SWAN", Aliases: []string{"ANA I"}, Programs: []string{"CUBA"}}},
		{"4359", lists.Entry{List: ListID, ID: "4359", Type: lists.Organization, Name: "CRIADERO DE POLLOS EL ROSAL S.A.", Aliases: []string{"INDUSTRIA AVICOLA PALMASECA S.A."}, Programs: []string{"SDNT"}, IDs: []string{"NIT # 800146749-7 (Colombia)"}}},
		{"17674", lists.Entry{List: ListID, ID: "17674", Type: lists.Person, Name: "OSEGUERA CERVANTES, Nemesio", Aliases: []string{"Mencho", "OSEGUERA CERVANTES, Ruben"}, Programs: []string{"SDNTK"}, DOBs: []string{"17 Jul 1966", "17 Jul 1964"}}},
	}
	for _, tt := range tests {
		if got := by[tt.id]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tt.id, got, tt.want)
		}
	}
	y := by["25308"]
	if len(y.Wallets) != 6 || y.Wallets[1] != "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo" || len(y.IDs) != 0 || !reflect.DeepEqual(y.Nationalities, []string{"China"}) {
		t.Errorf("25308: %+v", y)
	}
}

func TestReadXMLErrors(t *testing.T) {
	const head = "<?xml version=\"1.0\"?>\n<sdnList xmlns=\"http://tempuri.org/sdnList.xsd\">\n"
	tests := []struct {
		name, in, msg string
		line          int
	}{
		{"root", "<?xml version=\"1.0\"?>\n<Sanctions>\n</Sanctions>", "want <sdnList>", 2},
		{"empty", "", "no <sdnList>", 1},
		{"truncated", head + "<sdnEntry><uid>1</uid>\n<lastName>A</lastName>\n", "unexpected EOF", 5},
		{"mismatch", head + "<sdnEntry><uid>1</uid>\n<lastName>A</firstName>\n</sdnEntry></sdnList>", "firstName", 4},
		{"uid", head + "<sdnEntry>\n<uid>x1</uid><lastName>A</lastName></sdnEntry>\n</sdnList>", "not a number", 3},
		{"name", head + "\n<sdnEntry><uid>7</uid></sdnEntry>\n</sdnList>", "no lastName", 4},
		{"dup", head + "<sdnEntry><uid>7</uid><lastName>A</lastName></sdnEntry>\n<sdnEntry><uid>7</uid><lastName>B</lastName></sdnEntry></sdnList>", "twice", 4},
	}
	for _, tt := range tests {
		_, err := ReadXML(strings.NewReader(tt.in))
		var pe *lists.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || pe.File != XMLFile || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %s line %d containing %q", tt.name, err, XMLFile, tt.line, tt.msg)
		}
	}
	// The path replaces the bare file name when loading from disk.
	p := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(p, []byte("<x/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadXMLFile(p); err == nil || !strings.HasPrefix(err.Error(), p+":1:") {
		t.Errorf("LoadXMLFile: %v, want it to name %s:1", err, p)
	}
}

// TestReadXMLOldNamespace: files from before the Sanctions List Service use
// the tempuri.org namespace and a byte-order mark.
func TestReadXMLOldNamespace(t *testing.T) {
	in := "\ufeff<?xml version=\"1.0\" standalone=\"yes\"?>\n<sdnList xmlns=\"http://tempuri.org/sdnList.xsd\"><publshInformation><Publish_Date>01/01/2020</Publish_Date></publshInformation>" +
		"<sdnEntry><uid>36</uid><lastName>AEROCARIBBEAN AIRLINES</lastName><sdnType>Entity</sdnType><programList><program>CUBA</program></programList>" +
		"<akaList><aka><uid>12</uid><type>a.k.a.</type><category>strong</category><lastName>AERO-CARIBBEAN</lastName></aka></akaList></sdnEntry></sdnList>"
	es, err := ReadXML(strings.NewReader(in))
	want := []lists.Entry{{List: ListID, ID: "36", Type: lists.Organization, Name: "AEROCARIBBEAN AIRLINES", Aliases: []string{"AERO-CARIBBEAN"}, Programs: []string{"CUBA"}}}
	if err != nil || !reflect.DeepEqual(es, want) {
		t.Errorf("got %+v, %v\nwant %+v", es, err, want)
	}
}

func FuzzReadXML(f *testing.F) {
	if b, err := os.ReadFile(sampleXML); err == nil {
		f.Add(string(b))
	}
	f.Add("<sdnList><sdnEntry><uid>1</uid><lastName>A</lastName><idList><id><idType>Digital Currency Address - XBT</idType><idNumber>1abc</idNumber></id></idList></sdnEntry></sdnList>")
	f.Add("<sdnList><sdnEntry><uid>1</uid><lastName>A</lastName></sdnEntry>")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ReadXML(strings.NewReader(s))
		if err != nil {
			var pe *lists.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *lists.ParseError", err)
			}
			return
		}
		for _, e := range es {
			if !isNum(e.ID) || e.Name == "" || e.List != ListID {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func BenchmarkReadXML(b *testing.B) {
	data, err := os.ReadFile(sampleXML)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadXML(strings.NewReader(string(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func pick(es []lists.Entry, ids []string) []lists.Entry {
	var out []lists.Entry
	for _, id := range ids {
		for _, e := range es {
			if e.ID == id {
				out = append(out, e)
			}
		}
	}
	return out
}
