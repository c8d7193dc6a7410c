package rulestest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

// Config says what a Tester runs.
type Config struct {
	// Paths are the rule-set directories or files (configs/rules,
	// configs/typologies). Required.
	Paths []string
	// FX is the rate table. Default: fx.yaml in the parent directory of the
	// first path (configs/fx.yaml for configs/rules).
	FX string
	// Profiles are customers' declared (KYC) profiles by customer id; rules
	// read them as from.profile and to.profile.
	Profiles map[string]rules.Profile
	// Screener screens party names and wallets; nil means no screening.
	Screener scoring.Screener
	// CoolDown and Shadow configure the alert manager as in production
	// (defaults: 72h, shadow alerts off).
	CoolDown time.Duration
	Shadow   bool
	// Lateness is the scorer's lateness bound (default 72h).
	Lateness time.Duration
}

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if len(c.Paths) == 0 {
		return fmt.Errorf("rulestest: no rule paths: name configs/rules and configs/typologies")
	}
	if c.FX == "" {
		c.FX = filepath.Join(filepath.Dir(filepath.Clean(c.Paths[0])), "fx.yaml")
		if _, err := os.Stat(c.FX); err != nil {
			return fmt.Errorf("rulestest: no FX table at %s (set Config.FX): %w", c.FX, err)
		}
	}
	return nil
}

// observed marks the per-rule typologies the Tester adds so that it sees
// every rule hit; they never reach the alert manager.
const observed = "rulestest:"

// Tester runs a rule set on events in memory. It is not safe for concurrent use.
type Tester struct {
	t      testing.TB
	set    *rules.Set
	scorer *scoring.Scorer
	alerts *alerts.Manager
	line   int64

	order  []string                // alert ids in the order first raised
	latest map[string]alerts.Alert // alert id → newest version
	hits   map[string][]rules.Hit  // transaction id → hits, to side first
	events []string                // transaction ids fed, in order
	errs   []error                 // rule run-time errors
}

// New returns a Tester of the rule set at paths, with defaults for the rest.
func New(t testing.TB, paths ...string) *Tester {
	t.Helper()
	return NewWith(t, Config{Paths: paths})
}

// NewWith returns a Tester configured by cfg. Any problem fails the test.
func NewWith(t testing.TB, cfg Config) *Tester {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Load(cfg.Paths...)
	if err != nil {
		t.Fatalf("rulestest: rule set does not load:\n%v", err)
	}
	rates, err := fx.Load(cfg.FX)
	if err != nil {
		t.Fatalf("rulestest: %v", err)
	}
	tr := &Tester{t: t, set: set, latest: map[string]alerts.Alert{}, hits: map[string][]rules.Hit{}}
	var profiles scoring.Profiles
	if cfg.Profiles != nil {
		profiles = profileMap(cfg.Profiles)
	}
	sc, err := scoring.New(scoring.Config{Lateness: cfg.Lateness}, rules.HolderOf(observe(set)), window.NewMemory(), rates, cfg.Screener, profiles)
	if err != nil {
		t.Fatalf("rulestest: %v", err)
	}
	// The same stores as production's in-memory assembly (cmd/sluice
	// memoryStores): rules see graph.* signals, and alerts list every
	// contributing transaction.
	sc.Graph = graph.NewMemory(graph.Config{})
	sc.Evidence = evidence.NewMemory(0)
	sc.OnError = func(err error) { tr.errs = append(tr.errs, err) }
	tr.scorer = sc
	if tr.alerts, err = alerts.NewManager(alerts.Config{CoolDown: cfg.CoolDown, Shadow: cfg.Shadow}, alerts.NewMemoryState()); err != nil {
		t.Fatalf("rulestest: %v", err)
	}
	return tr
}

// observe returns a copy of set with one extra typology per rule at
// threshold 1, so that the scorer reports every rule that fires. The copy
// keeps the set's hash: alerts name the real rule set.
func observe(set *rules.Set) *rules.Set {
	s := *set
	s.Typologies = append([]*rules.Typology(nil), set.Typologies...)
	for _, r := range set.Rules {
		s.Typologies = append(s.Typologies, &rules.Typology{ID: observed + r.ID, Threshold: 1,
			Rules: []rules.WeightedRule{{Rule: r, Weight: 1}}})
	}
	return &s
}

type profileMap map[string]rules.Profile

func (m profileMap) Profile(id string) (rules.Profile, bool) {
	p, ok := m[id]
	if ok {
		p.Known = true
	}
	return p, ok
}

// Set returns the compiled rule set under test.
func (tr *Tester) Set() *rules.Set { return tr.set }

// Feed scores events one at a time, in order, as a Kafka partition or a
// replay file would deliver them, and raises alerts.
func (tr *Tester) Feed(events ...*ingest.Event) {
	tr.t.Helper()
	ctx := context.Background()
	for _, e := range events {
		tr.line++
		if _, dup := tr.hits[e.ID]; !dup {
			tr.events = append(tr.events, e.ID)
			tr.hits[e.ID] = nil
		}
		findings, rejected, err := tr.scorer.Score(ctx, []scoring.Item{{Event: e, Pos: ingest.Position{File: "rulestest", Line: tr.line}}})
		if err != nil {
			tr.t.Fatalf("rulestest: scoring %s: %v", e.ID, err)
		}
		for _, r := range rejected {
			tr.t.Errorf("rulestest: event %s rejected by the scorer: %v", e.ID, r.Err)
		}
		var real []scoring.Finding
		for _, f := range findings {
			tr.hits[e.ID] = append(tr.hits[e.ID], f.Hits...)
			var ts []rules.TypologyScore
			for _, s := range f.Typologies {
				if !strings.HasPrefix(s.Typology.ID, observed) {
					ts = append(ts, s)
				}
			}
			if len(ts) > 0 {
				f.Typologies = ts
				real = append(real, f)
			}
		}
		b, err := tr.alerts.Raise(ctx, real)
		if err != nil {
			tr.t.Fatalf("rulestest: raising alerts for %s: %v", e.ID, err)
		}
		for _, a := range b.Alerts {
			if _, ok := tr.latest[a.ID]; !ok {
				tr.order = append(tr.order, a.ID)
			}
			tr.latest[a.ID] = a
		}
	}
}

