package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// Set is a compiled rule set. It is immutable and safe for concurrent use.
type Set struct {
	Hash       string // "sha256:..." of the files' contents
	Features   []*Feature
	Rules      []*Rule
	Typologies []*Typology
	Params     map[string]float64
	Lists      map[string]*TextList
	Files      []string
	// Filters are the distinct feature conditions, each evaluated once per event.
	Filters []*vm.Program
	// FilterKinds are, per filter, the event kinds it can pass (nil: any), so
	// a card payment skips the cash and wire conditions without running them.
	FilterKinds []map[string]bool
	fastFilters []func(*Env) bool // per filter, its Go closure or nil (fast.go)
}

// Feature is a compiled window feature.
type Feature struct {
	Name    string
	Key     string // account or customer
	Side    string // in, out or any
	Op      string
	Window  time.Duration
	Bucket  time.Duration
	Cap     int
	Local   bool        // buckets are calendar days in the event's own UTC offset
	Index   int         // position in Env.F
	Money   bool        // sum or max of money: stored in minor units, shown in major units
	Screen  bool        // where, value or of may read a party's screening result
	Profile bool        // where, value or of may read a party's declared profile
	Scaled  bool        // sum or max: stored in hundredths (minor units for money), read back divided by 100
	Where   *vm.Program // nil: every event
	Filter  int         // index in Set.Filters of Where, -1 when nil: features that share a condition share its evaluation
	Value   *vm.Program // nil: the base-currency amount
	Of      *vm.Program // distinct: the member

	fastValue func(*Env) float64 // Value, Of as Go closures, when they compile (fast.go)
	fastOf    func(*Env) string
}

// Rule is a compiled rule.
type Rule struct {
	ID          string
	Description string
	Subject     string // to or from
	Severity    string
	Score       int
	Shadow      bool
	Sources     []string
	When        *vm.Program
	// Kinds are the event kinds the rule can fire on; nil means any.
	Kinds map[string]bool
	// Own are the parties that must be the bank's own customers for the
	// rule to fire (a `to.own` or `from.own` its condition cannot do
	// without).
	Own Own
	// Reads are the indexes of the features the condition and values read.
	Reads []int
	// Graph is set when the condition reads graph signals: the transfer's
	// graph transactions are then evidence.
	Graph bool
	// Screen is set when the condition or a value may read a party's
	// screening result; the scorer screens only for rule sets that do
	// (and for the events that raise a finding, whose alert lists it).
	Screen bool
	// Profile is Screen for the parties' declared profiles.
	Profile bool
	fast    func(*Env) bool // When as a Go closure, when it compiles (fast.go)
	Values  []NamedValue
	Reason  *template.Template
	Index   int
	File    string
	Line    int
}

// NamedValue is one value a rule shows in its alert.
type NamedValue struct {
	Name    string
	Program *vm.Program
	Money   bool // a money feature: rendered with two decimals
}

// Typology is a compiled typology.
type Typology struct {
	ID          string
	Name        string
	Description string
	Sources     []string
	Threshold   int
	Rules       []WeightedRule
}

