package rules

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var starterDirs = []string{filepath.Join("..", "configs", "rules"), filepath.Join("..", "configs", "typologies")}

func TestLoadStarter(t *testing.T) {
	s, err := Load(starterDirs...)
	if err != nil {
		t.Fatalf("the starter rule set does not load:\n%v", err)
	}
	if len(s.Rules) < 14 || len(s.Typologies) < 8 || len(s.Features) < 20 {
		t.Errorf("starter set has %d rules, %d typologies, %d features; want at least 14, 8, 20", len(s.Rules), len(s.Typologies), len(s.Features))
	}
	if len(s.Files) < 4 {
		t.Errorf("files %v", s.Files)
	}
	typ := map[string]*Typology{}
	for _, ty := range s.Typologies {
		typ[ty.ID] = ty
		if ty.Threshold < 1 || len(ty.Rules) == 0 || ty.Description == "" || len(ty.Sources) == 0 {
			t.Errorf("typology %s is incomplete: %+v", ty.ID, ty)
		}
	}
	// The ids of spec/typologies.md that the starter set promises.
	for _, id := range []string{"structuring", "funnel_account", "rapid_movement", "fan_in", "fan_out", "money_mule", "virtual_asset_cashout"} {
		if typ[id] == nil {
			t.Errorf("typology %s is missing", id)
		}
	}
	for i, r := range s.Rules {
		if r.Index != i || r.When == nil || r.Reason == nil || r.Line == 0 || r.File == "" {
			t.Errorf("rule %s not fully compiled: %+v", r.ID, r)
		}
		// Each rule's description names where its threshold comes from.
		if !strings.Contains(r.Description, "Source") && !strings.Contains(r.Description, "CFR") {
			t.Errorf("rule %s: description does not name its source", r.ID)
		}
	}
	for i, f := range s.Features {
		if f.Index != i {
			t.Errorf("feature %s index %d at %d", f.Name, f.Index, i)
		}
	}
	if s.Params["ca_cash_threshold"] != 10000 || s.Params["us_cash_threshold_usd"] != 10000 {
		t.Errorf("params %v", s.Params)
	}
	if !strings.HasPrefix(s.Hash, "sha256:") || len(s.Hash) != len("sha256:")+64 {
		t.Errorf("hash %q", s.Hash)
	}
}

// readBase returns the files of testdata/base, a small valid set.
func readBase(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	names, _ := filepath.Glob(filepath.Join("testdata", "base", "*.yaml"))
	if len(names) == 0 {
		t.Fatal("testdata/base is empty")
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(n)] = b
	}
	return files
}

