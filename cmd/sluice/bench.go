package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/gen"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/window"
)

func benchCmd(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cf commonFlags
	cf.register(fs)
	store := fs.String("store", "redis", "window store: memory or redis")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis `address` for --store redis: host:port, or a unix socket's path")
	events := fs.Int("events", 200_000, "events in the throughput run")
	customers := fs.Int("customers", 0, "customers of the generated bank (default events/150, at least 300): a larger bank has more distinct keys, fewer updates of one key to merge and more alerts, and costs more per event")
	partitions := fs.Int("partitions", 8, "partitions of the transactions topic")
	latencySecs := fs.Duration("latency-duration", 10*time.Second, "length of the latency run at half the measured rate (0 skips it)")
	rate := fs.Float64("rate", 0, "events/s of the latency run (default half the measured throughput): compare latencies at one rate")
	var rates rateList
	fs.Var(&rates, "rates", "latency runs at each of these comma-separated `events/s` (instead of --rate), printed as a table with the highest rate whose p99 is within --p99: how latency grows with load, and what rate this machine sustains")
	p99Target := fs.Duration("p99", 25*time.Millisecond, "with --rates, the p99 a rate must keep to count as sustained")
	batches := fs.String("batches", "", "write the latency run's batches (start, messages, handler time, oldest event's latency) and Sluice's garbage collections to this CSV `file`, to see what a latency spike lines up with")
	traceFile := fs.String("trace", "", "write an execution trace (runtime/trace) of the first latency run to this `file`, each batch's handling a region named batch: what a slow batch waited for")
	rounds := fs.Int("rounds", 1, "latency runs, each on its own topic with fresh stores; with more than one the line gives their medians, as these machines are noisy")
	noop := fs.Bool("no-op", false, "hand the batches to a handler that does nothing: the producer, broker and consumer alone, the floor under the latency figures")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice bench [--store memory|redis] [flags]\n\nEnd-to-end benchmark through the Kafka protocol (embedded broker) and the\nwindow store, with the rule set in force: events/s at full speed, then\nlatency percentiles (p50, p99, p999) at half that rate.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *rounds < 1 || *rounds > 20 {
		fmt.Fprintf(os.Stderr, "sluice bench: --rounds %d must be between 1 and 20\n", *rounds)
		return exitUsage
	}
	if *store != "memory" && *store != "redis" {
		fmt.Fprintf(os.Stderr, "sluice bench: --store %q must be memory or redis\n", *store)
		return exitUsage
	}
	if len(rates) > 0 && *rate > 0 {
		fmt.Fprintln(os.Stderr, "sluice bench: --rate and --rates: give one or the other")
		return exitUsage
	}
	if len(rates) > 0 && *latencySecs <= 0 {
		fmt.Fprintln(os.Stderr, "sluice bench: --rates needs a latency run (--latency-duration above 0)")
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		return fail("bench", err)
	}
	cleanup, err := useEmbeddedDefaults(cfg)
	if err != nil {
		return fail("bench", err)
	}
	defer cleanup()
	stop, err := cf.profile()
	if err != nil {
		return fail("bench", err)
	}
	defer stop()
	res, err := bench(context.Background(), cfg, benchOptions{store: *store, redis: *redisAddr, events: *events, customers: *customers, partitions: *partitions, latency: *latencySecs, rate: *rate, rates: rates, p99Target: *p99Target, rounds: *rounds, noop: *noop, batches: *batches, trace: *traceFile})
	if err != nil {
		return fail("bench", err)
	}
	res.print(os.Stdout)
	return exitOK
}

// maxLatencyEvents bounds the latency run's stream (about 2 GB held).
const maxLatencyEvents = 3_000_000

type benchOptions struct {
	store, redis       string
	events, partitions int
	customers          int // of the generated bank; 0: events/150
	latency            time.Duration
	rate               float64       // latency run's rate; 0: half the throughput
	rates              []float64     // latency runs at each, instead of rate
	p99Target          time.Duration // with rates: the p99 of a sustained rate
	rounds             int           // latency runs (0 or 1: one)
	noop               bool          // a handler that does nothing
	batches            string        // CSV file of the latency run's batches
	trace              string        // execution trace of the first latency run
}

