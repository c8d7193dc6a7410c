// Package ibmaml reads IBM's AMLworld synthetic data set (Altman et al.,
// NeurIPS 2023; Kaggle "ibm-transactions-for-anti-money-laundering-aml"):
// the transactions CSV (HI-Small_Trans.csv and its siblings) as a stream of
// canonical events, and the *_Patterns.txt files as labelled laundering
// attempts.
//
// Mapping of a CSV row (Timestamp, From Bank, Account, To Bank, Account,
// Amount Received, Receiving Currency, Amount Paid, Payment Currency, Payment
// Format, Is Laundering) onto ingest.Event:
//
//   - id: "ibm-<n>", n the 1-based data row (the header is not counted), so
//     ids are stable for a given file and the full 5M-row file streams;
//   - time: the timestamp, which carries no zone, read as UTC;
//   - amount, currency: Amount Paid and Payment Currency (the payer's side);
//     when the received side differs it is kept in attrs amount_received and
//     receiving_currency;
//   - from, to: account and bank ids as written (AMLworld account ids are
//     unique across banks);
//   - kind: ACH→ach, Wire→wire, Cheque→cheque, Credit Card→card,
//     Cash→cash_deposit (cash paid in to the receiving account),
//     Bitcoin→crypto_transfer, Reinvestment→other; attrs payment_format
//     keeps the original;
//   - Is Laundering is never put on the event (it is the label); see
//     Reader.Laundering.
package ibmaml

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

// Currencies maps AMLworld currency names to ISO 4217 codes or tickers.
var Currencies = map[string]string{
	"US Dollar": "USD", "Euro": "EUR", "Yuan": "CNY", "Rupee": "INR", "Ruble": "RUB", "Yen": "JPY",
	"Bitcoin": "BTC", "Saudi Riyal": "SAR", "Shekel": "ILS", "Swiss Franc": "CHF", "Canadian Dollar": "CAD",
	"Australian Dollar": "AUD", "Mexican Peso": "MXN", "Brazil Real": "BRL", "UK Pound": "GBP",
}

// Kinds maps AMLworld payment formats to event kinds.
var Kinds = map[string]string{
	"ACH": "ach", "Wire": "wire", "Cheque": "cheque", "Credit Card": "card", "Cash": "cash_deposit",
	"Bitcoin": "crypto_transfer", "Reinvestment": "other",
}

const timeLayout = "2006/01/02 15:04"

// ParseError is a row that cannot be mapped, with its line.
type ParseError = adapters.ParseError

// Reader streams events from an AMLworld transactions CSV. A bad row gives a
// *ParseError; calling Next again goes on with the next row.
type Reader struct {
	cr         *csv.Reader
	row        int // data rows read, good or bad
	line       int // line of the last row
	started    bool
	laundering bool
	key        string
}

// NewReader reads CSV from r. A header line starting with "Timestamp" is
// skipped; without one every line is data.
func NewReader(r io.Reader) *Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &Reader{cr: cr}
}

// Line is the line number of the row last returned.
func (r *Reader) Line() int { return r.line }

// Laundering reports the Is Laundering flag of the row last returned.
func (r *Reader) Laundering() bool { return r.laundering }

// Key is the content key of the row last returned (see RowKey); it links
// rows of a *_Patterns.txt file to the event ids of the transactions file.
func (r *Reader) Key() string { return r.key }

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
				r.line = pe.Line
				r.started = true
				r.row++
				return nil, &ParseError{Line: pe.Line, Err: pe.Err}
			}
			return nil, err
		}
		line, _ := r.cr.FieldPos(0)
		r.line = line
		if !r.started {
			r.started = true
			if len(rec) > 0 && strings.HasPrefix(strings.TrimPrefix(rec[0], "\ufeff"), "Timestamp") {
				continue
			}
		}
		r.row++
		ev, laundering, err := parseRow(rec, line)
		if err != nil {
			return nil, err
		}
		ev.ID = "ibm-" + strconv.Itoa(r.row)
		r.laundering = laundering
		r.key = RowKey(rec)
		return ev, nil
	}
}