func TestLoadBase(t *testing.T) {
	s, err := Parse(readBase(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 3 || len(s.Typologies) != 3 || len(s.Features) != 2 || len(s.Lists) != 1 {
		t.Errorf("base set: %d rules, %d typologies, %d features, %d lists", len(s.Rules), len(s.Typologies), len(s.Features), len(s.Lists))
	}
	if r := s.Rules[0]; r.File != "rules.yaml" || r.Line != 2 || r.Subject != "to" || r.Shadow {
		t.Errorf("rule big-cash: file %s line %d subject %s shadow %v", r.File, r.Line, r.Subject, r.Shadow)
	}
	if !s.Rules[2].Shadow {
		t.Error("rule tuning should be shadow")
	}
}

// TestLoadErrors breaks the base set with one extra file and checks that the
// error names the file, the line and the field to fix.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		file  string // content of extra.yaml (or a replacement of a base file, by name:)
		line  int
		where string
		field string
		msg   string // substring
	}{
		{"typo in a feature name", `
rules:
  - id: typo
    description: d
    score: 10
    when: cash_in_24h_smu > 1
    reason: x
`, 3, "rule typo", "when", "unknown name cash_in_24h_smu"},
		{"typo in an env field", `
rules:
  - id: typo
    description: d
    score: 10
    when: to.acount == "x"
    reason: x
`, 3, "rule typo", "when", "has no field acount"},
		{"typo in a values expression", `
rules:
  - id: typo
    description: d
    score: 10
    when: "true"
    values: {a: amout}
    reason: "{{.a}}"
`, 3, "rule typo", "values.a", "unknown name amout"},
		{"when is not boolean", `
rules:
  - id: notbool
    description: d
    score: 10
    when: amount + 1
    reason: x
`, 3, "rule notbool", "when", "bool"},
		{"feature where typo", `
features:
  - {name: f3, op: count, window: 24h, where: 'knd == "wire"'}
`, 3, "feature f3", "where", "unknown name knd"},
		{"feature used in a feature", `
features:
  - {name: f3, op: count, window: 24h, where: 'cash_in_24h_count > 1'}
`, 3, "feature f3", "where", "unknown name cash_in_24h_count"},
		{"bad YAML", "rules:\n  - id: x\n   description: d\n", -1, "", "", "did not find expected"},
		{"tab indentation", "rules:\n\t- id: x\n", -1, "", "", "cannot start any token"},
		{"duplicate rule id", `
rules:
  - id: big-cash
    description: d
    score: 10
    when: "true"
    reason: x
`, 3, "rule big-cash", "id", "declared again (first at rules.yaml:2)"},
		{"unknown rule in a typology", `
typologies:
  - id: other
    description: d
    threshold: 10
    rules:
      - {rule: big-cahs, weight: 1}
`, 3, "typology other", "rules", `rule "big-cahs" is not defined`},
		{"duplicate typology", `
typologies:
  - id: cash
    description: d
    threshold: 10
    rules: [{rule: big-cash, weight: 1}]
`, 3, "typology cash", "id", "declared again"},
		{"weight out of range", `
typologies:
  - id: other
    description: d
    threshold: 10
    rules: [{rule: big-cash, weight: 0}]
`, 3, "typology other", "rules", "weight 0"},
		{"threshold out of range", `
typologies:
  - id: other
    description: d
    threshold: 0
    rules: [{rule: big-cash, weight: 1}]
`, 3, "typology other", "threshold", "between 1 and 100"},
		{"bad window", `
features:
  - {name: f3, op: count, window: 24x}
`, 3, "", "", `"24x" is not a duration`},
		{"window too short", `
features:
  - {name: f3, op: count, window: 10s}
`, 3, "feature f3", "window", "between 1m and 400d"},
		{"window too long", `
features:
  - {name: f3, op: count, window: 500d}
`, 3, "feature f3", "window", "between 1m and 400d"},
		{"local calendar not whole days", `
features:
  - {name: f3, op: count, window: 36h, calendar: local}
`, 3, "feature f3", "window", "whole days"},
		{"bad op", `
features:
  - {name: f3, op: avg, window: 24h}
`, 3, "feature f3", "op", `"avg"`},
		{"distinct without of", `
features:
  - {name: f3, op: distinct, window: 24h}
`, 3, "feature f3", "of", "needs `of`"},
		{"feature named like a built-in", `
features:
  - {name: amount, op: count, window: 24h}
`, 3, "feature amount", "name", "built-in"},
		{"duplicate feature", `
features:
  - {name: cash_in_24h_sum, op: count, window: 24h}
`, 3, "feature cash_in_24h_sum", "name", "declared again"},
		{"duplicate param", "params:\n  cash_threshold: 5\n", 0, "params", "cash_threshold", "declared again"},
		{"missing reason", `
rules:
  - id: noreason
    description: d
    score: 10
    when: "true"
`, 3, "rule noreason", "reason", "is required"},
		{"missing description", `
rules:
  - id: nodesc
    score: 10
    when: "true"
    reason: x
`, 3, "rule nodesc", "description", "say what"},
		{"missing when", `
rules:
  - id: nowhen
    description: d
    score: 10
    reason: x
`, 3, "rule nowhen", "when", "is required"},
		{"reason references an unknown value", `
rules:
  - id: badreason
    description: d
    score: 10
    when: "true"
    values: {sum_24h: cash_in_24h_sum}
    reason: "total {{money .sum24h}}"
`, 3, "rule badreason", "reason", `no entry for key "sum24h"`},
		{"reason is not a template", `
rules:
  - id: badreason
    description: d
    score: 10
    when: "true"
    reason: "total {{money .x"
`, 3, "rule badreason", "reason", "unclosed action"},
		{"reason calls an unknown function", `
rules:
  - id: badreason
    description: d
    score: 10
    when: "true"
    reason: "{{dollars .amount}}"
`, 3, "rule badreason", "reason", `"dollars" not defined`},
		{"unknown YAML key in a rule", `
rules:
  - id: typo
    description: d
    score: 10
    whne: "true"
    reason: x
`, 6, "", "", "field whne not found"},
		{"unknown top-level key", "rule:\n  - id: x\n", 1, "", "", "field rule not found"},
		{"unknown memo_has list", `
rules:
  - id: nolist
    description: d
    score: 10
    when: memo_has(memo, "drug_slagn")
    reason: x
`, 3, "rule nolist", "when", `list "drug_slagn" is not declared (lists: drug_slang)`},
		{"bad score", `
rules:
  - id: noscore
    description: d
    when: "true"
    reason: x
`, 3, "rule noscore", "score", "between 1 and 100"},
		{"bad mode", `
rules:
  - id: badmode
    description: d
    score: 10
    mode: silent
    when: "true"
    reason: x
`, 3, "rule badmode", "mode", `"silent"`},
		{"bad subject", `
rules:
  - id: badsubject
    description: d
    score: 10
    subject: both
    when: "true"
    reason: x
`, 3, "rule badsubject", "subject", `"both"`},
		{"bad rule id", `
rules:
  - id: Big Cash
    description: d
    score: 10
    when: "true"
    reason: x
`, 3, "rule Big Cash", "id", "lower-case id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := readBase(t)
			files["zz_extra.yaml"] = []byte(c.file)
			s, err := Parse(files)
			if err == nil {
				t.Fatalf("loaded: %d rules", len(s.Rules))
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			e := es[0]
			if e.File != "zz_extra.yaml" {
				t.Errorf("file %q, want zz_extra.yaml: %v", e.File, err)
			}
			if c.line >= 0 && e.Line != c.line {
				t.Errorf("line %d, want %d: %v", e.Line, c.line, err)
			}
			if c.line < 0 && e.Line <= 0 {
				t.Errorf("no line: %v", err)
			}
			if e.Where != c.where || e.Field != c.field {
				t.Errorf("where %q field %q, want %q %q: %v", e.Where, e.Field, c.where, c.field, err)
			}
			if !strings.Contains(e.Msg, c.msg) {
				t.Errorf("message %q does not contain %q", e.Msg, c.msg)
			}
			// The error text a person reads starts with file:line.
			prefix := "zz_extra.yaml:"
			if e.Line == 0 {
				prefix = "zz_extra.yaml: "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error text %q does not start with %q", err.Error(), prefix)
			}
		})
	}
}