type benchResult struct {
	opts          benchOptions
	ruleset       string
	rules         int
	throughput    float64 // events/s
	alerts        int64
	rate          float64 // latency run's offered rate
	achieved      float64 // and the rate the producer kept up (0: unknown)
	latencyEvents int
	p50, p99      time.Duration
	p999          time.Duration
	// The share before Sluice's handler: producer timestamp to the batch
	// reaching it (producer, broker, fetch, the wait for a free worker),
	// which on this rig share the cores with Sluice.
	in50, in99 time.Duration
	steps      map[string][]time.Duration // the latency run's, per batch
	// window is what the Redis window store's Applys cost in the latency
	// run (all rounds'), when it is the store.
	window window.RedisStats
	// cpu is what the latency run (all rounds) cost each process.
	cpu cpuUse
	// rounds are the latency runs, when more than one; the fields above
	// are then their medians (steps: all rounds' batches).
	rounds []*benchResult
	// sweep is the latency at each of opts.rates, when given; the
	// latency fields above are then unset.
	sweep []*benchResult
}

// handled is how many events the latency run handled, all its rounds'.
func (r *benchResult) handled() int { return r.latencyEvents * max(1, len(r.rounds)) }

// printSweep prints the latency at each rate of --rates, a row each, and
// the highest rate whose p99 kept within the target.
func (r *benchResult) printSweep(w io.Writer) {
	medians := ""
	if n := max(1, r.opts.rounds); n > 1 {
		medians = fmt.Sprintf("; medians of %d rounds", n)
	}
	fmt.Fprintf(w, "latency by offered rate (produced -> windows and alerts durable%s; CPU per event of Sluice / Redis / the load process):\n", medians)
	fmt.Fprintf(w, "  %9s %9s %9s %9s %9s  %-22s %s\n", "events/s", "achieved", "p50", "p99", "p999", "CPU per event", "cores busy")
	sustained := 0.0
	for _, x := range r.sweep {
		cpu, busy := "-", "-"
		if us, b, ok := x.cpu.perEvent(x.handled()); ok {
			redis := "-"
			if r.opts.store == "redis" {
				redis = strconv.FormatFloat(us.redis, 'f', 1, 64)
			}
			cpu = fmt.Sprintf("%.1f / %s / %.1f µs", us.sluice, redis, us.load)
			busy = fmt.Sprintf("%.0f%%", 100*b)
		}
		fmt.Fprintf(w, "  %9.0f %9.0f %9s %9s %9s  %-22s %s\n", x.rate, x.achieved, x.p50.Round(10*time.Microsecond),
			x.p99.Round(10*time.Microsecond), x.p999.Round(10*time.Microsecond), cpu, busy)
		if x.p99 <= r.opts.p99Target {
			sustained = max(sustained, x.rate)
		}
	}
	if sustained > 0 {
		fmt.Fprintf(w, "sustained with p99 within %s: %.0f events/s (the highest of these rates that kept it)\n", r.opts.p99Target, sustained)
	} else {
		fmt.Fprintf(w, "sustained with p99 within %s: none of these rates\n", r.opts.p99Target)
	}
}

// rateList is --rates: events/s, comma-separated.
type rateList []float64

func (l *rateList) String() string {
	var parts []string
	for _, r := range *l {
		parts = append(parts, strconv.FormatFloat(r, 'f', -1, 64))
	}
	return strings.Join(parts, ",")
}

func (l *rateList) Set(v string) error {
	*l = nil
	for part := range strings.SplitSeq(v, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) { // !(r > 0): NaN too
			return fmt.Errorf("%q is not a rate in events/s above 0", part)
		}
		*l = append(*l, r)
	}
	if len(*l) > 10 {
		return fmt.Errorf("%d rates, at most 10", len(*l))
	}
	return nil
}

