package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/scoring"
)

// Config tunes the alert manager.
type Config struct {
	// CoolDown is how long after an alert is raised further evidence on the
	// same subject and typology updates that alert instead of raising a new
	// one. Default 72h (event time).
	CoolDown time.Duration
	// Shadow makes typologies reached only with shadow rules raise alerts
	// of mode "shadow" (id prefix "sh-"), for tuning; off by default.
	Shadow bool
}

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if c.CoolDown == 0 {
		c.CoolDown = 72 * time.Hour
	}
	if c.CoolDown < 0 {
		return errors.New("alerts: cool-down must not be negative")
	}
	return nil
}

// Open points a subject's typology at the alert that covers it until Until
// (event time, unix ms).
type Open struct {
	ID    string `json:"id"`
	Until int64  `json:"until"`
}

// State keeps open alerts across batches and restarts. Memory and Redis
// implement it.
type State interface {
	// Opens returns the open pointer of each key, nil where none.
	Opens(ctx context.Context, keys []string) ([]*Open, error)
	// Alerts returns the latest version of each alert, nil where unknown.
	Alerts(ctx context.Context, ids []string) ([]*Alert, error)
	// Save stores pointers and alert versions durably, never going back:
	// a pointer with an earlier Until, or an alert of a lower version,
	// than the one stored is left out.
	Save(ctx context.Context, opens map[string]Open, alerts []*Alert) error
}

// Manager turns findings into alerts: new ones, or updates of an alert still
// in its cool-down.
type Manager struct {
	cfg   Config
	state State
}

// NewManager returns a manager over state.
func NewManager(cfg Config, state State) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, state: state}, nil
}

// Batch is the outcome of one Raise: the alerts to write (each at its newest
// version) and the state to save once they are written.
type Batch struct {
	Alerts []Alert
	opens  map[string]Open
	dirty  []*Alert
	// keys and ids are the open pointers and alerts Raise read: what the
	// batch's alerts depend on (Pending.Stage).
	keys, ids []string
}