// WeightedRule is a rule's weight in a typology.
type WeightedRule struct {
	Rule   *Rule
	Weight float64
}

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,79}$`)
	identPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// reserved are the Env names features and parameters may not shadow.
var reserved = map[string]bool{"id": true, "kind": true, "amount": true, "currency": true, "amount_base": true,
	"channel": true, "base_currency": true, "fx": true, "purpose": true, "memo": true, "hour": true, "weekday": true, "location": true,
	"from": true, "to": true, "attrs": true, "subject": true, "F": true, "memo_has": true, "code_in": true, "graph": true}

// Load reads and compiles every YAML file under paths (directories or files).
func Load(paths ...string) (*Set, error) { return LoadWith(Options{}, paths...) }

// Options change the rule set the files give, without editing them.
type Options struct {
	// Params override parameters (sluice replay --param), so an analyst can
	// see what a threshold change does before it goes live. Each must name a
	// declared parameter.
	Params map[string]float64
	// Typologies, when not empty, keeps only these typologies and the rules
	// they weigh (the features no kept rule reads are then not computed);
	// "starter" stands for the starter set's seven. Each must be declared.
	Typologies []string
}

// StarterTypologies are the typologies of the starter rule set.
var StarterTypologies = []string{"structuring", "funnel_account", "rapid_movement", "fan_in", "fan_out", "money_mule", "virtual_asset_cashout"}

// LoadWith is Load with options. Options are part of the hash.
func LoadWith(o Options, paths ...string) (*Set, error) {
	srcs, err := readDirs(paths)
	if err != nil {
		return nil, err
	}
	return compile(srcs, o)
}

// Parse compiles a rule set from in-memory files (name → YAML), in name order.
func Parse(files map[string][]byte) (*Set, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	srcs := make([]source, len(names))
	for i, n := range names {
		srcs[i] = source{n, files[n]}
	}
	return compile(srcs, Options{})
}

func compile(srcs []source, o Options) (*Set, error) {
	overrides := o.Params
	var errs Errors
	set := &Set{Params: map[string]float64{}, Lists: map[string]*TextList{}}
	var feats []FeatureDef
	var ruleDefs []RuleDef
	var typDefs []TypologyDef
	h := sha256.New()
	paramFile := map[string]string{}
	for _, src := range srcs {
		sum := sha256.Sum256(src.data)
		h.Write(sum[:])
		set.Files = append(set.Files, src.name)
		f, ferrs := parseFile(src)
		if ferrs != nil {
			errs = append(errs, ferrs...)
			continue
		}
		for _, k := range sortedKeys(f.Params) {
			if prev, dup := paramFile[k]; dup {
				errs = append(errs, &LoadError{File: src.name, Where: "params", Field: k, Msg: "declared again (first in " + prev + ")"})
				continue
			}
			if !identPattern.MatchString(k) || reserved[k] {
				errs = append(errs, &LoadError{File: src.name, Where: "params", Field: k, Msg: "must be a lower-case identifier that is not a built-in name"})
				continue
			}
			paramFile[k] = src.name
			set.Params[k] = f.Params[k]
		}
		for _, k := range sortedKeys(f.Lists) {
			if _, dup := set.Lists[k]; dup {
				errs = append(errs, &LoadError{File: src.name, Where: "lists", Field: k, Msg: "declared again"})
				continue
			}
			set.Lists[k] = NewTextList(k, f.Lists[k])
		}
		feats = append(feats, f.Features...)
		ruleDefs = append(ruleDefs, f.Rules...)
		typDefs = append(typDefs, f.Typologies...)
	}
	for _, k := range sortedKeys(overrides) {
		if _, ok := set.Params[k]; !ok {
			errs = append(errs, &LoadError{File: "--param", Where: "params", Field: k, Msg: "is not a declared parameter"})
			continue
		}
		set.Params[k] = overrides[k]
		fmt.Fprintf(h, "override %s=%g\n", k, overrides[k])
	}
	set.Hash = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if len(errs) > 0 {
		return nil, errs
	}
	c := &compiler{set: set, featIdx: map[string]int{}, filterIdx: map[string]int{}}
	for i := range feats {
		c.feature(&feats[i], &errs)
	}
	ruleIdx := map[string]*Rule{}
	for i := range ruleDefs {
		if r := c.rule(&ruleDefs[i], &errs); r != nil {
			if prev, dup := ruleIdx[r.ID]; dup {
				errs = append(errs, &LoadError{File: r.File, Line: r.Line, Where: "rule " + r.ID, Field: "id", Msg: fmt.Sprintf("declared again (first at %s:%d)", prev.File, prev.Line)})
				continue
			}
			r.Index = len(set.Rules)
			ruleIdx[r.ID] = r
			set.Rules = append(set.Rules, r)
		}
	}
	typIdx := map[string]bool{}
	for i := range typDefs {
		td := &typDefs[i]
		le := func(field, format string, args ...any) {
			errs = append(errs, &LoadError{File: td.file, Line: td.line, Where: "typology " + td.ID, Field: field, Msg: fmt.Sprintf(format, args...)})
		}
		if !idPattern.MatchString(td.ID) {
			le("id", "%q must be a lower-case id", td.ID)
			continue
		}
		if typIdx[td.ID] {
			le("id", "declared again")
			continue
		}
		typIdx[td.ID] = true
		if td.Threshold < 1 || td.Threshold > 100 {
			le("threshold", "%d must be between 1 and 100", td.Threshold)
		}
		if len(td.Rules) == 0 {
			le("rules", "a typology needs at least one rule")
		}
		if strings.TrimSpace(td.Description) == "" {
			le("description", "say what the typology is, for the analyst")
		}
		t := &Typology{ID: td.ID, Name: td.Name, Description: strings.TrimSpace(td.Description), Sources: td.Sources, Threshold: td.Threshold}
		for _, ref := range td.Rules {
			r, ok := ruleIdx[ref.Rule]
			if !ok {
				le("rules", "rule %q is not defined", ref.Rule)
				continue
			}
			if ref.Weight <= 0 || ref.Weight > 10 {
				le("rules", "rule %s: weight %g must be in (0, 10]", ref.Rule, ref.Weight)
			}
			t.Rules = append(t.Rules, WeightedRule{Rule: r, Weight: ref.Weight})
		}
		set.Typologies = append(set.Typologies, t)
	}
	if len(errs) == 0 && len(o.Typologies) > 0 {
		errs = set.keepOnly(o.Typologies)
		fmt.Fprintf(h, "typologies %s\n", strings.Join(o.Typologies, ","))
		set.Hash = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set, nil
}

// keepOnly drops the typologies not in ids and the rules no kept typology
// weighs. Features stay (their indexes are Env.F's), unread.
func (set *Set) keepOnly(ids []string) Errors {
	want := map[string]bool{}
	for _, id := range ids {
		if id == "starter" {
			for _, s := range StarterTypologies {
				want[s] = true
			}
			continue
		}
		want[id] = true
	}
	var errs Errors
	for id := range want {
		if !slices.ContainsFunc(set.Typologies, func(t *Typology) bool { return t.ID == id }) {
			errs = append(errs, &LoadError{File: "--typologies", Where: "typologies", Field: id, Msg: "is not a declared typology"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	kept := map[*Rule]bool{}
	set.Typologies = slices.DeleteFunc(set.Typologies, func(t *Typology) bool { return !want[t.ID] })
	for _, t := range set.Typologies {
		for _, wr := range t.Rules {
			kept[wr.Rule] = true
		}
	}
	set.Rules = slices.DeleteFunc(set.Rules, func(r *Rule) bool { return !kept[r] })
	for i, r := range set.Rules {
		r.Index = i
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

type compiler struct {
	set       *Set
	featIdx   map[string]int
	filterIdx map[string]int
}

func (c *compiler) feature(d *FeatureDef, errs *Errors) {
	le := func(field, format string, args ...any) {
		*errs = append(*errs, &LoadError{File: d.file, Line: d.line, Where: "feature " + d.Name, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !identPattern.MatchString(d.Name) || reserved[d.Name] {
		le("name", "%q must be a lower-case identifier that is not a built-in name", d.Name)
		return
	}
	if _, dup := c.featIdx[d.Name]; dup {
		le("name", "declared again")
		return
	}
	if _, dup := c.set.Params[d.Name]; dup {
		le("name", "is also a parameter")
		return
	}
	f := &Feature{Name: d.Name, Key: d.Key, Side: d.Side, Op: d.Op, Window: time.Duration(d.Window), Bucket: time.Duration(d.Bucket), Cap: d.Cap}
	switch d.Calendar {
	case "":
	case "local":
		// A calendar-day window (the US "business day" rule): buckets are whole
		// days of the event's local time, and the window is a number of them.
		f.Local = true
		if f.Window%(24*time.Hour) != 0 {
			le("window", "%s must be whole days with calendar: local", f.Window)
		}
		f.Bucket = 24 * time.Hour
	default:
		le("calendar", "%q must be local or empty", d.Calendar)
	}
	if f.Key == "" {
		f.Key = "account"
	}
	if f.Key != "account" && f.Key != "customer" {
		le("key", "%q must be account or customer", d.Key)
	}
	if f.Side == "" {
		f.Side = "any"
	}
	if f.Side != "in" && f.Side != "out" && f.Side != "any" {
		le("side", "%q must be in, out or any", d.Side)
	}
	switch f.Op {
	case "count":
	case "sum", "max":
		f.Money = d.Value == ""
		f.Scaled = true
	case "distinct":
		if d.Of == "" {
			le("of", "a distinct feature needs `of`, the value to count (e.g. from.account)")
		}
	default:
		le("op", "%q must be count, sum, max or distinct", d.Op)
	}
	if f.Window < time.Minute || f.Window > 400*24*time.Hour {
		le("window", "%s must be between 1m and 400d", f.Window)
	}
	var err error
	f.Filter = -1
	if d.Where != "" {
		if f.Where, err = c.expr(d.Where, expr.AsBool()); err != nil {
			le("where", "%v", err)
		} else {
			key := strings.Join(strings.Fields(d.Where), " ")
			i, ok := c.filterIdx[key]
			if !ok {
				i = len(c.set.Filters)
				c.filterIdx[key] = i
				c.set.Filters = append(c.set.Filters, f.Where)
				c.set.fastFilters = append(c.set.fastFilters, fastBool(f.Where))
				kinds, ok := kindsOf(d.Where)
				if !ok {
					kinds = nil
				}
				c.set.FilterKinds = append(c.set.FilterKinds, kinds)
			}
			f.Filter = i
			f.Screen, f.Profile = readsScreen(f.Where), readsProfile(f.Where)
		}
	}
	if d.Value != "" {
		if f.Value, err = c.expr(d.Value, expr.AsFloat64()); err != nil {
			le("value", "%v", err)
		} else {
			f.fastValue = fastFloat(f.Value)
			f.Screen = f.Screen || readsScreen(f.Value)
			f.Profile = f.Profile || readsProfile(f.Value)
		}
	}
	if d.Of != "" {
		if f.Of, err = c.expr(d.Of, expr.AsKind(reflectString)); err != nil {
			le("of", "%v", err)
		} else {
			f.fastOf = fastString(f.Of)
			f.Screen = f.Screen || readsScreen(f.Of)
			f.Profile = f.Profile || readsProfile(f.Of)
		}
	}
	f.Index = len(c.set.Features)
	c.featIdx[f.Name] = f.Index
	c.set.Features = append(c.set.Features, f)
}

func (c *compiler) rule(d *RuleDef, errs *Errors) *Rule {
	where := "rule " + d.ID
	le := func(field, format string, args ...any) {
		*errs = append(*errs, &LoadError{File: d.file, Line: d.line, Where: where, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	n := len(*errs)
	if !idPattern.MatchString(d.ID) {
		le("id", "%q must be a lower-case id (letters, digits, - _ .)", d.ID)
		return nil
	}
	r := &Rule{ID: d.ID, Description: strings.TrimSpace(d.Description), Subject: d.Subject, Severity: d.Severity, Score: d.Score, Sources: d.Sources, File: d.file, Line: d.line}
	if r.Subject == "" {
		r.Subject = "to"
	}
	if r.Subject != "to" && r.Subject != "from" {
		le("subject", "%q must be to or from", d.Subject)
	}
	switch d.Mode {
	case "", "active":
	case "shadow":
		r.Shadow = true
	default:
		le("mode", "%q must be active or shadow", d.Mode)
	}
	switch d.Severity {
	case "", "low", "medium", "high", "critical":
	default:
		le("severity", "%q must be low, medium, high or critical", d.Severity)
	}
	if d.Score < 1 || d.Score > 100 {
		le("score", "%d must be between 1 and 100", d.Score)
	}
	if r.Description == "" {
		le("description", "say what the rule looks for and where its threshold comes from")
	}
	if strings.TrimSpace(d.When) == "" {
		le("when", "is required")
	} else {
		var err error
		if r.When, err = c.expr(d.When, expr.AsBool(), c.features(&r.Reads)); err != nil {
			le("when", "%v", err)
		} else {
			r.fast = fastBool(r.When)
		}
		if kinds, ok := kindsOf(d.When); ok {
			r.Kinds = kinds
		}
		r.Own = ownOf(d.When)
		r.Graph = strings.Contains(d.When, "graph.")
		r.Screen, r.Profile = readsScreen(r.When), readsProfile(r.When)
	}
	data := map[string]any{"currency": "", "base": "", "amount": 0.0, "kind": ""}
	if d.Values.Kind != 0 {
		if d.Values.Kind != yamlMapping {
			le("values", "must be a mapping of name: expression")
		}
		for i := 0; i+1 < len(d.Values.Content); i += 2 {
			name, src := d.Values.Content[i].Value, d.Values.Content[i+1].Value
			p, err := c.expr(src, c.features(&r.Reads))
			if err != nil {
				le("values."+name, "%v", err)
				continue
			}
			money := false
			if fi, ok := c.featIdx[strings.TrimSpace(src)]; ok {
				money = c.set.Features[fi].Money
			}
			r.Screen = r.Screen || readsScreen(p)
			r.Profile = r.Profile || readsProfile(p)
			r.Values = append(r.Values, NamedValue{Name: name, Program: p, Money: money})
			data[name] = 0.0
		}
	}
	if strings.TrimSpace(d.Reason) == "" {
		le("reason", "is required: a sentence an analyst can read, with the values seen")
	} else {
		t, err := template.New(d.ID).Funcs(templateFuncs).Option("missingkey=error").Parse(d.Reason)
		if err == nil {
			err = t.Execute(discard{}, data)
		}
		if err != nil {
			le("reason", "%v", strings.TrimPrefix(err.Error(), "template: "))
		}
		r.Reason = t
	}
	if len(*errs) > n {
		return nil
	}
	return r
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// features rewrites feature names to F[i] and parameter names to constants,
// recording in reads which features the expression uses.
func (c *compiler) features(reads *[]int) expr.Option {
	return expr.Patch(&namePatcher{c: c, features: true, reads: reads})
}

// expr compiles one expression against Env. Parameters and text lists are
// always known; features only where the extra option enables them.
func (c *compiler) expr(src string, opts ...expr.Option) (*vm.Program, error) {
	names := &namePatcher{c: c}
	base := []expr.Option{expr.Env(Env{}), expr.Optimize(true), expr.Patch(names),
		expr.Function("memo_has", func(params ...any) (any, error) {
			return params[1].(*TextList).Match(params[0].(string)), nil
		}, new(func(string, *TextList) bool)),
		expr.Function("code_in", func(params ...any) (any, error) {
			return params[1].(*TextList).HasPrefix(params[0].(string)), nil
		}, new(func(string, *TextList) bool))}
	p, err := expr.Compile(src, append(base, opts...)...)
	if names.unknownList != "" {
		// Otherwise expr reports a type mismatch that does not name the list.
		return nil, fmt.Errorf("%s: list %q is not declared (lists: %s)", names.listFunc, names.unknownList, strings.Join(sortedKeys(c.set.Lists), ", "))
	}
	if err != nil {
		return nil, cleanExprError(err)
	}
	return p, nil
}

func cleanExprError(err error) error {
	if fe, ok := err.(*file.Error); ok {
		return fmt.Errorf("%s (column %d)", fe.Message, fe.Column+1)
	}
	return err
}

// readsScreen reports whether a compiled expression may read a party's
// screening result: it names .screen, or uses a party (from, to) whole.
func readsScreen(p *vm.Program) bool { return readsParty(p, "screen") }

// readsProfile is readsScreen for the customer's declared profile.
func readsProfile(p *vm.Program) bool { return readsParty(p, "profile") }

func readsParty(p *vm.Program, field string) bool {
	if p == nil {
		return false // did not compile: the set is refused anyway
	}
	v := &partyVisitor{field: field}
	node := p.Node()
	ast.Walk(&node, v)
	return v.found || v.parties > v.members
}

type partyVisitor struct {
	field            string
	found            bool
	parties, members int // from/to identifiers, and those a member is read of
}

func (v *partyVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "from" || n.Value == "to" {
			v.parties++
		}
	case *ast.MemberNode:
		if s, ok := n.Property.(*ast.StringNode); ok && s.Value == v.field {
			v.found = true
		}
		if id, ok := n.Node.(*ast.IdentifierNode); ok && (id.Value == "from" || id.Value == "to") {
			v.members++
		}
	}
}

// namePatcher resolves identifiers that are not Env fields: parameters become
// constants, features become F[i], and the list name given to memo_has or
// code_in becomes the list.
type namePatcher struct {
	c           *compiler
	features    bool
	unknownList string // a list name that is not declared
	listFunc    string // the function it was given to
	reads       *[]int // features used, when not nil
}

func (p *namePatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if v, ok := p.c.set.Params[n.Value]; ok {
			ast.Patch(node, &ast.FloatNode{Value: v})
			return
		}
		if i, ok := p.c.featIdx[n.Value]; ok && p.features {
			if p.reads != nil && !slices.Contains(*p.reads, i) {
				*p.reads = append(*p.reads, i)
			}
			ast.Patch(node, &ast.MemberNode{Node: &ast.IdentifierNode{Value: "F"}, Property: &ast.IntegerNode{Value: i}})
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && (id.Value == "memo_has" || id.Value == "code_in") && len(n.Arguments) == 2 {
			if s, ok := n.Arguments[1].(*ast.StringNode); ok {
				if l, ok := p.c.set.Lists[s.Value]; ok {
					ast.Patch(&n.Arguments[1], &ast.ConstantNode{Value: l})
				} else {
					p.unknownList, p.listFunc = s.Value, id.Value
				}
			}
		}
	}
}

var templateFuncs = template.FuncMap{
	"money": Money,
	"int":   func(v any) string { return strconv.FormatInt(int64(math.Round(toFloat(v))), 10) },
	"pct":   func(v any) string { return strconv.FormatFloat(toFloat(v)*100, 'f', 0, 64) + "%" },
	"join":  join,
	"dec":   func(v any, places int) string { return strconv.FormatFloat(toFloat(v), 'f', places, 64) },
}

// Money formats an amount with thousands separators and two decimals.
func Money(v any) string {
	f := toFloat(v)
	neg := f < 0
	if neg {
		f = -f
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

var reflectString = reflect.String

const yamlMapping = yaml.MappingNode

// join joins a list value; values seen at load time are placeholders, so it
// accepts anything.
func join(v any, sep string) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, sep)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, sep)
	}
	return ""
}
