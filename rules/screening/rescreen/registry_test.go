package rescreen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/ingest"
)

var (
	caracas = time.FixedZone("-04", -4*3600)
	t0      = time.Date(2025, 3, 4, 15, 22, 10, 123456789, caracas)
)

func seen(name, account, tx string, at time.Time) Seen {
	return Seen{Name: name, Field: "to.name", Account: account, CustomerID: "C-" + account, CustomerName: "Customer " + account, TxID: tx, Time: at}
}

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// keys returns "account|counterparty|tx" of each entry, for comparison.
func keys(ss []Seen) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Account+"|"+s.Counterparty()+"|"+s.TxID)
	}
	return out
}

func TestRegistryContract(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		batches [][]Seen
		since   time.Time
		want    []string
	}{
		{
			name: "latest per counterparty and account",
			batches: [][]Seen{
				{seen("Tren de Aragua", "A1", "tx1", day(1)), seen("Maria Lopez", "A1", "tx2", day(1))},
				// An older payment arriving late does not replace the newer one.
				{seen("TREN  DE ARAGUA", "A1", "tx0", day(0))},
				// A newer one does, however the name is spaced and cased.
				{seen("tren de aragua ", "A1", "tx3", day(2)), seen("Tren de Aragua", "A2", "tx4", day(1))},
			},
			want: []string{"A1|maria lopez||tx2", "A2|tren de aragua||tx4", "A1|tren de aragua||tx3"},
		},
		{
			// Of the same time, the smaller transaction id, whatever the
			// order and the batches.
			name: "the same time: the smaller transaction id",
			batches: [][]Seen{
				{seen("Acme Ltd", "A1", "tx2", day(1))},
				{seen("ACME LTD", "A1", "tx1", day(1))},
				{seen("acme ltd", "A1", "tx3", day(1)), seen("acme ltd", "A1", "tx0", day(0))},
			},
			want: []string{"A1|acme ltd||tx1"},
		},
		{
			name: "the same time in one batch",
			batches: [][]Seen{
				{seen("Acme Ltd", "A1", "tx2", day(1)), seen("ACME LTD", "A1", "tx1", day(1)), seen("acme ltd", "A1", "tx3", day(1))},
			},
			want: []string{"A1|acme ltd||tx1"},
		},
		{
			name: "latest within a batch",
			batches: [][]Seen{
				{seen("Acme Ltd", "A1", "tx2", day(2)), seen("ACME LTD", "A1", "tx1", day(1)), seen("Acme Ltd", "A1", "tx3", day(3)), seen("acme ltd", "A1", "tx0", day(0))},
			},
			want: []string{"A1|acme ltd||tx3"},
		},
		{
			name: "horizon trims the oldest",
			cfg:  Config{Horizon: 10 * 24 * time.Hour},
			batches: [][]Seen{
				{seen("Old Payee", "A1", "tx1", day(0)), seen("Mid Payee", "A2", "tx2", day(5))},
				{seen("New Payee", "A3", "tx3", day(20))},
				// Older than the horizon when it arrives: never kept.
				{seen("Late Payee", "A4", "tx4", day(9))},
			},
			want: []string{"A3|new payee||tx3"},
		},
		{
			name: "horizon keeps its edge",
			cfg:  Config{Horizon: 10 * 24 * time.Hour},
			batches: [][]Seen{
				{seen("Edge Payee", "A1", "tx1", day(0)), seen("New Payee", "A2", "tx2", day(10))},
			},
			want: []string{"A1|edge payee||tx1", "A2|new payee||tx2"},
		},
		{
			name: "size bound drops the oldest",
			cfg:  Config{MaxEntries: 3},
			batches: [][]Seen{
				{seen("P1", "A1", "tx1", day(1)), seen("P2", "A1", "tx2", day(2)), seen("P3", "A1", "tx3", day(3))},
				{seen("P5", "A1", "tx5", day(5)), seen("P4", "A1", "tx4", day(4))},
			},
			want: []string{"A1|p3||tx3", "A1|p4||tx4", "A1|p5||tx5"},
		},
		{
			name: "since filters",
			batches: [][]Seen{
				{seen("P1", "A1", "tx1", day(1)), seen("P2", "A1", "tx2", day(2)), seen("P3", "A1", "tx3", day(3))},
			},
			since: day(2),
			want:  []string{"A1|p2||tx2", "A1|p3||tx3"},
		},
		{
			name: "name and wallet",
			batches: [][]Seen{
				{{Name: "Jo Smith", Wallet: "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo", Field: "to.name", Account: "A1", TxID: "tx1", Time: day(1)},
					{Wallet: "1Kuf2Rd8mDyAViwBozGTNYnvWL8uYFrkVo", Field: "to.wallet", Account: "A1", TxID: "tx2", Time: day(1)}},
			},
			want: []string{"A1|jo smith|1kuf2rd8mdyaviwbozgtnynvwl8uyfrkvo|tx1", "A1||1kuf2rd8mdyaviwbozgtnynvwl8uyfrkvo|tx2"},
		},
	}
	for _, impl := range registries {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				reg := impl.new(t, tt.cfg)
				for _, b := range tt.batches {
					if err := reg.Record(context.Background(), b); err != nil {
						t.Fatal(err)
					}
				}
				got := keys(scanAll(t, reg, tt.since))
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("entries:\n got %q\nwant %q", got, tt.want)
				}
			})
		}
	}
}

