// Package adapters holds what the readers of other data sets share; each
// reader (ibmaml for IBM AMLworld, amlsim for IBM AMLSim) maps its format
// onto the canonical ingest.Event.
package adapters

import "fmt"

// ParseError is a record that cannot be mapped; Line is its line in the file.
type ParseError struct {
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %s: %v", e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }
