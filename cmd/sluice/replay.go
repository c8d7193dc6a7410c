package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/alerts/filesink"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/ingest/adapters"
	"github.com/sluice-aml/sluice/ingest/adapters/amlsim"
	"github.com/sluice-aml/sluice/ingest/adapters/ibmaml"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/pipeline"
)

// commonFlags are the configuration overrides shared by the processing commands.
type commonFlags struct {
	config, lists, profiles string
	rules, params           stringList
	typologies, cpuProfile  string
	memProfile              string
	noLists                 bool
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration `file` (default configs/sluice.yaml, then built-in defaults)")
	fs.Var(&c.rules, "rules", "rules `dir` (repeatable; default configs/rules and configs/typologies)")
	fs.StringVar(&c.lists, "lists", "", "designated-entity lists `dir` (default configs/lists)")
	fs.StringVar(&c.profiles, "profiles", "", "customer profiles `file` (JSON Lines, e.g. from sluice gen)")
	fs.BoolVar(&c.noLists, "no-lists", false, "turn list screening off")
	fs.Var(&c.params, "param", "override a rule-set parameter, `name=value` (repeatable): see what a threshold change does")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile to this `file`")
	fs.StringVar(&c.memProfile, "memprofile", "", "write an allocation profile to this `file` at the end")
	fs.StringVar(&c.typologies, "typologies", "", "keep only these typologies and their rules, comma-separated `ids` (starter: the starter set)")
}

func (c *commonFlags) load() (*config.Config, error) {
	cfg, err := config.Load(c.config)
	if err != nil {
		return nil, err
	}
	if len(c.rules) > 0 {
		cfg.Rules.Paths = c.rules
	}
	if c.lists != "" {
		cfg.Lists.Dir = c.lists
	}
	if c.profiles != "" {
		cfg.Profiles.File = c.profiles
	}
	if c.noLists {
		cfg.Lists.Disabled = true
	}
	if c.typologies != "" {
		cfg.Rules.Typologies = strings.Split(c.typologies, ",")
	}
	for _, kv := range c.params {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("--param %q must be name=number", kv)
		}
		if cfg.Rules.Params == nil {
			cfg.Rules.Params = map[string]float64{}
		}
		cfg.Rules.Params[k] = f
	}
	return cfg, nil
}

// profile starts the CPU profile asked for, if any; stop writes it and the
// allocation profile. It also sets the garbage collector for a batch job:
// unless GOGC says otherwise, the heap may grow to four times the live data
// between collections. The live data is mostly window state, which every
// collection scans again; at the default (twice) a replay spends about a
// quarter of its CPU time collecting, at four times about a tenth.
func (c *commonFlags) profile() (stop func(), err error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	stopCPU := func() {}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stopCPU = func() { pprof.StopCPUProfile(); f.Close() }
	}
	return func() {
		stopCPU()
		if c.memProfile == "" {
			return
		}
		f, err := os.Create(c.memProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sluice:", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintln(os.Stderr, "sluice:", err)
		}
	}, nil
}

// parseFlags parses and maps --help to exit 0 and bad usage to exit 2; ok
// is false when the caller should return code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sluice %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

// collector keeps the newest version of each alert (replay writes each alert
// once, at its final version).
type collector struct {
	mu     sync.Mutex
	alerts map[string]alerts.Alert
}

func (c *collector) Write(_ context.Context, as []alerts.Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range as {
		if prev, ok := c.alerts[a.ID]; !ok || a.Version > prev.Version {
			c.alerts[a.ID] = a
		}
	}
	return nil
}

