package ingest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecodeKcat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       Record
		reason     string // the DecodeError's reason; "" for none
	}{
		{"a record", `{"topic":"tx","partition":3,"offset":41,"tstype":"create","ts":1733461234567,"broker":0,"headers":["h","v"],"key":"CA-1","payload":"{\"id\":\"t1\"}"}`,
			Record{Value: []byte(`{"id":"t1"}`), Key: []byte("CA-1"), Produced: time.UnixMilli(1733461234567), Pos: Position{Topic: "tx", Partition: 3, Offset: 41}}, ""},
		{"no key, broker time", `{"topic":"tx","partition":0,"offset":0,"tstype":"logappend","ts":5,"key":null,"payload":"x"}`,
			Record{Value: []byte("x"), Produced: time.UnixMilli(5), Pos: Position{Topic: "tx"}}, ""},
		{"no timestamp", `{"topic":"tx","partition":0,"offset":7,"tstype":"none","ts":-1,"payload":"x"}`,
			Record{Value: []byte("x"), Pos: Position{Topic: "tx", Offset: 7}}, ""},
		{"a tombstone", `{"topic":"tx","partition":1,"offset":2,"payload":null}`, Record{Pos: Position{Topic: "tx", Partition: 1, Offset: 2}}, ReasonMissing},
		{"too big", `{"topic":"tx","partition":1,"offset":2,"payload":"` + strings.Repeat("a", 33) + `"}`, Record{Pos: Position{Topic: "tx", Partition: 1, Offset: 2}}, ReasonOversized},
		{"no offset", `{"topic":"tx","partition":1,"payload":"x"}`, Record{}, ReasonMissing},
		{"no topic", `{"partition":1,"offset":2,"payload":"x"}`, Record{}, ReasonMissing},
		{"an event, not a record", `{"id":"t1","time":"2025-03-04T10:00:00Z"}`, Record{}, ReasonMissing},
		{"two objects", `{"topic":"tx","partition":0,"offset":0,"payload":"x"}{}`, Record{}, ReasonMalformed},
		{"not JSON", `topic=tx`, Record{}, ReasonMalformed},
		// kcat writes bytes that are not UTF-8 as they are: kept, so the
		// event decoder refuses them as live did.
		{"bytes that are not UTF-8", "{\"topic\":\"tx\",\"partition\":0,\"offset\":1,\"payload\":\"\xff\xfe a\\tb \\u00e9 \\ud83d\\ude00\"}",
			Record{Value: []byte("\xff\xfe a\tb é 😀"), Pos: Position{Topic: "tx", Offset: 1}}, ""},
	} {
		got, err := DecodeKcat([]byte(tc.line), 32)
		if Reason(err) != tc.reason {
			t.Errorf("%s: error %v, want reason %q", tc.name, err, tc.reason)
			continue
		}
		if string(got.Value) != string(tc.want.Value) || string(got.Key) != string(tc.want.Key) || !got.Produced.Equal(tc.want.Produced) || got.Pos != tc.want.Pos {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzDecodeKcat: any line either decodes to a record that says where it
// was and fits the limit, and encodes back to the same record, or is
// refused with a reason.
func FuzzDecodeKcat(f *testing.F) {
	f.Add([]byte(`{"topic":"tx","partition":3,"offset":41,"tstype":"create","ts":1733461234567,"broker":0,"headers":["h","v"],"key":"CA-1","payload":"{\"id\":\"t1\"}"}`))
	f.Add([]byte(`{"topic":"tx","partition":1,"offset":2,"payload":null}`))
	f.Add([]byte(`{"topic":"é","partition":0,"offset":0,"tstype":"none","ts":-1,"payload":"\u0000"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := DecodeKcat(line, 1024)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refused without a reason: %v", err)
			}
			return
		}
		if r.Pos.Topic == "" || r.Pos.Partition < 0 || r.Pos.Offset < 0 || len(r.Value) > 1024 {
			t.Fatalf("accepted %+v", r)
		}
		// Written back as kcat writes it.
		b := fmt.Appendf(nil, `{"topic":%s,"partition":%d,"offset":%d,"payload":%s`, kcatQuote([]byte(r.Pos.Topic)), r.Pos.Partition, r.Pos.Offset, kcatQuote(r.Value))
		if !r.Produced.IsZero() {
			b = fmt.Appendf(b, `,"tstype":"create","ts":%d`, r.Produced.UnixMilli())
		}
		if r.Key != nil {
			b = fmt.Appendf(b, `,"key":%s`, kcatQuote(r.Key))
		}
		b = append(b, '}')
		again, err := DecodeKcat(b, 1024)
		if err != nil || string(again.Value) != string(r.Value) || string(again.Key) != string(r.Key) || again.Pos != r.Pos || !again.Produced.Equal(r.Produced) {
			t.Fatalf("%+v encoded as %s decodes to %+v, %v", r, b, again, err)
		}
	})
}

// kcatQuote quotes b as kcat -J does: quotes, backslashes and control
// characters escaped, every other byte as it is.
func kcatQuote(b []byte) []byte {
	out := []byte{'"'}
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = fmt.Appendf(out, `\u%04x`, c)
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
