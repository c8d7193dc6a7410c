package alerts

import (
	"context"
	"encoding/json"
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
		// The state is stored before the alerts are written: a redelivered
		// batch writes its alerts again, unchanged, in case the first
		// writes did not happen (the sinks keep one copy).
		{"a redelivered finding writes its alert again, unchanged",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t1", 0, structuring, splitRule)}},
			[]string{"0 v1 [t1] structuring"}},
		{"a redelivered update writes the alert again, unchanged",
			[][]scoring.Finding{{finding("t1", 0, structuring, splitRule)}, {finding("t2", 1, structuring, splitRule)}, {finding("t2", 1, structuring, splitRule)}},
			[]string{"0 v2 [t1 t2] structuring"}},
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
	runReserve(t, NewMemoryState())
	runLostAlert(t, NewMemoryState())
	runTwoProcessors(t, func(*testing.T) State { return NewMemoryState() })
}

func TestRedisState(t *testing.T) {
	newState := func(t *testing.T) State {
		rdb, prefix := redistest.Client(t, "alerts")
		return NewRedisState(rdb, prefix, time.Hour)
	}
	runStateSuite(t, newState)
	runReserve(t, newState(t))
	runLostAlert(t, newState(t))
	runTwoProcessors(t, newState)
}

// runReserve is the contract's part on reservations: an alert is stored
// only over the version read, a pointer only where no other alert's is
// open, and nothing goes back.
func runReserve(t *testing.T, s State) {
	t.Run("reserve", func(t *testing.T) {
		ctx := context.Background()
		const key = "A-1|structuring"
		reserve := func(want bool, id string, version, read int, claim *Claim) {
			t.Helper()
			a := &Alert{ID: id, Version: version, Transactions: []string{fmt.Sprintf("%s-%d", id, version)}}
			var claims []Claim
			if claim != nil {
				claims = []Claim{*claim}
			}
			ok, err := s.Reserve(ctx, claims, []Change{{Alert: a, Read: read}})
			if err != nil || ok != want {
				t.Errorf("reserve %s v%d over v%d: %v, %v; want %v", id, version, read, ok, err, want)
			}
		}
		check := func(id string, version int, open Open) {
			t.Helper()
			as, err := s.Alerts(ctx, []string{id})
			if err != nil || as[0] == nil || as[0].Version != version || as[0].Transactions[0] != fmt.Sprintf("%s-%d", id, version) {
				t.Errorf("alert %s: %+v, %v; want version %d", id, as[0], err, version)
			}
			os, err := s.Opens(ctx, []string{key})
			if err != nil || os[0] == nil || *os[0] != open {
				t.Errorf("open pointer %+v, %v; want %+v", os[0], err, open)
			}
		}
		reserve(true, "al-1", 1, 0, &Claim{Key: key, Open: Open{ID: "al-1", Until: 100}, At: 0})
		check("al-1", 1, Open{"al-1", 100})
		reserve(true, "al-1", 1, 0, &Claim{Key: key, Open: Open{ID: "al-1", Until: 100}, At: 0}) // the same batch again
		reserve(true, "al-1", 2, 1, nil)
		check("al-1", 2, Open{"al-1", 100})
		// Another processor's version 2, raised over version 1 as well.
		reserve(false, "al-1", 2, 1, nil)
		// A late save of version 1 (a former partition owner).
		reserve(false, "al-1", 1, 0, nil)
		check("al-1", 2, Open{"al-1", 100})
		reserve(true, "al-1", 2, 2, nil) // written again, unchanged
		// Another alert on the subject while al-1 is open: refused.
		reserve(false, "al-2", 1, 0, &Claim{Key: key, Open: Open{ID: "al-2", Until: 150}, At: 50})
		check("al-1", 2, Open{"al-1", 100})
		// Once al-1's cool-down is over at the event's time: taken.
		reserve(true, "al-3", 1, 0, &Claim{Key: key, Open: Open{ID: "al-3", Until: 200}, At: 100})
		check("al-3", 1, Open{"al-3", 200})
		// Its own pointer never moves back.
		reserve(true, "al-3", 1, 0, &Claim{Key: key, Open: Open{ID: "al-3", Until: 180}, At: 80})
		check("al-3", 1, Open{"al-3", 200})
		// Taking over a pointer to an alert not stored: only that one.
		reserve(false, "al-4", 1, 0, &Claim{Key: key, Open: Open{ID: "al-4", Until: 250}, At: 150, Replace: "al-9"})
		reserve(true, "al-4", 1, 0, &Claim{Key: key, Open: Open{ID: "al-4", Until: 250}, At: 150, Replace: "al-3"})
		check("al-4", 1, Open{"al-4", 250})
	})
}