// RowKey is a row's identity without its label: every field but Is
// Laundering, joined.
func RowKey(rec []string) string {
	if len(rec) > 10 {
		rec = rec[:10]
	}
	return strings.Join(rec, "|")
}

func parseRow(rec []string, line int) (*ingest.Event, bool, error) {
	if len(rec) != 11 {
		return nil, false, &ParseError{Line: line, Err: fmt.Errorf("%d fields, want 11 (Timestamp, From Bank, Account, To Bank, Account, Amount Received, Receiving Currency, Amount Paid, Payment Currency, Payment Format, Is Laundering)", len(rec))}
	}
	t, err := time.Parse(timeLayout, rec[0])
	if err != nil {
		return nil, false, &ParseError{Line: line, Field: "Timestamp", Err: fmt.Errorf("%q is not YYYY/MM/DD HH:MM", rec[0])}
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return nil, false, &ParseError{Line: line, Field: "Timestamp", Err: fmt.Errorf("year %d is out of range", t.Year())}
	}
	fromBank, fromAcct, toBank, toAcct := rec[1], rec[2], rec[3], rec[4]
	for i, f := range []string{"From Bank", "Account", "To Bank", "Account"} {
		v := rec[1+i]
		if v == "" && i%2 == 1 {
			return nil, false, &ParseError{Line: line, Field: f, Err: errors.New("empty account")}
		}
		if len(v) > 256 || strings.ContainsRune(v, 0) {
			return nil, false, &ParseError{Line: line, Field: f, Err: errors.New("longer than 256 bytes or contains NUL")}
		}
	}
	payCur, ok := Currencies[rec[8]]
	if !ok {
		return nil, false, &ParseError{Line: line, Field: "Payment Currency", Err: fmt.Errorf("unknown currency %q", rec[8])}
	}
	amt, _, err := ingest.ParseAmount(rec[7])
	if err != nil {
		return nil, false, &ParseError{Line: line, Field: "Amount Paid", Err: fmt.Errorf("%q: %v", rec[7], err)}
	}
	if amt.IsZero() {
		return nil, false, &ParseError{Line: line, Field: "Amount Paid", Err: errors.New("amount is zero")}
	}
	kind, ok := Kinds[rec[9]]
	if !ok {
		return nil, false, &ParseError{Line: line, Field: "Payment Format", Err: fmt.Errorf("unknown payment format %q", rec[9])}
	}
	var laundering bool
	switch rec[10] {
	case "0":
	case "1":
		laundering = true
	default:
		return nil, false, &ParseError{Line: line, Field: "Is Laundering", Err: fmt.Errorf("%q is not 0 or 1", rec[10])}
	}
	ev := &ingest.Event{
		Time:     t,
		Kind:     kind,
		Amount:   amt,
		Currency: payCur,
		From:     &ingest.Party{Account: fromAcct, Bank: fromBank},
		To:       &ingest.Party{Account: toAcct, Bank: toBank},
		Attrs:    map[string]any{"payment_format": rec[9]},
	}
	if rec[5] != rec[7] || rec[6] != rec[8] {
		recCur, ok := Currencies[rec[6]]
		if !ok {
			return nil, false, &ParseError{Line: line, Field: "Receiving Currency", Err: fmt.Errorf("unknown currency %q", rec[6])}
		}
		if _, _, err := ingest.ParseAmount(rec[5]); err != nil {
			return nil, false, &ParseError{Line: line, Field: "Amount Received", Err: fmt.Errorf("%q: %v", rec[5], err)}
		}
		ev.Attrs["amount_received"] = rec[5]
		ev.Attrs["receiving_currency"] = recCur
	}
	return ev, laundering, nil
}