func TestRegistryKeepsEverything(t *testing.T) {
	// Every field and the time's offset survive the store: the alert's time
	// is the payment's, in its own offset.
	want := Seen{Name: "Tren de Aragua", Wallet: "0xAbC", Field: "from.name", Account: "CA-001-4411902",
		CustomerID: "C-88210", CustomerName: "Jane Doe", TxID: "tx-7f3a91", Time: t0}
	for _, impl := range registries {
		t.Run(impl.name, func(t *testing.T) {
			reg := impl.new(t, Config{})
			if err := reg.Record(context.Background(), []Seen{want}); err != nil {
				t.Fatal(err)
			}
			got := scanAll(t, reg, time.Time{})
			if len(got) != 1 {
				t.Fatalf("got %d entries, want 1", len(got))
			}
			g := got[0]
			if g.Time.Format(time.RFC3339Nano) != "2025-03-04T15:22:10.123456789-04:00" || !g.Time.Equal(want.Time) {
				t.Errorf("time %s, want the payment's 2025-03-04T15:22:10.123456789-04:00", g.Time.Format(time.RFC3339Nano))
			}
			g.Time = want.Time
			if g != want {
				t.Errorf("got %+v\nwant %+v", g, want)
			}
		})
	}
}

func TestRegistryRejects(t *testing.T) {
	tests := []struct {
		name string
		s    Seen
		want string
	}{
		{"no account", Seen{Name: "X", Time: t0, TxID: "tx1"}, "Seen.Account"},
		{"no counterparty", Seen{Name: "  ", Account: "A1", Time: t0, TxID: "tx1"}, "Seen.Name or Seen.Wallet"},
		{"no time", Seen{Name: "X", Account: "A1", TxID: "tx1"}, "Seen.Time"},
	}
	for _, impl := range registries {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				reg := impl.new(t, Config{})
				err := reg.Record(context.Background(), []Seen{seen("Fine", "A1", "tx0", t0), tt.s})
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "seen[1]") {
					t.Fatalf("error %v, want one naming seen[1] and %s", err, tt.want)
				}
				if got := scanAll(t, reg, time.Time{}); len(got) != 0 {
					t.Errorf("a refused batch recorded %d entries", len(got))
				}
			})
		}
	}
}

func TestRegistryScanStops(t *testing.T) {
	stop := errors.New("stop")
	for _, impl := range registries {
		t.Run(impl.name, func(t *testing.T) {
			reg := impl.new(t, Config{})
			if err := reg.Record(context.Background(), []Seen{seen("P1", "A1", "tx1", day(1)), seen("P2", "A1", "tx2", day(2))}); err != nil {
				t.Fatal(err)
			}
			calls := 0
			err := reg.Scan(context.Background(), time.Time{}, func(Seen) error { calls++; return stop })
			if !errors.Is(err, stop) || calls != 1 {
				t.Errorf("Scan returned %v after %d calls, want fn's error after 1", err, calls)
			}
		})
	}
}

// countHook counts the commands and pipelines sent to Redis.
type countHook struct{ n int }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n++; return next(ctx, cmd) }
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n++; return next(ctx, cmds) }
}

