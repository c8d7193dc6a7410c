// Package amlsim reads the output of IBM's AMLSim simulator: the
// *_transactions.csv edge list (sourceNodeId,targetNodeId,value,time) as a
// stream of canonical events, and the *_nodes.csv account labels
// (nodeid,isFraud,init_balance,fraudStep).
//
// Mapping: AMLSim has no calendar, only steps (one step is one day), no
// currency and no payment type. An event gets
//
//   - id "amlsim-<n>", n the 1-based data row;
//   - time Options.Base (default 2017-01-01, the base_date of AMLSim's
//     conf.json) plus the step in days, plus one second per earlier row of the
//     same step, so that the file's order is kept in event time;
//   - accounts "acct-<node id>" on both sides, bank Options.Bank;
//   - kind Options.Kind (default "wire"), currency Options.Currency (default
//     "USD"), the value as the amount.
package amlsim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/sluice-aml/sluice/ingest/adapters"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/ingest"
)

// Options say how AMLSim's calendar-less records become events.
type Options struct {
	Base     time.Time // the date of step 0; default 2017-01-01 UTC
	Kind     string    // default "wire"
	Currency string    // default "USD"
	Bank     string    // bank id put on both parties; default "AMLSIM"
}

func (o Options) withDefaults() Options {
	if o.Base.IsZero() {
		o.Base = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Kind == "" {
		o.Kind = "wire"
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if o.Bank == "" {
		o.Bank = "AMLSIM"
	}
	return o
}

// Validate reports an option that would make invalid events.
func (o Options) Validate() error {
	o = o.withDefaults()
	if !ingest.Kinds[o.Kind] {
		return fmt.Errorf("kind %q is not an event kind", o.Kind)
	}
	if !ingest.KnownCurrency(o.Currency) {
		return fmt.Errorf("currency %q is not an ISO 4217 code", o.Currency)
	}
	return nil
}

// Account is the account id of an AMLSim node.
func Account(node string) string { return "acct-" + node }

// maxStep bounds steps so that times stay in the decoder's range.
const maxStep = 100 * 366

// ParseError is a record that cannot be mapped, with its line.
type ParseError = adapters.ParseError

// Reader streams events from a *_transactions.csv file. A bad row gives a
// *ParseError; calling Next again goes on with the next row.
type Reader struct {
	cr       *csv.Reader
	o        Options
	row      int
	line     int
	started  bool
	step     int64
	stepRows int
}

// NewReader reads CSV from r with the options o (zero value: defaults). A
// header line starting with "sourceNodeId" is skipped.
func NewReader(r io.Reader, o Options) *Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &Reader{cr: cr, o: o.withDefaults(), step: -1}
}

// Line is the line number of the row last returned.
func (r *Reader) Line() int { return r.line }

// Next returns the next event, or io.EOF at the end of the input.
func (r *Reader) Next() (*ingest.Event, error) {
	for {
		rec, err := r.cr.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				r.started = true
				r.row++
				r.line = pe.Line
				return nil, &ParseError{Line: pe.Line, Err: pe.Err}
			}
			return nil, err
		}
		r.line, _ = r.cr.FieldPos(0)
		if !r.started {
			r.started = true
			if len(rec) > 0 && strings.HasPrefix(strings.TrimPrefix(rec[0], "\ufeff"), "sourceNodeId") {
				continue
			}
		}
		r.row++
		return r.parse(rec)
	}
}

func (r *Reader) parse(rec []string) (*ingest.Event, error) {
	line := r.line
	if len(rec) < 4 {
		return nil, &ParseError{Line: line, Err: fmt.Errorf("%d fields, want 4 (sourceNodeId,targetNodeId,value,time)", len(rec))}
	}
	src, dst := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
	for i, id := range []string{src, dst} {
		if _, err := strconv.ParseUint(id, 10, 63); err != nil {
			return nil, &ParseError{Line: line, Field: []string{"sourceNodeId", "targetNodeId"}[i], Err: fmt.Errorf("%q is not a node id", id)}
		}
	}
	amt, decimals, err := ingest.ParseAmount(strings.TrimSpace(rec[2]))
	if err != nil {
		return nil, &ParseError{Line: line, Field: "value", Err: fmt.Errorf("%q: %v", rec[2], err)}
	}
	if amt.IsZero() {
		return nil, &ParseError{Line: line, Field: "value", Err: errors.New("amount is zero")}
	}
	if allowed := max(ingest.CurrencyDecimals(r.o.Currency), 2); decimals > allowed {
		return nil, &ParseError{Line: line, Field: "value", Err: fmt.Errorf("%q has more than the %d decimals %s allows", rec[2], allowed, r.o.Currency)}
	}
	step, err := strconv.ParseInt(strings.TrimSpace(rec[3]), 10, 64)
	if err != nil || step < 0 || step > maxStep {
		return nil, &ParseError{Line: line, Field: "time", Err: fmt.Errorf("%q is not a step between 0 and %d", rec[3], maxStep)}
	}
	if step != r.step {
		r.step, r.stepRows = step, 0
	}
	t := r.o.Base.AddDate(0, 0, int(step)).Add(time.Duration(r.stepRows%86400) * time.Second)
	r.stepRows++
	return &ingest.Event{
		ID:       "amlsim-" + strconv.Itoa(r.row),
		Time:     t,
		Kind:     r.o.Kind,
		Amount:   amt,
		Currency: r.o.Currency,
		From:     &ingest.Party{Account: Account(src), Bank: r.o.Bank},
		To:       &ingest.Party{Account: Account(dst), Bank: r.o.Bank},
	}, nil
}

// ReadLabels reads a *_nodes.csv file and returns, for every node, whether
// AMLSim marked its account as fraudulent, keyed by Account(node id).
// Errors name the line.
func ReadLabels(r io.Reader) (map[string]bool, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	out := map[string]bool{}
	first := true
	idCol, fraudCol := 0, 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if strings.HasPrefix(strings.TrimPrefix(rec[0], "\ufeff"), "nodeid") || strings.EqualFold(rec[0], "acct_id") {
				for i, h := range rec {
					switch strings.ToLower(strings.TrimSpace(h)) {
					case "nodeid", "acct_id":
						idCol = i
					case "isfraud", "is_sar":
						fraudCol = i
					}
				}
				continue
			}
		}
		if len(rec) <= max(idCol, fraudCol) {
			return nil, fmt.Errorf("line %d: %d fields, want nodeid,isFraud,...", line, len(rec))
		}
		id := strings.TrimSpace(rec[idCol])
		if _, err := strconv.ParseUint(id, 10, 63); err != nil {
			return nil, fmt.Errorf("line %d: nodeid %q is not a node id", line, id)
		}
		var fraud bool
		switch strings.ToLower(strings.TrimSpace(rec[fraudCol])) {
		case "1", "true":
			fraud = true
		case "0", "false":
		default:
			return nil, fmt.Errorf("line %d: isFraud %q is not 0 or 1", line, rec[fraudCol])
		}
		if _, dup := out[Account(id)]; dup {
			return nil, fmt.Errorf("line %d: node %s listed twice", line, id)
		}
		out[Account(id)] = fraud
	}
}
