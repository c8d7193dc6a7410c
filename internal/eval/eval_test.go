package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest/adapters/amlsim"
	"github.com/sluice-aml/sluice/ingest/adapters/ibmaml"
)

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func fixture(t *testing.T) ([]Instance, []alerts.Alert) {
	ins, err := ReadGenLabels(open(t, "testdata/labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	as, err := ReadAlerts(open(t, "testdata/alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return ins, as
}

func TestReadAlertsKeepsLatestVersion(t *testing.T) {
	_, as := fixture(t)
	if len(as) != 6 {
		t.Fatalf("%d alerts, want 6 distinct ids", len(as))
	}
	if as[0].ID != "al-1" || as[0].Version != 2 || len(as[0].Transactions) != 2 {
		t.Fatalf("al-1 read as %+v, want version 2", as[0])
	}
}

// The fixture, alert by alert:
//
//	al-1 (v2) structuring on the structuring subject, shares t1,t2: detects instance 1.
//	al-2 structuring on the same customer's other account, a day later: touches 1 (customer, grace).
//	al-3 fan_in on a cycle member sharing t7: touches the cycle, but names another typology.
//	al-4 fan_in on the fan-in subject 4 days after it ended, no shared tx: misses (grace 48 h).
//	al-5 structuring on a cash business, sharing t10: false positive on a look-alike.
//	al-6 money_mule on an unlabelled account: false positive.
func TestEvaluateGenFixture(t *testing.T) {
	ins, as := fixture(t)
	rep := Evaluate(ins, as, Options{Accounts: 40})
	if rep.Instances != 4 || rep.Detected != 1 || rep.DetectedAny != 2 || rep.Alerts != 6 || rep.TruePositiveAlerts != 3 {
		t.Fatalf("instances %d detected %d any %d alerts %d tp %d; want 4 1 2 6 3", rep.Instances, rep.Detected, rep.DetectedAny, rep.Alerts, rep.TruePositiveAlerts)
	}
	if !near(rep.Recall, 0.25) || !near(rep.RecallAny, 0.5) || !near(rep.Precision, 0.5) || !near(rep.F1, 1.0/3) || !near(rep.AlertsPer10k, 1500) {
		t.Fatalf("recall %v any %v precision %v F1 %v per10k %v", rep.Recall, rep.RecallAny, rep.Precision, rep.F1, rep.AlertsPer10k)
	}
	want := map[string]TypologyRow{
		"structuring": {Typology: "structuring", Instances: 2, Detected: 1, DetectedAny: 1, Recall: 0.5, RecallAny: 0.5, Alerts: 3, AlertsTP: 2, Precision: 2.0 / 3, Catalogue: true},
		"cycle":       {Typology: "cycle", Instances: 1, Detected: 0, DetectedAny: 1, Recall: 0, RecallAny: 1, Catalogue: true},
		"fan_in":      {Typology: "fan_in", Instances: 1, Alerts: 2, AlertsTP: 1, Precision: 0.5, Catalogue: true},
		"money_mule":  {Typology: "money_mule", Alerts: 1, Catalogue: true},
	}
	if len(rep.Typologies) != len(want) {
		t.Fatalf("rows %+v", rep.Typologies)
	}
	for _, r := range rep.Typologies {
		w := want[r.Typology]
		if r.Instances != w.Instances || r.Detected != w.Detected || r.DetectedAny != w.DetectedAny || r.Alerts != w.Alerts || r.AlertsTP != w.AlertsTP ||
			!near(r.Recall, w.Recall) || !near(r.RecallAny, w.RecallAny) || !near(r.Precision, w.Precision) || r.Catalogue != w.Catalogue {
			t.Errorf("row %+v, want %+v", r, w)
		}
	}
	if len(rep.Benign) != 2 || rep.Benign[0] != (BenignRow{"cash_business", 1, 1}) || rep.Benign[1] != (BenignRow{"payroll", 1, 0}) {
		t.Fatalf("benign %+v", rep.Benign)
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"structuring", "TOTAL", "precision 0.500", "recall 0.250", "F1 0.333", "1500.0 alerts per 10,000 accounts", "cash_business"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestGraceAndCustomerMatching(t *testing.T) {
	ins, as := fixture(t)
	// With no grace, al-2 (a day after the end, no shared transaction) no
	// longer touches the structuring instance: one true positive fewer.
	rep := Evaluate(ins, as, Options{Grace: 1})
	if rep.TruePositiveAlerts != 2 {
		t.Fatalf("grace 1ns: %d true positives, want 2", rep.TruePositiveAlerts)
	}
	// Matching by account only: al-2's subject is the customer's second
	// account, listed in the label's accounts, so it still matches.
	rep = Evaluate(ins, as, Options{NoSubjectID: true})
	if rep.TruePositiveAlerts != 3 {
		t.Fatalf("account-only: %d true positives, want 3", rep.TruePositiveAlerts)
	}
}

func TestEvaluateAccountsAMLSimFixture(t *testing.T) {
	labels, err := amlsim.ReadLabels(open(t, "testdata/amlsim_nodes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	as, err := ReadAlerts(open(t, "testdata/amlsim_alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	txs, err := AMLSimTransactions(open(t, "testdata/amlsim_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	type confusion struct {
		labelled, flagged, tp int
	}
	check := func(t *testing.T, what string, al *AccountLevel, want confusion) {
		t.Helper()
		p := float64(want.tp) / float64(want.flagged)
		r := float64(want.tp) / float64(want.labelled)
		if al == nil || al.Labelled != want.labelled || al.Flagged != want.flagged || al.TruePositives != want.tp ||
			!near(al.Precision, p) || !near(al.Recall, r) || !near(al.F1, 2*p*r/(p+r)) {
			t.Fatalf("%s: %+v, want %+v", what, al, want)
		}
	}
	odd := func(acct string) bool { return (acct[len(acct)-1]-'0')%2 == 1 }
	for _, tc := range []struct {
		name          string
		withTx        bool
		subset        func(string) bool
		subjects      confusion
		counterparts  *confusion
		alerts, tpAls int
	}{
		// Subjects acct-2 (fraud), acct-7 (not), acct-3 (fraud); acct-4
		// (fraud) and acct-8 (not) are only counterparties of listed
		// transactions.
		{name: "subjects only", subjects: confusion{4, 3, 2}, alerts: 3, tpAls: 2},
		{name: "with counterparties", withTx: true, subjects: confusion{4, 3, 2}, counterparts: &confusion{4, 5, 3}, alerts: 3, tpAls: 2},
		// Odd accounts: fraud 3 and 5; acct-7 and acct-3 are subjects.
		{name: "odd half", withTx: true, subset: odd, subjects: confusion{2, 2, 1}, counterparts: &confusion{2, 2, 1}, alerts: 2, tpAls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Subset: tc.subset}
			if tc.withTx {
				o.TxAccounts = txs
			}
			rep := EvaluateAccounts(labels, as, o)
			check(t, "subjects", rep.AccountLevel, tc.subjects)
			if tc.counterparts == nil {
				if rep.AccountLevel.WithCounterparties != nil {
					t.Fatalf("counterparties counted without transactions: %+v", rep.AccountLevel.WithCounterparties)
				}
			} else {
				check(t, "with counterparties", rep.AccountLevel.WithCounterparties, *tc.counterparts)
			}
			if rep.Alerts != tc.alerts || rep.TruePositiveAlerts != tc.tpAls || rep.F1 != rep.AccountLevel.F1 {
				t.Fatalf("alerts %d tp %d F1 %v", rep.Alerts, rep.TruePositiveAlerts, rep.F1)
			}
		})
	}
}

func TestIBMPatternsWithTransactions(t *testing.T) {
	// Rows 2 and 3 of the transactions file are the cycle's first two hops.
	tx := "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n" +
		"2022/09/01 00:09,014433,801CA7940,004523,8119D8750,51.43,US Dollar,51.43,US Dollar,Credit Card,0\n" +
		"2022/09/05 12:32,021575,800EC1750,003335,8015A6530,15717.34,Euro,15717.34,Euro,ACH,1\n" +
		"2022/09/08 19:22,003335,8015A6530,022828,8011150C0,17441.40,US Dollar,17441.40,US Dollar,ACH,1\n"
	pat := "BEGIN LAUNDERING ATTEMPT - CYCLE:  Max 3 hops\n" +
		"2022/09/05 12:32,021575,800EC1750,003335,8015A6530,15717.34,Euro,15717.34,Euro,ACH,1\n" +
		"2022/09/08 19:22,003335,8015A6530,022828,8011150C0,17441.40,US Dollar,17441.40,US Dollar,ACH,1\n" +
		"2022/09/09 05:17,022828,8011150C0,021575,800EC1750,19034.97,US Dollar,19034.97,US Dollar,ACH,1\n" +
		"END LAUNDERING ATTEMPT - CYCLE\n" +
		"BEGIN LAUNDERING ATTEMPT - RANDOM:  Max 2 hops\n" +
		"2022/09/09 19:31,0217,81054CBF0,003514,801F08FB0,15810.55,Euro,15810.55,Euro,ACH,1\n" +
		"END LAUNDERING ATTEMPT - RANDOM\n"
	ids, laundering, accounts, err := IBMTransactions(strings.NewReader(tx))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || !laundering["ibm-2"] || !laundering["ibm-3"] || accounts != 5 {
		t.Fatalf("ids %v laundering %v accounts %d", ids, laundering, accounts)
	}
	ps, err := ibmaml.ReadLabels(strings.NewReader(pat))
	if err != nil {
		t.Fatal(err)
	}
	ins := FromPatterns(ps, ids)
	if got := strings.Join(ins[0].Transactions, ","); got != "ibm-2,ibm-3" || len(ins[0].Accounts) != 3 {
		t.Fatalf("cycle instance %+v", ins[0])
	}
	as := []alerts.Alert{
		{ID: "a", Time: "2022-09-08T19:22:00Z", Subject: alerts.Subject{Account: "8011150C0"}, Transactions: []string{"ibm-3"}, Typologies: []alerts.TypologyHit{{ID: "cycle"}}},
		{ID: "b", Time: "2022-09-01T00:09:00Z", Subject: alerts.Subject{Account: "8119D8750"}, Transactions: []string{"ibm-1"}, Typologies: []alerts.TypologyHit{{ID: "fan_in"}}},
	}
	rep := Evaluate(ins, as, Options{Laundering: laundering, Accounts: accounts})
	// RANDOM has no catalogue id: it is reported but not in the recall total.
	if rep.Instances != 1 || rep.Detected != 1 || rep.TruePositiveAlerts != 1 || !near(rep.Precision, 0.5) || !near(rep.RecallAny, 0.5) || !near(rep.AlertsPer10k, 4000) {
		b, _ := json.Marshal(rep)
		t.Fatalf("%s", b)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	if _, err := ReadAlerts(strings.NewReader("{\"id\":\"a\"}\n{oops\n")); err == nil || !strings.HasPrefix(err.Error(), "alerts line 2") {
		t.Fatalf("got %v", err)
	}
	if _, err := ReadGenLabels(strings.NewReader("{\"typology\":\"cycle\"}\n")); err == nil || !strings.HasPrefix(err.Error(), "labels line 1") {
		t.Fatalf("got %v", err)
	}
	if _, err := CountAccounts(strings.NewReader("{\"accounts\":[\"a\",\"b\"]}\n{\"accounts\":[\"c\"]}\n")); err != nil {
		t.Fatal(err)
	}
	if n, _ := CountAccounts(strings.NewReader("{\"accounts\":[\"a\",\"b\"]}\n{\"accounts\":[\"c\"]}\n")); n != 3 {
		t.Fatalf("%d accounts, want 3", n)
	}
}

// The real samples end to end: every AMLworld sample pattern becomes an
// instance with its hub as subject.
func TestIBMSamplePatterns(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "ibm-amlworld", "hi_small_patterns_sample.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("shared test data missing: %v", err)
	}
	defer f.Close()
	ps, err := ibmaml.ReadLabels(f)
	if err != nil {
		t.Fatal(err)
	}
	ins := FromPatterns(ps, nil)
	if len(ins) != 8 || ins[3].Subject != "80B7973F0" || len(ins[3].Accounts) != 5 {
		t.Fatalf("%d instances; fan-out %+v", len(ins), ins[3])
	}
}
