package ingest

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measure(name string, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Hour
	for r := 0; r < 7; r++ {
		runtime.GC()
		t := threadCPU()
		const n = 100000
		for i := 0; i < n; i++ {
			f()
		}
		if d := (threadCPU() - t) / n; d < best {
			best = d
		}
	}
	fmt.Fprintf(os.Stderr, "%-12s %v/op (thread CPU, best of 7)\n", name, best)
}

func TestTmpMeasure(t *testing.T) {
	msg := []byte(good)
	measure("scan", func() {
		var s fastScanner
		if !s.scan(msg) {
			t.Fatal("no")
		}
	})
	measure("fast", func() { Decode(msg) })
	measure("slow", func() { Decoder{}.decodeSlow(msg) })
}

func TestTmpLoop(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("TMPN"), &n)
	which := os.Getenv("TMPW")
	msg := []byte(good)
	for i := 0; i < n; i++ {
		switch which {
		case "scan":
			var s fastScanner
			s.scan(msg)
		case "fast":
			Decode(msg)
		case "slow":
			Decoder{}.decodeSlow(msg)
		}
	}
}
