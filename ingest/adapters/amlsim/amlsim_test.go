package amlsim

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

func sharedData(t testing.TB, name string) *os.File {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "amlsim", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("shared test data missing: %v (the repository expects ../shared/data beside it; see shared/data/README.md)", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadSampleTransactions(t *testing.T) {
	r := NewReader(sharedData(t, "20K_fanin200cycle200_transactions.csv"), Options{})
	var n int
	var prev time.Time
	accounts := map[string]bool{}
	var first, last *ingest.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ev.Time.Before(prev) {
			t.Fatalf("row %d goes back in time", n)
		}
		prev = ev.Time
		accounts[ev.From.Account] = true
		accounts[ev.To.Account] = true
		if n == 1 {
			first = ev
		}
		last = ev
		if n%1000 == 1 {
			b, _ := json.Marshal(ev)
			if _, err := ingest.Decode(b); err != nil {
				t.Fatalf("row %d does not decode: %v\n%s", n, err, b)
			}
		}
	}
	if n != 120558 {
		t.Fatalf("%d transactions, want 120,558", n)
	}
	if first.ID != "amlsim-1" || first.From.Account != "acct-216" || first.To.Account != "acct-14730" || first.Amount.String() != "163.30" ||
		first.Time.Format(time.RFC3339) != "2017-01-02T00:00:00Z" || first.Kind != "wire" || first.Currency != "USD" {
		t.Fatalf("first row mapped to %+v", first)
	}
	if last.ID != "amlsim-120558" || r.Line() != 120559 {
		t.Fatalf("last row %s on line %d", last.ID, r.Line())
	}
	t.Logf("%d accounts transact", len(accounts))
}

func TestReadSampleLabels(t *testing.T) {
	labels, err := ReadLabels(sharedData(t, "20K_fanin200cycle200_nodes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fraud := 0
	for _, f := range labels {
		if f {
			fraud++
		}
	}
	// The sample's metadata file says 1,803 fraud nodes; the nodes file
	// itself marks 1,804 (node ids are unique), and the file is the truth.
	if len(labels) != 20000 || fraud != 1804 {
		t.Fatalf("%d nodes, %d fraudulent; want 20,000 and 1,804", len(labels), fraud)
	}
	if !labels["acct-68"] || labels["acct-0"] {
		t.Fatalf("acct-68 fraud=%v acct-0 fraud=%v", labels["acct-68"], labels["acct-0"])
	}
}

func TestOptions(t *testing.T) {
	in := "sourceNodeId,targetNodeId,value,time\n1,2,10.5,3\n1,3,11,3\n4,1,12,5\n"
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	r := NewReader(strings.NewReader(in), Options{Base: base, Kind: "eft", Currency: "CAD", Bank: "TESTBANK"})
	var got []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.ID+" "+ev.Time.Format(time.RFC3339)+" "+ev.Kind+" "+ev.Amount.String()+" "+ev.Currency+" "+ev.From.Bank)
	}
	want := []string{
		"amlsim-1 2024-06-04T00:00:00Z eft 10.50 CAD TESTBANK",
		"amlsim-2 2024-06-04T00:00:01Z eft 11.00 CAD TESTBANK",
		"amlsim-3 2024-06-06T00:00:00Z eft 12.00 CAD TESTBANK",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := (Options{Kind: "teleport"}).Validate(); err == nil {
		t.Fatal("bad kind accepted")
	}
	if err := (Options{Currency: "XXY"}).Validate(); err == nil {
		t.Fatal("bad currency accepted")
	}
}

func TestBadRows(t *testing.T) {
	for _, tc := range []struct{ row, field string }{
		{"x,2,10,1", "sourceNodeId"},
		{"1,-2,10,1", "targetNodeId"},
		{"1,2,ten,1", "value"},
		{"1,2,0,1", "value"},
		{"1,2,1.005,1", "value"},
		{"1,2,10,yesterday", "time"},
		{"1,2,10,99999999", "time"},
		{"1,2", ""},
	} {
		r := NewReader(strings.NewReader("1,2,1,0\n"+tc.row+"\n3,4,5,1\n"), Options{})
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		_, err := r.Next()
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 2 || pe.Field != tc.field {
			t.Fatalf("row %q: %v, want ParseError line 2 field %q", tc.row, err, tc.field)
		}
		if ev, err := r.Next(); err != nil || ev.ID != "amlsim-3" {
			t.Fatalf("after bad row: %v %v", ev, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"nodeid,isFraud\n1,maybe\n", "line 2: isFraud"},
		{"nodeid,isFraud\nx,1\n", "line 2: nodeid"},
		{"nodeid,isFraud\n1,1\n1,0\n", "line 3: node 1 listed twice"},
		{"1\n", "line 1: 1 fields"},
	} {
		if _, err := ReadLabels(strings.NewReader(tc.in)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add("sourceNodeId,targetNodeId,value,time\n216,14730,163.3,1\n")
	f.Add("1,2,0.01,0\n1,2,99999999999999,36600\n\"x\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in), Options{})
		for i := 0; i < 1000; i++ {
			ev, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					return
				}
				if !strings.HasPrefix(err.Error(), "line ") {
					t.Fatalf("error does not name the line: %v", err)
				}
				continue
			}
			b, _ := json.Marshal(ev)
			if _, err := ingest.Decode(b); err != nil && !strings.Contains(err.Error(), "absurd") {
				t.Fatalf("adapter produced an invalid event: %v\n%s", err, b)
			}
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Add("nodeid,isFraud,init_balance,fraudStep\n0,0,184.44,-1\n68,1,157.57,128\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ReadLabels(strings.NewReader(in))
		if err == nil {
			for k := range m {
				if !strings.HasPrefix(k, "acct-") {
					t.Fatalf("account %q", k)
				}
			}
		}
	})
}
