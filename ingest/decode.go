package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Reasons a message is rejected. They are stable strings: dead-letter headers,
// metrics labels and analysts' queries use them.
const (
	ReasonOversized   = "oversized"
	ReasonInvalidUTF8 = "invalid_utf8"
	ReasonMalformed   = "malformed_json"
	ReasonMissing     = "missing_field"
	ReasonInvalid     = "invalid_field"
	ReasonTooLate     = "too_late"
)

// DefaultMaxMessageBytes is the default size limit of one event.
const DefaultMaxMessageBytes = 64 << 10

// DecodeError says why a message was rejected: which field and why.
type DecodeError struct {
	Field  string // dotted path, e.g. "to.account"; empty for whole-message errors
	Reason string // one of the Reason constants
	Detail string // a sentence for people
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Reason + ": " + e.Detail
	}
	return e.Reason + ": " + e.Field + ": " + e.Detail
}

// Reason returns the rejection reason of err, or "" when err is not a *DecodeError.
func Reason(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}

func missing(field string) *DecodeError {
	return &DecodeError{Field: field, Reason: ReasonMissing, Detail: "is required"}
}

// oversized refuses a message of n bytes over the limit max.
func oversized(n, max int) *DecodeError {
	return &DecodeError{Reason: ReasonOversized, Detail: fmt.Sprintf("message is %d bytes, limit is %d", n, max)}
}

func invalid(field, format string, args ...any) *DecodeError {
	return &DecodeError{Field: field, Reason: ReasonInvalid, Detail: fmt.Sprintf(format, args...)}
}

// Decoder decodes and validates canonical JSON events.
type Decoder struct {
	MaxBytes  int     // size limit of one message; DefaultMaxMessageBytes when 0
	MaxAmount float64 // amounts above this (in any currency) are absurd; 1e12 when 0
}

// Decode is Decoder{}.Decode.
func Decode(b []byte) (*Event, error) { return Decoder{}.Decode(b) }

type wireEvent struct {
	ID       *string                    `json:"id"`
	Time     *string                    `json:"time"`
	Kind     *string                    `json:"kind"`
	Amount   json.RawMessage            `json:"amount"`
	Currency *string                    `json:"currency"`
	Channel  string                     `json:"channel"`
	Location *Location                  `json:"location"`
	From     *Party                     `json:"from"`
	To       *Party                     `json:"to"`
	Purpose  string                     `json:"purpose"`
	Memo     string                     `json:"memo"`
	Attrs    map[string]json.RawMessage `json:"attrs"`

	// Set by the fast scanner only (encoding/json ignores unexported
	// fields): the amount's text already unquoted, and attrs already
	// converted, so that validate need not run encoding/json on them again.
	amountText    string
	amountDecoded bool
	attrs         map[string]any
	attrsDecoded  bool
}

// Decode parses one event. Unknown fields are ignored (the contract lets
// fields be added); known fields must have the right type and a valid value.
//
// A hand-written scanner (fastjson.go) decodes the usual event several times
// faster than encoding/json; anything it is not sure about, every malformed
// message included, goes to encoding/json, so errors are those of
// encoding/json and validate whichever path decoded.
func (d Decoder) Decode(b []byte) (*Event, error) {
	max := d.MaxBytes
	if max <= 0 {
		max = DefaultMaxMessageBytes
	}
	if len(b) > max {
		return nil, oversized(len(b), max)
	}
	if e, err, ok := d.decodeFast(b); ok {
		return e, err
	}
	return d.decodeSlow(b)
}

// decodeSlow decodes with encoding/json. It is the reference: the fast
// scanner hands it every message it is not sure about, and FuzzDecodeFast
// checks that both agree. The size limit is checked by the caller.
func (d Decoder) decodeSlow(b []byte) (*Event, error) {
	if !utf8.Valid(b) {
		return nil, &DecodeError{Reason: ReasonInvalidUTF8, Detail: "message is not valid UTF-8"}
	}
	// null, arrays and scalars would otherwise decode as an empty event or a
	// type error on no field: an event is an object or it is malformed.
	if trimmed := bytes.TrimLeft(b, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		return nil, &DecodeError{Reason: ReasonMalformed, Detail: "an event must be a JSON object"}
	}
	var w wireEvent
	// json.Unmarshal rejects trailing data itself ("invalid character after
	// top-level value") and, unlike a Decoder, allocates no reader state.
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, jsonError(err)
	}
	return d.validate(&w, new(Event))
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(root)"
		}
		return &DecodeError{Field: field, Reason: ReasonInvalid, Detail: "must be a JSON " + jsonKind(te.Type.Kind().String()) + ", not " + te.Value}
	}
	return &DecodeError{Reason: ReasonMalformed, Detail: err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "ptr", "string":
		return "string"
	case "struct", "map":
		return "object"
	}
	return k
}

