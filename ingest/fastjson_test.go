package ingest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tricky are messages where a hand-written scanner easily parts ways with
// encoding/json. fast says whether the fast path must take them itself
// (true) or hand them to encoding/json (false).
type trickyCase struct {
	name string
	msg  string
	fast bool
}

func trickyCases(t0 testing.TB) []trickyCase {
	return []trickyCase{
		{"contract example", good, true},
		{"whitespace everywhere", " \t\r\n{ \"id\" : \"a\" ,\n\"time\"\t:\"2025-03-04T00:00:00Z\" , \"kind\" : \"p2p\" , \"amount\" : 1 , \"currency\" : \"CAD\" , \"to\" : { \"account\" : \"x\" } , \"attrs\" : { \"k\" : true } } \r\n", true},
		{"escapes in values", strings.Replace(good, `"memo":"invoice 2291"`, `"memo":"a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20ac\ud83d\ude00"`, 1), true},
		{"escapes in codes", strings.Replace(good, `"kind":"cash_deposit"`, `"kind":"cash\u005fdeposit"`, 1), true},
		{"escaped amount", with(t0, "amount", `"\u0039450.00"`), true},
		{"lone high surrogate", with(t0, "memo", `"x\ud800y"`), true},
		{"lone low surrogate", with(t0, "memo", `"x\udc00y"`), true},
		{"reversed surrogates", with(t0, "memo", `"\ude00\ud83d"`), true},
		{"high surrogate then escape", with(t0, "memo", `"\ud83d\n"`), true},
		{"high surrogate then high", with(t0, "memo", `"\ud83d\ud83d\ude00"`), true},
		{"escaped NUL in account", with(t0, "to", `{"account":"A\u00001"}`), true},
		{"escaped attrs key", with(t0, "attrs", `{"dev\u0069ce":"a\u0041","\ud800":1}`), true},
		{"raw unicode", with(t0, "from", `{"name":"José Núñez 王 😀","country":"MX"}`), true},
		{"nested unknown fields", strings.Replace(good, `"id":"tx-1"`, `"x":{"a":[1,{"b":[[],{}]},"s",true,null,-0.5e-3]},"id":"tx-1","y":[]`, 1), true},
		{"unknown fields in parts", with(t0, "to", `{"account":"A1","lei":{"v":["x",{"id":"tx-2"}]},"z":null}`), true},
		{"numbers with exponents", with(t0, "attrs", `{"a":1e3,"b":-2.5E-7,"c":0,"d":1E+2}`), true},
		{"exponent amount", with(t0, "amount", `9.45e3`), true},
		{"negative zero amount", with(t0, "amount", `-0`), true},
		{"amount object", with(t0, "amount", `{"value":"10.00"}`), true},
		{"amount array", with(t0, "amount", `[1]`), true},
		{"amount bool", with(t0, "amount", `true`), true},
		{"null amount", with(t0, "amount", `null`), true},
		{"duplicate id", strings.Replace(good, `"id":"tx-1"`, `"id":"tx-0","id":"tx-1"`, 1), true},
		{"duplicate id then null", strings.Replace(good, `"id":"tx-1"`, `"id":"tx-1","id":null`, 1), true},
		{"null then id", strings.Replace(good, `"id":"tx-1"`, `"id":null,"id":"tx-1"`, 1), true},
		{"duplicate amount", strings.Replace(good, `"amount":"9450.00"`, `"amount":"1\u0030","amount":12`, 1), true},
		{"duplicate parties merge", strings.Replace(good, `"purpose"`, `"to":{"city":"x","wallet":"w"},"purpose"`, 1), true},
		{"party null then object", strings.Replace(good, `"purpose"`, `"to":null,"to":{"wallet":"w","account":"B"},"purpose"`, 1), true},
		{"party null at the end", strings.Replace(good, `"purpose"`, `"from":null,"purpose"`, 1), true},
		{"location merge and null", strings.Replace(good, `"purpose"`, `"location":{"city":"Delta"},"location":{"region":null},"purpose"`, 1), true},
		{"location null", with(t0, "location", `null`), true},
		{"duplicate attrs merge", strings.Replace(good, `"purpose"`, `"attrs":{"a":1,"device_id":"b"},"purpose"`, 1), true},
		{"attrs null", with(t0, "attrs", `null`), true},
		{"attrs null then object", strings.Replace(good, `"purpose"`, `"attrs":null,"attrs":{"z":false},"purpose"`, 1), true},
		{"empty attrs", with(t0, "attrs", `{}`), true},
		{"null plain strings", strings.Replace(good, `"purpose":"GDDS"`, `"purpose":"GDDS","purpose":null,"channel":null`, 1), true},
		{"null party fields", with(t0, "to", `{"account":"A1","name":null,"type":null,"country":null}`), true},
		{"null required fields", strings.Replace(good, `"currency":"CAD"`, `"currency":null`, 1), true},
		{"empty strings", strings.Replace(good, `"channel":"branch"`, `"channel":"","memo":""`, 1), true},
		{"empty key", strings.Replace(good, `"id":"tx-1"`, `"":1,"id":"tx-1"`, 1), true},
		{"unknown currency", with(t0, "currency", `"XYZ"`), true},
		{"bad time", with(t0, "time", `"2025-02-30T10:00:00Z"`), true},
		{"many attrs", with(t0, "attrs", `{"a0":1`+strings.Repeat(`,"a":"\u00e9","b\n":2`, 40)+`}`), true},
		{"long memo", with(t0, "memo", `"`+strings.Repeat("m", 2000)+`"`), true},

		// encoding/json decides these.
		{"upper-case key", strings.Replace(good, `"id":"tx-1"`, `"ID":"tx-1"`, 1), false},
		{"upper-case key and duplicate", strings.Replace(good, `"id":"tx-1"`, `"id":"tx-1","Id":"tx-2"`, 1), false},
		{"kelvin sign key", strings.Replace(good, `"kind":"cash_deposit"`, `"\u212aind":"wire"`, 1), false},
		{"long s key", strings.Replace(good, `"currency":"CAD"`, `"currency":"CAD","curren\u017fy":"USD"`, 1), false},
		{"escaped key", strings.Replace(good, `"id":"tx-1"`, `"\u0069d":"tx-1"`, 1), false},
		{"id as number", with(t0, "id", `12`), false},
		{"channel as bool", with(t0, "channel", `true`), false},
		{"party as string", with(t0, "to", `"x"`), false},
		{"attrs null value", with(t0, "attrs", `{"a":null}`), false},
		{"attrs nested", with(t0, "attrs", `{"a":[1]}`), false},
		{"two bad attrs", with(t0, "attrs", `{"z":null,"b":{},"m":[],"a":null}`), false},
		{"invalid UTF-8 in key", strings.Replace(good, `"memo"`, `"m\xffmo"`, 1), false},
		{"invalid UTF-8 in unknown field", strings.Replace(good, `"id":"tx-1"`, `"x":["\xc3\x28"],"id":"tx-1"`, 1), false},
		{"UTF-8 surrogate", with(t0, "memo", "\"\xed\xa0\x80\""), false},
		{"invalid UTF-8 outside strings", good + " \xff", false},
		{"control character", strings.Replace(good, "invoice 2291", "invoice\t2291", 1), false},
		{"bad escape", strings.Replace(good, `invoice 2291`, `inv\x`, 1), false},
		{"short unicode escape", strings.Replace(good, `invoice 2291`, `inv\u12`, 1), false},
		{"leading zero", strings.Replace(good, `"a9f"`, `01`, 1), false},
		{"trailing comma", strings.Replace(good, `}}`, `},}`, 1), false},
		{"trailing data", good + `{}`, false},
		{"truncated", good[:len(good)-1], false},
		{"top-level array", `[` + good + `]`, false},
		{"deep nesting", strings.Replace(good, `"id":"tx-1"`, `"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`,"id":"tx-1"`, 1), false},
		{"too many attrs objects", strings.Replace(good, `"purpose"`, strings.Repeat(`"attrs":{"a":1},`, maxAttrObjs)+`"purpose"`, 1), false},
	}
}

func TestDecodeFastMatchesSlow(t *testing.T) {
	for _, c := range trickyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, _, ok := Decoder{}.decodeFast([]byte(c.msg))
			if ok != c.fast {
				t.Errorf("fast path took it: %v, want %v", ok, c.fast)
			}
			sameOutcome(t, []byte(c.msg))
		})
	}
	seeds, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no seed events in testdata/events: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(s), func(t *testing.T) { sameOutcome(t, b) })
	}
}

// TestDecodeFastMutations is a small, exhaustive cousin of FuzzDecodeFast:
// at every position of the contract example it deletes a byte or inserts a
// token that changes the JSON's meaning, and both decoders must agree.
func TestDecodeFastMutations(t *testing.T) {
	tokens := []string{"", "null", `"`, `\\`, `\u00e9`, `\ud800`, "{", "}", "[", "]", ",", ":", " ", "\t",
		"A", "0", "-", "e", ".", "\x00", "\xff", "\xc3", "é", `"x":1,`, `"id":null,`, `"ID":"z",`}
	msg := good
	fast := 0
	for i := 0; i <= len(msg); i++ {
		for _, tok := range tokens {
			var m string
			if tok == "" {
				if i == len(msg) {
					continue
				}
				m = msg[:i] + msg[i+1:]
			} else {
				m = msg[:i] + tok + msg[i:]
			}
			if _, _, ok := (Decoder{}).decodeFast([]byte(m)); ok {
				fast++
			}
			sameOutcome(t, []byte(m))
		}
	}
	if fast == 0 {
		t.Error("the fast path took none of the mutations")
	}
}

// TestDecodeFastValues checks decoded values directly, so that a bug shared
// by both paths (they share validate) shows up too.
func TestDecodeFastValues(t *testing.T) {
	msg := strings.Replace(good, `"memo":"invoice 2291"`, `"memo":"\u00e9\ud83d\ude00\ud800|\"\\\/\n"`, 1)
	msg = strings.Replace(msg, `"purpose"`, `"to":{"city":"x","wallet":"w"},"location":null,"attrs":{"n":-1.5e3,"b":false,"device_id":"z"},"purpose"`, 1)
	e, err, ok := Decoder{}.decodeFast([]byte(msg))
	if !ok || err != nil {
		t.Fatalf("fast path: ok %v, err %v", ok, err)
	}
	if want := "é😀\uFFFD|\"\\/\n"; e.Memo != want {
		t.Errorf("memo %q, want %q", e.Memo, want)
	}
	if e.To.Account != "CA-001-4411902" || e.To.Wallet != "w" || e.Location != nil {
		t.Errorf("merge or null lost: to %+v location %+v", e.To, e.Location)
	}
	// The attrs of good come later: the objects merge and its device_id wins.
	want := map[string]any{"n": json.Number("-1.5e3"), "b": false, "device_id": "a9f"}
	if !reflect.DeepEqual(e.Attrs, want) {
		t.Errorf("attrs %#v, want %#v", e.Attrs, want)
	}
}

// sameOutcome fails unless the fast path either gives up or agrees exactly
// with encoding/json, and unless Decode agrees with encoding/json.
func sameOutcome(t *testing.T, b []byte) {
	t.Helper()
	d := Decoder{}
	want, werr := d.decodeSlow(b)
	if got, gerr, ok := d.decodeFast(b); ok {
		compareOutcome(t, "fast path", b, got, gerr, want, werr)
	}
	got, gerr := d.Decode(b)
	compareOutcome(t, "Decode", b, got, gerr, want, werr)
}

func compareOutcome(t *testing.T, what string, b []byte, got *Event, gerr error, want *Event, werr error) {
	t.Helper()
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%s: error %v, encoding/json: %v\n%q", what, gerr, werr, b)
	}
	if werr != nil {
		var g, w *DecodeError
		if !errors.As(gerr, &g) || !errors.As(werr, &w) {
			t.Fatalf("%s: errors are not *DecodeError: %v, %v", what, gerr, werr)
		}
		if *g != *w {
			t.Fatalf("%s: error %#v, encoding/json: %#v\n%q", what, *g, *w, b)
		}
		if got != nil {
			t.Fatalf("%s: an event came back with the error", what)
		}
		return
	}
	if !identical(got, want) {
		t.Fatalf("%s: event\n%#v\nencoding/json:\n%#v\n%q", what, *got, *want, b)
	}
}

// identical compares events strictly: nil and empty are different, and times
// must be the same instant with the same offset and zone name.
func identical(a, b *Event) bool {
	if !a.Time.Equal(b.Time) || a.Time.Location().String() != b.Time.Location().String() {
		return false
	}
	_, oa := a.Time.Zone()
	_, ob := b.Time.Zone()
	x, y := *a, *b
	x.Time, y.Time = time.Time{}, time.Time{}
	x.blk, y.blk = nil, nil // where it was made, not what it says
	return oa == ob && reflect.DeepEqual(x, y)
}

// FuzzDecodeFast is the differential test of the fast path: for any input it
// must give up or decide exactly as encoding/json does.
func FuzzDecodeFast(f *testing.F) {
	for _, c := range trickyCases(f) {
		f.Add([]byte(c.msg))
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameOutcome(t, b)
	})
}

