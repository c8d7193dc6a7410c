package filesink

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sluice-aml/sluice/alerts"
)

type key struct {
	id      string
	version int
}

// Sink writes alerts to a writer. It is safe for concurrent use.
type Sink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	f    *os.File // set by Create, for Sync and Close
	c    io.Closer
	seen map[key]struct{}
	buf  []byte
}

// New writes to w. Close flushes but closes w only if it is an io.Closer
// other than os.Stdout.
func New(w io.Writer) *Sink {
	s := &Sink{w: bufio.NewWriterSize(w, 64<<10), seen: make(map[key]struct{})}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		s.f = f
	}
	if c, ok := w.(io.Closer); ok && w != io.Writer(os.Stdout) {
		s.c = c
	}
	return s
}

// Create creates (or truncates) the file at path; "-" is standard output.
func Create(path string) (*Sink, error) {
	if path == "-" {
		return New(os.Stdout), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("alerts file: %w", err)
	}
	return New(f), nil
}

// Write appends every alert version not written before, one line each, in
// the order given, and flushes to the underlying writer before returning.
// An alert without an id is refused: it could never be deduplicated.
func (s *Sink) Write(as []alerts.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var batch map[key]struct{} // versions in this call, committed on success
	for i, a := range as {
		if a.ID == "" {
			return fmt.Errorf("alerts file: alert %d of %d has no id", i+1, len(as))
		}
		k := key{a.ID, a.Version}
		if _, ok := s.seen[k]; ok {
			continue
		}
		if _, ok := batch[k]; ok {
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("alerts file: encode alert %s: %w", a.ID, err)
		}
		s.buf = append(s.buf[:0], b...)
		s.buf = append(s.buf, '\n')
		if _, err := s.w.Write(s.buf); err != nil {
			return fmt.Errorf("alerts file: %w", err)
		}
		if batch == nil {
			batch = make(map[key]struct{})
		}
		batch[k] = struct{}{}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	// Only now, with the lines handed to the writer, are they "written".
	// (After a write error bufio stays failed: open a new sink.)
	for k := range batch {
		s.seen[k] = struct{}{}
	}
	return nil
}

// Sync flushes and, for a file, asks the OS to make the bytes durable;
// call it before committing offsets past the alerts written.
func (s *Sink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	if s.f != nil {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("alerts file: sync: %w", err)
		}
	}
	return nil
}

// Close flushes and closes the underlying writer (never standard output).
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.w.Flush()
	if s.c != nil {
		if cerr := s.c.Close(); err == nil {
			err = cerr
		}
		s.c = nil
	}
	if err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	return nil
}