func (r *benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "machine: %s, %d cores, %s %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "settings: store=%s partitions=%d events=%d customers=%d rules=%d ruleset=%s; broker (kfake, Kafka protocol over TCP) and load generator in a process of their own on the same cores\n",
		r.opts.store, r.opts.partitions, r.opts.events, benchGen(r.opts.events, r.opts.customers).Customers, r.rules, shortHash(r.ruleset))
	if r.opts.noop {
		fmt.Fprintln(w, "handler: no-op (--no-op): the producer, broker and consumer alone, nothing of Sluice's work")
	}
	fmt.Fprintf(w, "throughput: %.0f events/s end to end (%d alert versions written; the count depends on where batches were cut, the final alerts do not)\n", r.throughput, r.alerts)
	if len(r.sweep) > 0 {
		r.printSweep(w)
		return
	}
	if r.latencyEvents > 0 {
		achieved := ""
		if r.achieved > 0 {
			achieved = fmt.Sprintf(", %.0f achieved", r.achieved)
		}
		medians := ""
		if len(r.rounds) > 1 {
			medians = fmt.Sprintf(", medians of %d rounds", len(r.rounds))
		}
		fmt.Fprintf(w, "latency at %.0f events/s (%d events%s%s): p50 %s  p99 %s  p999 %s (produced -> windows and alerts durable; the evidence and history held back, then the offsets, are written after, in the background)\n",
			r.rate, r.latencyEvents, achieved, medians, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.p999.Round(10*time.Microsecond))
		fmt.Fprintf(w, "  of which before the handler: p50 %s  p99 %s (producer, broker, fetch and the wait for a free worker)\n",
			r.in50.Round(10*time.Microsecond), r.in99.Round(10*time.Microsecond))
		for i, x := range r.rounds {
			fmt.Fprintf(w, "  round %d: %.0f achieved, p50 %s  p99 %s  p999 %s, before the handler p50 %s  p99 %s\n", i+1, x.achieved,
				x.p50.Round(10*time.Microsecond), x.p99.Round(10*time.Microsecond), x.p999.Round(10*time.Microsecond),
				x.in50.Round(10*time.Microsecond), x.in99.Round(10*time.Microsecond))
		}
		if ws := r.window; ws.Writes > 0 {
			k := float64(r.handled()) / 1000
			fmt.Fprintf(w, "  the window store, per 1,000 events: %.0f keys written, %.0f read (not cached, or changed by the other worker), %.1f writes refused as another writer was first\n",
				float64(ws.Writes)/k, float64(ws.Misses)/k, float64(ws.Conflicts)/k)
		}
		if line := cpuLine(r.cpu, r.handled()); line != "" {
			fmt.Fprintf(w, "  CPU per event: %s\n", line)
		}
		if line := stepsLine(r.steps); line != "" {
			fmt.Fprintf(w, "  the handler's steps, per batch, p50 / p99: %s (the stores run at once, the registry beside them; with Redis the evidence and registry steps only hold their writes back, and flush writes them before each offset commit, off the batches' path)\n", line)
		}
	}
}