// sorted returns the alerts in event-time order (ties by id).
func (c *collector) sorted() []alerts.Alert {
	out := make([]alerts.Alert, 0, len(c.alerts))
	for _, a := range c.alerts {
		out = append(out, a)
	}
	at := func(a alerts.Alert) int64 {
		t, _ := time.Parse(time.RFC3339Nano, a.Time)
		return t.UnixNano()
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := at(out[i]), at(out[j])
		if ti != tj {
			return ti < tj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func replayCmd(args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var cf commonFlags
	cf.register(fs)
	input := fs.String("input", "", "recorded stream `file`, JSON Lines of transaction events (- is stdin)")
	out := fs.String("out", "", "alerts `file`, JSON Lines (- is stdout)")
	deadLetter := fs.String("dead-letter", "", "write rejected lines with their reasons to this `file`")
	store := fs.String("store", "memory", "window store: memory, or redis for an isolated key prefix in Redis")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis `address` for --store redis: host:port, or a unix socket's path")
	batch := fs.Int("batch", 4096, "events per batch (the alerts do not depend on it)")
	format := fs.String("format", "jsonl", "input format: jsonl (canonical events), kcat (a topic exported with kcat -C -J: positions and produced times as live), ibm-aml (AMLworld CSV) or amlsim (AMLSim transactions CSV)")
	quiet := fs.Bool("quiet", false, "do not print the summary")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice replay --input FILE --out FILE [flags]\n\nRuns a recorded stream through the rules in force, in isolated windows,\nand writes the alerts in event-time order. Same input, rules and lists give\nbyte-identical output.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *input == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "sluice replay: --input and --out are required")
		return exitUsage
	}
	if *store != "memory" && *store != "redis" {
		fmt.Fprintf(os.Stderr, "sluice replay: --store %q must be memory or redis\n", *store)
		return exitUsage
	}
	if *format != "jsonl" && *format != "kcat" && *format != "ibm-aml" && *format != "amlsim" {
		fmt.Fprintf(os.Stderr, "sluice replay: --format %q must be jsonl, kcat, ibm-aml or amlsim\n", *format)
		return exitUsage
	}
	cfg, err := cf.load()
	if err != nil {
		return fail("replay", err)
	}
	stop, err := cf.profile()
	if err != nil {
		return fail("replay", err)
	}
	defer stop()
	st, err := replay(context.Background(), cfg, replayOptions{input: *input, out: *out, deadLetter: *deadLetter, store: *store, redis: *redisAddr, batch: *batch, format: *format})
	if err != nil {
		return fail("replay", err)
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "replayed %d events (%d rejected) in %s: %.0f events/s; %d alerts written to %s\n",
			st.events, st.rejected, st.elapsed.Round(time.Millisecond), float64(st.events)/st.elapsed.Seconds(), st.alerts, *out)
	}
	return exitOK
}

type replayOptions struct {
	input, out, deadLetter, store, redis string
	format                               string // jsonl (default), kcat, ibm-aml or amlsim
	batch                                int
	stderr                               io.Writer // rejected lines are reported here; os.Stderr when nil
}

type replayStats struct {
	events, rejected, alerts int
	elapsed                  time.Duration
}

