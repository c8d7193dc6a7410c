package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// A recorded topic, exported with kcat (`kcat -C -J -e -t transactions`),
// is one JSON object a line per Kafka record: where it was (topic,
// partition, offset), when it was produced (ts, in unix milliseconds),
// its key and its payload. Replayed from such a file, events keep the
// positions and produced times they had live, so the alerts name the same
// source positions, lateness is applied per partition and events dated
// too far after they were produced are refused, as the live processor did.
type kcatRecord struct {
	Topic     string          `json:"topic"`
	Partition *int32          `json:"partition"`
	Offset    *int64          `json:"offset"`
	TsType    string          `json:"tstype"`
	Ts        int64           `json:"ts"`
	Key       json.RawMessage `json:"key"`
	Payload   json.RawMessage `json:"payload"`
}

// Record is a Kafka record read back from an export.
type Record struct {
	Value, Key []byte
	Produced   time.Time // zero when the record had no timestamp
	Pos        Position
}

// DecodeKcat decodes one line of `kcat -J` output. The payload must fit
// maxBytes (DefaultMaxMessageBytes when 0), as on the topic.
func DecodeKcat(line []byte, maxBytes int) (Record, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	var k kcatRecord
	d := json.NewDecoder(bytes.NewReader(line))
	if err := d.Decode(&k); err != nil {
		return Record{}, &DecodeError{Reason: ReasonMalformed, Detail: "not a kcat -J record: " + err.Error()}
	}
	if _, err := d.Token(); err != io.EOF {
		return Record{}, &DecodeError{Reason: ReasonMalformed, Detail: "not a kcat -J record: more after the object"}
	}
	switch {
	case k.Topic == "":
		return Record{}, &DecodeError{Field: "topic", Reason: ReasonMissing, Detail: "a kcat -J record names its topic"}
	case k.Partition == nil || *k.Partition < 0:
		return Record{}, &DecodeError{Field: "partition", Reason: ReasonMissing, Detail: "a kcat -J record gives its partition"}
	case k.Offset == nil || *k.Offset < 0:
		return Record{}, &DecodeError{Field: "offset", Reason: ReasonMissing, Detail: "a kcat -J record gives its offset"}
	}
	pos := Position{Topic: k.Topic, Partition: *k.Partition, Offset: *k.Offset}
	value, err := rawString(k.Payload)
	if err != nil {
		return Record{Pos: pos}, &DecodeError{Field: "payload", Reason: ReasonMalformed, Detail: err.Error()}
	}
	if value == nil {
		return Record{Pos: pos}, &DecodeError{Field: "payload", Reason: ReasonMissing, Detail: "the record has no value (a tombstone)"}
	}
	if len(value) > maxBytes {
		return Record{Pos: pos}, oversized(len(value), maxBytes)
	}
	r := Record{Value: value, Pos: pos}
	if r.Key, err = rawString(k.Key); err != nil {
		return Record{Pos: pos}, &DecodeError{Field: "key", Reason: ReasonMalformed, Detail: err.Error()}
	}
	// kcat prints ts -1 (or no tstype) for a record without a timestamp.
	if (k.TsType == "create" || k.TsType == "logappend") && k.Ts >= 0 {
		r.Produced = time.UnixMilli(k.Ts)
	}
	return r, nil
}

// rawString unquotes a JSON string into its bytes (nil for null or
// absent) keeping bytes that are not UTF-8 as they are: kcat writes a
// payload's bytes as they came, escaping only quotes, backslashes and
// control characters, and the live decoder refuses a payload that is not
// UTF-8 (invalid_utf8), which a replay must too; encoding/json would put
// U+FFFD in their place. The decoder has checked the string's syntax.
func rawString(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return nil, fmt.Errorf("%.20q is not a string", raw)
	}
	var sb strings.Builder
	unquote(&sb, raw[1:len(raw)-1])
	return []byte(sb.String()), nil
}
