package rules

import (
	"reflect"
	"unsafe"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// The forms the rules, filters and feature values use most (comparisons,
// && and ||, arithmetic, `in` a constant set, memo_has, code_in, fields of
// Env and its nested structs, features) are compiled once more into plain
// Go closures over *Env: expr's VM reads struct fields through reflection
// and boxes every value, which per event and rule is most of the cost.
// An expression with anything else runs in the VM. TestFastMatchesVM holds
// both to the same results on random environments.

// fast is a compiled expression of one of three types.
type fast struct {
	b func(*Env) bool
	n func(*Env) float64 // numbers: expr's int and float64, as float64
	s func(*Env) string
}

// fastBool compiles a boolean expression; nil when it cannot.
func fastBool(p *vm.Program) func(*Env) bool {
	f, ok := fastNode(p.Node())
	if !ok {
		return nil
	}
	return f.b
}

// fastFloat compiles a number expression (compiled AsFloat64: the VM
// makes an int a float64 too); nil when it cannot.
func fastFloat(p *vm.Program) func(*Env) float64 {
	n := p.Node()
	if t := n.Type(); t == nil || t.Kind() != reflect.Float64 && t.Kind() != reflect.Int {
		return nil
	}
	f, ok := fastNode(n)
	if !ok {
		return nil
	}
	return f.n
}

// fastString compiles a string expression; nil when it cannot.
func fastString(p *vm.Program) func(*Env) string {
	f, ok := fastNode(p.Node())
	if !ok {
		return nil
	}
	return f.s
}

func fastNode(node ast.Node) (fast, bool) {
	switch n := node.(type) {
	case *ast.BoolNode:
		v := n.Value
		return fast{b: func(*Env) bool { return v }}, true
	case *ast.IntegerNode:
		v := float64(n.Value)
		return fast{n: func(*Env) float64 { return v }}, true
	case *ast.FloatNode:
		v := n.Value
		return fast{n: func(*Env) float64 { return v }}, true
	case *ast.StringNode:
		v := n.Value
		return fast{s: func(*Env) string { return v }}, true
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case bool:
			return fast{b: func(*Env) bool { return v }}, true
		case int:
			f := float64(v)
			return fast{n: func(*Env) float64 { return f }}, true
		case float64:
			return fast{n: func(*Env) float64 { return v }}, true
		case string:
			return fast{s: func(*Env) string { return v }}, true
		}
	case *ast.IdentifierNode, *ast.MemberNode:
		return fastField(n)
	case *ast.UnaryNode:
		x, ok := fastNode(n.Node)
		if !ok {
			return fast{}, false
		}
		switch {
		case (n.Operator == "!" || n.Operator == "not") && x.b != nil:
			return fast{b: func(e *Env) bool { return !x.b(e) }}, true
		case n.Operator == "-" && x.n != nil:
			return fast{n: func(e *Env) float64 { return -x.n(e) }}, true
		}
	case *ast.BinaryNode:
		return fastBinary(n)
	case *ast.ConditionalNode:
		c, ok1 := fastNode(n.Cond)
		a, ok2 := fastNode(n.Exp1)
		b, ok3 := fastNode(n.Exp2)
		if !ok1 || !ok2 || !ok3 || c.b == nil {
			return fast{}, false
		}
		switch {
		case a.b != nil && b.b != nil:
			return fast{b: func(e *Env) bool {
				if c.b(e) {
					return a.b(e)
				}
				return b.b(e)
			}}, true
		case a.n != nil && b.n != nil:
			return fast{n: func(e *Env) float64 {
				if c.b(e) {
					return a.n(e)
				}
				return b.n(e)
			}}, true
		case a.s != nil && b.s != nil:
			return fast{s: func(e *Env) string {
				if c.b(e) {
					return a.s(e)
				}
				return b.s(e)
			}}, true
		}
	case *ast.BuiltinNode:
		if (n.Name != "max" && n.Name != "min") || len(n.Arguments) < 2 {
			return fast{}, false
		}
		args := make([]func(*Env) float64, len(n.Arguments))
		for i, a := range n.Arguments {
			x, ok := fastNode(a)
			if !ok || x.n == nil {
				return fast{}, false
			}
			args[i] = x.n
		}
		isMax := n.Name == "max"
		return fast{n: func(e *Env) float64 {
			m := args[0](e)
			for _, a := range args[1:] {
				if v := a(e); v > m == isMax && v != m {
					m = v
				}
			}
			return m
		}}, true
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || len(n.Arguments) != 2 || (id.Value != "memo_has" && id.Value != "code_in") {
			return fast{}, false
		}
		c, ok := n.Arguments[1].(*ast.ConstantNode)
		if !ok {
			return fast{}, false
		}
		l, ok := c.Value.(*TextList)
		x, ok2 := fastNode(n.Arguments[0])
		if !ok || !ok2 || x.s == nil {
			return fast{}, false
		}
		if id.Value == "memo_has" {
			return fast{b: func(e *Env) bool { return l.Match(x.s(e)) }}, true
		}
		return fast{b: func(e *Env) bool { return l.HasPrefix(x.s(e)) }}, true
	}
	return fast{}, false
}

