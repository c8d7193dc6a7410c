package alerts

import (
	"context"
	"testing"

	"github.com/sluice-aml/sluice/scoring"
)

// TestPendingStageAndLand: a batch raised over a staged, unwritten one
// reads its state (stored by Raise: it updates that alert instead of
// raising another) and depends on it; a batch on another subject does
// not; landing leaves nothing pending.
func TestPendingStageAndLand(t *testing.T) {
	ctx := context.Background()
	under := NewMemoryState()
	p := NewPending()
	m, err := NewManager(Config{}, under)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := m.Raise(ctx, nil)
	if err != nil || len(b1.Alerts) != 0 {
		t.Fatalf("no findings: %v %v", b1, err)
	}
	b1, _ = m.Raise(ctx, []scoring.Finding{finding("t1", 0, structuring, splitRule)})
	f1 := p.Stage(b1)
	if got, _ := under.Alerts(ctx, []string{b1.Alerts[0].ID}); got[0] == nil || got[0].Version != 1 {
		t.Fatalf("raised, the state holds %+v; want version 1 stored before it is written", got[0])
	}
	b2, _ := m.Raise(ctx, []scoring.Finding{finding("t2", 5, structuring, splitRule)})
	if len(b2.Alerts) != 1 || b2.Alerts[0].ID != b1.Alerts[0].ID || b2.Alerts[0].Version != 2 {
		t.Fatalf("the batch over a staged one: %+v, want its alert at version 2", b2.Alerts)
	}
	f2 := p.Stage(b2)
	if len(f2.Deps()) != 1 || f2.Deps()[0] != f1 {
		t.Fatalf("the update depends on %d flights, want the first", len(f2.Deps()))
	}
	other := finding("t3", 5, structuring, splitRule)
	other.Subject.Account = "A-2"
	b3, _ := m.Raise(ctx, []scoring.Finding{other})
	f3 := p.Stage(b3)
	if len(f3.Deps()) != 0 {
		t.Errorf("a batch on another subject depends on %d flights", len(f3.Deps()))
	}
	for i, f := range []*Flight{f1, f2, f3} {
		p.Land(f)
		select {
		case <-f.Done():
		default:
			t.Errorf("flight %d landed but not done", i+1)
		}
	}
	// Raised after f1 landed, an update depends on no flight.
	b4, _ := m.Raise(ctx, []scoring.Finding{finding("t4", 6, structuring, splitRule)})
	if f4 := p.Stage(b4); len(f4.Deps()) != 0 || b4.Alerts[0].Version != 3 {
		t.Errorf("after all landed: %d deps, version %d; want none, 3", len(f4.Deps()), b4.Alerts[0].Version)
	}
}