// All problems of a set are reported at once, not just the first.
func TestLoadErrorsAll(t *testing.T) {
	files := readBase(t)
	files["extra.yaml"] = []byte(`
rules:
  - id: one
    description: d
    score: 10
    when: amout > 1
    reason: x
  - id: two
    description: d
    score: 10
    when: kind == 1 ||
    reason: x
`)
	_, err := Parse(files)
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Line != 3 || es[1].Line != 8 {
		t.Fatalf("want two errors at lines 3 and 8, got %v", err)
	}
}

func TestLoadPaths(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no rule files") {
		t.Errorf("empty directory: %v", err)
	}
	// A single file may be named, and a directory is read recursively.
	dir := t.TempDir()
	for name, b := range readBase(t) {
		sub := filepath.Join(dir, "sub")
		if name == "typologies.yaml" {
			sub = dir
		}
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a rule file"), 0o644)
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 3 || len(s.Rules) != 3 {
		t.Errorf("files %v", s.Files)
	}
}

func TestHashStable(t *testing.T) {
	a, err := Load(starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		t.Errorf("same files, two hashes: %s %s", a.Hash, b.Hash)
	}
	base := readBase(t)
	h1 := mustParse(t, base).Hash
	if h2 := mustParse(t, base).Hash; h1 != h2 {
		t.Errorf("Parse is not deterministic: %s %s", h1, h2)
	}
	changed := readBase(t)
	changed["rules.yaml"] = []byte(strings.Replace(string(changed["rules.yaml"]), "score: 40", "score: 41", 1))
	if h := mustParse(t, changed).Hash; h == h1 {
		t.Error("a changed threshold kept the hash")
	}
	comment := readBase(t)
	comment["rules.yaml"] = append(comment["rules.yaml"], "# a comment\n"...)
	if h := mustParse(t, comment).Hash; h == h1 {
		t.Error("the hash covers the files' bytes; a comment changes it")
	}
	more := readBase(t)
	more["zz.yaml"] = []byte("params: {other: 1}\n")
	if h := mustParse(t, more).Hash; h == h1 {
		t.Error("an added file kept the hash")
	}
}

func mustParse(t *testing.T, files map[string][]byte) *Set {
	t.Helper()
	s, err := Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadWithOverrides(t *testing.T) {
	base, err := Load(starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadWith(Options{Params: map[string]float64{"fan_in_min_senders": 7}}, starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	if s.Params["fan_in_min_senders"] != 7 || base.Params["fan_in_min_senders"] == 7 {
		t.Errorf("override not applied: %v vs %v", s.Params["fan_in_min_senders"], base.Params["fan_in_min_senders"])
	}
	if s.Hash == base.Hash {
		t.Error("an override must change the rule-set hash: alerts name the exact set that raised them")
	}
	if _, err := LoadWith(Options{Params: map[string]float64{"fan_in_min_sendrs": 7}}, starterDirs...); err == nil || !strings.Contains(err.Error(), "fan_in_min_sendrs: is not a declared parameter") {
		t.Errorf("a misspelt override must be refused, got %v", err)
	}
}

func TestLoadOnlyTypologies(t *testing.T) {
	all, err := Load(starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadWith(Options{Typologies: []string{"starter"}}, starterDirs...)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ty := range s.Typologies {
		ids = append(ids, ty.ID)
	}
	slices.Sort(ids)
	want := slices.Clone(StarterTypologies)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("starter typologies = %v, want %v", ids, want)
	}
	if len(s.Rules) == 0 || len(s.Rules) >= len(all.Rules) {
		t.Errorf("starter keeps %d of %d rules; want some, not all", len(s.Rules), len(all.Rules))
	}
	used := map[*Rule]bool{}
	for _, ty := range s.Typologies {
		for _, wr := range ty.Rules {
			used[wr.Rule] = true
		}
	}
	for i, r := range s.Rules {
		if !used[r] {
			t.Errorf("rule %s is kept but no kept typology weighs it", r.ID)
		}
		if r.Index != i {
			t.Errorf("rule %s has index %d at position %d", r.ID, r.Index, i)
		}
	}
	if s.Hash == all.Hash {
		t.Error("a typology selection must change the rule-set hash")
	}
	if _, err := LoadWith(Options{Typologies: []string{"fan_inn"}}, starterDirs...); err == nil || !strings.Contains(err.Error(), "fan_inn: is not a declared typology") {
		t.Errorf("an unknown typology must be refused, got %v", err)
	}
}
