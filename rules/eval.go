package rules

import (
	"fmt"
	"math"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// Hit is a rule that fired on an event, with what it saw.
type Hit struct {
	Rule   *Rule
	Values map[string]any
	Reason string
}

// TypologyScore is a typology's score for one subject on one event.
type TypologyScore struct {
	Typology *Typology
	Score    int  // 0-100
	Shadow   bool // reached the threshold only with shadow rules
	Hits     []*Hit
}

// Evaluator runs a Set's rules. It keeps a VM, so it is not safe for
// concurrent use: use one per goroutine.
type Evaluator struct {
	Set *Set
	vm  vm.VM
}

// NewEvaluator returns an evaluator of s.
func NewEvaluator(s *Set) *Evaluator { return &Evaluator{Set: s} }

// Eval evaluates every rule whose subject is env.Subject and appends the hits.
// A rule that fails at run time (a missing attribute of the wrong type, say)
// does not fire; its error is returned beside the hits so the caller can count
// it, and the other rules still run.
func (e *Evaluator) Eval(env *Env, hits []Hit) ([]Hit, []error) {
	var errs []error
	for _, r := range e.Set.Rules {
		if r.Subject != env.Subject || (r.Kinds != nil && !r.Kinds[env.Kind]) {
			continue
		}
		if r.fast != nil {
			if !r.fast(env) {
				continue
			}
		} else {
			out, err := e.vm.Run(r.When, env)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: %w", r.ID, err))
				continue
			}
			if ok, _ := out.(bool); !ok {
				continue
			}
		}
		h := Hit{Rule: r, Values: make(map[string]any, len(r.Values))}
		data := map[string]any{"currency": env.Currency, "amount": env.Amount, "kind": env.Kind, "base": env.Base}
		for _, v := range r.Values {
			val, err := e.vm.Run(v.Program, env)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: value %s: %w", r.ID, v.Name, err))
				continue
			}
			val = tidy(val, v.Money)
			h.Values[v.Name] = val
			data[v.Name] = val
		}
		var b strings.Builder
		if err := r.Reason.Execute(&b, data); err != nil {
			errs = append(errs, fmt.Errorf("rule %s: reason: %w", r.ID, err))
		}
		h.Reason = b.String()
		hits = append(hits, h)
	}
	return hits, errs
}

// tidy makes values print the same everywhere: whole numbers as integers,
// money to the cent.
func tidy(v any, money bool) any {
	f, ok := v.(float64)
	if !ok {
		if i, ok := v.(int); ok {
			return int64(i)
		}
		return v
	}
	if money {
		f = math.Round(f*100) / 100
	} else {
		f = math.Round(f*10000) / 10000
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// Score weighs hits (of one subject, one event) into typology scores and
// returns those at or above their thresholds. Active typologies use active
// rules only; a typology that reaches its threshold only with shadow rules is
// returned with Shadow set, so tuning can see what a rule would add.
func (s *Set) Score(hits []Hit) []TypologyScore {
	if len(hits) == 0 {
		return nil
	}
	var out []TypologyScore
	for _, t := range s.Typologies {
		var active, all float64
		var th []*Hit
		for _, wr := range t.Rules {
			for i := range hits {
				if hits[i].Rule != wr.Rule {
					continue
				}
				c := wr.Weight * float64(wr.Rule.Score)
				all += c
				if !wr.Rule.Shadow {
					active += c
				}
				th = append(th, &hits[i])
			}
		}
		switch {
		case active >= float64(t.Threshold):
			out = append(out, TypologyScore{Typology: t, Score: clamp(active), Hits: th})
		case all >= float64(t.Threshold):
			out = append(out, TypologyScore{Typology: t, Score: clamp(all), Shadow: true, Hits: th})
		}
	}
	return out
}

func clamp(f float64) int {
	v := int(math.Round(f))
	if v > 100 {
		return 100
	}
	return v
}

// Filter evaluates the set's filter i on env.
func (e *Evaluator) Filter(i int, env *Env) (bool, error) {
	if f := e.Set.fastFilters[i]; f != nil {
		return f(env), nil
	}
	out, err := e.vm.Run(e.Set.Filters[i], env)
	ok, _ := out.(bool)
	return ok, err
}

// Value evaluates feature f's value on env (f.Value must be set).
func (e *Evaluator) Value(f *Feature, env *Env) (float64, error) {
	if f.fastValue != nil {
		return f.fastValue(env), nil
	}
	out, err := e.vm.Run(f.Value, env)
	v, _ := out.(float64)
	return v, err
}

// Member evaluates feature f's member on env (f.Of must be set).
func (e *Evaluator) Member(f *Feature, env *Env) (string, error) {
	if f.fastOf != nil {
		return f.fastOf(env), nil
	}
	out, err := e.vm.Run(f.Of, env)
	m, _ := out.(string)
	return m, err
}

// CanFire reports whether any rule for subject ("to" or "from") can fire on
// an event of kind whose parties' own flags are own.To and own.From.
func (s *Set) CanFire(subject, kind string, own Own) bool {
	for _, r := range s.Rules {
		if r.canFire(subject, kind, own) {
			return true
		}
	}
	return false
}

// Reads returns, per feature, whether a rule for subject that can fire on
// such an event reads it: the others need not be computed for that event.
func (s *Set) Reads(subject, kind string, own Own) []bool {
	out := make([]bool, len(s.Features))
	for _, r := range s.Rules {
		if r.canFire(subject, kind, own) {
			for _, i := range r.Reads {
				out[i] = true
			}
		}
	}
	return out
}

// ForeignReads returns, per feature, whether a rule may read it for a
// party that is not the bank's own customer (a rule that does not require
// its subject to be own): the others need not be kept for such accounts.
func (s *Set) ForeignReads() []bool {
	out := make([]bool, len(s.Features))
	for _, r := range s.Rules {
		if r.OwnSubject() {
			continue
		}
		for _, i := range r.Reads {
			out[i] = true
		}
	}
	return out
}

// OwnSubject reports whether the rule is about the bank's customers: it
// cannot fire unless its subject is one.
func (r *Rule) OwnSubject() bool {
	return r.Subject == "to" && r.Own.To || r.Subject == "from" && r.Own.From
}

func (r *Rule) canFire(subject, kind string, own Own) bool {
	return r.Subject == subject && (r.Kinds == nil || r.Kinds[kind]) && r.Own.Allows(own.To, own.From)
}
