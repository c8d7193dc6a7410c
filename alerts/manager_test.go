package alerts

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring"
)

var (
	structuring = &rules.Typology{ID: "structuring", Threshold: 60}
	fanIn       = &rules.Typology{ID: "fan_in", Threshold: 60}
	splitRule   = &rules.Rule{ID: "cash-split-24h-ca", Score: 70}
	fanRule     = &rules.Rule{ID: "fan-in-senders", Score: 65}
	start       = time.Date(2025, 3, 4, 9, 0, 0, 0, time.FixedZone("", -8*3600))
)

// finding is a finding on account A-1 at start+h hours.
func finding(tx string, h float64, ty *rules.Typology, r *rules.Rule, evidence ...string) scoring.Finding {
	e := &ingest.Event{ID: tx, Time: start.Add(time.Duration(h * float64(time.Hour))), Kind: "cash_deposit"}
	hit := rules.Hit{Rule: r, Reason: r.ID + " on " + tx, Values: map[string]any{"tx": tx}}
	return scoring.Finding{Event: e, Pos: ingest.Position{File: "f", Line: 1}, Side: "to", Subject: &ingest.Party{Account: "A-1", CustomerID: "C-1"},
		Typologies: []rules.TypologyScore{{Typology: ty, Score: r.Score}}, Hits: []rules.Hit{hit}, Ruleset: "sha256:r", Evidence: evidence}
}

// raise runs one batch through the manager the way the pipeline does.
func raise(t *testing.T, m *Manager, fs ...scoring.Finding) []Alert {
	t.Helper()
	b, err := m.Raise(context.Background(), fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b.Alerts
}

// runStateSuite is the contract every State implementation passes.
func runStateSuite(t *testing.T, newState func(t *testing.T) State) {
	cases := []struct {
		name    string
		batches [][]scoring.Finding
		// want describes the alerts written by the last batch: id index (by
		// order of first appearance over all batches), version, transactions.
		want []string
	}{
		{"a new alert lists the trigger first, then its evidence",
			[][]scoring.Finding{{finding("t2", 1, structuring, splitRule, "t1", "t0")}},
			[]string{"0 v1 [t2 t1 t0] structuring"}},
		{"further evidence within the cool-down updates the alert",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t2", 5, structuring, splitRule, "t1")}},
			[]string{"0 v2 [t1 t2] structuring"}},
		{"after the cool-down a new alert is raised",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t2", 80, structuring, splitRule)}},
			[]string{"1 v1 [t2] structuring"}},
		{"a redelivered finding changes nothing",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t1", 0, structuring, splitRule)}},
			nil},
		{"a redelivered update changes nothing",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t2", 1, structuring, splitRule)}, {finding("t2", 1, structuring, splitRule)}},
			nil},
		{"another typology on the same subject is its own alert",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t2", 1, fanIn, fanRule)}},
			[]string{"1 v1 [t2] fan_in"}},
		{"updates within one batch give one alert at its last version",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule), finding("t2", 1, structuring, splitRule), finding("t3", 2, structuring, splitRule)}},
			[]string{"0 v3 [t1 t2 t3] structuring"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewManager(Config{CoolDown: 72 * time.Hour}, newState(t))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			var last []Alert
			for _, b := range c.batches {
				last = raise(t, m, b...)
				for _, a := range last {
					if !contains(ids, a.ID) {
						ids = append(ids, a.ID)
					}
				}
			}
			var got []string
			for _, a := range last {
				got = append(got, fmt.Sprintf("%d v%d %v %s", index(ids, a.ID), a.Version, a.Transactions, a.Typologies[0].ID))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("alerts of the last batch:\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

func contains(l []string, s string) bool { return index(l, s) >= 0 }

func index(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

func TestMemoryState(t *testing.T) {
	runStateSuite(t, func(*testing.T) State { return NewMemoryState() })
	runNeverBack(t, NewMemoryState())
}

func TestRedisState(t *testing.T) {
	newState := func(t *testing.T) State {
		rdb, prefix := redistest.Client(t, "alerts")
		return NewRedisState(rdb, prefix, time.Hour)
	}
	runStateSuite(t, newState)
	runNeverBack(t, newState(t))
}

// runNeverBack is the contract's last part: a Save of what is older than
// what is stored (a rebalanced partition's former owner saving late)
// leaves the newer; the same or newer is saved.
func runNeverBack(t *testing.T, s State) {
	t.Run("never back", func(t *testing.T) {
		ctx := context.Background()
		save := func(until int64, version int) {
			t.Helper()
			a := &Alert{ID: "al-1", Version: version, Transactions: []string{fmt.Sprintf("t%d", version)}}
			if err := s.Save(ctx, map[string]Open{"A-1|structuring": {ID: "al-1", Until: until}}, []*Alert{a}); err != nil {
				t.Fatal(err)
			}
		}
		check := func(until int64, version int) {
			t.Helper()
			os, err := s.Opens(ctx, []string{"A-1|structuring"})
			if err != nil || os[0] == nil || os[0].Until != until {
				t.Errorf("open pointer %+v, %v; want until %d", os[0], err, until)
			}
			as, err := s.Alerts(ctx, []string{"al-1"})
			if err != nil || as[0] == nil || as[0].Version != version || as[0].Transactions[0] != fmt.Sprintf("t%d", version) {
				t.Errorf("alert %+v, %v; want version %d", as[0], err, version)
			}
		}
		save(200, 2)
		save(100, 1)
		check(200, 2)
		save(200, 2)
		check(200, 2)
		save(300, 3)
		check(300, 3)
	})
}

func TestIDIsDeterministic(t *testing.T) {
	a := ID(false, "A-1", "tx-1", []string{"fan_in", "structuring"})
	if a != ID(false, "A-1", "tx-1", []string{"fan_in", "structuring"}) || len(a) != 19 || a[:3] != "al-" {
		t.Errorf("id %q", a)
	}
	for _, other := range []string{ID(false, "A-2", "tx-1", []string{"fan_in", "structuring"}), ID(false, "A-1", "tx-2", []string{"fan_in", "structuring"}),
		ID(false, "A-1", "tx-1", []string{"fan_in"}), ID(true, "A-1", "tx-1", []string{"fan_in", "structuring"})} {
		if other == a {
			t.Errorf("different inputs gave the same id %s", a)
		}
	}
}
