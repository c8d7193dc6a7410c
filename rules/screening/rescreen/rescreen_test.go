package rescreen

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/rules/screening"
)

// history is a bank's last months of payments: to and from the newly
// designated Tren de Aragua, to organisations the 2021 SDN list already
// designated, and to ordinary names. newest is the latest event time.
func history() (seen []Seen, newest time.Time) {
	newest = time.Date(2025, 3, 4, 15, 22, 10, 0, caracas)
	ago := func(days int) time.Time { return newest.Add(-time.Duration(days) * 24 * time.Hour) }
	seen = []Seen{
		{Name: "TREN DE ARAGUA", Field: "to.name", Account: "VE-001-100", CustomerID: "C-100", CustomerName: "Importadora Caribe", TxID: "tx-100", Time: ago(12)},
		{Name: "Tren de Aragua", Field: "from.name", Account: "US-002-200", CustomerID: "C-200", CustomerName: "Jane Doe", TxID: "tx-200", Time: ago(40)},
		// Older than the 90-day horizon: gone before the lists change.
		{Name: "Tren de Aragua", Field: "to.name", Account: "US-002-300", CustomerID: "C-300", TxID: "tx-300", Time: ago(120)},
		// Designated already by the old lists: the stream alerted then.
		{Name: "Hizballah", Field: "to.name", Account: "US-002-400", CustomerID: "C-400", TxID: "tx-400", Time: ago(5)},
		{Name: "CARTEL DE JALISCO NUEVA GENERACION", Field: "to.name", Account: "US-002-400", CustomerID: "C-400", TxID: "tx-401", Time: ago(6)},
		{Name: "Cartel de Sinaloa", Field: "from.name", Account: "US-002-400", CustomerID: "C-400", TxID: "tx-402", Time: ago(7)},
		{Wallet: "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo", Field: "to.wallet", Account: "US-002-500", CustomerID: "C-500", TxID: "tx-500", Time: ago(8)},
		// Ordinary names.
		{Name: "Maria Lopez", Field: "to.name", Account: "US-002-600", CustomerID: "C-600", TxID: "tx-600", Time: ago(1)},
		{Name: "Jose Guzman", Field: "to.name", Account: "US-002-600", CustomerID: "C-600", TxID: "tx-601", Time: ago(2)},
		{Name: "Acme Supplies Ltd", Field: "from.name", Account: "US-002-600", CustomerID: "C-600", TxID: "tx-602", Time: ago(3)},
		{Name: "Juan Carlos Perez", Field: "to.name", Account: "US-002-600", CustomerID: "C-600", TxID: "tx-603", Time: newest},
	}
	return seen, newest
}

func recorded(t *testing.T, newReg func(testing.TB, Config) Registry) (Registry, time.Time) {
	t.Helper()
	reg := newReg(t, Config{Horizon: 90 * 24 * time.Hour})
	seen, newest := history()
	// In two batches, the newest first: the old entry is trimmed as it
	// arrives, as a late event would be.
	if err := reg.Record(context.Background(), seen[:4]); err != nil {
		t.Fatal(err)
	}
	if err := reg.Record(context.Background(), seen[4:]); err != nil {
		t.Fatal(err)
	}
	return reg, newest
}

