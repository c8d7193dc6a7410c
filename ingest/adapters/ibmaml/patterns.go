package ibmaml

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Typologies maps AMLworld pattern names to catalogue ids
// (spec/typologies.md). RANDOM has no catalogue id and is labelled "random".
var Typologies = map[string]string{
	"FAN-OUT": "fan_out", "FAN-IN": "fan_in", "CYCLE": "cycle", "SCATTER-GATHER": "scatter_gather",
	"GATHER-SCATTER": "gather_scatter", "BIPARTITE": "bipartite", "STACK": "stack", "RANDOM": "random",
}

// Pattern is one laundering attempt of a *_Patterns.txt file.
type Pattern struct {
	Typology string // catalogue id, or "random"
	Name     string // as written, e.g. "FAN-OUT"
	Detail   string // e.g. "Max 4-degree Fan-Out"
	Line     int    // line of its BEGIN
	Rows     []Row
}

// Row is one transaction of a pattern.
type Row struct {
	Time                 time.Time
	FromBank, From       string
	ToBank, To           string
	AmountPaid, Currency string // as written; currency as an ISO code
	Format               string
	Key                  string // RowKey of the row, to find its event id in the transactions file
	Line                 int
}

// Accounts returns the distinct accounts of the pattern, sorted.
func (p *Pattern) Accounts() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Rows {
		for _, a := range []string{r.From, r.To} {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Hub is the account the pattern is about: the account with the most
// transactions in it (the fan's centre, the gather-scatter hub), ties broken
// by the earliest first appearance.
func (p *Pattern) Hub() string {
	count := map[string]int{}
	var order []string
	for _, r := range p.Rows {
		for _, a := range []string{r.From, r.To} {
			if count[a] == 0 {
				order = append(order, a)
			}
			count[a]++
		}
	}
	best := ""
	for _, a := range order {
		if best == "" || count[a] > count[best] {
			best = a
		}
	}
	return best
}

// Span is the time of the first and the last transaction.
func (p *Pattern) Span() (first, last time.Time) {
	for i, r := range p.Rows {
		if i == 0 || r.Time.Before(first) {
			first = r.Time
		}
		if i == 0 || r.Time.After(last) {
			last = r.Time
		}
	}
	return first, last
}

// ReadLabels parses an AMLworld *_Patterns.txt file: blocks of CSV rows
// between "BEGIN LAUNDERING ATTEMPT - NAME[: detail]" and "END LAUNDERING
// ATTEMPT - NAME". Errors name the line.
func ReadLabels(r io.Reader) ([]Pattern, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Pattern
	var cur *Pattern
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "BEGIN LAUNDERING ATTEMPT - "); ok {
			if cur != nil {
				return nil, fmt.Errorf("line %d: BEGIN inside the attempt that began on line %d", line, cur.Line)
			}
			name, detail, _ := strings.Cut(rest, ":")
			name = strings.TrimSpace(name)
			ty, ok := Typologies[name]
			if !ok {
				return nil, fmt.Errorf("line %d: unknown pattern %q", line, name)
			}
			cur = &Pattern{Typology: ty, Name: name, Detail: strings.TrimSpace(detail), Line: line}
			continue
		}
		if rest, ok := strings.CutPrefix(s, "END LAUNDERING ATTEMPT"); ok {
			if cur == nil {
				return nil, fmt.Errorf("line %d: END without BEGIN", line)
			}
			if name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "-")); name != "" && name != cur.Name {
				return nil, fmt.Errorf("line %d: END of %s closes %s begun on line %d", line, name, cur.Name, cur.Line)
			}
			out = append(out, *cur)
			cur = nil
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: transaction outside a BEGIN/END block", line)
		}
		rec, err := csv.NewReader(strings.NewReader(s)).Read()
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		ev, _, err := parseRow(rec, line)
		if err != nil {
			return nil, err
		}
		cur.Rows = append(cur.Rows, Row{
			Time: ev.Time, FromBank: rec[1], From: rec[2], ToBank: rec[3], To: rec[4],
			AmountPaid: rec[7], Currency: ev.Currency, Format: rec[9], Key: RowKey(rec), Line: line,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: attempt begun on line %d has no END", line, cur.Line)
	}
	return out, nil
}