// validate checks w and fills e, which the caller allocates (the fast path
// allocates it together with its location and parties).
func (d Decoder) validate(w *wireEvent, e *Event) (*Event, error) {
	e.Channel, e.Location, e.From, e.To, e.Purpose, e.Memo = w.Channel, w.Location, w.From, w.To, w.Purpose, w.Memo
	if w.ID == nil || *w.ID == "" {
		return nil, missing("id")
	}
	if len(*w.ID) > 128 {
		return nil, invalid("id", "is %d characters, at most 128", len(*w.ID))
	}
	e.ID = *w.ID
	if w.Time == nil || *w.Time == "" {
		return nil, missing("time")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return nil, invalid("time", "%q is not an RFC 3339 time with offset", *w.Time)
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return nil, invalid("time", "year %d is out of range", t.Year())
	}
	e.Time = t
	if w.Kind == nil || *w.Kind == "" {
		return nil, missing("kind")
	}
	if !Kinds[*w.Kind] {
		return nil, invalid("kind", "%q is not a known kind", *w.Kind)
	}
	e.Kind = *w.Kind
	if w.Currency == nil || *w.Currency == "" {
		return nil, missing("currency")
	}
	if !KnownCurrency(*w.Currency) {
		return nil, invalid("currency", "%q is not an ISO 4217 code or known crypto ticker", *w.Currency)
	}
	e.Currency = *w.Currency
	if len(w.Amount) == 0 || string(w.Amount) == "null" {
		return nil, missing("amount")
	}
	if e.Amount, err = d.amount(w, e.Currency); err != nil {
		return nil, err
	}
	if e.Channel != "" && !Channels[e.Channel] {
		return nil, invalid("channel", "%q is not a known channel", e.Channel)
	}
	if e.Location != nil && e.Location.Country != "" && !KnownCountry(e.Location.Country) {
		return nil, invalid("location.country", "%q is not an ISO 3166-1 alpha-2 code", e.Location.Country)
	}
	if err := validParty("from", e.From); err != nil {
		return nil, err
	}
	if err := validParty("to", e.To); err != nil {
		return nil, err
	}
	if (e.From == nil || e.From.Account == "") && (e.To == nil || e.To.Account == "") {
		return nil, missing("to.account")
	}
	if w.attrsDecoded {
		e.Attrs = w.attrs // scalars only, or the fast scanner would have given up
	} else if len(w.Attrs) > 0 {
		e.Attrs = make(map[string]any, len(w.Attrs))
		// In key order, so that of two bad attrs the same one is named every time.
		for _, k := range slices.Sorted(maps.Keys(w.Attrs)) {
			v, ok := attrValue(w.Attrs[k])
			if !ok {
				return nil, invalid("attrs."+k, "must be a string, number or boolean")
			}
			e.Attrs[k] = v
		}
	}
	return e, nil
}

func (d Decoder) amount(w *wireEvent, currency string) (Amount, error) {
	s := w.amountText
	if !w.amountDecoded {
		raw := w.Amount
		s = string(raw)
		if s[0] == '"' {
			var u string // declared here: a variable json.Unmarshal fills lives on the heap
			if err := json.Unmarshal(raw, &u); err != nil {
				return Amount{}, invalid("amount", "is not a valid string")
			}
			s = u
		} else if s[0] < '0' || s[0] > '9' {
			if s[0] != '-' {
				return Amount{}, invalid("amount", "must be a decimal string or number")
			}
		}
	}
	a, decimals, err := ParseAmount(s)
	if err != nil {
		return Amount{}, invalid("amount", "%q %v", truncate(s, 40), err)
	}
	if a.IsZero() {
		return Amount{}, invalid("amount", "must be positive")
	}
	if max := CurrencyDecimals(currency); decimals > max && !(max < 2 && decimals <= 2) {
		return Amount{}, invalid("amount", "%s has %d decimals, %s allows %d", s, decimals, currency, max)
	}
	limit := d.MaxAmount
	if limit == 0 {
		limit = 1e12
	}
	if a.Float64() > limit {
		return Amount{}, invalid("amount", "%s %s is beyond the absurd-amount limit of %.0f", s, currency, limit)
	}
	return a, nil
}

func validParty(side string, p *Party) error {
	if p == nil {
		return nil
	}
	if p.Country != "" && !KnownCountry(p.Country) {
		return invalid(side+".country", "%q is not an ISO 3166-1 alpha-2 code", p.Country)
	}
	if p.Type != "" && p.Type != "person" && p.Type != "organization" {
		return invalid(side+".type", "%q must be person or organization", p.Type)
	}
	for _, f := range []struct{ name, v string }{{"account", p.Account}, {"customer_id", p.CustomerID}, {"name", p.Name}, {"wallet", p.Wallet}, {"bank", p.Bank}} {
		if len(f.v) > 256 {
			return invalid(side+"."+f.name, "is %d characters, at most 256", len(f.v))
		}
		if strings.IndexByte(f.v, 0) >= 0 {
			return invalid(side+"."+f.name, "contains a NUL character")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// attrValue keeps numbers exact (json.Number) and accepts only scalars.
func attrValue(raw json.RawMessage) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return s, true
	case c == 't' || c == 'f':
		return c == 't', true
	case c == '-' || (c >= '0' && c <= '9'):
		return json.Number(raw), true
	}
	return nil, false
}
