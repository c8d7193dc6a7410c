package scoring_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/gen"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/evidence"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/window"
)

var ruleDirs = []string{filepath.Join("..", "configs", "rules"), filepath.Join("..", "configs", "typologies")}

type profiles map[string]rules.Profile

func (p profiles) Profile(id string) (rules.Profile, bool) {
	pr, ok := p[id]
	return pr, ok
}

// stream is a small generated bank, with a few events moved far back in
// time (too late) so that lateness decisions are part of what is compared.
func stream(t *testing.T) ([]*ingest.Event, profiles) {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Customers, cfg.Days = gen.MinCustomers, 20
	var evs []*ingest.Event
	if _, err := gen.Generate(cfg, func(e *ingest.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 5000; i < len(evs); i += 3001 {
		late := *evs[i]
		late.ID += "-late"
		late.Time = late.Time.Add(-10 * 24 * time.Hour)
		evs = slices.Insert(evs, i, &late)
	}
	cs, err := gen.Profiles(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps := profiles{}
	for _, c := range cs {
		ps[c.CustomerID] = rules.Profile{Known: true, Type: c.Type, Industry: c.Industry, Occupation: c.Occupation, Country: c.Country}
	}
	return evs, ps
}

func newScorer(t *testing.T, o rules.Options, ps profiles) *scoring.Scorer {
	t.Helper()
	set, err := rules.LoadWith(o, ruleDirs...)
	if err != nil {
		t.Fatal(err)
	}
	rates, err := fx.Load(filepath.Join("..", "configs", "fx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := scoring.New(scoring.Config{}, rules.HolderOf(set), window.NewMemory(), rates, nil, ps)
	if err != nil {
		t.Fatal(err)
	}
	s.Graph = graph.NewMemory(graph.Config{})
	s.Evidence = evidence.NewMemory(0)
	s.OnError = func(err error) { t.Errorf("rule error: %v", err) }
	return s
}

// describe is what an alert is made of, per finding and typology: the
// event, the subject, the typology and its score, each rule's reason and,
// when asked, the evidence (which is the finding's: it depends on every
// rule that fired, of whatever typology).
func describe(fs []scoring.Finding, rej []scoring.Rejected, batch []scoring.Item, keep func(id string) bool, evidence bool) []string {
	var out []string
	for _, f := range fs {
		for _, ts := range f.Typologies {
			if !keep(ts.Typology.ID) {
				continue
			}
			var why []string
			for _, h := range ts.Hits {
				why = append(why, h.Rule.ID+": "+h.Reason)
			}
			line := fmt.Sprintf("%s %s %s %d [%s]", f.Event.ID, f.Side, ts.Typology.ID, ts.Score, strings.Join(why, "; "))
			if evidence {
				line += fmt.Sprint(" ", f.Evidence)
			}
			out = append(out, line)
		}
	}
	for _, r := range rej {
		out = append(out, fmt.Sprintf("rejected %s: %s", batch[r.Index].Event.ID, r.Err.Reason))
	}
	return out
}

func batches(evs []*ingest.Event, size int) [][]scoring.Item {
	var out [][]scoring.Item
	for i := 0; i < len(evs); i += size {
		var b []scoring.Item
		for k, e := range evs[i:min(i+size, len(evs))] {
			b = append(b, scoring.Item{Event: e, Pos: ingest.Position{File: "test", Line: int64(i + k + 1)}})
		}
		out = append(out, b)
	}
	return out
}

// TestPrepareAheadMatchesScore: preparing a batch while the one before is
// being applied (as replay does) gives exactly what scoring batch after
// batch gives, lateness decisions included.
func TestPrepareAheadMatchesScore(t *testing.T) {
	evs, ps := stream(t)
	all := func(string) bool { return true }
	bs := batches(evs, 700)

	inOrder := newScorer(t, rules.Options{}, ps)
	var want []string
	for _, b := range bs {
		fs, rej, err := inOrder.Score(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, describe(fs, rej, b, all, true)...)
	}

	ahead := newScorer(t, rules.Options{}, ps)
	prepared := make(chan *scoring.Prepared, 1)
	go func() {
		for _, b := range bs {
			prepared <- ahead.Prepare(b)
		}
		close(prepared)
	}()
	var got []string
	k := 0
	for p := range prepared {
		fs, rej, err := ahead.Apply(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, describe(fs, rej, bs[k], all, true)...)
		k++
	}
	if !slices.Equal(got, want) {
		t.Fatalf("prepared ahead: %d lines, in order: %d; first difference:\n%s", len(got), len(want), firstDiff(got, want))
	}
	late := 0
	for _, l := range want {
		if strings.HasPrefix(l, "rejected") {
			late++
		}
	}
	if late == 0 || len(want) == late {
		t.Fatalf("%d rejections among %d lines: the stream tests nothing", late, len(want))
	}
}

// TestSubsetScoresTheSame: a rule set cut down to some typologies skips the
// features and graph searches only the others read, and still gives those
// typologies exactly what the whole library gives them.
func TestSubsetScoresTheSame(t *testing.T) {
	evs, ps := stream(t)
	starter := func(id string) bool { return slices.Contains(rules.StarterTypologies, id) }
	run := func(o rules.Options) []string {
		s := newScorer(t, o, ps)
		var out []string
		for _, b := range batches(evs, 1000) {
			fs, rej, err := s.Score(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, describe(fs, rej, b, starter, false)...)
		}
		return out
	}
	whole, subset := run(rules.Options{}), run(rules.Options{Typologies: []string{"starter"}})
	if !slices.Equal(subset, whole) {
		t.Fatalf("starter alone: %d lines, within the library: %d; first difference:\n%s", len(subset), len(whole), firstDiff(subset, whole))
	}
	if len(whole) < 10 {
		t.Fatalf("only %d starter findings: the stream tests nothing", len(whole))
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("got  %s\nwant %s", a[i], b[i])
		}
	}
	if len(a) > len(b) {
		return "extra: " + a[len(b)]
	}
	if len(b) > len(a) {
		return "missing: " + b[len(a)]
	}
	return ""
}