// BenchmarkDecodeSlow is BenchmarkDecode through encoding/json, for comparison.
func BenchmarkDecodeSlow(b *testing.B) {
	msg := []byte(good)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Decoder{}).decodeSlow(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRelease: a released event is zeroed (so that anything still using
// it sees empty fields, not another event's) while the strings read from
// it stay intact; copies, events made otherwise and nil are left alone.
func TestRelease(t *testing.T) {
	var d Decoder
	e, err := d.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	id, name := e.ID, e.To.Name
	cp := *e
	Release(&cp) // a copy: not the block's own event
	if e.ID != "tx-1" || e.To == nil {
		t.Fatalf("releasing a copy changed the event: %+v", e)
	}
	to := e.To
	Release(e)
	if e.ID != "" || e.To != nil || e.From != nil || e.Location != nil || !e.Time.IsZero() || to.Name != "" {
		t.Errorf("a released event keeps its fields: %+v, to %+v", e, to)
	}
	if id != "tx-1" || name != "Jane Doe" {
		t.Errorf("strings read before the release changed: %q, %q", id, name)
	}
	Release(e) // twice: already given back, nothing happens
	Release(nil)
	lit := &Event{ID: "x"}
	Release(lit)
	if lit.ID != "x" {
		t.Errorf("an event not made by Decode was released: %+v", lit)
	}

	// The next events decode whole, whether or not they reuse the block.
	for range 3 {
		e2, err := d.Decode([]byte(good))
		if err != nil || e2.ID != "tx-1" || e2.To == nil || e2.To.Name != "Jane Doe" || e2.From == nil {
			t.Fatalf("decoding after a release: %+v, %v", e2, err)
		}
		Release(e2)
	}
	if _, err := d.Decode([]byte(strings.Replace(good, `"currency":"CAD"`, `"currency":"XXQ"`, 1))); err == nil {
		t.Fatal("a bad currency decoded") // its block went back on the error
	}
}
