package ibmaml

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// sharedData is ../shared/data beside the repository root.
func sharedData(t testing.TB, name string) *os.File {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "ibm-amlworld", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("shared test data missing: %v (the repository expects ../shared/data beside it; see shared/data/README.md)", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadHeadSample(t *testing.T) {
	r := NewReader(sharedData(t, "hi_small_sample_head.csv"))
	kinds := map[string]int{}
	currencies := map[string]int{}
	var n, laundering, converted int
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if want := "ibm-" + strconv.Itoa(n); ev.ID != want {
			t.Fatalf("row %d id %s, want %s", n, ev.ID, want)
		}
		if r.Line() != n+1 {
			t.Fatalf("row %d reported on line %d", n, r.Line())
		}
		b, _ := json.Marshal(ev)
		if _, err := ingest.Decode(b); err != nil {
			t.Fatalf("row %d does not decode: %v\n%s", n, err, b)
		}
		kinds[ev.Kind]++
		currencies[ev.Currency]++
		if r.Laundering() {
			laundering++
		}
		if ev.Attrs["receiving_currency"] != nil {
			converted++
		}
	}
	if n != 166 || laundering != 3 || converted != 2 {
		t.Fatalf("%d rows, %d laundering, %d converted; want 166, 3, 2", n, laundering, converted)
	}
	wantKinds := map[string]int{"other": 71, "cheque": 36, "card": 22, "ach": 17, "wire": 9, "cash_deposit": 7, "crypto_transfer": 4}
	for k, v := range wantKinds {
		if kinds[k] != v {
			t.Errorf("kind %s: %d, want %d", k, kinds[k], v)
		}
	}
	if currencies["BTC"] != 4 {
		t.Errorf("BTC events %d, want 4", currencies["BTC"])
	}
}

func TestRowMapping(t *testing.T) {
	in := "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n" +
		"2022/09/01 09:06,0071,80505C1E0,0072,80505C1E1,11.34,US Dollar,833.11,Rupee,ACH,1\n"
	r := NewReader(strings.NewReader(in))
	ev, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2022, 9, 1, 9, 6, 0, 0, time.UTC)
	if ev.ID != "ibm-1" || !ev.Time.Equal(want) || ev.Kind != "ach" || ev.Amount.String() != "833.11" || ev.Currency != "INR" ||
		ev.From.Account != "80505C1E0" || ev.From.Bank != "0071" || ev.To.Account != "80505C1E1" || ev.To.Bank != "0072" ||
		ev.Attrs["amount_received"] != "11.34" || ev.Attrs["receiving_currency"] != "USD" || !r.Laundering() {
		t.Fatalf("mapped to %+v from %+v to %+v attrs %v", ev, ev.From, ev.To, ev.Attrs)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestBadRowsNameTheLineAndReadingGoesOn(t *testing.T) {
	for _, tc := range []struct{ row, field string }{
		{"2022-09-01 00:09,1,A,2,B,5.00,US Dollar,5.00,US Dollar,ACH,0", "Timestamp"},
		{"2022/09/01 00:09,1,A,2,B,5.00,US Dollar,5.00,Doubloon,ACH,0", "Payment Currency"},
		{"2022/09/01 00:09,1,A,2,B,5.00,US Dollar,-5.00,US Dollar,ACH,0", "Amount Paid"},
		{"2022/09/01 00:09,1,A,2,B,0.00,US Dollar,0.00,US Dollar,ACH,0", "Amount Paid"},
		{"2022/09/01 00:09,1,A,2,B,5.00,US Dollar,5.00,US Dollar,Pigeon,0", "Payment Format"},
		{"2022/09/01 00:09,1,A,2,B,5.00,US Dollar,5.00,US Dollar,ACH,maybe", "Is Laundering"},
		{"2022/09/01 00:09,1,,2,B,5.00,US Dollar,5.00,US Dollar,ACH,0", "Account"},
		{"2022/09/01 00:09,1,A,2,B", ""},
	} {
		in := "2022/09/01 00:01,1,A,2,B,1.00,US Dollar,1.00,US Dollar,Wire,0\n" + tc.row + "\n2022/09/01 00:02,1,A,2,B,2.00,US Dollar,2.00,US Dollar,Wire,0\n"
		r := NewReader(strings.NewReader(in))
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		_, err := r.Next()
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 2 || pe.Field != tc.field || !strings.HasPrefix(err.Error(), "line 2: ") {
			t.Fatalf("row %q: error %v, want a ParseError on line 2, field %q", tc.row, err, tc.field)
		}
		ev, err := r.Next()
		if err != nil || ev.ID != "ibm-3" || ev.Amount.String() != "2.00" {
			t.Fatalf("after a bad row: %v, %v", ev, err)
		}
	}
}

func TestReadPatternsSample(t *testing.T) {
	ps, err := ReadLabels(sharedData(t, "hi_small_patterns_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typology string
		rows     int
		hub      string
	}{
		{"bipartite", 6, ""}, {"stack", 12, ""}, {"scatter_gather", 12, "80E2226E0"}, {"fan_out", 4, "80B7973F0"},
		{"gather_scatter", 17, "808839F70"}, {"cycle", 3, ""}, {"fan_in", 11, "80A2DF610"}, {"random", 9, ""},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d patterns, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.Typology != w.typology || len(p.Rows) != w.rows {
			t.Errorf("pattern %d: %s with %d rows, want %s with %d", i, p.Typology, len(p.Rows), w.typology, w.rows)
		}
		if w.hub != "" && p.Hub() != w.hub {
			t.Errorf("pattern %s: hub %s, want %s", p.Typology, p.Hub(), w.hub)
		}
	}
	if got := ps[5].Accounts(); len(got) != 3 {
		t.Errorf("cycle accounts %v, want 3", got)
	}
	first, last := ps[5].Span()
	if first.Format("2006-01-02 15:04") != "2022-09-05 12:32" || last.Format("2006-01-02 15:04") != "2022-09-09 05:17" {
		t.Errorf("cycle span %s..%s", first, last)
	}
	if ps[3].Detail != "Max 4-degree Fan-Out" || ps[3].Rows[0].Currency != "EUR" || ps[3].Rows[0].Line != 41 {
		t.Errorf("fan-out parsed as %+v", ps[3].Rows[0])
	}
}

func TestReadPatternsErrors(t *testing.T) {
	row := "2022/09/05 12:32,021575,800EC1750,003335,8015A6530,15717.34,Euro,15717.34,Euro,ACH,1\n"
	for _, tc := range []struct{ in, want string }{
		{"BEGIN LAUNDERING ATTEMPT - CYCLE\n" + row, "line 2: attempt begun on line 1 has no END"},
		{row, "line 1: transaction outside"},
		{"END LAUNDERING ATTEMPT - CYCLE\n", "line 1: END without BEGIN"},
		{"BEGIN LAUNDERING ATTEMPT - SPIRAL\n", "line 1: unknown pattern"},
		{"BEGIN LAUNDERING ATTEMPT - CYCLE\nBEGIN LAUNDERING ATTEMPT - CYCLE\n", "line 2: BEGIN inside"},
		{"BEGIN LAUNDERING ATTEMPT - CYCLE\n" + strings.Replace(row, "Euro,ACH", "Euro,Telex", 1), "line 2: Payment Format"},
		{"BEGIN LAUNDERING ATTEMPT - CYCLE\nEND LAUNDERING ATTEMPT - STACK\n", "line 2: END of STACK"},
	} {
		_, err := ReadLabels(strings.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n2022/09/01 00:09,014433,801CA7940,004523,8119D8750,51.43,US Dollar,51.43,US Dollar,Credit Card,0\n")
	f.Add("2022/09/01 05:09,0053744,813C6F691,0053744,813C6F691,0.054614,Bitcoin,0.054614,Bitcoin,Bitcoin,0\n\"unterminated,\n")
	f.Add("2022/09/01 09:06,0071,80505C1E0,0071,80505C1E0,11.34,US Dollar,833.11,Rupee,ACH,1")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in))
		for i := 0; i < 1000; i++ {
			ev, err := r.Next()
			if err == io.EOF {
				return
			}
			var pe *ParseError
			if err != nil {
				if !errors.As(err, &pe) {
					return // an I/O-level error ends the stream
				}
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ingest.Decode(b); err != nil && ingest.Reason(err) != ingest.ReasonOversized {
				// The adapter checks what the contract checks; anything it
				// lets through must be a valid event, bar absurd amounts.
				if !strings.Contains(err.Error(), "absurd") && !strings.Contains(err.Error(), "decimals") && !strings.Contains(err.Error(), "invalid_utf8") {
					t.Fatalf("adapter produced an invalid event: %v\n%s", err, b)
				}
			}
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Add("BEGIN LAUNDERING ATTEMPT - CYCLE:  Max 3 hops\n2022/09/05 12:32,021575,800EC1750,003335,8015A6530,15717.34,Euro,15717.34,Euro,ACH,1\nEND LAUNDERING ATTEMPT - CYCLE\n")
	f.Add("BEGIN LAUNDERING ATTEMPT - FAN-IN\n\nEND LAUNDERING ATTEMPT\n")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ReadLabels(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name the line: %v", err)
			}
			return
		}
		for _, p := range ps {
			if Typologies[p.Name] != p.Typology {
				t.Fatalf("pattern %q mapped to %q", p.Name, p.Typology)
			}
		}
	})
}
