package graph

import (
	"context"
	"fmt"
	"testing"
)

const benchBase = int64(1_700_000_000_000)

// hubEdges returns n edges alternating peer -> hub and hub -> peer with
// distinct peers and similar amounts, one a second, newest last: the worst
// case for the search (every hub edge is a candidate hop).
func hubEdges(n int) []Edge {
	out := make([]Edge, n)
	for i := range out {
		peer := fmt.Sprintf("peer-%d", i)
		e := Edge{TxID: fmt.Sprintf("h%d", i), From: peer, To: "hub", Amount: 1000 + int64(i%7), Time: benchBase + int64(i)*1000}
		if i%2 == 1 {
			e.From, e.To = e.To, e.From
		}
		out[i] = e
	}
	return out
}

func loadHub(tb testing.TB, st Store, n int) {
	tb.Helper()
	edges := hubEdges(n)
	for i := 0; i < len(edges); i += 512 {
		if _, err := st.Observe(context.Background(), edges[i:min(i+512, len(edges))]); err != nil {
			tb.Fatal(err)
		}
	}
}

// probe is one edge into and one out of the hub after the hub's edges.
func probe(n, k int) []Edge {
	t := benchBase + int64(n+k)*1000
	return []Edge{
		{TxID: fmt.Sprintf("pi%d", k), From: fmt.Sprintf("new-%d", k), To: "hub", Amount: 1003, Time: t},
		{TxID: fmt.Sprintf("po%d", k), From: "hub", To: fmt.Sprintf("new-%d", k), Amount: 1003, Time: t + 1},
	}
}

// TestHubWorkIsBounded checks that an edge of a hub with 100,000
// counterparties does exactly the work of one with 1,000, within the
// documented bound.
func TestHubWorkIsBounded(t *testing.T) {
	var work []stats
	for _, n := range []int{1_000, 100_000} {
		m := NewMemory(Config{})
		loadHub(t, m, n)
		var total stats
		for k, e := range probe(n, 0) {
			if _, err := m.Observe(context.Background(), []Edge{e}); err != nil {
				t.Fatal(err)
			}
			st := m.last
			t.Logf("hub of %d edges, probe %d: %+v", n, k, st)
			cfg := m.cfg
			if st.accounts > 2+cfg.MaxEdgesPerAccount+cfg.MaxFrontier || st.states > cfg.MaxFrontier ||
				st.rounds > max(2, cfg.MaxHops-1) || st.scanned > (2+cfg.MaxEdgesPerAccount+cfg.MaxFrontier)*2*(cfg.MaxEdgesPerAccount+1) {
				t.Errorf("hub of %d: work %+v beyond the bound", n, st)
			}
			total.accounts += st.accounts
			total.states += st.states
			total.scanned += st.scanned
			total.rounds += st.rounds
		}
		work = append(work, total)
		if n == 100_000 && len(m.accounts) != n+2 {
			t.Errorf("%d accounts kept, want %d", len(m.accounts), n+2)
		}
		if x := m.accounts["hub"]; len(x.in) != 64 || len(x.out) != 64 {
			t.Errorf("hub keeps %d in and %d out edges, want 64 each", len(x.in), len(x.out))
		}
	}
	if work[0] != work[1] {
		t.Errorf("work grows with the hub: %+v at 1,000 edges, %+v at 100,000", work[0], work[1])
	}
}

func TestMemberRoundTrip(t *testing.T) {
	for _, h := range []half{
		newHalf("80A2DF610", 111302, benchBase, "tx-1"),
		newHalf("a|b:c", -5, -1, "x|y|z"),
		newHalf("", 0, 0, ""),
		newHalf("12:34|", 1<<62, 1<<52, "|"),
	} {
		got, err := decodeMember(h.member)
		if err != nil || got != h {
			t.Errorf("%q: got %+v, %v", h.member, got, err)
		}
	}
	for _, m := range []string{"", "x", "3:ab|1|2|t", "2:ab|1|t", "2:ab|x|2|t", "02:ab|1|2|t", "2:ab|+1|2|t", "-1:|1|2|t"} {
		if _, err := decodeMember(m); err == nil {
			t.Errorf("%q: no error", m)
		}
	}
}

// FuzzDecodeMember checks that whatever Redis returns, a member decodes
// only if it is canonical, and re-encodes to itself.
func FuzzDecodeMember(f *testing.F) {
	f.Add("9:80A2DF610|111302|1700000000000|tx-1")
	f.Add("5:a|b:c|-5|-1|x|y|z")
	f.Add("0:|0|0|")
	f.Fuzz(func(t *testing.T, m string) {
		h, err := decodeMember(m)
		if err != nil {
			return
		}
		if e := encodeMember(h.Peer, h.Amount, h.Time, h.Tx); e != m {
			t.Fatalf("%q decodes to %+v which encodes to %q", m, h, e)
		}
	})
}

func FuzzDecodeSignals(f *testing.F) {
	s := Signals{FanIn: 3, CycleHops: 3, CycleMinRatio: 0.85, CycleTx: []string{"a", "b"}, Tx: []string{"a"}}
	b, _ := encodeSignals(&s)
	f.Add(b)
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSignals(b)
		if err != nil {
			return
		}
		b2, err := encodeSignals(&s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := decodeSignals(b2)
		if err != nil || fmt.Sprint(s) != fmt.Sprint(s2) {
			t.Fatalf("%s: %+v then %+v (%v)", b, s, s2, err)
		}
	})
}
