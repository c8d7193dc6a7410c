package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
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

// State keeps open alerts across batches, restarts and processors.
// Memory and Redis implement it.
type State interface {
	// Opens returns the open pointer of each key, nil where none.
	Opens(ctx context.Context, keys []string) ([]*Open, error)
	// Alerts returns the latest version of each alert, nil where unknown.
	Alerts(ctx context.Context, ids []string) ([]*Alert, error)
	// Reserve stores what a batch raised, before its alerts are written,
	// unless another processor changed what the batch read meanwhile: an
	// alert is stored only over the version the batch read (Change.Read;
	// for a new alert, only where none or a first version of its own id
	// is), a pointer only where no other alert's pointer is open at its
	// event time (Claim.At). It reports false when something was refused;
	// what it did store stays (raised again, the batch reads it). It never
	// goes back: a lower version or an earlier Until than the one stored
	// is not stored.
	Reserve(ctx context.Context, claims []Claim, changes []Change) (bool, error)
}

// Claim is a new alert's pointer for a subject and typology, opened by an
// event at At (unix ms). Replace, when set, is the id of an open pointer's
// alert that is not stored: the claim may take that pointer over.
type Claim struct {
	Key     string
	Open    Open
	At      int64
	Replace string
}

// Change is an alert at its new version and the version it was raised
// over (0 for a new alert).
type Change struct {
	Alert *Alert
	Read  int
}

// Manager turns findings into alerts: new ones, or updates of an alert still
// in its cool-down.
type Manager struct {
	cfg   Config
	state State

	refused, gaveUp atomic.Int64
}

// Contention reports how many tries of Raise had a reservation refused by
// another processor's (each raised again), and how many Raises gave up
// after raiseTries and let a possible duplicate through.
func (m *Manager) Contention() (refused, gaveUp int64) { return m.refused.Load(), m.gaveUp.Load() }

// NewManager returns a manager over state.
func NewManager(cfg Config, state State) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, state: state}, nil
}

// Batch is the outcome of one Raise: the alerts to write, each at its
// newest version, their state already reserved.
type Batch struct {
	Alerts []Alert
	claims []Claim
	// keys and ids are the open pointers and alerts Raise read, and
	// written the ids it wrote: what the batch's alerts depend on
	// (Pending.Stage).
	keys, ids, written []string
}

// raiseTries bounds the tries of a Raise whose reservations are refused;
// from try staleAfter on, a pointer whose alert is still not stored is
// taken over (its alert expired, or was lost with a Redis node): before
// that, it may be another processor's alert on its way (on a Cluster the
// alert and its pointer go to different nodes at once).
const (
	raiseTries = 8
	staleAfter = 3
)

// Raise builds alerts from findings, in order, and reserves their state
// (State.Reserve) before they are written, so that two processors
// raising on one subject at once (an account paid from partitions that
// different processors hold) do not both open an alert, nor both make
// version n+1 of one: the one refused raises again over what the other
// stored. Write Batch.Alerts to the sinks next: if the process dies
// before, the redelivered events raise the same alerts again at the
// versions stored (a finding already in its alert is written again),
// which the sinks keep once.
//
// After raiseTries refusals in a row (a subject updated that busily by
// several processors) the last try's alerts are returned anyway: a
// duplicate alert is better than a stopped stream.
func (m *Manager) Raise(ctx context.Context, findings []scoring.Finding) (*Batch, error) {
	for try := 1; ; try++ {
		b, changes, err := m.raise(ctx, findings, try >= staleAfter)
		if err != nil || (len(b.claims) == 0 && len(changes) == 0) {
			return b, err
		}
		ok, err := m.state.Reserve(ctx, b.claims, changes)
		if err != nil {
			return nil, err
		}
		if ok {
			return b, nil
		}
		m.refused.Add(1)
		if try == raiseTries {
			m.gaveUp.Add(1)
			return b, nil
		}
		select {
		case <-time.After(time.Duration(try) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// raise is one try of Raise: the alerts, and the changes to reserve. With
// takeOver, a new alert's claim may take over a pointer to an alert not
// stored.
func (m *Manager) raise(ctx context.Context, findings []scoring.Finding, takeOver bool) (*Batch, []Change, error) {
	b := &Batch{}
	if len(findings) == 0 {
		return b, nil, nil
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
		return b, nil, nil
	}
	b.keys = keys
	opens, err := m.state.Opens(ctx, keys)
	if err != nil {
		return nil, nil, err
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
	read := map[string]int{} // the version each known alert was read at
	if len(ids) > 0 {
		as, err := m.state.Alerts(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range as {
			if a != nil {
				known[a.ID] = a
				read[a.ID] = a.Version
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
	claims := map[string]int{}   // key -> index in b.claims
	stale := map[string]string{} // key -> the id of its pointer's alert, not stored
	for i := range findings {
		f := &findings[i]
		t := f.Event.Time.UnixMilli()
		var fresh []rules.TypologyScore
		for _, ts := range m.typologies(f) {
			k := openKey(f, ts)
			if o := open[k]; o != nil && t < o.Until {
				if a := known[o.ID]; a != nil {
					// Merged now, or already (a redelivery, or another
					// typology of this finding): written either way.
					merge(a, f, ts)
					touch(a)
					continue
				}
				// A pointer to an alert not stored (not yet, or no
				// more): raised anew, which Reserve refuses unless the
				// pointer is this alert's own, or taken over.
				if takeOver {
					stale[k] = o.ID
				}
			}
			fresh = append(fresh, ts)
		}
		if len(fresh) == 0 {
			continue
		}
		a := newAlert(f, fresh)
		if prev, ok := known[a.ID]; ok {
			a = prev // redelivered after its state was reserved
		} else {
			known[a.ID] = a
			read[a.ID] = 0
		}
		touch(a)
		for _, ts := range fresh {
			o := Open{ID: a.ID, Until: t + m.cfg.CoolDown.Milliseconds()}
			k := openKey(f, ts)
			open[k] = &o
			c := Claim{Key: k, Open: o, At: t, Replace: stale[k]}
			if j, ok := claims[k]; ok {
				b.claims[j] = c
			} else {
				claims[k] = len(b.claims)
				b.claims = append(b.claims, c)
			}
		}
	}
	changes := make([]Change, 0, len(order))
	for _, id := range order {
		a := changed[id]
		b.Alerts = append(b.Alerts, *a)
		b.written = append(b.written, id)
		changes = append(changes, Change{Alert: a, Read: read[id]})
	}
	return b, changes, nil
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
		addHit(a, RuleHit{ID: h.Rule.ID, Score: h.Rule.Score, Reason: h.Reason, Values: h.Values, Tx: f.Event.ID})
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

// MaxRuleHits bounds the rule hits an alert lists in full. A subject
// whose rules fire on every event (a mule paid by thousands, a busy
// merchant) would otherwise grow its open alert by a hit an event for the
// whole cool-down: every update writes the whole alert, to Redis and to
// the sinks, and past the alerts topic's message size limit the write
// would fail for ever. Past it, each rule keeps one more hit, its latest,
// and RulesOmitted counts those replaced.
const MaxRuleHits = 100

// addHit lists h, within MaxRuleHits (see there).
func addHit(a *Alert, h RuleHit) {
	if len(a.Rules) < MaxRuleHits {
		a.Rules = append(a.Rules, h)
		return
	}
	for i := MaxRuleHits; i < len(a.Rules); i++ {
		if a.Rules[i].ID == h.ID {
			a.Rules[i] = h
			a.RulesOmitted++
			return
		}
	}
	a.Rules = append(a.Rules, h)
}

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