func bench(ctx context.Context, cfg *config.Config, o benchOptions) (*benchResult, error) {
	res := &benchResult{opts: o}
	rounds := max(1, o.rounds)
	load, err := startLoad(o.events, o.customers, o.partitions, rounds*max(1, len(o.rates)), cfg.Kafka.DeadLetterTopic, cfg.Kafka.AlertsTopic)
	if err != nil {
		return nil, err
	}
	defer load.Close()
	cfg.Kafka.Brokers = []string{load.addr}

	// The stream is the generator's bank (the load process generates it);
	// its customers' profiles are Sluice's.
	customers, err := gen.Profiles(benchGen(o.events, o.customers))
	if err != nil {
		return nil, err
	}
	p, err := loadParts(cfg)
	if err != nil {
		return nil, err
	}
	p.profiles = profilesOf(customers)
	res.ruleset, res.rules = p.rules.Current().Hash, len(p.rules.Current().Rules)

	newStores := func(run string) (stores, func(), error) {
		if o.store == "memory" {
			return memoryStores(cfg), func() {}, nil
		}
		rdb := redis.NewClient(&redis.Options{Addr: o.redis, PoolSize: 32, ReadBufferSize: redisBuffer, WriteBufferSize: redisBuffer})
		prefix := fmt.Sprintf("sluice-bench:%d:%s:", os.Getpid(), run)
		st, err := redisStores(cfg, rdb, prefix, time.Hour)
		if err != nil {
			rdb.Close()
			return stores{}, nil, err
		}
		return st, func() { deleteKeys(context.Background(), rdb, prefix); rdb.Close() }, nil
	}

	// Throughput: everything produced first, then consumed as fast as possible.
	if err := load.send("throughput"); err != nil {
		return nil, err
	}
	f, err := load.reply("done")
	if err != nil {
		return nil, err
	}
	produced, _ := strconv.Atoi(f[0])
	st, done, err := newStores("tp")
	if err != nil {
		return nil, err
	}
	n, alertsN, elapsed, _, err := consume(ctx, p, cfg, throughputTopic, st, produced, o.noop, nil)
	done()
	if err != nil {
		return nil, err
	}
	res.throughput = float64(n) / elapsed.Seconds()
	res.alerts = alertsN
	if o.latency <= 0 {
		return res, nil
	}

	// Latency: a steady stream at half the measured rate (or at each rate
	// asked for), as many events as the run lasts (a run cut short by the
	// stream's end measures mostly its start). Bounded, as the load
	// process holds the stream twice (its copy and the broker's log); the
	// line says how many events it had.
	rates := o.rates
	if len(rates) == 0 {
		rate := res.throughput / 2
		if o.rate > 0 {
			rate = o.rate
		}
		rates = []float64{rate}
	}
	for i, rate := range rates {
		x, err := latencyRounds(ctx, load, p, cfg, newStores, i*rounds, rate, o)
		if err != nil {
			return nil, err
		}
		res.sweep = append(res.sweep, x)
	}
	if len(o.rates) == 0 {
		x := res.sweep[0]
		res.sweep = nil
		res.rate, res.rounds = x.rate, x.rounds
		res.latencyEvents, res.achieved, res.steps, res.window, res.cpu = x.latencyEvents, x.achieved, x.steps, x.window, x.cpu
		res.p50, res.p99, res.p999, res.in50, res.in99 = x.p50, x.p99, x.p999, x.in50, x.in99
	}
	return res, nil
}

// latencyRounds runs o.rounds latency runs at rate, on the topics of
// rounds first, first+1, ...; with more than one, the result's figures are
// their medians, its CPU and window counts their sums and its steps all
// their batches.
func latencyRounds(ctx context.Context, load *loadProc, p *parts, cfg *config.Config, newStores func(string) (stores, func(), error),
	first int, rate float64, o benchOptions) (*benchResult, error) {
	total := min(maxLatencyEvents, max(1, int(rate*o.latency.Seconds())))
	res := &benchResult{opts: o, rate: rate, latencyEvents: total}
	for r := range max(1, o.rounds) {
		x, err := latencyRun(ctx, load, p, cfg, newStores, first+r, rate, total, o)
		if err != nil {
			return nil, err
		}
		res.rounds = append(res.rounds, x)
	}
	if len(res.rounds) == 1 {
		x := res.rounds[0]
		x.opts = o
		return x, nil
	}
	med := func(f func(*benchResult) time.Duration) time.Duration {
		ds := make([]time.Duration, len(res.rounds))
		for i, x := range res.rounds {
			ds[i] = f(x)
		}
		return quantile(ds, 0.5)
	}
	res.p50 = med(func(x *benchResult) time.Duration { return x.p50 })
	res.p99 = med(func(x *benchResult) time.Duration { return x.p99 })
	res.p999 = med(func(x *benchResult) time.Duration { return x.p999 })
	res.in50 = med(func(x *benchResult) time.Duration { return x.in50 })
	res.in99 = med(func(x *benchResult) time.Duration { return x.in99 })
	ach := make([]float64, len(res.rounds))
	res.steps = map[string][]time.Duration{}
	res.cpu = cpuUse{known: true}
	for i, x := range res.rounds {
		ach[i] = x.achieved
		res.cpu = res.cpu.add(x.cpu)
		res.window.Misses += x.window.Misses
		res.window.Conflicts += x.window.Conflicts
		res.window.Writes += x.window.Writes
		for k, ds := range x.steps {
			res.steps[k] = append(res.steps[k], ds...)
		}
	}
	slices.Sort(ach)
	res.achieved = ach[len(ach)/2]
	return res, nil
}

