package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// File is one YAML file of a rule set. Any file may declare any section.
type File struct {
	Params     map[string]float64  `yaml:"params"`
	Lists      map[string][]string `yaml:"lists"` // word lists for memo_has()
	Features   []FeatureDef        `yaml:"features"`
	Rules      []RuleDef           `yaml:"rules"`
	Typologies []TypologyDef       `yaml:"typologies"`
}

// FeatureDef declares a window feature.
type FeatureDef struct {
	Name     string   `yaml:"name"`
	Key      string   `yaml:"key"`      // account or customer
	Side     string   `yaml:"side"`     // in (party receives), out (party sends) or any
	Op       string   `yaml:"op"`       // count, sum, max, distinct
	Window   Duration `yaml:"window"`   // e.g. 30m, 24h, 7d, 90d
	Bucket   Duration `yaml:"bucket"`   // optional granularity
	Where    string   `yaml:"where"`    // expr condition; empty = every event
	Value    string   `yaml:"value"`    // sum/max: expr number, default amount_base
	Of       string   `yaml:"of"`       // distinct: expr string (counterparty, city...)
	Cap      int      `yaml:"cap"`      // distinct: members kept
	Calendar string   `yaml:"calendar"` // "local": whole calendar days in the event's offset
	line     int
	file     string
}

// RuleDef declares a rule.
type RuleDef struct {
	ID          string            `yaml:"id"`
	Description string            `yaml:"description"`
	Subject     string            `yaml:"subject"`  // to (default) or from: whose account the alert is about
	Severity    string            `yaml:"severity"` // low, medium, high, critical
	Score       int               `yaml:"score"`    // 0-100
	Mode        string            `yaml:"mode"`     // active (default) or shadow
	When        string            `yaml:"when"`
	Values      yaml.Node         `yaml:"values"` // name: expression, in order
	Reason      string            `yaml:"reason"` // text/template over the values
	Sources     []string          `yaml:"sources"`
	Tags        map[string]string `yaml:"tags"`
	line        int
	file        string
}

// TypologyDef declares a typology: a weighted group of rules.
type TypologyDef struct {
	ID          string    `yaml:"id"`
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Sources     []string  `yaml:"sources"`
	Threshold   int       `yaml:"threshold"` // alert when the score reaches it (0-100)
	Rules       []RuleRef `yaml:"rules"`
	line        int
	file        string
}

// RuleRef is a rule's weight in a typology.
type RuleRef struct {
	Rule   string  `yaml:"rule"`
	Weight float64 `yaml:"weight"`
}

// LoadError is a problem in a rule-set file, with its position.
type LoadError struct {
	File  string
	Line  int
	Where string // "rule cash-24h", "feature cash_in_24h_sum"...
	Field string
	Msg   string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a rule set.
type Errors []*LoadError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// source is the raw input of a rule set: file name and bytes, in load order.
type source struct {
	name string
	data []byte
}

// readDirs reads every *.yaml / *.yml file under dirs (recursively), in a
// stable order. A path may also name a single file.
func readDirs(paths []string) ([]source, error) {
	var out []source
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, source{p, b})
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, source{f, b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no rule files (*.yaml) in %s", strings.Join(paths, ", "))
	}
	return out, nil
}

// parseFile decodes one file, remembering where each item is.
func parseFile(src source) (*File, Errors) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src.data))
	dec.KnownFields(true)
	if err := dec.Decode(&root); err != nil {
		return nil, Errors{yamlError(src.name, err)}
	}
	var f File
	dec = yaml.NewDecoder(bytes.NewReader(src.data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, Errors{yamlError(src.name, err)}
	}
	// Attach lines: walk the same sections in the node tree.
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	lines := func(section string) []int {
		seq := mapValue(doc, section)
		if seq == nil {
			return nil
		}
		ls := make([]int, len(seq.Content))
		for i, n := range seq.Content {
			ls[i] = n.Line
		}
		return ls
	}
	for i, l := range lines("features") {
		f.Features[i].line, f.Features[i].file = l, src.name
	}
	for i, l := range lines("rules") {
		f.Rules[i].line, f.Rules[i].file = l, src.name
	}
	for i, l := range lines("typologies") {
		f.Typologies[i].line, f.Typologies[i].file = l, src.name
	}
	return &f, nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// yamlError turns a yaml.v3 error ("yaml: line 12: ...") into a LoadError.
func yamlError(file string, err error) *LoadError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if strings.HasPrefix(msg, "unmarshal errors:\n") {
		msg = strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:\n"))
	}
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return &LoadError{File: file, Line: line, Msg: msg}
}

// Duration is a time.Duration that YAML may also write in days ("7d").
type Duration time.Duration

// UnmarshalYAML accepts Go durations and whole or fractional days.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var f float64
		if _, err := fmt.Sscanf(days, "%g", &f); err != nil || f <= 0 {
			return fmt.Errorf("line %d: %q is not a duration such as 30m, 24h or 7d", n.Line, s)
		}
		*d = Duration(f * float64(24*time.Hour))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30m, 24h or 7d", n.Line, s)
	}
	*d = Duration(v)
	return nil
}
