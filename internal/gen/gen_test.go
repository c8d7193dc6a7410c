package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

func smallConfig() Config {
	c := DefaultConfig()
	c.Customers = 600
	c.Days = 30
	return c
}

// run generates cfg and returns the JSONL bytes, the decoded events and the labels.
func run(t testing.TB, cfg Config) ([]byte, []*ingest.Event, Labels) {
	t.Helper()
	var buf bytes.Buffer
	var evs []*ingest.Event
	labels, err := Generate(cfg, func(e *ingest.Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), evs, labels
}

var (
	sharedOnce   sync.Once
	sharedBytes  []byte
	sharedEvents []*ingest.Event
	sharedLabels Labels
)

// shared is one generated stream reused by the read-only tests.
func shared(t *testing.T) ([]byte, []*ingest.Event, Labels) {
	sharedOnce.Do(func() { sharedBytes, sharedEvents, sharedLabels = run(t, smallConfig()) })
	return sharedBytes, sharedEvents, sharedLabels
}

func TestDeterministic(t *testing.T) {
	cfg := smallConfig()
	cfg.Days = 12
	a, _, la := run(t, cfg)
	b, _, lb := run(t, cfg)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("same seed gave different event streams")
	}
	ja, _ := json.Marshal(la)
	jb, _ := json.Marshal(lb)
	if !bytes.Equal(ja, jb) {
		t.Fatal("same seed gave different labels")
	}
	pa, _ := Profiles(cfg)
	pb, _ := Profiles(cfg)
	ka, _ := json.Marshal(pa)
	kb, _ := json.Marshal(pb)
	if !bytes.Equal(ka, kb) {
		t.Fatal("same seed gave different profiles")
	}
	cfg.Seed = 2
	c, _, _ := run(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same stream")
	}
}

func TestEventsDecodeInOrderWithUniqueIDs(t *testing.T) {
	raw, evs, _ := shared(t)
	ids := map[string]bool{}
	var prev time.Time
	for i, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		e, err := ingest.Decode(line)
		if err != nil {
			t.Fatalf("event %d does not decode: %v\n%s", i, err, line)
		}
		if ids[e.ID] {
			t.Fatalf("duplicate id %s", e.ID)
		}
		ids[e.ID] = true
		if e.Time.Before(prev) {
			t.Fatalf("event %s at %s comes after %s: not in event-time order", e.ID, e.Time, prev)
		}
		prev = e.Time
		if _, off := e.Time.Zone(); off > -4*3600 || off < -8*3600 {
			t.Fatalf("event %s has offset %d s, want a North American branch offset", e.ID, off)
		}
		if !bytes.Contains(line, []byte(`"time":"`+e.Time.Format(time.RFC3339)+`"`)) {
			t.Fatalf("event %s time not written RFC 3339 with its local offset: %s", e.ID, line)
		}
	}
	if len(ids) != len(evs) {
		t.Fatalf("%d lines, %d events", len(ids), len(evs))
	}
}

func TestEveryTypologyLabelledWithRealTransactions(t *testing.T) {
	_, evs, labels := shared(t)
	byID := map[string]*ingest.Event{}
	for _, e := range evs {
		byID[e.ID] = e
	}
	count := map[string]int{}
	for _, l := range labels {
		count[l.Typology]++
		if len(l.Transactions) == 0 || l.Subject == "" || len(l.Accounts) == 0 || l.Accounts[0] != l.Subject {
			t.Fatalf("incomplete label %+v", l)
		}
		start, err1 := time.Parse(time.RFC3339, l.Start)
		end, err2 := time.Parse(time.RFC3339, l.End)
		if err1 != nil || err2 != nil || end.Before(start) {
			t.Fatalf("label %s/%s has bad span %s..%s", l.Typology, l.Subject, l.Start, l.End)
		}
		touches := false
		for _, id := range l.Transactions {
			e, ok := byID[id]
			if !ok {
				t.Fatalf("label %s/%s names transaction %s that was never emitted", l.Typology, l.Subject, id)
			}
			if e.Time.Before(start) || e.Time.After(end) {
				t.Fatalf("transaction %s at %s outside its label's span", id, e.Time)
			}
			for _, p := range []*ingest.Party{e.From, e.To} {
				if p != nil && contains(l.Accounts, p.Account) {
					touches = true
				}
			}
		}
		if !touches {
			t.Fatalf("label %s/%s: no transaction touches its accounts", l.Typology, l.Subject)
		}
	}
	want := smallConfig().instances()
	for _, ty := range Typologies {
		if count[ty] != want {
			t.Errorf("typology %s: %d instances, want %d", ty, count[ty], want)
		}
	}
	for _, k := range []string{"cash_business", "chemical_importer", "remittance", "student_support", "payroll", "importer", "crypto_hobbyist",
		"partial_structuring", "partial_funnel_account", "partial_rapid_movement", "partial_fan_in", "partial_money_mule", "name_lookalike", "memo_lookalike", "p2p_group"} {
		if count["benign:"+k] == 0 {
			t.Errorf("no benign look-alike %q", k)
		}
	}
}

