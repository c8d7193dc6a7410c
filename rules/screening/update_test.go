package screening

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// servedData serves the real files of shared/data over HTTP; override
// replaces a path's body.
func servedData(t *testing.T, override map[string][]byte) *httptest.Server {
	t.Helper()
	fullConfig(t) // fails clearly when the data is missing
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := override[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.ServeFile(w, r, filepath.Join(sharedData, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func updCfg(srv *httptest.Server, dir string) UpdateConfig {
	ofacURLs := map[string]string{}
	for _, n := range []string{"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"} {
		ofacURLs[n] = srv.URL + "/ofac/" + n
	}
	return UpdateConfig{Dir: dir, OFAC: ofacURLs, UNURL: srv.URL + "/un/UN_consolidated.xml", Sources: []string{"ofac", "un"}}
}

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	srv := servedData(t, nil)
	res, err := Update(context.Background(), updCfg(srv, dir))
	if err != nil {
		t.Fatalf("Update: %v (%+v)", err, res)
	}
	want := map[string]int{"ofac": 8976, "un": 1003}
	for _, r := range res {
		if !r.Updated || r.Entries != want[r.Source] {
			t.Errorf("%s: %+v, want updated with %d entries", r.Source, r, want[r.Source])
		}
	}
	// The updated directory loads, and screens against the new files.
	s, err := Load(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Set().Counts(); c["ofac-sdn"] != 8976 || c["un"] != 1003 {
		t.Errorf("loaded %v", c)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ofac", "sdn.csv"))
	hash := s.Hash()

	// A truncated sdn.csv (half the entries) is refused; the old file stays.
	half := before[:bytes.IndexByte(before[len(before)/2:], '\n')+len(before)/2+1]
	bad := servedData(t, map[string][]byte{"/ofac/sdn.csv": half})
	cfg := updCfg(bad, dir)
	cfg.Sources = []string{"ofac"}
	res, err = Update(context.Background(), cfg)
	if err == nil || res[0].Updated || !strings.Contains(res[0].Err, "fewer") {
		t.Errorf("shrunk file: err %v, result %+v; want refused as too many fewer entries", err, res)
	}
	// A file that does not parse is refused, naming the line.
	broken := servedData(t, map[string][]byte{"/un/UN_consolidated.xml": []byte("<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DATA")})
	cfg = updCfg(broken, dir)
	cfg.Sources = []string{"un"}
	res, err = Update(context.Background(), cfg)
	if err == nil || res[0].Updated || !strings.Contains(res[0].Err, ":3:") {
		t.Errorf("broken file: err %v, result %+v; want refused with the line", err, res)
	}
	// A download error is refused too.
	cfg = updCfg(srv, dir)
	cfg.Sources = []string{"ofac"}
	cfg.OFAC["alt.csv"] = srv.URL + "/ofac/missing.csv"
	if _, err := Update(context.Background(), cfg); err == nil {
		t.Error("404: want an error")
	}
	after, _ := os.ReadFile(filepath.Join(dir, "ofac", "sdn.csv"))
	if !bytes.Equal(before, after) {
		t.Error("a refused update changed sdn.csv")
	}
	s2, err := Load(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Hash() != hash {
		t.Errorf("hash changed after refused updates: %s, was %s", s2.Hash(), hash)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*update*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
