package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// cpuUse is the CPU time the processes of a latency run took, and the
// machine's busy and total time, all in seconds. On a shared machine the
// latency percentiles move with what else runs; the CPU an event costs
// each process does much less, so the bench gives both.
type cpuUse struct {
	sluice, redis, load float64
	gc, gcCycles        float64 // of sluice: its garbage collection's CPU, and how many collections
	busy, total         float64 // the machine's, all cores
	known               bool    // false where /proc or Redis's INFO did not answer
}

func (c cpuUse) sub(b cpuUse) cpuUse {
	return cpuUse{c.sluice - b.sluice, c.redis - b.redis, c.load - b.load, c.gc - b.gc, c.gcCycles - b.gcCycles, c.busy - b.busy, c.total - b.total, c.known && b.known}
}

func (c cpuUse) add(b cpuUse) cpuUse {
	return cpuUse{c.sluice + b.sluice, c.redis + b.redis, c.load + b.load, c.gc + b.gc, c.gcCycles + b.gcCycles, c.busy + b.busy, c.total + b.total, c.known && b.known}
}

// gcMetrics are the runtime's own account of its collections: their CPU
// (its estimate: marking, assists, idle marking, pauses) and their number.
var gcMetrics = []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}

// cpuNow reads the CPU time of this process, of the load process and of the
// Redis server (nil rdb: none), and the machine's.
func cpuNow(ctx context.Context, loadPid int, rdb *redis.Client) cpuUse {
	c := cpuUse{known: true}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		c.known = false
	}
	c.sluice = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	ms := slices.Clone(gcMetrics)
	metrics.Read(ms)
	if ms[0].Value.Kind() == metrics.KindFloat64 && ms[1].Value.Kind() == metrics.KindUint64 {
		c.gc, c.gcCycles = ms[0].Value.Float64(), float64(ms[1].Value.Uint64())
	}
	var ok bool
	if c.load, ok = procCPU(loadPid); !ok {
		c.known = false
	}
	if rdb != nil {
		if c.redis, ok = redisCPU(ctx, rdb); !ok {
			c.known = false
		}
	}
	if c.busy, c.total, ok = machineCPU(); !ok {
		c.known = false
	}
	return c
}

// clockTicks is Linux's USER_HZ, the unit of /proc's times, 100 on every
// architecture Go supports.
const clockTicks = 100

// procCPU is a process's user and system time from /proc.
func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	k, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (u + k) / clockTicks, true
}

// redisCPU is the server's own account of its CPU time (INFO cpu), which
// holds wherever it runs.
func redisCPU(ctx context.Context, rdb *redis.Client) (float64, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, false
	}
	var sum float64
	n := 0
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, false
			}
			sum += x
			n++
		}
	}
	return sum, n == 2
}

// machineCPU is the busy and total time of all cores, from /proc/stat.
func machineCPU() (busy, total float64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, x := range fields[1:] {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / clockTicks, total / clockTicks, true
}

// cpuLine says what an event cost each process in CPU, and how busy the
// machine was, over events.
func cpuLine(c cpuUse, events int) string {
	us, busy, ok := c.perEvent(events)
	if !ok {
		return ""
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	line := "Sluice " + f(us.sluice) + " µs"
	if c.gcCycles > 0 {
		// Its harm is when it runs (every handler slows while it marks)
		// more than how much it takes, hence the count.
		line += fmt.Sprintf(" (garbage collection %s µs, %.0f collections)", f(us.gc), c.gcCycles)
	}
	if c.redis > 0 {
		line += ", Redis " + f(us.redis) + " µs"
	}
	return fmt.Sprintf("%s, the load process (producer and broker) %s µs; the machine's cores were %.0f%% busy", line, f(us.load), 100*busy)
}

// perEvent is the processes' CPU in microseconds an event over events
// (sluice, gc, redis, load) and the share of the machine that was busy;
// false where it was not measured.
func (c cpuUse) perEvent(events int) (us cpuUse, busy float64, ok bool) {
	if !c.known || events == 0 || c.total <= 0 {
		return cpuUse{}, 0, false
	}
	k := 1e6 / float64(events)
	return cpuUse{sluice: c.sluice * k, gc: c.gc * k, redis: c.redis * k, load: c.load * k}, c.busy / c.total, true
}
