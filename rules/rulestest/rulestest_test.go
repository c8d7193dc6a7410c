package rulestest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/evidence"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/window"
)

var starter = []string{filepath.Join("..", "..", "configs", "rules"), filepath.Join("..", "..", "configs", "typologies")}

func events() []*ingest.Event {
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.FixedZone("EST", -5*3600))
	var out []*ingest.Event
	add := func(h int, kind, amount string, from, to *ingest.Party) {
		out = append(out, &ingest.Event{ID: fmt.Sprintf("e%02d", len(out)), Time: at.Add(time.Duration(h) * time.Hour), Kind: kind,
			Amount: Amount(amount), Currency: "CAD", From: from, To: to, Location: &ingest.Location{Country: "CA", Region: "ON"}})
	}
	a := &ingest.Party{Account: "A"}
	for i, amt := range []string{"4000", "3500", "3000", "2500"} {
		add(i*3, "cash_deposit", amt, nil, a)
	}
	for i := 0; i < 6; i++ {
		add(12+i, "p2p", "700", &ingest.Party{Account: fmt.Sprintf("S%d", i)}, a)
	}
	add(20, "cash_withdrawal", "9000", a, nil)
	add(21, "crypto_buy", "6000", a, &ingest.Party{Wallet: "w"})
	return out
}

// The Tester's alerts are exactly what the production path gives: its extra
// observation typologies never reach an alert.
func TestSameAlertsAsProduction(t *testing.T) {
	tr := New(t, starter...)
	tr.Feed(events()...)
	got, _ := json.Marshal(tr.Alerts())

	set, err := rules.Load(starter...)
	if err != nil {
		t.Fatal(err)
	}
	rates, err := fx.Load(filepath.Join("..", "..", "configs", "fx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scoring.New(scoring.Config{}, rules.HolderOf(set), window.NewMemory(), rates, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/sluice memoryStores and (*parts).pipeline assemble it.
	sc.Graph, sc.Evidence = graph.NewMemory(graph.Config{}), evidence.NewMemory(0)
	am, _ := alerts.NewManager(alerts.Config{}, alerts.NewMemoryState())
	ctx := context.Background()
	latest := map[string]alerts.Alert{}
	var order []string
	for i, e := range events() {
		fs, _, err := sc.Score(ctx, []scoring.Item{{Event: e, Pos: ingest.Position{File: "rulestest", Line: int64(i + 1)}}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := am.Raise(ctx, fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range b.Alerts {
			if _, ok := latest[a.ID]; !ok {
				order = append(order, a.ID)
			}
			latest[a.ID] = a
		}
	}
	var prod []alerts.Alert
	for _, id := range order {
		prod = append(prod, latest[id])
	}
	want, _ := json.Marshal(prod)
	if len(prod) < 2 {
		t.Fatalf("the scenario should raise at least two alerts, got %s", want)
	}
	if string(got) != string(want) {
		t.Errorf("tester alerts differ from production:\n%s\n%s", got, want)
	}
	if strings.Contains(string(got), observed) {
		t.Error("an observation typology leaked into an alert")
	}
	// Hits below any threshold are still visible.
	if len(tr.Hits("e01")) != 0 || len(tr.Hits("e02")) == 0 {
		t.Errorf("hits e01 %v e02 %v", tr.Hits("e01"), tr.Hits("e02"))
	}
}

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestExpectMessages(t *testing.T) {
	rec := &recorder{TB: t}
	tr := New(rec, starter...)
	tr.Feed(events()[:3]...)
	if a := tr.ExpectAlert("A", "structuring"); a == nil || len(rec.errs) != 0 {
		t.Fatalf("ExpectAlert: %v %v", a, rec.errs)
	}
	tr.ExpectNoAlert("A")
	tr.ExpectAlert("A", "fan_in")
	tr.ExpectNoAlertFor("A", "structuring")
	tr.ExpectNoAlertFor("A", "fan_in")
	tr.ExpectNoAlert("B")
	if len(rec.errs) != 3 {
		t.Fatalf("want 3 failures, got %q", rec.errs)
	}
	for _, m := range rec.errs {
		if !strings.Contains(m, "cash-split-24h-ca") || !strings.Contains(m, "total 10,500.00 CAD") {
			t.Errorf("failure message should show the hits and reasons:\n%s", m)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{}
	if err := c.Validate(); err == nil {
		t.Error("no paths accepted")
	}
	c = Config{Paths: []string{t.TempDir()}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Config.FX") {
		t.Errorf("missing fx.yaml: %v", err)
	}
	c = Config{Paths: starter}
	if err := c.Validate(); err != nil || c.FX != filepath.Join("..", "..", "configs", "fx.yaml") {
		t.Errorf("default FX %q: %v", c.FX, err)
	}
}

// A feature with a `value:` reads back in the units of its expression (it
// is kept in hundredths, as money is in cents), and a negative value rounds
// as a positive one does.
func TestValueFeaturesReadInTheirUnits(t *testing.T) {
	tr := NewWith(t, Config{Paths: []string{filepath.Join("testdata", "values")}, FX: filepath.Join("..", "..", "configs", "fx.yaml")})
	a := &ingest.Party{Account: "A"}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for i, amt := range []string{"100.005", "12.345", "250.50"} {
		tr.Feed(&ingest.Event{ID: fmt.Sprintf("v%d", i), Time: at.Add(time.Duration(i) * time.Hour), Kind: "wire",
			Amount: Amount(amt), Currency: "CAD", From: a, To: &ingest.Party{Account: fmt.Sprintf("B%d", i)}})
	}
	hits := tr.Hits("v2")
	if len(hits) != 1 {
		t.Fatalf("hits on v2: %v", hits)
	}
	got := hits[0].Values
	// 100.005 and 12.345 CAD are 100.01 and 12.35 in base-currency cents.
	want := map[string]float64{"largest": 501.00, "smallest": 12.35, "total": 362.86}
	for k, w := range want {
		if v, err := strconv.ParseFloat(fmt.Sprint(got[k]), 64); err != nil || math.Abs(v-w) > 1e-9 {
			t.Errorf("%s = %v (%T), want %v", k, got[k], got[k], w)
		}
	}
	if r := hits[0].Reason; r != "largest 501.00, smallest 12.35, total 362.86" {
		t.Errorf("reason %q", r)
	}
}