func TestRedisOneRoundTripNoOrphans(t *testing.T) {
	rdb, prefix := redisClient(t)
	r, err := NewRedis(rdb, Config{Prefix: prefix, MaxEntries: 50, Horizon: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), r.Keys()...) })
	ctx := context.Background()
	// Load the script once; from then on a batch is one round trip.
	if err := r.Record(ctx, []Seen{seen("Warm", "A0", "tx0", day(0))}); err != nil {
		t.Fatal(err)
	}
	hook := &countHook{}
	rdb.AddHook(hook)
	for b := 0; b < 10; b++ {
		var batch []Seen
		for i := 0; i < 20; i++ {
			batch = append(batch, seen(fmt.Sprintf("Payee %d", i), fmt.Sprintf("A%d", b), fmt.Sprint("tx", b, i), day(b*5)))
		}
		before := hook.n
		if err := r.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if n := hook.n - before; n != 1 {
			t.Errorf("batch %d took %d round trips, want 1", b, n)
		}
	}
	z, _ := rdb.ZCard(ctx, r.Keys()[0]).Result()
	h, _ := rdb.HLen(ctx, r.Keys()[1]).Result()
	// Days 0..45 in steps of 5 with a 30-day horizon keep days 15..45 (7
	// batches, 140 entries), capped at 50.
	if z != 50 || h != 50 {
		t.Errorf("sorted set %d, hash %d entries: want 50 and 50 (bounded, no orphans)", z, h)
	}
	got := scanAll(t, r, time.Time{})
	if len(got) != 50 || !got[0].Time.Equal(day(35)) {
		t.Errorf("scan: %d entries from %v, want the newest 50 (days 35-45)", len(got), got[0].Time)
	}
}

