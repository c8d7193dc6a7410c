package filesink

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluice-aml/sluice/alerts"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.jsonl")

func loadAlerts(t testing.TB) []alerts.Alert {
	t.Helper()
	b, err := os.ReadFile("testdata/input.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []alerts.Alert
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var a alerts.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("testdata/input.jsonl line %d: %v", len(out)+1, err)
		}
		out = append(out, a)
	}
	return out
}

// Writing the same batches through two sinks gives the golden bytes both
// times, with duplicates dropped and a higher version kept.
func TestGolden(t *testing.T) {
	as := loadAlerts(t)
	v2 := as[0]
	v2.Version, v2.Score, v2.Updated = 2, 93, "2025-03-04T19:40:00-08:00"
	batches := [][]alerts.Alert{
		as[:2],
		{as[0], as[1], as[2]}, // redelivery overlapping the first batch
		{v2, as[3], v2},       // an update, twice
		{as[0]},               // a late copy of version 1
	}
	run := func() []byte {
		var buf bytes.Buffer
		s := New(&buf)
		for _, b := range batches {
			if err := s.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		return buf.Bytes()
	}
	got, again := run(), run()
	if !bytes.Equal(got, again) {
		t.Fatal("two runs over the same alerts wrote different bytes")
	}
	if *update {
		if err := os.WriteFile("testdata/golden.jsonl", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/golden.jsonl")
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from testdata/golden.jsonl:\n%s", got)
	}
	// Five lines: the four alerts once and version 2 once; each line is
	// exactly json.Marshal of the alert.
	lines := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
	wantAlerts := []alerts.Alert{as[0], as[1], as[2], v2, as[3]}
	if len(lines) != len(wantAlerts) {
		t.Fatalf("%d lines, want %d", len(lines), len(wantAlerts))
	}
	for i, a := range wantAlerts {
		b, _ := json.Marshal(a)
		if !bytes.Equal(lines[i], b) {
			t.Errorf("line %d = %s, want %s", i+1, lines[i], b)
		}
	}
}

func TestCreateSyncClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	s, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	as := loadAlerts(t)
	if err := s.Write(as); err != nil {
		t.Fatal(err)
	}
	// Write flushes: the lines are in the file before Sync or Close.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != len(as) {
		t.Errorf("file has %d lines after Write, want %d", n, len(as))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "dir", "a.jsonl")); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

func TestRejectsEmptyID(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf)
	if err := s.Write([]alerts.Alert{{Version: 1}}); err == nil {
		t.Error("Write of an alert without id succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	s := New(failWriter{})
	if err := s.Write(loadAlerts(t)); err == nil {
		t.Error("Write to a failing writer succeeded")
	}
}

func TestConcurrentWrites(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf)
	as := loadAlerts(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Write(as); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != len(as) {
		t.Errorf("%d lines from 8 concurrent writes of the same %d alerts, want %d", n, len(as), len(as))
	}
}

func BenchmarkWrite(b *testing.B) {
	as := loadAlerts(b)
	var buf bytes.Buffer
	s := New(&buf)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		a := as[i%len(as)]
		a.Version = i
		i++
		if err := s.Write([]alerts.Alert{a}); err != nil {
			b.Fatal(err)
		}
		if buf.Len() > 1<<20 {
			buf.Reset()
		}
	}
}