func TestRescreenNewDesignation(t *testing.T) {
	old, new := screeners(t)
	if old.Hash() == new.Hash() {
		t.Fatal("the old and new lists have the same hash")
	}
	for _, impl := range registries {
		t.Run(impl.name, func(t *testing.T) {
			reg, _ := recorded(t, impl.new)
			hits, err := Rescreen(context.Background(), reg, old, new, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Exactly the two payments with Tren de Aragua within the
			// horizon, oldest first.
			want := []struct{ account, field, tx string }{
				{"US-002-200", "from.name", "tx-200"},
				{"VE-001-100", "to.name", "tx-100"},
			}
			if len(hits) != len(want) {
				t.Fatalf("got %d hits, want %d: %+v", len(hits), len(want), hits)
			}
			for i, w := range want {
				h := hits[i]
				if h.Seen.Account != w.account || h.Field != w.field || h.Seen.TxID != w.tx {
					t.Errorf("hit %d: %s %s %s, want %s %s %s", i, h.Seen.Account, h.Field, h.Seen.TxID, w.account, w.field, w.tx)
				}
				m := h.Match
				if m.List != "us-fto" || m.Entry != "tren-de-aragua" || m.Score < DefaultMinScore || !m.Designated || !strings.Contains(strings.Join(m.Programs, " "), "FTO") {
					t.Errorf("hit %d: match %+v, want us-fto tren-de-aragua, designated FTO", i, m)
				}
			}
			a := Alert(hits[1], new.Hash(), "sha256:rules")
			checkAlert(t, a, new.Hash())
			if r := Alert(hits[0], new.Hash(), "").Rules[0].Reason; !strings.HasPrefix(r, `Tren de Aragua, who paid the account on 2025-01-23 (tx-200), now matches "Tren de Aragua" on us-fto`) {
				t.Errorf("payer's reason: %s", r)
			}
		})
	}
}

func checkAlert(t *testing.T, a interface{}, listsHash string) {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID      string `json:"id"`
		Time    string `json:"time"`
		Subject struct {
			Account, Name string
			CustomerID    string `json:"customer_id"`
		} `json:"subject"`
		Score        int      `json:"score"`
		Transactions []string `json:"transactions"`
		Typologies   []struct {
			ID    string `json:"id"`
			Score int    `json:"score"`
		} `json:"typologies"`
		Rules []struct {
			ID     string         `json:"id"`
			Score  int            `json:"score"`
			Reason string         `json:"reason"`
			Values map[string]any `json:"values"`
		} `json:"rules"`
		Screening []struct {
			List, Entry, Field string
			ListedName         string  `json:"listed_name"`
			MatchedName        string  `json:"matched_name"`
			Score              float64 `json:"score"`
		} `json:"screening"`
		Ruleset string          `json:"ruleset"`
		Lists   string          `json:"lists"`
		Source  json.RawMessage `json:"source"`
		Version int             `json:"version"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
		got  any
	}{
		{"id", strings.HasPrefix(got.ID, "al-") && len(got.ID) == 19, got.ID},
		{"time in the payment's offset", got.Time == "2025-02-20T15:22:10-04:00", got.Time},
		{"subject", got.Subject.Account == "VE-001-100" && got.Subject.CustomerID == "C-100" && got.Subject.Name == "Importadora Caribe", got.Subject},
		{"score", got.Score == 100, got.Score},
		{"transactions", len(got.Transactions) == 1 && got.Transactions[0] == "tx-100", got.Transactions},
		{"typologies", len(got.Typologies) == 1 && got.Typologies[0].ID == "designated_party" && got.Typologies[0].Score == 100, got.Typologies},
		{"rules", len(got.Rules) == 1 && got.Rules[0].ID == RuleID && got.Rules[0].Score == 100, got.Rules},
		{"screening", len(got.Screening) == 1 && got.Screening[0].List == "us-fto" && got.Screening[0].Field == "to.name" &&
			got.Screening[0].MatchedName == "TREN DE ARAGUA" && got.Screening[0].ListedName == "Tren de Aragua" && got.Screening[0].Score == 1, got.Screening},
		{"ruleset", got.Ruleset == "sha256:rules", got.Ruleset},
		{"lists", got.Lists == listsHash, got.Lists},
		{"source", string(got.Source) == `{"file":"rescreen","line":0}`, string(got.Source)},
		{"version", got.Version == 1, got.Version},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("alert %s: %v", c.what, c.got)
		}
	}
	if len(got.Rules) == 1 {
		r := got.Rules[0]
		want := `TREN DE ARAGUA, paid on 2025-02-20 (tx-100), now matches "Tren de Aragua" on us-fto (FTO, SDGT) with score 1.00; the lists changed to ` + short(listsHash)
		if r.Reason != want {
			t.Errorf("reason\n got %s\nwant %s", r.Reason, want)
		}
		if r.Values["entry"] != "tren-de-aragua" || !strings.Contains(r.Values["explain"].(string), "aragua=aragua") {
			t.Errorf("values %v: want the entry and the score's explanation", r.Values)
		}
	}
}

func TestRescreenTwiceSameIDs(t *testing.T) {
	old, new := screeners(t)
	for _, impl := range registries {
		t.Run(impl.name, func(t *testing.T) {
			reg, _ := recorded(t, impl.new)
			var runs [2][]string
			for r := range runs {
				hits, err := Rescreen(context.Background(), reg, old, new, time.Time{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hits {
					runs[r] = append(runs[r], Alert(h, new.Hash(), "sha256:rules").ID)
				}
			}
			if len(runs[0]) != 2 || runs[0][0] == runs[0][1] || strings.Join(runs[0], " ") != strings.Join(runs[1], " ") {
				t.Errorf("alert ids %q then %q: want the same two distinct ids", runs[0], runs[1])
			}
			// Other lists, other alerts: a later change is news again.
			hits, _ := Rescreen(context.Background(), reg, old, new, time.Time{}, 0)
			if id := Alert(hits[0], "sha256:other", "sha256:rules").ID; id == runs[0][0] {
				t.Errorf("the same id %s under other lists", id)
			}
		})
	}
}

func TestRescreenWindow(t *testing.T) {
	old, new := screeners(t)
	tests := []struct {
		name  string
		since func(newest time.Time) time.Time
		want  []string // tx ids
	}{
		{"horizon only", func(time.Time) time.Time { return time.Time{} }, []string{"tx-200", "tx-100"}},
		{"last 30 days", func(n time.Time) time.Time { return n.Add(-30 * 24 * time.Hour) }, []string{"tx-100"}},
		{"since the payment", func(n time.Time) time.Time { return n.Add(-12 * 24 * time.Hour) }, []string{"tx-100"}},
		{"after it", func(n time.Time) time.Time { return n.Add(-12*24*time.Hour + time.Millisecond) }, nil},
	}
	for _, impl := range registries {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				reg, newest := recorded(t, impl.new)
				hits, err := Rescreen(context.Background(), reg, old, new, tt.since(newest), 0)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range hits {
					got = append(got, h.Seen.TxID)
				}
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("hits on %q, want %q", got, tt.want)
				}
			})
		}
	}
}

func TestRescreenWithoutOldLists(t *testing.T) {
	// With no old lists every confident designated match is new: the
	// organisations SDN already listed, and an exact listed wallet.
	_, new := screeners(t)
	reg, _ := recorded(t, registries[0].new)
	hits, err := Rescreen(context.Background(), reg, nil, new, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range hits {
		got[h.Seen.TxID] = h.Field + " " + h.Match.List + " " + h.Match.Entry
	}
	want := map[string]string{
		"tx-100": "to.name us-fto tren-de-aragua",
		"tx-200": "from.name us-fto tren-de-aragua",
		"tx-400": "to.name ofac-sdn 4697",
		"tx-401": "to.name ofac-sdn 17671",
		"tx-402": "from.name ofac-sdn 11440",
		"tx-500": "to.wallet ofac-sdn ",
	}
	if len(got) != len(want) {
		t.Errorf("hits %v, want %v", got, want)
	}
	for tx, w := range want {
		if !strings.HasPrefix(got[tx], w) {
			t.Errorf("%s: hit %q, want %q", tx, got[tx], w)
		}
	}
	for _, h := range hits {
		if h.Seen.TxID == "tx-402" && len(h.Others) != 1 {
			// Cartel de Sinaloa is on SDN and, since 2025, the FTO list.
			t.Errorf("Cartel de Sinaloa: others %+v, want the us-fto entry beside the SDN one", h.Others)
		}
		if h.Seen.TxID == "tx-500" {
			a := Alert(h, new.Hash(), "")
			if r := a.Rules[0].Reason; !strings.HasPrefix(r, "wallet 1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo, paid on") || a.Screening[0].Field != "to.wallet" {
				t.Errorf("wallet alert: %s, field %s", r, a.Screening[0].Field)
			}
		}
	}
}

func TestRescreenArguments(t *testing.T) {
	_, new := screeners(t)
	reg := NewMemory(Config{})
	tests := []struct {
		name     string
		reg      Registry
		new      *screening.Screener
		minScore float64
	}{
		{"no registry", nil, new, 0},
		{"no lists", reg, nil, 0},
		{"score above 1", reg, new, 1.5},
		{"negative score", reg, new, -0.1},
	}
	for _, tt := range tests {
		if _, err := Rescreen(context.Background(), tt.reg, nil, tt.new, time.Time{}, tt.minScore); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
