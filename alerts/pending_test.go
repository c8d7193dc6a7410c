package alerts

import (
	"context"
	"testing"

	"github.com/sluice-aml/sluice/scoring"
)

// A Pending passes the State contract when batches are committed through it.
func TestPendingState(t *testing.T) {
	runStateSuite(t, func(*testing.T) State { return NewPending(NewMemoryState()) })
	runNeverBack(t, NewPending(NewMemoryState()))
}

// TestPendingStageAndLand: a batch raised over a staged, unsaved one sees
// its state (it updates that alert instead of raising another) and depends
// on it; a batch on another subject does not; landing saves each in turn
// and leaves nothing pending.
func TestPendingStageAndLand(t *testing.T) {
	ctx := context.Background()
	under := NewMemoryState()
	p := NewPending(under)
	m, err := NewManager(Config{}, p)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := m.Raise(ctx, nil)
	if err != nil || len(b1.Alerts) != 0 {
		t.Fatalf("no findings: %v %v", b1, err)
	}
	b1, _ = m.Raise(ctx, []scoring.Finding{finding("t1", 0, structuring, splitRule)})
	f1, err := p.Stage(b1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := under.Alerts(ctx, []string{b1.Alerts[0].ID}); got[0] != nil {
		t.Fatal("staging saved the alert")
	}
	b2, _ := m.Raise(ctx, []scoring.Finding{finding("t2", 5, structuring, splitRule)})
	if len(b2.Alerts) != 1 || b2.Alerts[0].ID != b1.Alerts[0].ID || b2.Alerts[0].Version != 2 {
		t.Fatalf("the batch over a staged one: %+v, want its alert at version 2", b2.Alerts)
	}
	f2, err := p.Stage(b2)
	if err != nil {
		t.Fatal(err)
	}
	if len(f2.Deps()) != 1 || f2.Deps()[0] != f1 {
		t.Fatalf("the update depends on %d flights, want the first", len(f2.Deps()))
	}
	other := finding("t3", 5, structuring, splitRule)
	other.Subject.Account = "A-2"
	b3, _ := m.Raise(ctx, []scoring.Finding{other})
	f3, _ := p.Stage(b3)
	if len(f3.Deps()) != 0 {
		t.Errorf("a batch on another subject depends on %d flights", len(f3.Deps()))
	}
	for i, f := range []*Flight{f1, f2, f3} {
		if err := p.Land(ctx, f); err != nil {
			t.Fatal(err)
		}
		select {
		case <-f.Done():
		default:
			t.Errorf("flight %d landed but not done", i+1)
		}
		if i == 0 {
			got, _ := under.Alerts(ctx, []string{b1.Alerts[0].ID})
			if got[0] == nil || got[0].Version != 1 {
				t.Errorf("after the first landing the state holds %+v, want version 1", got[0])
			}
			// The second batch's version is still what a Raise reads.
			got, _ = p.Alerts(ctx, []string{b1.Alerts[0].ID})
			if got[0].Version != 2 {
				t.Errorf("a Raise now reads version %d, want the pending 2", got[0].Version)
			}
		}
	}
	got, _ := under.Alerts(ctx, []string{b1.Alerts[0].ID})
	if got[0] == nil || got[0].Version != 2 || p.Len() != 0 {
		t.Errorf("after all landed: %+v, %d pending; want version 2, none", got[0], p.Len())
	}
}
