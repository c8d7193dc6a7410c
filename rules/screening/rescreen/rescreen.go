package rescreen

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules/screening"
)

// DefaultMinScore is the confident-match score of the designated_party rules
// (screen_confident in configs/rules/params.yaml).
const DefaultMinScore = 0.9

// RuleID is the id of the rule a rescreen alert carries.
const RuleID = "rescreen-designated"

// Source is the file of the alert's source: a rescreen, not a stream event.
const Source = "rescreen"

// Hit is a counterparty of the history that the new lists designate and the
// old ones did not.
type Hit struct {
	Seen Seen
	// Field is the counterparty's field that matched: Seen's side and
	// "name" or "wallet" ("to.name", "from.wallet").
	Field string
	// Match is the best confident designated match on Field with the new
	// lists; Others are the rest, best first (the same organisation newly on
	// two lists).
	Match  screening.Match
	Others []screening.Match
}

// Rescreen screens every counterparty seen at or after since (and within the
// registry's horizon) with the new lists and returns a Hit for each
// counterparty field (name, wallet) that the new lists designate and the old
// ones did not: it has a designated match at or above minScore (0 means
// DefaultMinScore) with the new lists and none with the old. old may be nil:
// then every confident designated match is new. Hits come sorted by time,
// account, counterparty and field.
func Rescreen(ctx context.Context, reg Registry, old, new *screening.Screener, since time.Time, minScore float64) ([]Hit, error) {
	if reg == nil || new == nil {
		return nil, errors.New("rescreen: a registry and the new lists are required")
	}
	if minScore == 0 {
		minScore = DefaultMinScore
	}
	if minScore < 0 || minScore > 1 {
		return nil, fmt.Errorf("rescreen: minScore %v out of range: want a score in (0, 1], e.g. %v", minScore, DefaultMinScore)
	}
	// Screening is the cost; the scan's reads overlap it.
	work := make(chan Seen, 1024)
	var (
		mu   sync.Mutex
		hits []Hit
		wg   sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []Hit
			for s := range work {
				mine = screenSeen(mine, s, old, new, minScore)
			}
			mu.Lock()
			hits = append(hits, mine...)
			mu.Unlock()
		}()
	}
	err := reg.Scan(ctx, since, func(s Seen) error {
		select {
		case work <- s:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := &hits[i], &hits[j]
		if !a.Seen.Time.Equal(b.Seen.Time) {
			return a.Seen.Time.Before(b.Seen.Time)
		}
		if a.Seen.Account != b.Seen.Account {
			return a.Seen.Account < b.Seen.Account
		}
		if ca, cb := a.Seen.Counterparty(), b.Seen.Counterparty(); ca != cb {
			return ca < cb
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Seen.TxID < b.Seen.TxID
	})
	// Redis may scan an entry twice.
	out := hits[:0]
	for i, h := range hits {
		if i > 0 && sameHit(&h, &hits[i-1]) {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

func sameHit(a, b *Hit) bool {
	return a.Seen.Account == b.Seen.Account && a.Seen.Counterparty() == b.Seen.Counterparty() &&
		a.Field == b.Field && a.Seen.TxID == b.Seen.TxID && a.Seen.Time.Equal(b.Seen.Time)
}

// screenSeen appends the hits of one counterparty.
func screenSeen(hits []Hit, s Seen, old, new *screening.Screener, minScore float64) []Hit {
	side := s.Side()
	if side == "" {
		side = "to"
	}
	check := func(field string, screen func(*screening.Screener) []screening.Match) {
		fresh := confident(screen(new), minScore)
		if len(fresh) == 0 {
			return
		}
		// A counterparty the old lists designated already raised its alert
		// in the stream; another entry for it now (an SDGT organisation
		// that also becomes an FTO) is not news.
		if old != nil && len(confident(screen(old), minScore)) > 0 {
			return
		}
		hits = append(hits, Hit{Seen: s, Field: field, Match: fresh[0], Others: fresh[1:]})
	}
	if strings.TrimSpace(s.Name) != "" {
		check(side+".name", func(sc *screening.Screener) []screening.Match { return sc.ScreenName(s.Name) })
	}
	if strings.TrimSpace(s.Wallet) != "" {
		check(side+".wallet", func(sc *screening.Screener) []screening.Match { return sc.ScreenWallet(s.Wallet) })
	}
	return hits
}

// confident returns the designated matches at or above minScore, best first
// (the screener's order).
func confident(ms []screening.Match, minScore float64) []screening.Match {
	var out []screening.Match
	for _, m := range ms {
		if m.Designated && m.Score >= minScore {
			out = append(out, m)
		}
	}
	return out
}

// Typology is the typology of a rescreen alert (spec/typologies.md).
const Typology = "designated_party"

// ID is the alert id of a hit under the lists listsHash: the same hit and
// lists always give the same id, so a rescreen run twice raises nothing
// twice, and differs from the stream's alert on the same transaction.
func ID(h Hit, listsHash string) string {
	tx := strings.Join([]string{Source, listsHash, h.Seen.Counterparty(), h.Field, h.Seen.TxID}, "\x00")
	return alerts.ID(false, h.Seen.Account, tx, []string{Typology})
}

// Alert builds the designated_party alert of spec/alert.md for a hit found
// with the lists listsHash (the new screener's Hash) under the rule set
// ruleset. Its source is {"file": "rescreen", "line": 0}: no stream event
// raised it.
func Alert(h Hit, listsHash, ruleset string) alerts.Alert {
	s, m := h.Seen, h.Match
	progs := "no program"
	if len(m.Programs) > 0 {
		progs = strings.Join(m.Programs, ", ")
	}
	who := counterpartyText(s, h.Field)
	verb := "paid on"
	if s.Side() == "from" {
		verb = "who paid the account on"
	}
	reason := fmt.Sprintf("%s, %s %s (%s), now matches %q on %s (%s) with score %.2f; the lists changed to %s",
		who, verb, s.Time.Format("2006-01-02"), s.TxID, m.ListedName, m.List, progs, m.Score, short(listsHash))
	values := map[string]any{
		"counterparty": who,
		"field":        h.Field,
		"seen":         s.Time.Format(time.RFC3339Nano),
		"list":         m.List,
		"entry":        m.Entry,
		"listed_name":  m.ListedName,
		"programs":     append([]string{}, m.Programs...),
		"score":        m.Score,
		"explain":      m.Explain,
		"lists":        listsHash,
	}
	a := alerts.Alert{
		ID:           ID(h, listsHash),
		Time:         s.Time.Format(time.RFC3339Nano),
		Subject:      alerts.Subject{Account: s.Account, CustomerID: s.CustomerID, Name: s.CustomerName},
		Score:        100,
		Transactions: []string{s.TxID},
		Typologies:   []alerts.TypologyHit{{ID: Typology, Score: 100}},
		Rules:        []alerts.RuleHit{{ID: RuleID, Score: 100, Reason: reason, Values: values, Tx: s.TxID}},
		Ruleset:      ruleset,
		Lists:        listsHash,
		Source:       ingest.Position{File: Source},
		Version:      1,
	}
	for _, x := range append([]screening.Match{m}, h.Others...) {
		a.Screening = append(a.Screening, alerts.ScreeningHit{List: x.List, Entry: x.Entry, ListedName: x.ListedName,
			MatchedName: x.MatchedName, Field: h.Field, Score: x.Score, Programs: x.Programs})
	}
	return a
}

func counterpartyText(s Seen, field string) string {
	if strings.HasSuffix(field, ".wallet") {
		return "wallet " + s.Wallet
	}
	return s.Name
}

// short abbreviates a content hash for a sentence; the full one is in the
// alert's lists field.
func short(hash string) string {
	if alg, hex, ok := strings.Cut(hash, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return hash
}