// latencyRun is one round of the latency run: total events at rate a
// second on the round's topic, into fresh stores (so that every round
// starts from the same state); the batches file is the first round's.
func latencyRun(ctx context.Context, load *loadProc, p *parts, cfg *config.Config, newStores func(string) (stores, func(), error),
	round int, rate float64, total int, o benchOptions) (*benchResult, error) {
	res := &benchResult{rate: rate}
	st, done, err := newStores("lat" + strconv.Itoa(round+1))
	if err != nil {
		return nil, err
	}
	defer done()
	// The garbage of the run before is collected first, as testing.B
	// does before a benchmark, not during the run, and the load process
	// makes its stream before the run and its CPU account begin.
	runtime.GC()
	if err := load.send("prepare %d", total); err != nil {
		return nil, err
	}
	if _, err := load.reply("done"); err != nil {
		return nil, err
	}
	if err := load.send("latency %f %d %d", rate, total, round); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The load process answers when it has produced everything; a failure
	// there ends the run.
	took := make(chan float64, 1)
	go func() {
		f, err := load.reply("done")
		if err != nil {
			cancel()
			took <- 0
			return
		}
		secs, _ := strconv.ParseFloat(f[1], 64)
		took <- secs
	}()
	var rdb *redis.Client
	if o.store == "redis" {
		rdb = redis.NewClient(&redis.Options{Addr: o.redis})
		defer rdb.Close()
	}
	cpu0 := cpuNow(ctx, load.cmd.Process.Pid, rdb)
	if o.trace != "" && round == 0 {
		stop, err := startTrace(o.trace)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	_, _, _, lats, err := consume(lctx, p, cfg, latencyTopicOf(round), st, total, o.noop, func(m *kafka.Message) time.Time { return m.Time })
	if err != nil {
		return nil, err
	}
	res.cpu = cpuNow(ctx, load.cmd.Process.Pid, rdb).sub(cpu0)
	if o.batches != "" && round == 0 {
		if err := writeBatches(o.batches, lats.batches); err != nil {
			return nil, err
		}
	}
	if secs := <-took; secs > 0 {
		res.achieved = float64(total) / secs
	} else if len(lats.done) < total {
		return nil, errors.New("the load process failed during the latency run")
	}
	if len(lats.done) > 0 {
		res.p50, res.p99, res.p999 = quantile(lats.done, 0.50), quantile(lats.done, 0.99), quantile(lats.done, 0.999)
		res.in50, res.in99 = quantile(lats.in, 0.50), quantile(lats.in, 0.99)
		res.steps = lats.steps
	}
	if ws, ok := st.windows.(*window.Redis); ok {
		res.window = ws.Stats()
	}
	res.latencyEvents = len(lats.done)
	return res, nil
}

// writeBatches writes the latency run's batches and the garbage
// collections of Sluice's process that ended during it, in time order, as
// CSV: kind (batch or gc), unix microseconds (the batch's start, the
// collection's end), messages, handler and oldest event's latency in
// microseconds.
func writeBatches(path string, bs []batchStat) error {
	var gc debug.GCStats
	debug.ReadGCStats(&gc) // the last 256 collections, newest first
	// By the wall clock, as written (and as the collections' times are):
	// the monotonic order differs when the clock is stepped during a run.
	slices.SortFunc(bs, func(a, b batchStat) int { return cmp.Compare(a.start.UnixMicro(), b.start.UnixMicro()) })
	var b strings.Builder
	b.WriteString("kind,unix_us,messages,handler_us,latency_us\n")
	g := len(gc.PauseEnd) - 1
	for _, x := range bs {
		for ; g >= 0 && gc.PauseEnd[g].Before(x.start); g-- {
			if len(bs) > 0 && !gc.PauseEnd[g].Before(bs[0].start) {
				fmt.Fprintf(&b, "gc,%d,,,\n", gc.PauseEnd[g].UnixMicro())
			}
		}
		fmt.Fprintf(&b, "batch,%d,%d,%d,%d\n", x.start.UnixMicro(), x.n, x.handler.Microseconds(), x.latency.Microseconds())
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// benchStream returns the first n events of the generator's stream for
// gcfg (as long as it takes), keyed as a bank would key them.
func benchStream(gcfg gen.Config, n int) ([]kafka.Message, error) {
	gcfg.Days = 3660
	enough := errors.New("enough events")
	msgs := make([]kafka.Message, 0, n)
	_, err := gen.Generate(gcfg, func(e *ingest.Event) error {
		if len(msgs) >= n {
			return enough
		}
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		msgs = append(msgs, kafka.Message{Key: []byte(keyOf(e)), Value: v})
		return nil
	})
	if err != nil && !errors.Is(err, enough) {
		return nil, err
	}
	return msgs, nil
}

// quantile returns the q quantile of ds, which it sorts.
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// latencies are each event's time from its producer timestamp to its
// batch reaching the handler (in) and to the end of its batch (done).
type latencies struct {
	in, done []time.Duration
	batches  []batchStat
	steps    map[string][]time.Duration
}

// benchSteps are the steps of a batch in the order they run.
var benchSteps = []string{pipeline.StepStage, scoring.StepWindow, scoring.StepGraph, scoring.StepEvidence, pipeline.StepRegistry,
	scoring.StepEvaluate, pipeline.StepScore, pipeline.StepAlerts, pipeline.StepDeadLetter, pipeline.StepFlush}

// stepsLine says each step's p50 and p99 over the batches that ran it.
func stepsLine(steps map[string][]time.Duration) string {
	var parts []string
	for _, name := range benchSteps {
		ds := steps[name]
		if len(ds) == 0 {
			continue
		}
		ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
		part := fmt.Sprintf("%s %s / %s ms", name, ms(quantile(ds, 0.5)), ms(quantile(ds, 0.99)))
		if all := len(steps[pipeline.StepStage]); len(ds) < all {
			part += fmt.Sprintf(" (%d of %d batches)", len(ds), all)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// batchStat is one batch of the latency run.
type batchStat struct {
	start   time.Time
	n       int
	handler time.Duration
	latency time.Duration // of its oldest event
}

// consume runs a processor on topic until want events are durable, and
// returns how many, the alerts, the time taken and (when stamp is set) the
// events' latencies.
func consume(ctx context.Context, p *parts, cfg *config.Config, topic string, st stores, want int, noop bool,
	stamp func(*kafka.Message) time.Time) (int, int64, time.Duration, latencies, error) {
	c := *cfg
	c.Kafka.Topic = topic
	c.Kafka.Group = "bench-" + topic
	pp := *p
	pp.cfg = &c
	var alertsN atomic.Int64
	var mu sync.Mutex
	lats := latencies{steps: map[string][]time.Duration{}}
	var onStep func(string, time.Duration)
	if stamp != nil {
		onStep = func(step string, d time.Duration) {
			mu.Lock()
			lats.steps[step] = append(lats.steps[step], d)
			mu.Unlock()
		}
	}
	pr, err := newProcessor(&pp, processorOptions{stores: st, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		onAlert: func(a *alerts.Alert) { alertsN.Add(1) }, onStep: onStep})
	if err != nil {
		return 0, 0, 0, latencies{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var n int
	var elapsed time.Duration
	t0 := time.Now()
	h := func(ctx context.Context, msgs []kafka.Message) error {
		in := time.Now()
		defer trace.StartRegion(ctx, "batch").End()
		if !noop {
			if err := pr.handle(ctx, msgs); err != nil {
				return err
			}
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if stamp != nil {
			var oldest time.Duration
			for i := range msgs {
				lats.in = append(lats.in, in.Sub(stamp(&msgs[i])))
				lats.done = append(lats.done, now.Sub(stamp(&msgs[i])))
				oldest = max(oldest, now.Sub(stamp(&msgs[i])))
			}
			lats.batches = append(lats.batches, batchStat{start: in, n: len(msgs), handler: now.Sub(in), latency: oldest})
		}
		n += len(msgs)
		if n >= want {
			elapsed = now.Sub(t0)
			cancel()
		}
		return nil
	}
	err = pr.source.Run(ctx, h)
	mu.Lock()
	defer mu.Unlock()
	if elapsed == 0 {
		elapsed = time.Since(t0)
	}
	if err != nil && ctx.Err() == nil {
		return n, alertsN.Load(), elapsed, lats, err
	}
	return n, alertsN.Load(), elapsed, lats, nil
}

func keyOf(e *ingest.Event) string {
	if e.To != nil && e.To.Account != "" {
		return e.To.Account
	}
	if e.From != nil {
		return e.From.Account
	}
	return ""
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// startTrace starts an execution trace into path; stop ends it.
func startTrace(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { trace.Stop(); f.Close() }, nil
}
