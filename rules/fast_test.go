package rules

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// TestFastMatchesVM runs every rule, filter and feature value of the
// library on random environments both as a Go closure and in expr's VM:
// the results must be the same. Values are drawn from the constants the
// expressions compare with (and their neighbours), so the conditions go
// both ways.
func TestFastMatchesVM(t *testing.T) {
	s, err := Load(starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	var strs []string
	nums := []float64{0, 1, -1, 0.5}
	collect := constants(func(v any) {
		switch x := v.(type) {
		case string:
			strs = append(strs, x)
		case float64:
			nums = append(nums, x, x-0.01, x+0.01, x*2, x/2)
		case int:
			nums = append(nums, float64(x), float64(x-1), float64(x+1))
		case map[string]struct{}:
			for k := range x {
				strs = append(strs, k)
			}
		}
	})
	type prog struct {
		name string
		p    *vm.Program
		b    func(*Env) bool
		n    func(*Env) float64
		s    func(*Env) string
	}
	var progs []prog
	total := 0
	for _, r := range s.Rules {
		total++
		if r.fast != nil {
			progs = append(progs, prog{name: "rule " + r.ID, p: r.When, b: r.fast})
		}
	}
	for i, f := range s.Filters {
		total++
		if b := s.fastFilters[i]; b != nil {
			progs = append(progs, prog{name: "filter " + f.Source().String(), p: f, b: b})
		}
	}
	for _, f := range s.Features {
		if f.Value != nil {
			total++
			if f.fastValue != nil {
				progs = append(progs, prog{name: "value of " + f.Name, p: f.Value, n: f.fastValue})
			}
		}
		if f.Of != nil {
			total++
			if f.fastOf != nil {
				progs = append(progs, prog{name: "member of " + f.Name, p: f.Of, s: f.fastOf})
			}
		}
	}
	for _, p := range progs {
		n := p.p.Node()
		ast.Walk(&n, collect)
	}
	for _, l := range s.Lists {
		for _, ph := range l.phrases {
			strs = append(strs, strings.TrimSpace(ph), "paid for "+strings.TrimSpace(ph)+" today")
		}
	}
	strs = append(strs, "", "Fentress Street", "CA", "US", "MX")
	// Nearly every expression of the library must take the fast path.
	if len(progs) < total*9/10 {
		t.Errorf("only %d of %d expressions compile to Go closures", len(progs), total)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var vmach vm.VM
	fires := 0
	for range 20000 {
		env := randomEnv(rng, strs, nums, len(s.Features))
		for _, p := range progs {
			want, err := vmach.Run(p.p, env)
			if err != nil {
				t.Fatalf("%s: the VM failed on %+v: %v", p.name, env, err)
			}
			var got any
			switch {
			case p.b != nil:
				got = p.b(env)
				if got == true {
					fires++
				}
			case p.n != nil:
				got = p.n(env)
			default:
				got = p.s(env)
			}
			if got != want {
				t.Fatalf("%s: Go closure gives %v (%T), the VM %v (%T), on %+v", p.name, got, got, want, want, env)
			}
		}
	}
	t.Logf("%d of %d expressions as Go closures; %d true conditions in 20,000 environments", len(progs), total, fires)
	if fires == 0 {
		t.Error("no condition was ever true: the random environments test nothing")
	}
}

type constants func(any)

func (c constants) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.StringNode:
		c(x.Value)
	case *ast.FloatNode:
		c(x.Value)
	case *ast.IntegerNode:
		c(x.Value)
	case *ast.ConstantNode:
		c(x.Value)
	}
}

// randomEnv fills every string, number and bool of an Env, at any depth,
// from the pools.
func randomEnv(rng *rand.Rand, strs []string, nums []float64, features int) *Env {
	env := &Env{F: make([]float64, features)}
	for i := range env.F {
		env.F[i] = nums[rng.IntN(len(nums))]
	}
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Field(i); f.CanSet() || v.Type().Field(i).IsExported() {
					fill(f)
				}
			}
		case reflect.String:
			v.SetString(strs[rng.IntN(len(strs))])
		case reflect.Float64:
			v.SetFloat(nums[rng.IntN(len(nums))])
		case reflect.Int:
			v.SetInt(int64(nums[rng.IntN(len(nums))]))
		case reflect.Bool:
			v.SetBool(rng.IntN(2) == 0)
		}
	}
	fill(reflect.NewAt(envType, unsafe.Pointer(env)).Elem())
	if rng.IntN(4) > 0 {
		// Sometimes no table at all, sometimes one without USD.
		env.FX = map[string]float64{"CAD": 1}
		if rng.IntN(3) > 0 {
			env.FX["USD"] = nums[rng.IntN(len(nums))]
		}
	}
	env.F = env.F[:features]
	return env
}
