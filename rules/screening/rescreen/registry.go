package rescreen

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-aml/sluice/ingest"
)

// Seen is a counterparty seen in the stream, with the bank's own customer it
// dealt with.
type Seen struct {
	// Name and Wallet are the counterparty's name and/or wallet address as
	// written on the payment.
	Name, Wallet string
	// Field is where the counterparty was written: "to.name", "from.wallet"...
	// Its side ("to", "from") names the fields of the alert's screening.
	Field string
	// Account, CustomerID and CustomerName are the bank's customer on the
	// other side: the subject of an alert.
	Account, CustomerID, CustomerName string
	// TxID and Time are the latest transaction between them and its event
	// time, whose offset the alert's time keeps.
	TxID string
	Time time.Time
}

// Registry keeps the counterparties seen within a horizon of event time.
// Memory and Redis implement it with the same semantics.
type Registry interface {
	// Record keeps, per counterparty and account, the Seen with the latest
	// time (of equal times, the one with the smaller transaction id,
	// whatever order they came in), and drops the entries older than the
	// horizon before the newest entry or beyond the size bound, oldest
	// first. Redis does it in one round trip. Record does not keep the
	// slice: the caller reuses it.
	Record(ctx context.Context, seen []Seen) error
	// Scan calls fn with every entry whose time is at or after since and
	// within the horizon of the newest entry. Order is unspecified, and
	// Redis may call fn twice for an entry recorded during the scan. An
	// error from fn stops the scan and is returned.
	Scan(ctx context.Context, since time.Time, fn func(Seen) error) error
}

// Side is the side of the payment the counterparty was on: "to" or "from".
func (s Seen) Side() string {
	side, _, _ := strings.Cut(s.Field, ".")
	return side
}

// Counterparty is the key of the counterparty in the registry: its name and
// wallet, case and spacing folded.
func (s Seen) Counterparty() string {
	return string(s.appendCounterparty(nil))
}

func (s Seen) appendCounterparty(b []byte) []byte {
	return appendFold(append(appendFold(b, s.Name), '|'), s.Wallet)
}

func fold(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// appendFold appends fold(s) to b, without allocating when s is ASCII.
func appendFold(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, fold(s)...)
		}
	}
	space := false
	start := len(b)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c >= '\t' && c <= '\r':
			space = true
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if space && len(b) > start {
			b = append(b, ' ')
		}
		space = false
		b = append(b, c)
	}
	return b
}

// later reports whether a sighting at ms with tx replaces the one kept at
// keptMs with keptTx: it is later, or of the same time with a smaller
// transaction id, so that what is kept does not depend on the order
// sightings arrive in or on how they were batched.
func later(ms int64, tx string, keptMs int64, keptTx string) bool {
	return ms > keptMs || ms == keptMs && tx < keptTx
}

// member is the compact registry key of s: 16 characters of the SHA-256 of
// the account and the counterparty.
func (s Seen) member() string {
	h := sha256.New()
	h.Write([]byte(s.Account))
	h.Write([]byte{0})
	h.Write([]byte(s.Counterparty()))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func (s Seen) check() error {
	switch {
	case s.Account == "":
		return errors.New("no account: set Seen.Account to the bank customer's account")
	case strings.TrimSpace(s.Name) == "" && strings.TrimSpace(s.Wallet) == "":
		return errors.New("no counterparty: set Seen.Name or Seen.Wallet")
	case s.Time.IsZero():
		return errors.New("no time: set Seen.Time to the transaction's event time")
	}
	return nil
}

func checkAll(seen []Seen) error {
	for i := range seen {
		if err := seen[i].check(); err != nil {
			return fmt.Errorf("rescreen: seen[%d] (tx %q): %w", i, seen[i].TxID, err)
		}
	}
	return nil
}

// FromEvent returns the counterparties of e: for each party that is the
// bank's own customer (it has a customer_id and an account), the other
// party, if it has a name or a wallet. A payment between two customers gives
// two entries.
func FromEvent(e *ingest.Event) []Seen { return AppendFromEvent(nil, e) }

// AppendFromEvent appends FromEvent(e) to out, for a caller collecting a
// batch's counterparties into one slice.
func AppendFromEvent(out []Seen, e *ingest.Event) []Seen {
	add := func(own, other *ingest.Party, side string) {
		if own == nil || other == nil || own.CustomerID == "" || own.Account == "" {
			return
		}
		// Blank is as good as missing (Seen.check): a name of spaces on a
		// payment must not make Record fail the batch, for ever.
		name, wallet := strings.TrimSpace(other.Name) != "", strings.TrimSpace(other.Wallet) != ""
		if !name && !wallet {
			return
		}
		field := side + ".name"
		if !name {
			field = side + ".wallet"
		}
		out = append(out, Seen{Name: other.Name, Wallet: other.Wallet, Field: field,
			Account: own.Account, CustomerID: own.CustomerID, CustomerName: own.Name, TxID: e.ID, Time: e.Time})
	}
	add(e.From, e.To, "to")
	add(e.To, e.From, "from")
	return out
}

// wire is the stored form of a Seen: short keys, since millions are kept.
type wire struct {
	Name         string `json:"n,omitempty"`
	Wallet       string `json:"w,omitempty"`
	Field        string `json:"f,omitempty"`
	Account      string `json:"a"`
	CustomerID   string `json:"c,omitempty"`
	CustomerName string `json:"cn,omitempty"`
	TxID         string `json:"x,omitempty"`
	Time         string `json:"t"`
}

// appendSeen appends the stored form of s: the bytes json.Marshal gives
// for its wire form (FuzzAppendSeen holds them equal), without reflection
// or an allocation per sighting, as every event's sightings are written.
func appendSeen(b []byte, s Seen) []byte {
	b = append(b, '{')
	first := true
	field := func(key, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":`...)
		b = appendJSONString(b, v)
	}
	field("n", s.Name, true)
	field("w", s.Wallet, true)
	field("f", s.Field, true)
	field("a", s.Account, false)
	field("c", s.CustomerID, true)
	field("cn", s.CustomerName, true)
	field("x", s.TxID, true)
	b = append(b, `,"t":"`...)
	b = s.Time.AppendFormat(b, time.RFC3339Nano) // nothing in it needs escaping
	return append(b, `"}`...)
}

// appendJSONString appends v quoted as encoding/json quotes strings: HTML
// characters, control characters, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func appendJSONString(b []byte, v string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); {
		if c := v[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, v[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, v[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, v[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// decodeSeen reads a stored Seen; the error says what is wrong with it.
func decodeSeen(b []byte) (Seen, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return Seen{}, fmt.Errorf("rescreen: stored entry: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Seen{}, fmt.Errorf("rescreen: stored entry: time: %w", err)
	}
	s := Seen{w.Name, w.Wallet, w.Field, w.Account, w.CustomerID, w.CustomerName, w.TxID, t}
	if err := s.check(); err != nil {
		return Seen{}, fmt.Errorf("rescreen: stored entry: %w", err)
	}
	return s, nil
}
