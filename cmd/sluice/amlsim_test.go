package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest/adapters/amlsim"
	"github.com/sluice-aml/sluice/internal/eval"
	"github.com/sluice-aml/sluice/rules/rulestest"
)

// Floors of account-level detection on IBM AMLSim's 20K sample with the
// dataset rule set configs/datasets/amlsim (issue 4's target: F1 >= 0.8).
// 576 of the 1,804 labelled accounts make no pattern transfer within the
// sample's 149 steps (presumably their pattern's steps fall after its end):
// every transfer they make is an ordinary one, so recall is at most 1228/1804 =
// 0.681 and F1 at most 0.810 for a rule set that flags an account on its
// own transfers. The rule set reaches that with no false positive; the
// halves of the population are each within a little of it.
const (
	floorAMLSimF1        = 0.80
	floorAMLSimPrecision = 0.99
	floorAMLSimHalfF1    = 0.78
)

// TestAMLSimQuality replays the AMLSim 20K sample with the dataset rule set
// and checks account-level F1 on the whole population and on two splits of
// it that the rules know nothing about (node id parity, node id range):
// go test -run TestAMLSimQuality -v ./cmd/sluice prints the figures.
func TestAMLSimQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 120,558 events; skipped with -short")
	}
	dir := sharedData(t, "amlsim")
	txPath := filepath.Join(dir, "20K_fanin200cycle200_transactions.csv")
	nodesPath := filepath.Join(dir, "20K_fanin200cycle200_nodes.csv")
	cfg := testConfig(t)
	cfg.Rules.Paths = []string{filepath.Join("..", "..", "configs", "datasets", "amlsim")}
	cfg.Lists.Disabled = true
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	var stderr bytes.Buffer
	st, err := replay(context.Background(), cfg, replayOptions{input: txPath, out: out, store: "memory", format: "amlsim", stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if st.rejected != 0 {
		t.Fatalf("%d events rejected: %s", st.rejected, stderr.String())
	}
	labels, err := withFile(nodesPath, amlsim.ReadLabels)
	if err != nil {
		t.Fatal(err)
	}
	as, err := withFile(out, eval.ReadAlerts)
	if err != nil {
		t.Fatal(err)
	}
	txs, err := withFile(txPath, eval.AMLSimTransactions)
	if err != nil {
		t.Fatal(err)
	}
	node := func(acct string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(acct, "acct-"))
		if err != nil {
			return -1
		}
		return n
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%d events replayed in %s, %d alerts\n", st.events, st.elapsed.Round(time.Millisecond), len(as))
	fmt.Fprintf(&table, "%-16s %9s %8s %6s %9s %6s %6s   %s\n", "accounts", "labelled", "flagged", "tp", "precision", "recall", "F1", "F1 with counterparties")
	for _, part := range []struct {
		name  string
		keep  func(string) bool
		floor float64
	}{
		{"all", nil, floorAMLSimF1},
		{"even node ids", func(a string) bool { return node(a)%2 == 0 }, floorAMLSimHalfF1},
		{"odd node ids", func(a string) bool { return node(a)%2 == 1 }, floorAMLSimHalfF1},
		{"node id < 10000", func(a string) bool { return node(a) < 10000 }, floorAMLSimHalfF1},
		{"node id >= 10000", func(a string) bool { return node(a) >= 10000 }, floorAMLSimHalfF1},
	} {
		rep := eval.EvaluateAccounts(labels, as, eval.Options{Format: "amlsim", TxAccounts: txs, Subset: part.keep})
		al := rep.AccountLevel
		fmt.Fprintf(&table, "%-16s %9d %8d %6d %9.3f %6.3f %6.3f   %.3f\n", part.name, al.Labelled, al.Flagged, al.TruePositives, al.Precision, al.Recall, al.F1, al.WithCounterparties.F1)
		if al.F1 < part.floor {
			t.Errorf("%s: account-level F1 %.3f is below the floor %.2f", part.name, al.F1, part.floor)
		}
		if al.Precision < floorAMLSimPrecision {
			t.Errorf("%s: account-level precision %.3f is below the floor %.2f", part.name, al.Precision, floorAMLSimPrecision)
		}
	}
	t.Logf("AMLSim 20K sample, rule set configs/datasets/amlsim:\n%s", table.String())
}

// TestAMLSimRules runs the dataset rule set on hand-written AMLSim rows:
// ordinary accounts (each sends its one amount, once per counterparty)
// raise nothing; each member of a fan-in and of a cycle is flagged on its
// own transfers.
func TestAMLSimRules(t *testing.T) {
	root := filepath.Join("..", "..", "configs")
	for _, tc := range []struct {
		name  string
		rows  string            // sourceNodeId,targetNodeId,value,time
		want  map[string]string // account -> typology its alert must name
		quiet []string          // accounts that must raise nothing
	}{
		{
			name: "ordinary accounts",
			// 1 sends its 250.00 to four accounts; 2 receives 100.04 to
			// 599.92 (the sample's whole range) from four senders.
			rows:  "1,2,250.00,1\n6,2,100.04,2\n7,2,599.92,2\n1,3,250.00,9\n1,4,250.00,30\n1,5,250.00,31\n8,2,340.10,40\n9,2,180.00,41\n",
			quiet: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"},
		},
		{
			name: "fan-in",
			// 11 and 12 send their usual amounts, then their share of a
			// fan-in into 10, repeated the same day; 13's share comes
			// once, far below what 10 usually receives.
			rows:  "11,20,300.00,1\n12,21,420.00,2\n22,10,350.00,3\n11,10,3.21,40\n11,10,3.21,40\n11,10,3.21,40\n12,10,3.76,77\n12,10,3.10,77\n13,10,4.40,110\n",
			want:  map[string]string{"11": "fan_in", "12": "fan_in", "10": "fan_in"},
			quiet: []string{"20", "21", "22"},
		},
		{
			name: "cycle",
			// 30 -> 31 -> 32 -> 30 with one amount, weeks apart, each
			// hop made twice; the members also send and receive their
			// ordinary transfers.
			rows: "30,40,200.00,1\n31,41,300.00,1\n32,42,400.00,1\n43,30,250.00,2\n44,31,350.00,2\n45,32,150.00,2\n" +
				"30,31,11.51,18\n30,31,11.51,18\n31,32,11.51,50\n31,32,11.51,50\n32,30,11.51,103\n32,30,11.51,103\n",
			want:  map[string]string{"30": "cycle", "31": "cycle", "32": "cycle"},
			quiet: []string{"40", "41", "42", "43", "44", "45"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := rulestest.NewWith(t, rulestest.Config{Paths: []string{filepath.Join(root, "datasets", "amlsim")}, FX: filepath.Join(root, "fx.yaml")})
			rd := amlsim.NewReader(strings.NewReader(tc.rows), amlsim.Options{})
			for {
				e, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				tr.Feed(e)
			}
			if errs := tr.Errors(); len(errs) > 0 {
				t.Fatalf("rule errors: %v", errs)
			}
			for node, typ := range tc.want {
				tr.ExpectAlert(amlsim.Account(node), typ)
			}
			for _, node := range tc.quiet {
				tr.ExpectNoAlert(amlsim.Account(node))
			}
		})
	}
}
