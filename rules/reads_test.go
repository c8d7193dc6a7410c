package rules

import (
	"github.com/expr-lang/expr"
	"testing"
)

// The scorer screens parties only for rule sets that read the result (and
// for events that raise a finding): a miss here would hide a match.
func TestReadsScreen(t *testing.T) {
	for src, want := range map[string]bool{
		`to.screen.designated && to.screen.score > 0.9`:   true,
		`from.account != "" && to.type == "organization"`: false,
		`from == to`:             true,
		`kind == "card"`:         false,
		`to["screen"].score > 0`: true,
		`from.profile.known`:     false,
	} {
		p, err := expr.Compile(src, expr.Env(Env{}))
		if err != nil {
			t.Fatal(err)
		}
		if got := readsScreen(p); got != want {
			t.Errorf("%s: %v", src, got)
		}
	}
}
