package ingest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type seen struct {
	line      int64
	value     string
	oversized bool
}

func scan(t testing.TB, r io.Reader, max int) []seen {
	t.Helper()
	var out []seen
	err := ScanLines(r, "in.jsonl", max, func(l Line) error {
		if l.Pos.File != "in.jsonl" {
			t.Errorf("position file %q", l.Pos.File)
		}
		s := seen{line: l.Pos.Line, value: string(l.Value)}
		if l.Err != nil {
			if Reason(l.Err) != ReasonOversized || l.Value != nil {
				t.Errorf("line %d: error %v with value %q", l.Pos.Line, l.Err, l.Value)
			}
			s.oversized = true
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScanLines(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want []seen
	}{
		{"plain", "a\nb\nc\n", 0, []seen{{1, "a", false}, {2, "b", false}, {3, "c", false}}},
		{"no trailing newline", "a\nb", 0, []seen{{1, "a", false}, {2, "b", false}}},
		{"CRLF", "a\r\nb\r\n", 0, []seen{{1, "a", false}, {2, "b", false}}},
		{"empty lines skipped but counted", "\na\n\n\r\nb\n\n", 0, []seen{{2, "a", false}, {5, "b", false}}},
		{"empty input", "", 0, nil},
		{"only newlines", "\n\n\n", 0, nil},
		{"spaces are content", " \n", 0, []seen{{1, " ", false}}},
		{"line of exactly max", "abcd\nabcde\n", 4, []seen{{1, "abcd", false}, {2, "", true}}},
		{"line of max+1 with CRLF", "abcd\r\nabcde\r\n", 4, []seen{{1, "abcd", false}, {2, "", true}}},
		{"oversized last line without newline", "a\nabcdefgh", 4, []seen{{1, "a", false}, {2, "", true}}},
		{"oversized in the middle", "a\n" + strings.Repeat("x", 100) + "\nb\n", 10, []seen{{1, "a", false}, {2, "", true}, {3, "b", false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := scan(t, strings.NewReader(c.in), c.max)
			if !equalSeen(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			// The same through a reader that returns one byte at a time.
			got = scan(t, &oneByte{strings.NewReader(c.in)}, c.max)
			if !equalSeen(got, c.want) {
				t.Errorf("one byte at a time: got %+v, want %+v", got, c.want)
			}
		})
	}
}

func equalSeen(a, b []seen) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// A 10 MB line is reported as oversized, is not held in memory, and the lines
// after it are still read.
func TestScanLinesHugeLine(t *testing.T) {
	huge := bytes.Repeat([]byte("x"), 10<<20)
	in := io.MultiReader(strings.NewReader(good+"\n"), bytes.NewReader(huge), strings.NewReader("\n"+good+"\n"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var got []seen
	err := ScanLines(in, "big.jsonl", DefaultMaxMessageBytes, func(l Line) error {
		s := seen{line: l.Pos.Line, oversized: l.Err != nil}
		if l.Err == nil {
			if _, err := Decode(l.Value); err != nil {
				t.Errorf("line %d: %v", l.Pos.Line, err)
			}
		} else if !strings.Contains(l.Err.Error(), "limit is 65536") {
			t.Errorf("oversized error %q should give the limit", l.Err)
		}
		got = append(got, s)
		return nil
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{{1, "", false}, {2, "", true}, {3, "", false}}
	if !equalSeen(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading a 10 MB line allocated %d bytes; an oversized line must not be buffered", alloc)
	}
}

func TestScanLinesStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ScanLines(strings.NewReader("a\nb\nc\n"), "x", 0, func(l Line) error {
		n++
		if l.Pos.Line == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("callback error: got %v after %d lines, want stop after 2", err, n)
	}
	broken := io.MultiReader(strings.NewReader("a\n"), errReader{})
	if err := ScanLines(broken, "x", 0, func(Line) error { return nil }); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reader error: got %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReadLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte(good+"\r\n\r\n{bad\r\n"+good), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []int64
	var reasons []string
	err := ReadLines(p, 0, func(l Line) error {
		lines = append(lines, l.Pos.Line)
		if l.Pos.File != p || l.Pos.String() != p+":"+itoa(int(l.Pos.Line)) {
			t.Errorf("position %v", l.Pos)
		}
		_, err := Decode(l.Value)
		reasons = append(reasons, Reason(err))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0] != 1 || lines[1] != 3 || lines[2] != 4 {
		t.Errorf("lines %v, want [1 3 4]", lines)
	}
	if strings.Join(reasons, ",") != ","+ReasonMalformed+"," {
		t.Errorf("reasons %q", reasons)
	}
	if err := ReadLines(filepath.Join(t.TempDir(), "missing.jsonl"), 0, func(Line) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzScanLines checks ScanLines against a plain split on "\n".
func FuzzScanLines(f *testing.F) {
	f.Add([]byte("a\nb\n"), 4)
	f.Add([]byte("a\r\n\r\n\nabcdef\nb"), 3)
	f.Add([]byte("\r\r\r\r\r\n"), 2)
	f.Add([]byte(good+"\n"+good), 600)
	seeds, _ := filepath.Glob(filepath.Join("testdata", "lines", "*.jsonl"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 64)
	}
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<20 {
			return
		}
		var want []seen
		raw := bytes.Split(in, []byte("\n"))
		for i, r := range raw {
			last := i == len(raw)-1
			if last && len(r) == 0 {
				break // input ended with a newline
			}
			rawLen := len(r)
			if !last {
				rawLen++
			}
			content := bytes.TrimRight(r, "\r\n")
			switch {
			case len(content) > max || rawLen > max+2:
				want = append(want, seen{int64(i + 1), "", true})
			case len(content) > 0:
				want = append(want, seen{int64(i + 1), string(content), false})
			}
		}
		got := scan(t, bytes.NewReader(in), max)
		if !equalSeen(got, want) {
			t.Fatalf("max %d %q:\ngot  %+v\nwant %+v", max, in, got, want)
		}
	})
}