// Raise builds alerts from findings, in order. Write Batch.Alerts to the
// sinks and then call Commit: if the process dies between the two, the
// redelivered events give the same alerts again (same ids and versions),
// which the sinks ignore.
func (m *Manager) Raise(ctx context.Context, findings []scoring.Finding) (*Batch, error) {
	b := &Batch{opens: map[string]Open{}}
	if len(findings) == 0 {
		return b, nil
	}
	var keys []string
	seen := map[string]bool{}
	for i := range findings {
		for _, ts := range m.typologies(&findings[i]) {
			k := openKey(&findings[i], ts)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return b, nil
	}
	b.keys = keys
	opens, err := m.state.Opens(ctx, keys)
	if err != nil {
		return nil, err
	}
	open := map[string]*Open{}
	var ids []string
	for i, o := range opens {
		if o != nil {
			open[keys[i]] = o
			ids = append(ids, o.ID)
		}
	}
	b.ids = ids
	known := map[string]*Alert{}
	if len(ids) > 0 {
		as, err := m.state.Alerts(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a != nil {
				known[a.ID] = a
			}
		}
	}
	changed := map[string]*Alert{}
	var order []string
	touch := func(a *Alert) {
		if _, ok := changed[a.ID]; !ok {
			order = append(order, a.ID)
		}
		changed[a.ID] = a
	}
	for i := range findings {
		f := &findings[i]
		t := f.Event.Time.UnixMilli()
		var fresh []rules.TypologyScore
		for _, ts := range m.typologies(f) {
			k := openKey(f, ts)
			if o := open[k]; o != nil && t < o.Until {
				if a := known[o.ID]; a != nil && merge(a, f, ts) {
					touch(a)
				}
				continue
			}
			fresh = append(fresh, ts)
		}
		if len(fresh) == 0 {
			continue
		}
		a := newAlert(f, fresh)
		if prev, ok := known[a.ID]; ok {
			// Redelivered after the state was saved: nothing new.
			a = prev
		} else {
			known[a.ID] = a
			touch(a)
		}
		for _, ts := range fresh {
			o := Open{ID: a.ID, Until: t + m.cfg.CoolDown.Milliseconds()}
			k := openKey(f, ts)
			open[k] = &o
			b.opens[k] = o
		}
	}
	for _, id := range order {
		a := changed[id]
		b.Alerts = append(b.Alerts, *a)
		b.dirty = append(b.dirty, a)
	}
	return b, nil
}

// Commit saves the batch's state; call it after the alerts are written.
func (m *Manager) Commit(ctx context.Context, b *Batch) error {
	if len(b.opens) == 0 && len(b.dirty) == 0 {
		return nil
	}
	return m.state.Save(ctx, b.opens, b.dirty)
}

func (m *Manager) typologies(f *scoring.Finding) []rules.TypologyScore {
	var out []rules.TypologyScore
	for _, ts := range f.Typologies {
		if !ts.Shadow || m.cfg.Shadow {
			out = append(out, ts)
		}
	}
	return out
}

func openKey(f *scoring.Finding, ts rules.TypologyScore) string {
	k := f.Subject.Account + "|" + ts.Typology.ID
	if ts.Shadow {
		k = "shadow|" + k
	}
	return k
}

// ID returns the deterministic alert id for a subject, triggering transaction
// and typologies: the same input and rules give the same id.
func ID(shadow bool, account, txID string, typologies []string) string {
	h := sha256.New()
	h.Write([]byte(account))
	h.Write([]byte{0})
	h.Write([]byte(txID))
	for _, t := range typologies {
		h.Write([]byte{0})
		h.Write([]byte(t))
	}
	prefix := "al-"
	if shadow {
		prefix = "sh-"
	}
	return prefix + hex.EncodeToString(h.Sum(nil))[:16]
}

func newAlert(f *scoring.Finding, fresh []rules.TypologyScore) *Alert {
	e := f.Event
	shadow := true
	var tids []string
	for _, ts := range fresh {
		tids = append(tids, ts.Typology.ID)
		shadow = shadow && ts.Shadow
	}
	sort.Strings(tids)
	a := &Alert{
		ID:           ID(shadow, f.Subject.Account, e.ID, tids),
		Time:         e.Time.Format(time.RFC3339Nano),
		Subject:      Subject{Account: f.Subject.Account, CustomerID: f.Subject.CustomerID, Name: f.Subject.Name},
		Transactions: []string{e.ID},
		Rules:        []RuleHit{},
		Screening:    []ScreeningHit{},
		Ruleset:      f.Ruleset,
		Lists:        f.Lists,
		FX:           f.FX,
		Source:       f.Pos,
		Version:      1,
	}
	if shadow {
		a.Mode = "shadow"
	}
	for _, ts := range fresh {
		a.Typologies = append(a.Typologies, TypologyHit{ID: ts.Typology.ID, Score: ts.Score})
	}
	addTransactions(a, f.Evidence)
	addEvidence(a, f)
	return a
}

// merge adds a finding to an open alert; it reports whether anything changed.
func merge(a *Alert, f *scoring.Finding, ts rules.TypologyScore) bool {
	e := f.Event
	for _, tx := range a.Transactions {
		if tx == e.ID {
			return false // redelivered, or already merged for another typology
		}
	}
	a.Version++
	a.Updated = e.Time.Format(time.RFC3339Nano)
	a.Transactions = append(a.Transactions, e.ID)
	addTransactions(a, f.Evidence)
	found := false
	for i := range a.Typologies {
		if a.Typologies[i].ID == ts.Typology.ID {
			found = true
			a.Typologies[i].Score = max(a.Typologies[i].Score, ts.Score)
		}
	}
	if !found {
		a.Typologies = append(a.Typologies, TypologyHit{ID: ts.Typology.ID, Score: ts.Score})
	}
	addEvidence(a, f)
	return true
}

// addEvidence appends the finding's rule hits and screening matches and
// recomputes the score and typology order.
func addEvidence(a *Alert, f *scoring.Finding) {
	for _, h := range f.Hits {
		a.Rules = append(a.Rules, RuleHit{ID: h.Rule.ID, Score: h.Rule.Score, Reason: h.Reason, Values: h.Values, Tx: f.Event.ID})
	}
	for _, s := range f.Screening {
		dup := false
		for _, x := range a.Screening {
			if x.Field == s.Field && x.List == s.List && x.Entry == s.Entry {
				dup = true
				break
			}
		}
		if !dup {
			a.Screening = append(a.Screening, ScreeningHit{List: s.List, Entry: s.Entry, ListedName: s.ListedName,
				MatchedName: s.MatchedName, Field: s.Field, Score: s.Score, Programs: s.Programs})
		}
	}
	sort.SliceStable(a.Typologies, func(i, j int) bool {
		if a.Typologies[i].Score != a.Typologies[j].Score {
			return a.Typologies[i].Score > a.Typologies[j].Score
		}
		return strings.Compare(a.Typologies[i].ID, a.Typologies[j].ID) < 0
	})
	a.Score = 0
	for _, t := range a.Typologies {
		a.Score = max(a.Score, t.Score)
	}
}

// MaxTransactions bounds an alert's transaction list.
const MaxTransactions = 500

// addTransactions appends the ids not listed yet, keeping the triggering
// transaction first.
func addTransactions(a *Alert, ids []string) {
	for _, id := range ids {
		if len(a.Transactions) >= MaxTransactions {
			return
		}
		if !slices.Contains(a.Transactions, id) {
			a.Transactions = append(a.Transactions, id)
		}
	}
}
