package rules

import "testing"

func TestOwnOf(t *testing.T) {
	for _, c := range []struct {
		src  string
		want Own
	}{
		{`to.own`, Own{To: true}},
		{`kind == "wire" && from.own && amount > 5`, Own{From: true}},
		{`to.own && from.own`, Own{To: true, From: true}},
		{`amount > 5`, Own{}},
		{`!to.own && amount > 5`, Own{}},
		{`to.own == false`, Own{}},
		{`to.own || amount > 5`, Own{}},
		{`to.own && amount > 5 || to.own && from.own`, Own{To: true}},
		{`(from.own || from.type != "organization") && to.own`, Own{To: true}},
		{`to.profile.own_accounts > 1`, Own{}},
		{`to.own ? true : false`, Own{}},
	} {
		if got := ownOf(c.src); got != c.want {
			t.Errorf("ownOf(%s) = %+v, want %+v", c.src, got, c.want)
		}
	}
}

func TestForeignReads(t *testing.T) {
	set, err := Parse(map[string][]byte{"own.yaml": []byte(`
features:
  - {name: in_sum, key: account, side: in, op: sum, window: 24h}
  - {name: out_sum, key: account, side: out, op: sum, window: 24h}
  - {name: senders, key: account, side: in, op: distinct, window: 24h, of: 'from.account'}
rules:
  - id: own-in
    description: d
    severity: low
    score: 10
    when: to.own && in_sum > 10
    reason: r
  - id: any-out
    subject: from
    description: d
    severity: low
    score: 10
    when: to.own && out_sum > 10
    reason: r
  - id: own-senders
    subject: from
    description: d
    severity: low
    score: 10
    when: from.own && kind == "wire" && senders > 2
    reason: r
`)})
	if err != nil {
		t.Fatal(err)
	}
	// any-out requires the payee to be own, not its subject: an account at
	// another bank paying a customer is read.
	got := set.ForeignReads()
	want := []bool{false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ForeignReads()[%s] = %v, want %v", set.Features[i].Name, got[i], want[i])
		}
	}
	if set.CanFire("from", "wire", Own{To: true}) != true || set.CanFire("from", "card", Own{}) {
		t.Error("CanFire ignores the own flags or the kinds")
	}
	if r := set.Reads("from", "wire", Own{To: true}); r[2] || !r[1] {
		t.Errorf("Reads(from, wire, to own) = %v, want out_sum only", r)
	}
	if r := set.Reads("from", "wire", Own{To: true, From: true}); !r[2] || !r[1] {
		t.Errorf("Reads(from, wire, both own) = %v, want out_sum and senders", r)
	}
}
