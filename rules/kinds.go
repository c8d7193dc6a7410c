package rules

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// allKinds are the event kinds of spec/transaction.md. rules must not import
// ingest's map for this (ingest is upstream, but the rule language stands on
// its own), so the list is repeated here; a test keeps the two in step.
var allKinds = []string{"wire", "eft", "ach", "p2p", "cash_deposit", "cash_withdrawal", "cheque", "card",
	"crypto_buy", "crypto_transfer", "crypto_sell", "other"}

// kindsOf returns the event kinds for which a condition can be true, from
// its kind tests (kind == "x", kind != "x", kind in [...], their negation,
// joined by && and ||). It reports false when the condition does not limit
// the kind. The scorer uses it to skip window reads and rules that cannot
// fire on an event, which matters because most events are card payments.
func kindsOf(src string) (map[string]bool, bool) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, false
	}
	return kindsNode(tree.Node)
}

func kindsNode(n ast.Node) (map[string]bool, bool) {
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			l, lok := kindsNode(x.Left)
			r, rok := kindsNode(x.Right)
			switch {
			case lok && rok:
				out := map[string]bool{}
				for k := range l {
					if r[k] {
						out[k] = true
					}
				}
				return out, true
			case lok:
				return l, true
			case rok:
				return r, true
			}
		case "||", "or":
			l, lok := kindsNode(x.Left)
			r, rok := kindsNode(x.Right)
			if lok && rok {
				for k := range r {
					l[k] = true
				}
				return l, true
			}
		case "==", "!=":
			if isKind(x.Left) {
				if s, ok := x.Right.(*ast.StringNode); ok {
					set := map[string]bool{s.Value: true}
					if x.Operator == "!=" {
						return complement(set), true
					}
					return set, true
				}
			}
		case "in", "not in":
			if isKind(x.Left) {
				if arr, ok := x.Right.(*ast.ArrayNode); ok {
					set := map[string]bool{}
					for _, e := range arr.Nodes {
						s, ok := e.(*ast.StringNode)
						if !ok {
							return nil, false
						}
						set[s.Value] = true
					}
					if x.Operator == "not in" {
						return complement(set), true
					}
					return set, true
				}
			}
		}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			if set, ok := kindsNode(x.Node); ok {
				if _, simple := x.Node.(*ast.BinaryNode); simple && isKindTest(x.Node) {
					return complement(set), true
				}
			}
		}
	}
	return nil, false
}

// isKindTest reports whether n is a single kind comparison, whose negation
// is its complement (a negated && or || is not analysed).
func isKindTest(n ast.Node) bool {
	b, ok := n.(*ast.BinaryNode)
	return ok && isKind(b.Left) && (b.Operator == "==" || b.Operator == "!=" || b.Operator == "in" || b.Operator == "not in")
}

func isKind(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == "kind"
}

func complement(set map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, k := range allKinds {
		if !set[k] {
			out[k] = true
		}
	}
	return out
}
