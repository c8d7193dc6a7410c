package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/pipeline"
)

// TestRescreenOnListChange pays a counterparty that the lists in force do
// not designate, then adds the FTO list (Tren de Aragua, February 2025) and
// checks that the history is screened again and the payment raises an
// explained designated_party alert, once.
func TestRescreenOnListChange(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	cfg.Lists.Dir = dir // no FTO list yet: only the 2021 OFAC SDN file
	cfg.Lists.OFACDir = sharedData(t, "ofac")
	p, err := loadParts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := memoryStores(cfg)
	col := &collector{alerts: map[string]alerts.Alert{}}
	pl, err := p.pipeline(st, col)
	if err != nil {
		t.Fatal(err)
	}
	ev := `{"id":"tx-tda-1","time":"2025-01-10T10:00:00-05:00","kind":"wire","amount":"8000.00","currency":"USD",` +
		`"from":{"account":"US-101-1","customer_id":"C-1","name":"Ana Ruiz"},"to":{"account":"VE-9","name":"TREN DE ARAGUA"}}`
	if err := pl.Process(context.Background(), []pipeline.Raw{{Value: []byte(ev), Pos: ingest.Position{File: "t", Line: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range col.alerts {
		if a.Typologies[0].ID == "designated_party" {
			t.Fatalf("the 2021 lists already designate the payee: %+v", a)
		}
	}
	if old, cur, err := p.screener.reload(); err != nil || cur != nil || old != nil {
		t.Fatalf("reload with unchanged lists: %v %v %v", old, cur, err)
	}
	fto, err := os.ReadFile(filepath.Join("..", "..", "configs", "lists", "fto.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fto.yaml"), fto, 0o644); err != nil {
		t.Fatal(err)
	}
	old, cur, err := p.screener.reload()
	if err != nil || cur == nil {
		t.Fatalf("reload after adding fto.yaml: %v", err)
	}
	sink := &collector{alerts: map[string]alerts.Alert{}}
	for i := 0; i < 2; i++ { // twice: the same alert, not a second one
		if err := rescreenHistory(context.Background(), st.registry, old, cur, p.rules.Current().Hash, []pipeline.Sink{sink}); err != nil {
			t.Fatal(err)
		}
	}
	if len(sink.alerts) != 1 {
		t.Fatalf("%d alerts after rescreening, want 1: %+v", len(sink.alerts), sink.alerts)
	}
	for _, a := range sink.alerts {
		if a.Subject.Account != "US-101-1" || a.Typologies[0].ID != "designated_party" || a.Transactions[0] != "tx-tda-1" ||
			a.Lists != cur.Hash() || !strings.Contains(a.Rules[0].Reason, "Tren de Aragua") {
			t.Errorf("alert: %+v", a)
		}
		t.Logf("%s: %s", a.ID, a.Rules[0].Reason)
	}
}
