package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// good is a valid event that the malformed cases below break one field at a time.
const good = `{"id":"tx-1","time":"2025-03-04T15:22:10-08:00","kind":"cash_deposit","amount":"9450.00","currency":"CAD",` +
	`"channel":"branch","location":{"country":"CA","region":"BC","city":"Surrey"},` +
	`"from":{"name":"J. Doe","type":"person","country":"CA"},` +
	`"to":{"account":"CA-001-4411902","customer_id":"C-88210","name":"Jane Doe","type":"person","country":"CA","bank":"ROYCCAT2"},` +
	`"purpose":"GDDS","memo":"invoice 2291","attrs":{"device_id":"a9f"}}`

// with returns good with one top-level field replaced (raw JSON) or removed (raw == "").
func with(t testing.TB, field, raw string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodeRejects(t *testing.T) {
	huge := `{"id":"tx-1","memo":"` + strings.Repeat("a", 10<<20) + `"}`
	cases := []struct {
		name   string
		msg    string
		reason string
		field  string
	}{
		// Wrong types.
		{"amount as object", with(t, "amount", `{"value":"10.00"}`), ReasonInvalid, "amount"},
		{"amount as bool", with(t, "amount", `true`), ReasonInvalid, "amount"},
		{"amount as array", with(t, "amount", `["10.00"]`), ReasonInvalid, "amount"},
		{"id as number", with(t, "id", `12345`), ReasonInvalid, "id"},
		{"time as number", with(t, "time", `1741130530`), ReasonInvalid, "time"},
		{"kind as number", with(t, "kind", `3`), ReasonInvalid, "kind"},
		{"party as string", with(t, "to", `"CA-001"`), ReasonInvalid, "to"},
		{"account as number", with(t, "to", `{"account":4411902}`), ReasonInvalid, "to.account"},
		{"location country as number", with(t, "location", `{"country":124}`), ReasonInvalid, "location.country"},
		{"attrs nested object", with(t, "attrs", `{"device":{"id":"a9f"}}`), ReasonInvalid, "attrs.device"},
		{"attrs null value", with(t, "attrs", `{"device":null}`), ReasonInvalid, "attrs.device"},
		// Missing required fields.
		{"missing id", with(t, "id", ""), ReasonMissing, "id"},
		{"empty id", with(t, "id", `""`), ReasonMissing, "id"},
		{"null id", with(t, "id", `null`), ReasonMissing, "id"},
		{"missing time", with(t, "time", ""), ReasonMissing, "time"},
		{"missing kind", with(t, "kind", ""), ReasonMissing, "kind"},
		{"missing amount", with(t, "amount", ""), ReasonMissing, "amount"},
		{"null amount", with(t, "amount", `null`), ReasonMissing, "amount"},
		{"missing currency", with(t, "currency", ""), ReasonMissing, "currency"},
		{"no party has an account", with(t, "to", `{"name":"Jane Doe"}`), ReasonMissing, "to.account"},
		{"no parties at all", with(t, "to", `null`), ReasonMissing, "to.account"},
		// Amounts.
		{"negative amount string", with(t, "amount", `"-9450.00"`), ReasonInvalid, "amount"},
		{"negative amount number", with(t, "amount", `-9450`), ReasonInvalid, "amount"},
		{"zero amount", with(t, "amount", `"0.00"`), ReasonInvalid, "amount"},
		{"zero amount number", with(t, "amount", `0`), ReasonInvalid, "amount"},
		{"absurd amount", with(t, "amount", `"2000000000000.00"`), ReasonInvalid, "amount"},
		{"absurd amount just over 1e12", with(t, "amount", `"1000000000000.01"`), ReasonInvalid, "amount"},
		{"beyond int64", with(t, "amount", `"99999999999999999999999"`), ReasonInvalid, "amount"},
		{"3 decimals for CAD", with(t, "amount", `"10.123"`), ReasonInvalid, "amount"},
		{"3 decimals for CAD as number", with(t, "amount", `10.125`), ReasonInvalid, "amount"},
		{"4 decimals for KWD", with(t, "currency", `"KWD"`)[:0] + strings.Replace(with(t, "currency", `"KWD"`), `"9450.00"`, `"1.2345"`, 1), ReasonInvalid, "amount"},
		{"19 decimals for BTC", strings.Replace(with(t, "currency", `"BTC"`), `"9450.00"`, `"0.1234567890123456789"`, 1), ReasonInvalid, "amount"},
		{"exponent number", with(t, "amount", `9.45e3`), ReasonInvalid, "amount"},
		{"exponent string", with(t, "amount", `"9.45E3"`), ReasonInvalid, "amount"},
		{"plus sign", with(t, "amount", `"+9450.00"`), ReasonInvalid, "amount"},
		{"thousands separator", with(t, "amount", `"9,450.00"`), ReasonInvalid, "amount"},
		{"leading dot", with(t, "amount", `".50"`), ReasonInvalid, "amount"},
		{"trailing dot", with(t, "amount", `"50."`), ReasonInvalid, "amount"},
		{"spaces", with(t, "amount", `" 50.00"`), ReasonInvalid, "amount"},
		{"hex", with(t, "amount", `"0x10"`), ReasonInvalid, "amount"},
		{"NaN", with(t, "amount", `"NaN"`), ReasonInvalid, "amount"},
		{"empty amount string", with(t, "amount", `""`), ReasonInvalid, "amount"},
		// Dates.
		{"time without offset", with(t, "time", `"2025-03-04T15:22:10"`), ReasonInvalid, "time"},
		{"date only", with(t, "time", `"2025-03-04"`), ReasonInvalid, "time"},
		{"February 30", with(t, "time", `"2025-02-30T10:00:00Z"`), ReasonInvalid, "time"},
		{"year 0001", with(t, "time", `"0001-01-01T00:00:00Z"`), ReasonInvalid, "time"},
		{"year 9999", with(t, "time", `"9999-01-01T00:00:00Z"`), ReasonInvalid, "time"},
		{"hour 24", with(t, "time", `"2025-03-04T24:00:00Z"`), ReasonInvalid, "time"},
		{"offset out of range", with(t, "time", `"2025-03-04T10:00:00+25:00"`), ReasonInvalid, "time"},
		{"unix time string", with(t, "time", `"1741130530"`), ReasonInvalid, "time"},
		// Codes.
		{"unknown currency", with(t, "currency", `"XYZ"`), ReasonInvalid, "currency"},
		{"lower-case currency", with(t, "currency", `"cad"`), ReasonInvalid, "currency"},
		{"unknown kind", with(t, "kind", `"teleport"`), ReasonInvalid, "kind"},
		{"unknown channel", with(t, "channel", `"pigeon"`), ReasonInvalid, "channel"},
		{"location country alpha-3", with(t, "location", `{"country":"CAN"}`), ReasonInvalid, "location.country"},
		{"location country unknown", with(t, "location", `{"country":"ZZ"}`), ReasonInvalid, "location.country"},
		{"from country lower-case", with(t, "from", `{"name":"J. Doe","country":"ca"}`), ReasonInvalid, "from.country"},
		{"to country unknown", with(t, "to", `{"account":"A1","country":"XX"}`), ReasonInvalid, "to.country"},
		{"party type", with(t, "to", `{"account":"A1","type":"robot"}`), ReasonInvalid, "to.type"},
		{"account with NUL", with(t, "to", `{"account":"A\u00001"}`), ReasonInvalid, "to.account"},
		{"account too long", with(t, "to", `{"account":"`+strings.Repeat("1", 257)+`"}`), ReasonInvalid, "to.account"},
		{"id too long", with(t, "id", `"`+strings.Repeat("x", 129)+`"`), ReasonInvalid, "id"},
		// Whole-message problems.
		{"10 MB message", huge, ReasonOversized, ""},
		{"invalid UTF-8", strings.Replace(good, "Jane", "J\xffne", 1), ReasonInvalidUTF8, ""},
		{"truncated", good[:len(good)-10], ReasonMalformed, ""},
		{"trailing garbage", good + ` x`, ReasonMalformed, ""},
		{"trailing second object", good + `{}`, ReasonMalformed, ""},
		{"trailing close brace", good + `}`, ReasonMalformed, ""},
		{"trailing close bracket", good + `]`, ReasonMalformed, ""},
		{"top-level array", `[` + good + `]`, ReasonMalformed, ""},
		{"top-level null", `null`, ReasonMalformed, ""},
		{"top-level string", `"tx-1"`, ReasonMalformed, ""},
		{"top-level number", `42`, ReasonMalformed, ""},
		{"empty", ``, ReasonMalformed, ""},
		{"only spaces", "  \n", ReasonMalformed, ""},
		{"single quotes", strings.ReplaceAll(good, `"`, `'`), ReasonMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode([]byte(c.msg))
			if err == nil {
				t.Fatalf("accepted: %+v", ev)
			}
			if ev != nil {
				t.Errorf("an event came back with the error %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Reason != c.reason || de.Field != c.field {
				t.Errorf("got reason %q field %q (%v), want reason %q field %q", de.Reason, de.Field, err, c.reason, c.field)
			}
			if de.Detail == "" {
				t.Errorf("no detail for people: %v", err)
			}
			if Reason(err) != c.reason {
				t.Errorf("Reason(err) = %q", Reason(err))
			}
			if len(err.Error()) > 400 {
				t.Errorf("error message is %d bytes; it must not echo the input: %.100s", len(err.Error()), err.Error())
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name     string
		msg      string
		amount   string // canonical String()
		currency string
		check    func(t *testing.T, e *Event)
	}{
		{"contract example", good, "9450.00", "CAD", func(t *testing.T, e *Event) {
			want := time.Date(2025, 3, 4, 23, 22, 10, 0, time.UTC)
			if !e.Time.Equal(want) {
				t.Errorf("time %v, want %v", e.Time, want)
			}
			if _, off := e.Time.Zone(); off != -8*3600 {
				t.Errorf("offset %d lost; the US business-day rule needs local time", off)
			}
			if e.To.Account != "CA-001-4411902" || e.From.Name != "J. Doe" || e.Location.City != "Surrey" || e.Attrs["device_id"] != "a9f" {
				t.Errorf("fields lost: %+v", e)
			}
		}},
		{"amount as number", with(t, "amount", `9450`), "9450.00", "CAD", nil},
		{"amount as number with cents", with(t, "amount", `9450.5`), "9450.50", "CAD", nil},
		{"amount with leading zeros", with(t, "amount", `"009450.00"`), "9450.00", "CAD", nil},
		{"amount escaped in string", with(t, "amount", `"\u0039450.00"`), "9450.00", "CAD", nil},
		{"amount one cent", with(t, "amount", `"0.01"`), "0.01", "CAD", nil},
		{"amount at the absurd limit", with(t, "amount", `"1000000000000"`), "1000000000000.00", "CAD", nil},
		{"unknown fields tolerated", strings.Replace(good, `"id":"tx-1"`, `"id":"tx-1","schema":2,"extra":{"a":[1,2]}`, 1), "9450.00", "CAD", nil},
		{"unknown party fields tolerated", with(t, "to", `{"account":"A1","lei":"5493001KJTIIGC8Y1R12"}`), "9450.00", "CAD", nil},
		{"crypto with 18 decimals", strings.Replace(with(t, "currency", `"BTC"`), `"9450.00"`, `"0.123456789012345678"`, 1), "0.123456789012345678", "BTC", nil},
		{"crypto number with 18 decimals", strings.Replace(with(t, "currency", `"ETH"`), `"9450.00"`, `1.000000000000000001`, 1), "1.000000000000000001", "ETH", nil},
		{"KWD with 3 decimals", strings.Replace(with(t, "currency", `"KWD"`), `"9450.00"`, `"1.125"`, 1), "1.125", "KWD", nil},
		{"JPY whole", strings.Replace(with(t, "currency", `"JPY"`), `"9450.00"`, `"15000"`, 1), "15000.00", "JPY", nil},
		{"only from has an account", with(t, "to", `{"name":"cash"}`)[:0] + strings.Replace(with(t, "to", ""), `"from":{"name":"J. Doe"`, `"from":{"account":"A9","name":"J. Doe"`, 1), "9450.00", "CAD", func(t *testing.T, e *Event) {
			if e.To != nil || e.From.Account != "A9" {
				t.Errorf("parties: from %+v to %+v", e.From, e.To)
			}
		}},
		{"UTC Z and nanoseconds", with(t, "time", `"2025-03-04T23:22:10.123456789Z"`), "9450.00", "CAD", func(t *testing.T, e *Event) {
			if e.Time.Nanosecond() != 123456789 {
				t.Errorf("nanoseconds lost: %v", e.Time)
			}
		}},
		{"accented names", with(t, "from", `{"name":"José Núñez 王","country":"MX"}`), "9450.00", "CAD", nil},
		{"attrs of every allowed type", with(t, "attrs", `{"s":"x","n":1.5,"b":true}`), "9450.00", "CAD", nil},
		{"surrounding whitespace", "\n  " + good + " \t\r\n", "9450.00", "CAD", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Decode([]byte(c.msg))
			if err != nil {
				t.Fatalf("rejected: %v\n%s", err, c.msg)
			}
			if e.Amount.String() != c.amount || e.Currency != c.currency {
				t.Errorf("amount %s %s, want %s %s", e.Amount, e.Currency, c.amount, c.currency)
			}
			if c.check != nil {
				c.check(t, e)
			}
			roundTrip(t, e)
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	msg := []byte(good)
	if _, err := (Decoder{MaxBytes: len(msg)}).Decode(msg); err != nil {
		t.Errorf("a message of exactly MaxBytes is refused: %v", err)
	}
	if _, err := (Decoder{MaxBytes: len(msg) - 1}).Decode(msg); Reason(err) != ReasonOversized {
		t.Errorf("a message one byte over MaxBytes: got %v, want %s", err, ReasonOversized)
	}
	if _, err := (Decoder{MaxAmount: 5000}).Decode(msg); Reason(err) != ReasonInvalid {
		t.Errorf("MaxAmount 5000 let 9450.00 through: %v", err)
	}
	big := []byte(with(t, "memo", `"`+strings.Repeat("m", DefaultMaxMessageBytes)+`"`))
	if _, err := Decode(big); Reason(err) != ReasonOversized {
		t.Errorf("a message over the default limit: got %v", err)
	}
}

func TestDecodeErrorText(t *testing.T) {
	_, err := Decode([]byte(with(t, "currency", `"XYZ"`)))
	if got := err.Error(); !strings.HasPrefix(got, "invalid_field: currency: ") || !strings.Contains(got, "XYZ") {
		t.Errorf("error %q should name reason, field and value", got)
	}
	_, err = Decode([]byte("[]"))
	if got := err.Error(); !strings.HasPrefix(got, "malformed_json: ") {
		t.Errorf("whole-message error %q should start with the reason", got)
	}
}

// roundTrip checks that an accepted event written with json.Marshal (the
// canonical form) decodes again to the same event.
func roundTrip(t testing.TB, e *Event) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("accepted event does not marshal: %v\n%+v", err, e)
	}
	e2, err := Decode(b)
	if err != nil {
		t.Fatalf("canonical JSON of an accepted event is rejected: %v\n%s", err, b)
	}
	if !sameEvent(e, e2) {
		t.Fatalf("round trip changed the event:\nbefore %+v\nafter  %+v\njson %s", e, e2, b)
	}
	b2, _ := json.Marshal(e2)
	if !bytes.Equal(b, b2) {
		t.Fatalf("canonical JSON is not stable:\n%s\n%s", b, b2)
	}
}

// sameEvent compares events; an empty attrs map and none are the same (the
// canonical form omits both), and times compare as instants with their offset.
func sameEvent(a, b *Event) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	_, oa := a.Time.Zone()
	_, ob := b.Time.Zone()
	if oa != ob {
		return false
	}
	x, y := *a, *b
	x.Time, y.Time = time.Time{}, time.Time{}
	x.blk, y.blk = nil, nil // where it was made, not what it says
	if len(x.Attrs) == 0 {
		x.Attrs = nil
	}
	if len(y.Attrs) == 0 {
		y.Attrs = nil
	}
	return reflect.DeepEqual(x, y)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(with(f, "amount", `9450`)))
	f.Add([]byte(strings.Replace(with(f, "currency", `"BTC"`), `"9450.00"`, `"0.123456789012345678"`, 1)))
	f.Add([]byte(with(f, "attrs", `{}`)))
	f.Add([]byte(with(f, "time", `"2025-03-04T23:22:10.5+05:45"`)))
	f.Add([]byte(`{"id":"a","time":"2025-01-01T00:00:00Z","kind":"p2p","amount":1,"currency":"JPY","to":{"account":"x"},"from":{}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(good + `}`))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason == "" || de.Detail == "" {
				t.Fatalf("rejection without a reason: %#v", err)
			}
			if e != nil {
				t.Fatal("an event came back with an error")
			}
			return
		}
		if e.ID == "" || e.Kind == "" || e.Currency == "" || e.Amount.IsZero() || e.Amount.Frac < 0 || e.Amount.Frac >= fracScale || e.Amount.Int < 0 {
			t.Fatalf("accepted an event that breaks the contract: %+v", e)
		}
		roundTrip(t, e)
	})
}

// BenchmarkDecode decodes a typical event of about 500 bytes.
func BenchmarkDecode(b *testing.B) {
	msg := []byte(good)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}