// A registry holding its writes back writes nothing until Flush (or Scan),
// then everything, in chunks that keep each script call short.
func TestRedisWriteBack(t *testing.T) {
	rdb, prefix := redisClient(t)
	cfg := Config{Prefix: prefix, MaxEntries: 10_000, Horizon: 30 * 24 * time.Hour}
	held, err := NewRedis(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	held.WriteBack(100_000)
	plain, err := NewRedis(rdb, cfg) // another processor's view of the same keys
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), plain.Keys()...) })
	ctx := context.Background()
	var want []Seen
	for b := range 5 {
		var batch []Seen
		for i := range 2 * recordChunk / 5 {
			batch = append(batch, seen(fmt.Sprintf("Payee %d", i), fmt.Sprintf("A%d", b), fmt.Sprint("tx", b, i), day(b)))
		}
		if err := held.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	if err := held.Record(ctx, []Seen{{Name: "No account", Field: "to.name", Time: day(1)}}); err == nil {
		t.Error("a held-back Record took a sighting without an account")
	}
	if got := scanAll(t, plain, time.Time{}); len(got) != 0 {
		t.Fatalf("%d entries in Redis before the flush; want none", len(got))
	}
	if err := held.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sortSeen(want)
	got := scanAll(t, plain, time.Time{})
	if len(got) != len(want) {
		t.Fatalf("%d entries after the flush; want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].TxID != want[i].TxID || got[i].Account != want[i].Account {
			t.Fatalf("entry %d: %s of %s; want %s of %s", i, got[i].TxID, got[i].Account, want[i].TxID, want[i].Account)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Horizon: -time.Hour}, "Horizon"},
		{Config{MaxEntries: -1}, "MaxEntries"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" {
			if err != nil || tt.cfg.Horizon != DefaultHorizon || tt.cfg.MaxEntries != DefaultMaxEntries || tt.cfg.Prefix != DefaultPrefix {
				t.Errorf("Validate() = %v, %+v: want defaults", err, tt.cfg)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}

func FuzzDecodeSeen(f *testing.F) {
	f.Add(appendSeen(nil, Seen{Name: "Tren de Aragua", Field: "to.name", Account: "A1", CustomerID: "C1", TxID: "tx1", Time: t0}))
	f.Add([]byte(`{"a":"A1","n":"X","t":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"a":"","t":"bad"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSeen(b)
		if err != nil {
			return
		}
		again := appendSeen(nil, s)
		s2, err := decodeSeen(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !s2.Time.Equal(s.Time) || s2.Time.Format(time.RFC3339Nano) != s.Time.Format(time.RFC3339Nano) {
			t.Fatalf("time changed in a round trip: %v != %v", s2.Time, s.Time)
		}
		s2.Time = s.Time
		if s2 != s {
			t.Fatalf("round trip: %+v != %+v", s2, s)
		}
	})
}

// FuzzAppendSeen: the stored form is exactly what encoding/json gives for
// the wire form (the encoder before appendSeen), whatever the strings hold
// (quotes, HTML and control characters, U+2028, invalid UTF-8), and it
// reads back.
func FuzzAppendSeen(f *testing.F) {
	f.Add("Tren de Aragua", "", "to.name", "A1", "C1", "Ana <Pérez> & \"Co\"", "tx1", int64(1735689600123456789))
	f.Add("", "0x7f\x00\x1f\t\n\r\b\f", "from.wallet", "A\u2028B\u2029", "", "", "", int64(0))
	f.Add("\xff\xfe bad \xc3", "w", "", "", "c", "\u00e9\U0001F600", "x", int64(-1))
	f.Fuzz(func(t *testing.T, name, wallet, field, account, customer, customerName, tx string, ns int64) {
		s := Seen{Name: name, Wallet: wallet, Field: field, Account: account, CustomerID: customer, CustomerName: customerName,
			TxID: tx, Time: time.Unix(0, ns).UTC()}
		want, err := json.Marshal(wire{s.Name, s.Wallet, s.Field, s.Account, s.CustomerID, s.CustomerName, s.TxID, s.Time.Format(time.RFC3339Nano)})
		if err != nil {
			t.Fatal(err)
		}
		got := appendSeen([]byte("prefix"), s)
		if string(got[len("prefix"):]) != string(want) {
			t.Fatalf("appendSeen:\n got %s\nwant %s", got[len("prefix"):], want)
		}
		var w wire
		if err := json.Unmarshal(got[len("prefix"):], &w); err != nil {
			t.Fatalf("%s does not read back: %v", got, err)
		}
	})
}

func TestFromEvent(t *testing.T) {
	cust := func(acct string) *ingest.Party {
		return &ingest.Party{Account: acct, CustomerID: "C-" + acct, Name: "Customer " + acct}
	}
	tests := []struct {
		name string
		from *ingest.Party
		to   *ingest.Party
		want []string // field account
	}{
		{"customer pays a payee", cust("A1"), &ingest.Party{Name: "Tren de Aragua", Account: "X9"}, []string{"to.name A1"}},
		{"customer paid by a wallet", &ingest.Party{Wallet: "bc1qxyz"}, cust("A2"), []string{"from.wallet A2"}},
		{"two customers", cust("A1"), cust("A2"), []string{"to.name A1", "from.name A2"}},
		{"cash deposit, no counterparty", nil, cust("A1"), nil},
		{"no customer", &ingest.Party{Name: "P", Account: "X1"}, &ingest.Party{Name: "Q", Account: "X2"}, nil},
		{"counterparty without name or wallet", cust("A1"), &ingest.Party{Account: "X9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &ingest.Event{ID: "tx-1", Time: t0, From: tt.from, To: tt.to}
			var got []string
			for _, s := range FromEvent(e) {
				got = append(got, s.Field+" "+s.Account)
				if s.TxID != "tx-1" || !s.Time.Equal(t0) || s.CustomerID != "C-"+s.Account || s.check() != nil {
					t.Errorf("entry %+v", s)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// appendFold is fold without allocating for ASCII names: both must give
// the same key, or the memory and Redis registries would disagree.
func TestAppendFold(t *testing.T) {
	for _, s := range []string{"", "  ", "Corner Mart Ltd.", "  ACME\tTrading \n Co ", "a  b", "Émile  Zola", "x\u00a0y", "\u2003Lead", "tab\x0bvt", "A|B"} {
		if got, want := string(appendFold([]byte("p:"), s)), "p:"+fold(s); got != want {
			t.Errorf("appendFold(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestAppendFromEvent: the sightings of a payment are those of its bank
// customer's counterparty, and Record takes every one of them: a
// sighting it refused would fail the batch, and its retries, for ever.
func TestAppendFromEvent(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	own := &ingest.Party{Account: "CA-1", CustomerID: "C-1", Name: "Ana"}
	for _, tc := range []struct {
		name  string
		other ingest.Party
		want  string // the field of the one sighting; "" for none
	}{
		{"a name", ingest.Party{Account: "X", Name: "Tren de Aragua"}, "to.name"},
		{"a wallet", ingest.Party{Account: "X", Wallet: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}, "to.wallet"},
		{"a blank name and a wallet", ingest.Party{Account: "X", Name: "  ", Wallet: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}, "to.wallet"},
		{"a name of spaces", ingest.Party{Account: "X", Name: " \t"}, ""},
		{"neither", ingest.Party{Account: "X"}, ""},
	} {
		other := tc.other
		e := &ingest.Event{ID: "t1", Time: at, Kind: "wire", From: own, To: &other}
		seen := AppendFromEvent(nil, e)
		switch {
		case tc.want == "" && len(seen) != 0:
			t.Errorf("%s: %+v, want no sighting", tc.name, seen)
		case tc.want != "" && (len(seen) != 1 || seen[0].Field != tc.want):
			t.Errorf("%s: %+v, want one sighting of %s", tc.name, seen, tc.want)
		}
		if err := NewMemory(Config{}).Record(context.Background(), seen); err != nil {
			t.Errorf("%s: Record refused the event's sightings: %v", tc.name, err)
		}
	}
}