func fastBinary(n *ast.BinaryNode) (fast, bool) {
	l, ok1 := fastNode(n.Left)
	if n.Operator == "in" {
		return fastIn(l, ok1, n.Right)
	}
	r, ok2 := fastNode(n.Right)
	if !ok1 || !ok2 {
		return fast{}, false
	}
	op := n.Operator
	switch {
	case l.b != nil && r.b != nil:
		switch op {
		case "&&", "and":
			return fast{b: func(e *Env) bool { return l.b(e) && r.b(e) }}, true
		case "||", "or":
			return fast{b: func(e *Env) bool { return l.b(e) || r.b(e) }}, true
		case "==":
			return fast{b: func(e *Env) bool { return l.b(e) == r.b(e) }}, true
		case "!=":
			return fast{b: func(e *Env) bool { return l.b(e) != r.b(e) }}, true
		}
	case l.n != nil && r.n != nil:
		a, b := l.n, r.n
		switch op {
		case "==":
			return fast{b: func(e *Env) bool { return a(e) == b(e) }}, true
		case "!=":
			return fast{b: func(e *Env) bool { return a(e) != b(e) }}, true
		case "<":
			return fast{b: func(e *Env) bool { return a(e) < b(e) }}, true
		case "<=":
			return fast{b: func(e *Env) bool { return a(e) <= b(e) }}, true
		case ">":
			return fast{b: func(e *Env) bool { return a(e) > b(e) }}, true
		case ">=":
			return fast{b: func(e *Env) bool { return a(e) >= b(e) }}, true
		case "+":
			return fast{n: func(e *Env) float64 { return a(e) + b(e) }}, true
		case "-":
			return fast{n: func(e *Env) float64 { return a(e) - b(e) }}, true
		case "*":
			return fast{n: func(e *Env) float64 { return a(e) * b(e) }}, true
		case "/":
			return fast{n: func(e *Env) float64 { return a(e) / b(e) }}, true
		}
	case l.s != nil && r.s != nil:
		a, b := l.s, r.s
		switch op {
		case "==":
			return fast{b: func(e *Env) bool { return a(e) == b(e) }}, true
		case "!=":
			return fast{b: func(e *Env) bool { return a(e) != b(e) }}, true
		case "+":
			return fast{s: func(e *Env) string { return a(e) + b(e) }}, true
		}
	}
	return fast{}, false
}

// fastIn compiles `string in <constant set>`, which the optimizer makes of
// `kind in ["wire", "eft"]`.
func fastIn(l fast, ok bool, right ast.Node) (fast, bool) {
	if !ok || l.s == nil {
		return fast{}, false
	}
	set := map[string]bool{}
	switch r := right.(type) {
	case *ast.ConstantNode:
		switch v := r.Value.(type) {
		case map[string]struct{}:
			for k := range v {
				set[k] = true
			}
		case map[any]struct{}:
			for k := range v {
				s, ok := k.(string)
				if !ok {
					return fast{}, false
				}
				set[s] = true
			}
		default:
			return fast{}, false
		}
	case *ast.ArrayNode:
		for _, x := range r.Nodes {
			s, ok := x.(*ast.StringNode)
			if !ok {
				return fast{}, false
			}
			set[s.Value] = true
		}
	default:
		return fast{}, false
	}
	return fast{b: func(e *Env) bool { return set[l.s(e)] }}, true
}

var envType = reflect.TypeFor[Env]()

// fastField compiles a field of Env (kind, to.profile.industry...) or a
// feature (F[i]) into a read at a fixed offset: Env's nested structs are
// values, so a path is one offset from the start of Env.
func fastField(node ast.Node) (fast, bool) {
	if m, ok := node.(*ast.MemberNode); ok && !m.Optional {
		if id, ok := m.Node.(*ast.IdentifierNode); ok && id.Value == "F" {
			i, ok := m.Property.(*ast.IntegerNode)
			if !ok || i.Value < 0 {
				return fast{}, false
			}
			k := i.Value
			// The scorer always fills F for every feature; a short F (a
			// rule run on a bare Env) reads 0.
			return fast{n: func(e *Env) float64 {
				if k < len(e.F) {
					return e.F[k]
				}
				return 0
			}}, true
		}
	}
	var path []string
	for n := node; ; {
		switch x := n.(type) {
		case *ast.IdentifierNode:
			path = append(path, x.Value)
		case *ast.MemberNode:
			p, ok := x.Property.(*ast.StringNode)
			if !ok || x.Optional || x.Method {
				return fast{}, false
			}
			path = append(path, p.Value)
			n = x.Node
			continue
		default:
			return fast{}, false
		}
		break
	}
	t, off := envType, uintptr(0)
	for i := len(path) - 1; i >= 0; i-- {
		if i == 0 && t == reflect.TypeFor[map[string]float64]() {
			// fx.USD: a missing key reads 0, as in the VM.
			key, off := path[0], off
			return fast{n: func(e *Env) float64 { return (*(*map[string]float64)(unsafe.Add(unsafe.Pointer(e), off)))[key] }}, true
		}
		if t.Kind() != reflect.Struct {
			return fast{}, false
		}
		f, ok := exprField(t, path[i])
		if !ok {
			return fast{}, false
		}
		t, off = f.Type, off+f.Offset
	}
	switch t.Kind() {
	case reflect.String:
		return fast{s: func(e *Env) string { return *(*string)(unsafe.Add(unsafe.Pointer(e), off)) }}, true
	case reflect.Float64:
		return fast{n: func(e *Env) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(e), off)) }}, true
	case reflect.Int:
		return fast{n: func(e *Env) float64 { return float64(*(*int)(unsafe.Add(unsafe.Pointer(e), off))) }}, true
	case reflect.Bool:
		return fast{b: func(e *Env) bool { return *(*bool)(unsafe.Add(unsafe.Pointer(e), off)) }}, true
	}
	return fast{}, false
}

// exprField finds the field expr names name: by its expr tag, else by its
// Go name.
func exprField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("expr")
		if tag == "-" || f.Anonymous {
			continue
		}
		if tag == name || tag == "" && f.Name == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
