package ingest

import (
	"bufio"
	"errors"
	"io"
	"os"
	"time"
)

// Line is one line of a JSON Lines stream and where it was.
type Line struct {
	Value []byte // without the newline; nil when the line was oversized
	Pos   Position
	Err   error // *DecodeError{Reason: oversized} for a line over the limit

	// Key and Produced are a Kafka record's, when the line was one (an
	// export read with DecodeKcat).
	Key      []byte
	Produced time.Time
}

// ReadLines reads a JSON Lines stream (name "-" is stdin) and calls fn for
// each non-empty line in order, with its 1-based line number. A line over
// maxBytes is not held in memory: fn gets it with an oversized error and
// reading goes on. The slice passed to fn is only valid during the call.
func ReadLines(name string, maxBytes int, fn func(Line) error) error {
	r, err := Open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	return ScanLines(r, name, maxBytes, fn)
}

// Open opens a recorded stream by name; "-" is stdin, which Close leaves open.
func Open(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(name)
}

// ScanLines is ReadLines over any reader.
func ScanLines(r io.Reader, name string, maxBytes int, fn func(Line) error) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var buf []byte
	var lineNo int64
	oversized := false
	size := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil && size == 0 && len(chunk) <= maxBytes+2 {
			// The whole line is in the reader's buffer: hand it over from
			// there (fn's slice is only valid during the call).
			lineNo++
			if e := emit(name, lineNo, chunk, false, len(chunk), maxBytes, fn); e != nil {
				return e
			}
			continue
		}
		if len(chunk) > 0 || err == nil {
			complete := err == nil
			if !oversized {
				if size+len(chunk) > maxBytes+2 { // +2 for "\r\n"
					oversized = true
					buf = buf[:0]
				} else {
					buf = append(buf, chunk...)
				}
			}
			size += len(chunk)
			if complete || (err != nil && !errors.Is(err, bufio.ErrBufferFull)) {
				lineNo++
				if e := emit(name, lineNo, buf, oversized, size, maxBytes, fn); e != nil {
					return e
				}
				buf, oversized, size = buf[:0], false, 0
			}
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func emit(name string, lineNo int64, buf []byte, oversized bool, size, maxBytes int, fn func(Line) error) error {
	pos := Position{File: name, Line: lineNo}
	for len(buf) > 0 && (buf[len(buf)-1] == '\n' || buf[len(buf)-1] == '\r') {
		buf = buf[:len(buf)-1]
	}
	// The running size allows for "\r\n"; the line itself must fit maxBytes.
	if oversized || len(buf) > maxBytes {
		return fn(Line{Pos: pos, Err: &DecodeError{Reason: ReasonOversized, Detail: "line is " + itoa(size) + " bytes, limit is " + itoa(maxBytes)}})
	}
	if len(buf) == 0 {
		return nil
	}
	return fn(Line{Value: buf, Pos: pos})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
