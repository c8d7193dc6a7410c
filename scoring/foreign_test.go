package scoring_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/evidence"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/window"
)

// recorder is a window store that notes, per key, the features each update
// handed to it, before the memory store applies it.
type recorder struct {
	window.Store
	mu    sync.Mutex
	feeds map[string][]string // key -> "feature" for each input applied
}

func (r *recorder) Apply(ctx context.Context, ups []*window.Update) error {
	r.mu.Lock()
	for _, u := range ups {
		for k, in := range u.Inputs {
			j := k
			if u.Only != nil {
				j = int(u.Only[k])
			}
			if in.Apply {
				r.feeds[u.Key] = append(r.feeds[u.Key], u.Group.Features[j].Name)
			}
		}
		if len(u.Inputs) > 0 {
			r.feeds[u.Key] = append(r.feeds[u.Key], "")
		}
	}
	r.mu.Unlock()
	return r.Store.Apply(ctx, ups)
}

// TestForeignAccountsKeepWhatRulesMayRead: an account at another bank (no
// customer id) gets no window state that only rules about customers read
// (customer-inflow's in_sum), keeps what a rule about any payer reads
// (payer-outflow's out_sum), and every rule fires as it would if all state
// were kept.
func TestForeignAccountsKeepWhatRulesMayRead(t *testing.T) {
	set, err := rules.Load(filepath.Join("testdata", "foreign"))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.ForeignReads(); !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("ForeignReads = %v, want out_sum only", got)
	}
	rates, err := fx.Load(filepath.Join("..", "configs", "fx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Store: window.NewMemory(), feeds: map[string][]string{}}
	s, err := scoring.New(scoring.Config{}, rules.HolderOf(set), rec, rates, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Evidence = evidence.NewMemory(0)

	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	cust := &ingest.Party{Account: "CA-1", CustomerID: "C-1", Type: "person"}
	payer := &ingest.Party{Account: "EXT-PAYER", Type: "organization"}
	payee := &ingest.Party{Account: "EXT-PAYEE", Type: "organization"}
	var items []scoring.Item
	add := func(h int, from, to *ingest.Party) {
		e := &ingest.Event{ID: fmt.Sprintf("e%d", len(items)), Time: at.Add(time.Duration(h) * time.Hour), Kind: "wire",
			Amount: amount(t, "600.00"), Currency: "CAD", From: from, To: to}
		items = append(items, scoring.Item{Event: e, Pos: ingest.Position{File: "t", Line: int64(len(items) + 1)}})
	}
	// The customer pays the foreign payee three times (customer-inflow,
	// were it about any payee, would fire on the third), and the foreign
	// payer pays the customer twice.
	add(0, cust, payee)
	add(1, cust, payee)
	add(2, cust, payee)
	add(3, payer, cust)
	add(4, payer, cust)
	findings, _, err := s.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	var fired []string
	for _, f := range findings {
		for _, h := range f.Hits {
			fired = append(fired, fmt.Sprintf("%s %s %s %v", f.Event.ID, f.Subject.Account, h.Rule.ID, f.Evidence))
		}
	}
	want := []string{
		"e4 EXT-PAYER payer-outflow [e3]",
		"e4 CA-1 customer-inflow [e3]",
	}
	slices.Sort(fired)
	slices.Sort(want)
	if !slices.Equal(fired, want) {
		t.Errorf("fired:\n%s\nwant:\n%s", strings.Join(fired, "\n"), strings.Join(want, "\n"))
	}
	if got := rec.feeds["EXT-PAYEE"]; len(got) > 0 {
		t.Errorf("the foreign payee got window updates %q: only customer rules read its in_sum", got)
	}
	if got := strings.Join(rec.feeds["EXT-PAYER"], ","); got != "out_sum,,out_sum," {
		t.Errorf("the foreign payer's updates fed %q, want out_sum twice", got)
	}
	if got := strings.Join(rec.feeds["CA-1"], ","); got != "out_sum,,out_sum,,out_sum,,in_sum,,in_sum," {
		t.Errorf("the customer's updates fed %q, want out_sum three times then in_sum twice", got)
	}
}

func amount(t *testing.T, s string) ingest.Amount {
	t.Helper()
	a, _, err := ingest.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