// runLostAlert is the contract's part on a pointer whose alert is not
// stored (expired, or lost with a Redis node): after a few tries the new
// alert takes the pointer over, and the next finding updates it.
func runLostAlert(t *testing.T, s State) {
	t.Run("lost alert", func(t *testing.T) {
		ctx := context.Background()
		until := start.Add(72 * time.Hour).UnixMilli()
		if ok, err := s.Reserve(ctx, []Claim{{Key: "A-1|structuring", Open: Open{ID: "al-lost", Until: until}, At: start.UnixMilli()}}, nil); !ok || err != nil {
			t.Fatal(ok, err)
		}
		m, _ := NewManager(Config{CoolDown: 72 * time.Hour}, s)
		a1 := raise(t, m, finding("t1", 1, structuring, splitRule))
		a2 := raise(t, m, finding("t2", 2, structuring, splitRule))
		if len(a1) != 1 || len(a2) != 1 || a1[0].ID != a2[0].ID || a2[0].Version != 2 {
			t.Fatalf("after a lost alert: %+v then %+v; want a new alert, then its version 2", a1, a2)
		}
		if refused, gaveUp := m.Contention(); refused != staleAfter-1 || gaveUp != 0 {
			t.Errorf("contention %d refused, %d gave up; want %d and 0", refused, gaveUp, staleAfter-1)
		}
	})
}

// runTwoProcessors is the contract's part on processors sharing a state:
// two managers raise on one subject at once, each having read the state
// before the other stored its batch; they end with one alert, each
// finding in it once, at consecutive versions.
func runTwoProcessors(t *testing.T, newState func(t *testing.T) State) {
	t.Run("two processors", func(t *testing.T) {
		ctx := context.Background()
		shared := newState(t)
		held := &heldState{State: shared}
		m1, _ := NewManager(Config{CoolDown: 72 * time.Hour}, shared)
		m2, _ := NewManager(Config{CoolDown: 72 * time.Hour}, held)
		// The second processor reads the state, then waits before storing
		// its batch; the first raises and stores meanwhile.
		race := func(f1, f2 scoring.Finding) (a1, a2 []Alert) {
			t.Helper()
			held.read, held.release, held.hold = make(chan struct{}), make(chan struct{}), true
			done := make(chan []Alert)
			go func() {
				b, err := m2.Raise(ctx, []scoring.Finding{f2})
				if err != nil {
					t.Error(err)
				}
				done <- b.Alerts
			}()
			<-held.read
			a1 = raise(t, m1, f1)
			close(held.release)
			a2 = <-done
			return a1, a2
		}
		// Both see no alert open and would each open one.
		a1, a2 := race(finding("t1", 0, structuring, splitRule), finding("t2", 1, structuring, splitRule))
		if len(a1) != 1 || len(a2) != 1 || a1[0].ID != a2[0].ID || a2[0].Version != 2 || fmt.Sprint(a2[0].Transactions) != "[t1 t2]" {
			t.Fatalf("two processors opening at once: %+v and %+v; want one alert, v1 then v2 [t1 t2]", a1, a2)
		}
		// Both update it from version 2.
		a1, a2 = race(finding("t3", 2, structuring, splitRule), finding("t4", 3, structuring, splitRule))
		if len(a1) != 1 || len(a2) != 1 || a1[0].Version != 3 || a2[0].Version != 4 || fmt.Sprint(a2[0].Transactions) != "[t1 t2 t3 t4]" {
			t.Fatalf("two processors updating at once: %+v and %+v; want v3 then v4 [t1 t2 t3 t4]", a1, a2)
		}
		if refused, gaveUp := m2.Contention(); refused != 2 || gaveUp != 0 {
			t.Errorf("contention %d refused, %d gave up; want 2 and 0", refused, gaveUp)
		}
	})
}

// heldState, when hold is set, signals read at the start of the next
// Reserve and holds it until release.
type heldState struct {
	State
	read, release chan struct{}
	hold          bool
}

func (h *heldState) Reserve(ctx context.Context, claims []Claim, changes []Change) (bool, error) {
	if h.hold {
		h.hold = false
		close(h.read)
		<-h.release
	}
	return h.State.Reserve(ctx, claims, changes)
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

// TestRuleHitsBounded: an alert updated by thousands of findings (a mule
// paid by thousands in its cool-down) stays a bounded size: MaxRuleHits
// hits in full, then each rule's latest, the rest counted.
func TestRuleHitsBounded(t *testing.T) {
	m, _ := NewManager(Config{CoolDown: 72 * time.Hour}, NewMemoryState())
	const n = 3000
	var last []Alert
	for i := range n {
		f := finding(fmt.Sprintf("t%d", i), float64(i)/100, fanIn, fanRule)
		if i%2 == 1 {
			f.Hits = append(f.Hits, rules.Hit{Rule: splitRule, Reason: "also", Values: map[string]any{"tx": i}})
		}
		last = raise(t, m, f)
	}
	a := last[0]
	hits := n + n/2
	if a.Version != n || len(a.Rules) != MaxRuleHits+2 || a.RulesOmitted != hits-len(a.Rules) {
		t.Fatalf("v%d with %d rule hits listed, %d omitted; want v%d, %d listed, %d omitted", a.Version, len(a.Rules), a.RulesOmitted, n, MaxRuleHits+2, hits-MaxRuleHits-2)
	}
	for _, h := range a.Rules[MaxRuleHits:] {
		if want := fmt.Sprintf("t%d", n-1); h.Tx != want {
			t.Errorf("rule %s past the bound lists %s, want its latest, %s", h.ID, h.Tx, want)
		}
	}
	if b, _ := json.Marshal(a); len(b) > 64<<10 {
		t.Errorf("the alert is %d bytes after %d updates", len(b), n)
	}
}
