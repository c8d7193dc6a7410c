package fto

import (
	"fmt"
	"io"
	"os"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// ListID is the list id of every entry this package produces.
const ListID = "us-fto"

// LoadFile reads the FTO YAML file at path.
func LoadFile(path string) ([]lists.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("us-fto: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads the FTO list in the lists YAML format.
func Parse(r io.Reader, name string) ([]lists.Entry, error) {
	es, err := lists.ParseYAML(r, name, ListID)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Listed == "" {
			return nil, &lists.ParseError{File: name, Msg: fmt.Sprintf("entry %s (%s): listed: the designation date is required", e.ID, e.Name)}
		}
		if !hasFTO(e.Programs) {
			return nil, &lists.ParseError{File: name, Msg: fmt.Sprintf("entry %s (%s): programs must include FTO", e.ID, e.Name)}
		}
	}
	return es, nil
}

func hasFTO(p []string) bool {
	for _, x := range p {
		if x == "FTO" {
			return true
		}
	}
	return false
}
