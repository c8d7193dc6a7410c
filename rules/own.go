package rules

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Own says which parties an event must have as the bank's own customers
// (Party.Own) for a rule to fire.
type Own struct{ To, From bool }

// Allows reports whether an event whose parties' own flags are to and from
// meets o.
func (o Own) Allows(to, from bool) bool { return (!o.To || to) && (!o.From || from) }

// ownOf returns the parties a condition requires to be own: those tested
// by a bare `to.own` or `from.own` that must hold for the whole condition
// to (a conjunct of its top-level &&, or of both sides of an ||). Anything
// else (a negation, a comparison) requires nothing. The scorer uses it to
// keep no window state, for accounts at other banks, that only rules about
// the bank's customers read.
func ownOf(src string) Own {
	tree, err := parser.Parse(src)
	if err != nil {
		return Own{}
	}
	return ownNode(tree.Node)
}

func ownNode(n ast.Node) Own {
	switch x := n.(type) {
	case *ast.BinaryNode:
		l, r := ownNode(x.Left), ownNode(x.Right)
		switch x.Operator {
		case "&&", "and":
			return Own{To: l.To || r.To, From: l.From || r.From}
		case "||", "or":
			return Own{To: l.To && r.To, From: l.From && r.From}
		}
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		p, pok := x.Property.(*ast.StringNode)
		if ok && pok && p.Value == "own" {
			return Own{To: id.Value == "to", From: id.Value == "from"}
		}
	}
	return Own{}
}