func TestVolumeIsRealistic(t *testing.T) {
	_, evs, _ := shared(t)
	cfg := smallConfig()
	perCustDay := float64(len(evs)) / float64(cfg.Customers*cfg.Days)
	if perCustDay < 3 || perCustDay > 10 {
		t.Fatalf("%.2f events per customer per day, want 3-10", perCustDay)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	for _, k := range []string{"card", "cash_deposit", "cash_withdrawal", "wire", "eft", "ach", "p2p", "cheque", "crypto_buy", "crypto_transfer"} {
		if kinds[k] == 0 {
			t.Errorf("no %s events", k)
		}
	}
	if kinds["card"] < len(evs)/3 {
		t.Errorf("card spend is %d of %d events; ordinary spending should dominate", kinds["card"], len(evs))
	}
	t.Logf("%d events, %.2f per customer per day, kinds %v", len(evs), perCustDay, kinds)
}

func TestNoLookAlikesNoPatterns(t *testing.T) {
	cfg := smallConfig()
	cfg.Days = 10
	cfg.Patterns, cfg.LookAlikes = false, false
	_, evs, labels := run(t, cfg)
	if len(labels) != 0 {
		t.Fatalf("%d labels without patterns or look-alikes; first %+v", len(labels), labels[0])
	}
	if len(evs) == 0 {
		t.Fatal("no ordinary events")
	}
}

// The injected instances must meet the catalogue's machine-checkable core,
// or the rules tuned against them would be tuned to something else.
func TestPatternsMeetCatalogueCore(t *testing.T) {
	_, evs, labels := shared(t)
	byID := map[string]*ingest.Event{}
	for _, e := range evs {
		byID[e.ID] = e
	}
	profiles, _ := Profiles(smallConfig())
	home := map[string]Customer{}
	for _, c := range profiles {
		for _, a := range c.Accounts {
			home[a] = c
		}
	}
	txs := func(l Label) []*ingest.Event {
		var out []*ingest.Event
		for _, id := range l.Transactions {
			out = append(out, byID[id])
		}
		return out
	}
	for _, l := range labels {
		es := txs(l)
		span := es[len(es)-1].Time.Sub(es[0].Time)
		switch l.Typology {
		case "structuring":
			var sum float64
			for _, e := range es {
				if e.Kind != "cash_deposit" && e.Kind != "cash_withdrawal" {
					t.Fatalf("structuring %s: %s is not cash", l.Subject, e.Kind)
				}
				if e.Amount.Float64() >= 10000 {
					t.Fatalf("structuring %s: %s of %s is not under the threshold", l.Subject, e.ID, e.Amount)
				}
				if strings.HasPrefix(l.Variant, "just_below") && e.Amount.Float64() < 8000 {
					t.Fatalf("structuring %s: just-below deposit %s", l.Subject, e.Amount)
				}
				sum += e.Amount.Float64()
			}
			if strings.HasPrefix(l.Variant, "split") && (sum < 10000 || span > 24*time.Hour) {
				t.Fatalf("structuring %s (%s): total %.2f over %s", l.Subject, l.Variant, sum, span)
			}
			if strings.HasPrefix(l.Variant, "just_below") && (len(es) < 3 || span > 7*24*time.Hour) {
				t.Fatalf("structuring %s (%s): %d deposits over %s", l.Subject, l.Variant, len(es), span)
			}
		case "funnel_account":
			regions := map[string]bool{}
			var in, out float64
			var firstIn, lastIn time.Time
			for _, e := range es {
				if e.Kind == "cash_deposit" {
					if e.Location.Region != home[l.Subject].Region {
						regions[e.Location.Region] = true
					}
					if firstIn.IsZero() {
						firstIn = e.Time
					}
					lastIn = e.Time
					in += e.Amount.Float64()
				} else {
					out += e.Amount.Float64()
				}
			}
			if len(regions) < 3 || lastIn.Sub(firstIn) > 7*24*time.Hour || out < 0.75*in {
				t.Fatalf("funnel %s: %d regions, deposits over %s, out %.0f of %.0f", l.Subject, len(regions), lastIn.Sub(firstIn), out, in)
			}
		case "fan_in", "fan_out":
			peers := map[string]bool{}
			for _, e := range es {
				if l.Typology == "fan_in" && e.To.Account == l.Subject {
					peers[e.From.Account] = true
				}
				if l.Typology == "fan_out" && e.From.Account == l.Subject {
					peers[e.To.Account] = true
				}
			}
			if len(peers) < 10 || span > 4*24*time.Hour {
				t.Fatalf("%s %s: %d distinct counterparties over %s", l.Typology, l.Subject, len(peers), span)
			}
			// The variant names the distinct senders ("12_senders_3d"):
			// a sender drawn twice would leave the pattern one short.
			if l.Typology == "fan_in" && !strings.HasPrefix(l.Variant, strconv.Itoa(len(peers))+"_senders") {
				t.Fatalf("fan_in %s (%s): %d distinct senders", l.Subject, l.Variant, len(peers))
			}
		case "cycle":
			if es[0].From.Account != l.Subject || es[len(es)-1].To.Account != l.Subject || len(es) < 2 || len(es) > 6 {
				t.Fatalf("cycle %s does not return to its origin in 2-6 hops", l.Subject)
			}
			for i := 1; i < len(es); i++ {
				if es[i].From.Account != es[i-1].To.Account {
					t.Fatalf("cycle %s broken at hop %d", l.Subject, i)
				}
				if r := es[i].Amount.Float64() / es[i-1].Amount.Float64(); r < 0.8 || r > 1 {
					t.Fatalf("cycle %s: hop %d keeps %.2f of the amount", l.Subject, i, r)
				}
			}
		case "money_mule":
			var in, out float64
			for _, e := range es {
				if e.To != nil && e.To.Account == l.Subject {
					in += e.Amount.Float64()
				} else {
					out += e.Amount.Float64()
				}
			}
			if out < 0.8*in {
				t.Fatalf("money_mule %s: drained %.0f of %.0f", l.Subject, out, in)
			}
		case "designated_party":
			named := false
			for _, e := range es {
				for _, p := range []*ingest.Party{e.From, e.To} {
					if p != nil && (strings.Contains(strings.ToLower(p.Name), "guzm") || strings.Contains(strings.ToLower(p.Name), "cartel") || strings.Contains(p.Name, "Jalisco") || strings.Contains(p.Name, "Cuinis") ||
						strings.Contains(p.Name, "Zambada") || strings.Contains(p.Name, "Vida Suprema") || strings.Contains(p.Name, "Imperial de Baja") || strings.HasPrefix(p.Wallet, "1") || strings.HasPrefix(p.Wallet, "3")) {
						named = true
					}
				}
			}
			if !named {
				t.Fatalf("designated_party %s: no listed name or wallet", l.Subject)
			}
		case "underground_banking":
			if occ := home[l.Subject].Occupation; occ != "student" && occ != "homemaker" && occ != "retired" {
				t.Fatalf("underground_banking %s: occupation %q", l.Subject, occ)
			}
		case "precursor_purchase":
			if ind := home[l.Subject].Industry; strings.HasPrefix(ind, "325") || ind == "424690" {
				t.Fatalf("precursor_purchase %s: subject is in the chemical industry (%s)", l.Subject, ind)
			}
			for _, e := range es {
				if a := e.Amount.Float64(); e.Currency != "BTC" && a/fxToLocal[e.Currency] >= 1000 && a/fxToLocal[e.Currency] <= 10000 {
					t.Fatalf("precursor_purchase %s: amount %s %s is in the 1,000-10,000 band", l.Subject, e.Amount, e.Currency)
				}
			}
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"few customers", func(c *Config) { c.Customers = 10 }, "customers"},
		{"no days", func(c *Config) { c.Days = 0 }, "days"},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "start"},
		{"rate", func(c *Config) { c.PatternRate = 0.5 }, "pattern rate"},
		{"too many accomplices", func(c *Config) { c.Customers = 300; c.MinInstances = 10 }, "pattern rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestStreamRunsAcrossBlocksInOrder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Customers = 300
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var prev time.Time
	n := 0
	stop := errors.New("enough")
	seen := map[string]bool{}
	err := Stream(ctx, cfg, 0, func(e *ingest.Event) error {
		if e.Time.Before(prev) {
			t.Fatalf("stream out of order at %s", e.ID)
		}
		prev = e.Time
		if seen[e.ID] {
			t.Fatalf("duplicate id %s", e.ID)
		}
		seen[e.ID] = true
		n++
		if e.Time.After(cfg.Start.AddDate(0, 0, 35)) {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Stream = %v after %d events", err, n)
	}
}

func TestStreamPacesAndStops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Customers = 300
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	n := 0
	began := time.Now()
	if err := Stream(ctx, cfg, 1000, func(*ingest.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(began); el > 2*time.Second {
		t.Fatalf("Stream took %s to stop", el)
	}
	if n < 100 || n > 600 {
		t.Fatalf("%d events in 300 ms at 1000/s", n)
	}
}

func BenchmarkGenerateDay(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Days = 1
	var n int
	for i := 0; i < b.N; i++ {
		_, err := Generate(cfg, func(e *ingest.Event) error {
			n++
			_, err := json.Marshal(e)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