func replay(ctx context.Context, cfg *config.Config, o replayOptions) (replayStats, error) {
	var st replayStats
	p, err := loadParts(cfg)
	if err != nil {
		return st, err
	}
	st0 := memoryStores(cfg)
	if o.store == "redis" {
		rdb := redis.NewClient(&redis.Options{Addr: o.redis, ReadBufferSize: redisBuffer, WriteBufferSize: redisBuffer})
		defer rdb.Close()
		prefix := fmt.Sprintf("sluice-replay:%d:%d:", os.Getpid(), time.Now().UnixNano())
		defer deleteKeys(context.Background(), rdb, prefix)
		if st0, err = redisStores(cfg, rdb, prefix, time.Hour); err != nil {
			return st, err
		}
	}
	// The counterparty history serves rescreening when the lists change
	// under a running processor; a replay's would be thrown away unread.
	st0.registry = nil
	col := &collector{alerts: map[string]alerts.Alert{}}
	pl, err := p.pipeline(st0, col)
	if err != nil {
		return st, err
	}
	stderr := o.stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	var dl *json.Encoder
	if o.deadLetter != "" {
		f, err := os.Create(o.deadLetter)
		if err != nil {
			return st, err
		}
		defer f.Close()
		dl = json.NewEncoder(f)
	}
	report := func(pos ingest.Position, reason string, err error, value []byte) error {
		st.rejected++
		fmt.Fprintf(stderr, "%s: %v\n", pos, err)
		if dl != nil {
			// Where it was, as ingest.Position writes it: a file's line, or
			// a record's place in a kcat export.
			rec := map[string]any{"reason": reason, "error": err.Error(), "value": string(value)}
			if pos.File != "" {
				rec["file"], rec["line"] = pos.File, pos.Line
			} else {
				rec["topic"], rec["partition"], rec["offset"] = pos.Topic, pos.Partition, pos.Offset
			}
			return dl.Encode(rec)
		}
		return nil
	}
	pl.DeadLetter = func(_ context.Context, rs []pipeline.Reject) error {
		for _, r := range rs {
			if err := report(r.Raw.Pos, r.Reason, r.Err, r.Raw.Value); err != nil {
				return err
			}
		}
		return nil
	}
	if o.batch <= 0 {
		o.batch = 4096
	}
	start := time.Now()
	// Batches are staged (decoded, prepared) here while the finisher applies
	// the one before to the stores, in order. A job carries the unreadable
	// lines met while its batch filled, reported just before it, as a
	// sequential run would.
	type job struct {
		bad    []ingest.Line
		staged *pipeline.Staged
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 1)
	finished := make(chan error, 1)
	go func() {
		var err error
		for j := range jobs {
			if err != nil {
				continue
			}
			for _, l := range j.bad {
				if err = report(l.Pos, ingest.Reason(l.Err), l.Err, nil); err != nil {
					break
				}
			}
			if err == nil && j.staged != nil {
				err = pl.Finish(ctx, j.staged)
			}
			if err != nil {
				cancel()
			}
		}
		if err == nil {
			err = pl.Flush(ctx)
		}
		finished <- err
	}()
	var cur job
	batch := make([]pipeline.Raw, 0, o.batch)
	// A batch's lines are copied into buffers of its own: a staged batch
	// keeps them until it is finished.
	var buf []byte
	flush := func() error {
		if len(batch) > 0 {
			cur.staged = pl.Stage(batch)
		}
		select {
		case jobs <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur, batch, buf = job{}, make([]pipeline.Raw, 0, o.batch), nil
		return nil
	}
	err = readInput(o.input, o.format, cfg.Kafka.MaxMessageBytes, func(l ingest.Line) error {
		if l.Err != nil {
			cur.bad = append(cur.bad, l)
			return nil
		}
		st.events++
		if len(buf)+len(l.Value) > cap(buf) {
			// Values already in the batch keep the old buffer.
			buf = make([]byte, 0, max(2*cap(buf), len(l.Value), 1<<20))
		}
		n := len(buf)
		buf = append(buf, l.Value...)
		batch = append(batch, pipeline.Raw{Value: buf[n:len(buf):len(buf)], Key: l.Key, Produced: l.Produced, Pos: l.Pos})
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	close(jobs)
	if ferr := <-finished; ferr != nil {
		err = ferr
	}
	if err != nil {
		return st, err
	}
	st.elapsed = time.Since(start)
	sorted := col.sorted()
	st.alerts = len(sorted)
	return st, writeAlerts(o.out, sorted)
}

// writeAlerts writes the alerts to path (- is stdout) with the file sink.
func writeAlerts(path string, as []alerts.Alert) error {
	fs, err := filesink.Create(path)
	if err != nil {
		return err
	}
	if err := fs.Write(as); err != nil {
		fs.Close()
		return err
	}
	return fs.Close()
}

// deleteKeys removes every key under prefix (isolated replays and benches),
// including those that wrap it in a hash tag.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	for _, pattern := range []string{prefix + "*", "{" + prefix + "*"} {
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 500 {
				rdb.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
	}
}

// readInput reads the recorded stream in its format and hands each record
// to fn as canonical JSON with its file position. CSV rows of the IBM data
// sets are mapped to events by their adapters; a row that cannot be mapped
// is reported like a bad JSON line.
func readInput(path, format string, maxBytes int, fn func(ingest.Line) error) error {
	switch format {
	case "", "jsonl":
		return ingest.ReadLines(path, maxBytes, fn)
	case "kcat":
		if maxBytes <= 0 {
			maxBytes = ingest.DefaultMaxMessageBytes
		}
		// A line holds the payload escaped (up to six bytes for one) and
		// the record's fields: the payload's own limit is checked decoded.
		return ingest.ReadLines(path, 6*maxBytes+4096, func(l ingest.Line) error {
			if l.Err != nil {
				return fn(l)
			}
			rec, err := ingest.DecodeKcat(l.Value, maxBytes)
			if err != nil {
				if rec.Pos.Topic != "" {
					l.Pos = rec.Pos
				}
				return fn(ingest.Line{Pos: l.Pos, Err: err})
			}
			return fn(ingest.Line{Value: rec.Value, Key: rec.Key, Produced: rec.Produced, Pos: rec.Pos})
		})
	}
	r, err := ingest.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var next func() (*ingest.Event, error)
	var line func() int
	switch format {
	case "ibm-aml":
		rd := ibmaml.NewReader(br)
		next, line = rd.Next, rd.Line
	case "amlsim":
		rd := amlsim.NewReader(br, amlsim.Options{})
		next, line = rd.Next, rd.Line
	default:
		return fmt.Errorf("unknown input format %q", format)
	}
	for {
		e, err := next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		pos := ingest.Position{File: path, Line: int64(line())}
		if err != nil {
			var pe *adapters.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			if err := fn(ingest.Line{Pos: pos, Err: &ingest.DecodeError{Reason: ingest.ReasonInvalid, Detail: err.Error()}}); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := fn(ingest.Line{Value: b, Pos: pos}); err != nil {
			return err
		}
	}
}