// FeedJSON decodes each line with the production decoder and feeds it. A
// line that does not decode fails the test with the decoder's reason.
func (tr *Tester) FeedJSON(lines ...string) {
	tr.t.Helper()
	for i, l := range lines {
		e, err := ingest.Decode([]byte(l))
		if err != nil {
			tr.t.Fatalf("rulestest: FeedJSON line %d: %v\n%s", i+1, err, l)
		}
		tr.Feed(e)
	}
}

// Alerts returns every alert raised so far, each at its newest version, in
// the order they were first raised.
func (tr *Tester) Alerts() []alerts.Alert {
	out := make([]alerts.Alert, 0, len(tr.order))
	for _, id := range tr.order {
		out = append(out, tr.latest[id])
	}
	return out
}

// AlertsFor returns the alerts about account.
func (tr *Tester) AlertsFor(account string) []alerts.Alert {
	var out []alerts.Alert
	for _, a := range tr.Alerts() {
		if a.Subject.Account == account {
			out = append(out, a)
		}
	}
	return out
}

// Hits returns every rule that fired on transaction txID, for either party,
// whether or not a typology reached its threshold.
func (tr *Tester) Hits(txID string) []rules.Hit { return tr.hits[txID] }

// Fired reports whether rule ruleID fired on any transaction fed so far.
func (tr *Tester) Fired(ruleID string) bool {
	for _, hs := range tr.hits {
		for _, h := range hs {
			if h.Rule.ID == ruleID {
				return true
			}
		}
	}
	return false
}

// Errors returns the rule and feature run-time errors seen (a rule that
// fails at run time does not fire).
func (tr *Tester) Errors() []error { return tr.errs }

// ExpectAlert checks that an alert about account names typologyID and
// returns it (nil, after failing the test, when there is none).
func (tr *Tester) ExpectAlert(account, typologyID string) *alerts.Alert {
	tr.t.Helper()
	for _, a := range tr.AlertsFor(account) {
		for _, ty := range a.Typologies {
			if ty.ID == typologyID {
				return &a
			}
		}
	}
	tr.t.Errorf("no %s alert for %s\n%s", typologyID, account, tr.Explain(account))
	return nil
}

// ExpectNoAlert checks that no alert is about account.
func (tr *Tester) ExpectNoAlert(account string) {
	tr.t.Helper()
	if as := tr.AlertsFor(account); len(as) > 0 {
		tr.t.Errorf("unexpected alerts for %s\n%s", account, tr.Explain(account))
	}
}

// ExpectNoAlertFor checks that no alert about account names typologyID.
func (tr *Tester) ExpectNoAlertFor(account, typologyID string) {
	tr.t.Helper()
	for _, a := range tr.AlertsFor(account) {
		for _, ty := range a.Typologies {
			if ty.ID == typologyID {
				tr.t.Errorf("unexpected %s alert for %s\n%s", typologyID, account, tr.Explain(account))
				return
			}
		}
	}
}

// Explain describes the alerts about account and the rule hits of every
// transaction fed, for failure messages.
func (tr *Tester) Explain(account string) string {
	var b strings.Builder
	as := tr.AlertsFor(account)
	if len(as) == 0 {
		b.WriteString("  alerts: none\n")
	}
	for _, a := range as {
		var ts []string
		for _, ty := range a.Typologies {
			ts = append(ts, fmt.Sprintf("%s(%d)", ty.ID, ty.Score))
		}
		fmt.Fprintf(&b, "  alert %s v%d: %s on %s\n", a.ID, a.Version, strings.Join(ts, " "), strings.Join(a.Transactions, ","))
		for _, r := range a.Rules {
			fmt.Fprintf(&b, "    %s on %s: %s\n", r.ID, r.Tx, r.Reason)
		}
	}
	b.WriteString("  rule hits:\n")
	n := 0
	for _, id := range tr.events {
		for _, h := range tr.hits[id] {
			fmt.Fprintf(&b, "    %s: %s (%s) %s %s\n", id, h.Rule.ID, h.Rule.Subject, h.Reason, values(h.Values))
			n++
		}
	}
	if n == 0 {
		b.WriteString("    none\n")
	}
	for _, err := range tr.errs {
		fmt.Fprintf(&b, "  error: %v\n", err)
	}
	return b.String()
}

func values(v map[string]any) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, v[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Amount parses a decimal amount for hand-made events; it panics on a typo.
func Amount(s string) ingest.Amount {
	a, _, err := ingest.ParseAmount(s)
	if err != nil {
		panic(fmt.Sprintf("rulestest.Amount(%q): %v", s, err))
	}
	return a
}
