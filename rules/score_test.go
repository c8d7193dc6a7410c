package rules

import (
	"strconv"
	"strings"
	"testing"
)

func hitsOf(s *Set, ids ...string) []Hit {
	var hits []Hit
	for _, id := range ids {
		for _, r := range s.Rules {
			if r.ID == id {
				hits = append(hits, Hit{Rule: r})
			}
		}
	}
	return hits
}

func TestScore(t *testing.T) {
	s := mustParse(t, map[string][]byte{"set.yaml": []byte(`
rules:
  - {id: a, description: d, score: 40, when: "true", reason: a}
  - {id: b, description: d, score: 30, when: "true", reason: b}
  - {id: s, description: d, score: 50, mode: shadow, when: "true", reason: s}
  - {id: big, description: d, score: 90, when: "true", reason: big}
typologies:
  - id: t1
    description: weights and threshold
    threshold: 50
    rules: [{rule: a, weight: 1}, {rule: b, weight: 0.5}]
  - id: t2
    description: shadow only
    threshold: 50
    rules: [{rule: s, weight: 1}]
  - id: t3
    description: active plus shadow
    threshold: 60
    rules: [{rule: a, weight: 1}, {rule: s, weight: 1}]
  - id: t4
    description: capped
    threshold: 50
    rules: [{rule: big, weight: 2}]
`)})
	cases := []struct {
		hits []string
		want string // "typology:score[:shadow]" sorted by typology order
	}{
		{nil, ""},
		{[]string{"a"}, ""},                               // 40 < 50
		{[]string{"b"}, ""},                               // 15 < 50
		{[]string{"a", "b"}, "t1:55"},                     // 40 + 0.5 × 30
		{[]string{"s"}, "t2:50:shadow"},                   // only shadow rules: never active
		{[]string{"a", "s"}, "t2:50:shadow t3:90:shadow"}, // t3 reaches 60 only with the shadow rule
		{[]string{"a", "b", "s"}, "t1:55 t2:50:shadow t3:90:shadow"},
		{[]string{"big"}, "t4:100"}, // 180 capped at 100
	}
	for _, c := range cases {
		var got []string
		for _, ts := range s.Score(hitsOf(s, c.hits...)) {
			x := ts.Typology.ID + ":" + strconv.Itoa(ts.Score)
			if ts.Shadow {
				x += ":shadow"
			}
			got = append(got, x)
			if len(ts.Hits) == 0 {
				t.Errorf("%v: typology %s without its hits", c.hits, ts.Typology.ID)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("hits %v: got %q, want %q", c.hits, strings.Join(got, " "), c.want)
		}
	}
}

// A rule used by two typologies is evaluated once: one hit, shared by both
// typology scores.
func TestEvalOncePerRule(t *testing.T) {
	s := mustParse(t, readBase(t))
	ev := NewEvaluator(s)
	env := &Env{Kind: "cash_deposit", Subject: "to", Base: "CAD", F: make([]float64, len(s.Features))}
	env.F[s.Features[0].Index] = 12000.5 // cash_in_24h_sum
	env.F[s.Features[1].Index] = 3       // cash_in_24h_count
	hits, errs := ev.Eval(env, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.Rule.ID)
	}
	if strings.Join(ids, ",") != "big-cash,tuning" {
		t.Fatalf("hits %v, want big-cash,tuning (slang is a from rule)", ids)
	}
	big := &hits[0]
	if big.Reason != "3 deposits, total 12,000.50 CAD" {
		t.Errorf("reason %q", big.Reason)
	}
	if big.Values["count_24h"] != int64(3) || big.Values["sum_24h"] != 12000.5 {
		t.Errorf("values %#v", big.Values)
	}
	ts := s.Score(hits)
	var cash, heavy *TypologyScore
	for i := range ts {
		switch ts[i].Typology.ID {
		case "cash":
			cash = &ts[i]
		case "cash_heavy":
			heavy = &ts[i]
		}
	}
	if cash == nil || heavy == nil {
		t.Fatalf("scores %+v", ts)
	}
	// cash: big-cash 40 active; with the shadow rule 70 ≥ 50 → shadow only.
	if !cash.Shadow || cash.Score != 70 {
		t.Errorf("cash: %+v", cash)
	}
	if heavy.Shadow || heavy.Score != 80 {
		t.Errorf("cash_heavy: %+v", heavy)
	}
	if heavy.Hits[0] != big || cash.Hits[0] != big {
		t.Error("the two typologies do not share the one evaluation of big-cash")
	}

	// The from side runs only from rules.
	env = &Env{Kind: "p2p", Subject: "from", Memo: "for the Fent", F: make([]float64, len(s.Features))}
	hits, _ = ev.Eval(env, nil)
	if len(hits) != 1 || hits[0].Rule.ID != "slang" || hits[0].Reason != "memo for the Fent" {
		t.Errorf("from hits %+v", hits)
	}
	env.Memo = "1204 Fentress Street"
	if hits, _ = ev.Eval(env, nil); len(hits) != 0 {
		t.Errorf("Fentress Street fired %v", hits[0].Rule.ID)
	}
}

func TestMoney(t *testing.T) {
	for v, want := range map[any]string{
		0.0: "0.00", 9999.995: "10,000.00", 1234567.891: "1,234,567.89", int64(100): "100.00", 12: "12.00", -1500.5: "-1,500.50", "x": "0.00",
	} {
		if got := Money(v); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	s, err := Load(starterDirs...)
	if err != nil {
		b.Fatal(err)
	}
	ev := NewEvaluator(s)
	env := &Env{Kind: "cash_deposit", Subject: "to", Base: "CAD", FX: map[string]float64{"USD": 1.442}, F: make([]float64, len(s.Features))}
	b.ReportAllocs()
	for b.Loop() {
		ev.Eval(env, nil)
	}
}
