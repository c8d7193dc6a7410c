package watchlist

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// ListID is the list id of every entry this package produces.
const ListID = "internal"

var columns = map[string]bool{"id": true, "name": true, "type": true, "aliases": true, "programs": true, "wallets": true, "ids": true, "listed": true}

// ParseCSV reads the CSV watch list format. name is used in errors.
func ParseCSV(r io.Reader, name string) ([]lists.Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &lists.ParseError{File: name, Line: 1, Msg: "empty file: want a header row with id and name"}
		}
		return nil, csvErr(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !columns[h] {
			return nil, &lists.ParseError{File: name, Line: 1, Msg: fmt.Sprintf("unknown column %q (known: id, name, type, aliases, programs, wallets, ids, listed)", h)}
		}
		col[h] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, &lists.ParseError{File: name, Line: 1, Msg: "header has no id column"}
	}
	if _, ok := col["name"]; !ok {
		return nil, &lists.ParseError{File: name, Line: 1, Msg: "header has no name column"}
	}
	var out []lists.Entry
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("got %d fields, want %d as in the header", len(rec), len(header))}
		}
		get := func(k string) string {
			if i, ok := col[k]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := lists.Entry{List: ListID, ID: get("id"), Name: get("name"), Type: lists.Organization, Listed: get("listed")}
		if e.ID == "" || e.Name == "" {
			return nil, &lists.ParseError{File: name, Line: line, Msg: "id and name are required"}
		}
		if prev, dup := seen[e.ID]; dup {
			return nil, &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("id %q already used at line %d", e.ID, prev)}
		}
		seen[e.ID] = line
		if t := get("type"); t != "" {
			e.Type = lists.NormalizeType(t)
		}
		e.Aliases = multi(get("aliases"))
		e.Programs = multi(strings.ToUpper(get("programs")))
		if len(e.Programs) == 0 {
			e.Programs = []string{"INTERNAL"}
		}
		e.Wallets = multi(get("wallets"))
		e.IDs = multi(get("ids"))
		out = append(out, e)
	}
}

// ParseYAML reads the YAML watch list format.
func ParseYAML(r io.Reader, name string) ([]lists.Entry, error) {
	return lists.ParseYAML(r, name, ListID)
}

func multi(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &lists.ParseError{File: name, Line: pe.StartLine, Msg: pe.Err.Error()}
	}
	return &lists.ParseError{File: name, Msg: err.Error()}
}
