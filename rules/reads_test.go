package rules

import (
	"testing"

	"github.com/expr-lang/expr"
)

// The scorer screens parties only for rule sets that read the result (and
// for events that raise a finding), and looks up declared profiles only for
// the kinds whose rules or features read them: a miss here would hide a
// match or blind a rule.
func TestReadsPartyFields(t *testing.T) {
	for _, c := range []struct {
		src             string
		screen, profile bool
	}{
		{`to.screen.designated && to.screen.score > 0.9`, true, false},
		{`from.account != "" && to.type == "organization"`, false, false},
		{`from == to`, true, true},
		{`kind == "card"`, false, false},
		{`to["screen"].score > 0`, true, false},
		{`from.profile.known && to.profile.type == "organization"`, false, true},
		{`to["profile"].age_days < 30`, false, true},
	} {
		p, err := expr.Compile(c.src, expr.Env(Env{}))
		if err != nil {
			t.Fatal(err)
		}
		if got := readsScreen(p); got != c.screen {
			t.Errorf("%s: reads screen %v, want %v", c.src, got, c.screen)
		}
		if got := readsProfile(p); got != c.profile {
			t.Errorf("%s: reads profile %v, want %v", c.src, got, c.profile)
		}
	}
}
