package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/gen"
)

// benchLoadArg, as the first argument, makes the binary the load process
// of sluice bench (benchLoad). It is not a command: nobody runs it by hand.
const benchLoadArg = "__bench-load"

// The topics of the bench.
const (
	throughputTopic = "bench-throughput"
	latencyTopic    = "bench-latency"
)

// latencyTopicOf is the topic of the latency run's round (from 0): each
// round has a topic of its own, so that none reads another's events.
func latencyTopicOf(round int) string {
	if round == 0 {
		return latencyTopic
	}
	return latencyTopic + "-" + strconv.Itoa(round+1)
}

// benchGen is the generator's configuration for a bench of n events and a
// bank of that many customers (0: n/150, at least gen.MinCustomers): the
// load process generates the stream with it, and sluice bench the
// customers' profiles.
func benchGen(n, customers int) gen.Config {
	g := gen.DefaultConfig()
	g.Customers = max(gen.MinCustomers, n/150)
	if customers > 0 {
		g.Customers = customers
	}
	return g
}

// benchLoad is the load process: the embedded broker and the load
// generator, in a process of their own as Kafka and the systems that
// produce to it are in production. In Sluice's process they held the
// whole stream twice (the generator's copy and the broker's log, hundreds
// of megabytes), and every collection of that heap stalled Sluice for
// tens of milliseconds: the latency measured was the rig's. They still
// share the machine's cores with Sluice.
//
// It prints "ready ADDR" once the broker listens, then answers each
// command read from stdin with one line, "done ..." or "error ...":
//
//	throughput           produce the throughput stream to bench-throughput; done N
//	prepare TOTAL        make the stream at least TOTAL events long and
//	                     collect the garbage of making it; done N
//	latency RATE TOTAL [ROUND]
//	                     produce TOTAL events (at most what prepare made)
//	                     to the latency topic of ROUND (default 0) at RATE
//	                     a second, each stamped when handed to the
//	                     producer; done N SECONDS
//
// prepare is a command of its own so that a latency run's account of the
// load process's CPU holds its producing and broker work only, not the
// seconds of generating the longer stream a latency run needs.
//
// It stops at the end of stdin (sluice bench exited or closed it).
func benchLoad(args []string) int {
	// GOGC and GOMEMLIMIT in the environment are for Sluice's process
	// (sluice bench passes its environment on): the load process, whose
	// heap is the stream and the broker's log, keeps its own.
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(math.MaxInt64)
	fs := flag.NewFlagSet(benchLoadArg, flag.ContinueOnError)
	events := fs.Int("events", 200_000, "")
	customers := fs.Int("customers", 0, "")
	partitions := fs.Int("partitions", 8, "")
	rounds := fs.Int("rounds", 1, "")
	dlq := fs.String("dead-letter-topic", "", "")
	alertsTopic := fs.String("alerts-topic", "", "")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	topics := []broker.Topic{{Name: throughputTopic, Partitions: int32(*partitions)}}
	for r := range max(1, *rounds) {
		topics = append(topics, broker.Topic{Name: latencyTopicOf(r), Partitions: int32(*partitions)})
	}
	for _, t := range []string{*dlq, *alertsTopic} {
		if t != "" {
			topics = append(topics, broker.Topic{Name: t, Partitions: 1})
		}
	}
	b, err := broker.Start(broker.Config{Topics: topics})
	if err != nil {
		return fail("bench load", err)
	}
	defer b.Close()
	gcfg := benchGen(*events, *customers)
	msgs, err := benchStream(gcfg, *events)
	if err != nil {
		return fail("bench load", err)
	}
	fmt.Printf("ready %s\n", b.Addr())

	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		var reply string
		switch {
		case len(f) == 1 && f[0] == "throughput":
			reply, err = produceThroughput(ctx, b.Addr(), msgs)
			// Sluice reads it all now, and the broker copies the log
			// into its fetch responses: with the collector off every
			// copy was fresh memory, and for a long stream the page
			// faults (a core of system time for seconds, the broker's
			// one loop stalled) were most of the run. Collected, the
			// copies reuse the heap; a pause of the broker costs this
			// run little, unlike a latency run.
			runtime.GC()
			debug.SetGCPercent(100)
		case len(f) == 2 && f[0] == "prepare":
			var total int
			if total, err = strconv.Atoi(f[1]); err != nil {
				break
			}
			if total > len(msgs) {
				if msgs, err = benchStream(gcfg, total); err != nil {
					break
				}
			}
			// Collect the generator's garbage now, as testing.B does
			// before a benchmark: a collection of this heap (the stream
			// and the broker's log, hundreds of megabytes) during the run
			// stalls the broker for tens of milliseconds.
			runtime.GC()
			gcOffUntilNextRun()
			reply = fmt.Sprintf("done %d", len(msgs))
		case (len(f) == 3 || len(f) == 4) && f[0] == "latency":
			rate, rerr := strconv.ParseFloat(f[1], 64)
			total, terr := strconv.Atoi(f[2])
			round := 0
			var nerr error
			if len(f) == 4 {
				round, nerr = strconv.Atoi(f[3])
			}
			if err = errors.Join(rerr, terr, nerr); err != nil {
				break
			}
			if total > len(msgs) {
				err = fmt.Errorf("latency run of %d events, but the stream has %d (prepare first)", total, len(msgs))
				break
			}
			reply, err = produceLatency(ctx, b.Addr(), latencyTopicOf(round), msgs[:total], rate, *partitions)
		default:
			err = fmt.Errorf("unknown command %q", in.Text())
		}
		if err != nil {
			reply = "error " + strings.ReplaceAll(err.Error(), "\n", "; ")
		}
		fmt.Println(reply)
	}
	return exitOK
}

// gcOffUntilNextRun turns the collector off unless the heap grows past three
// times what is live now plus 1 GiB, and leaves it off: the caller
// collects (runtime.GC) before its next run. The load process's heap grows
// by the broker's log during a latency run (50 MB/s at 70,000 events/s); a
// collection of it (gigabytes) and the kernel's work of handing the freed
// pages back and faulting them in again took half a core of system time
// for seconds, on the cores Sluice is measured on: 20 s runs had p99 12-14
// ms a second before it and 30-80 ms during it. Collecting as soon as the
// last event is sent did the same to the run's last second.
func gcOffUntilNextRun() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(int64(3*ms.HeapAlloc) + 1<<30)
}

// produceThroughput writes msgs to the throughput topic as fast as it can.
func produceThroughput(ctx context.Context, addr string, msgs []kafka.Message) (string, error) {
	prod, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: []string{addr}, Topic: throughputTopic})
	if err != nil {
		return "", err
	}
	defer prod.Close()
	for i := 0; i < len(msgs); i += 5000 {
		if err := prod.Produce(ctx, msgs[i:min(i+5000, len(msgs))]...); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("done %d", len(msgs)), nil
}

// produceLatency writes msgs to the latency topic (of partitions
// partitions) at rate a second, in ticks of 5 ms. Each tick's events are
// stamped when handed to the producer and sent at once; a tick that falls
// behind its schedule (the machine busy) is sent late rather than skipped,
// and the time it all took is reported, so that the rate achieved is known.
//
// The producer is franz-go's (kgo), not Sluice's kafka-go one: the load
// process shares the cores Sluice is measured on, and kgo sends a tick's
// events for all partitions in one request where kafka-go sends one per
// partition, each of which the broker handles on its own. Partitions are
// chosen by kafka-go's Hash balancer, as Sluice's own producers do.
func produceLatency(ctx context.Context, addr, topic string, msgs []kafka.Message, rate float64, partitions int) (string, error) {
	const tick = 5 * time.Millisecond
	per := max(1, int(rate*tick.Seconds()))
	bal := &kafkago.Hash{}
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	partition := func(r *kgo.Record, n int) int {
		if n != len(ids) {
			panic(fmt.Sprintf("bench load: topic %s has %d partitions, not %d", topic, n, len(ids)))
		}
		return bal.Balance(kafkago.Message{Key: r.Key}, ids...)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int { return partition })))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	recs := make([]kgo.Record, per)
	ptrs := make([]*kgo.Record, per)
	start := time.Now()
	for i := 0; i < len(msgs); i += per {
		batch := msgs[i:min(i+per, len(msgs))]
		now := time.Now()
		for j := range batch {
			recs[j] = kgo.Record{Key: batch[j].Key, Value: batch[j].Value, Timestamp: now}
			ptrs[j] = &recs[j]
		}
		if err := cl.ProduceSync(ctx, ptrs[:len(batch)]...).FirstErr(); err != nil {
			return "", err
		}
		if i+per >= len(msgs) {
			break
		}
		if d := time.Until(start.Add(time.Duration(float64(i+per) / rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
	}
	return fmt.Sprintf("done %d %f", len(msgs), time.Since(start).Seconds()), nil
}

// loadProc is sluice bench's handle on its load process.
type loadProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
}

// startLoad starts the load process and waits for its broker.
func startLoad(events, customers, partitions, rounds int, dlq, alertsTopic string) (*loadProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, benchLoadArg, "--events", strconv.Itoa(events), "--customers", strconv.Itoa(customers), "--partitions", strconv.Itoa(partitions), "--rounds", strconv.Itoa(rounds),
		"--dead-letter-topic", dlq, "--alerts-topic", alertsTopic)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load process: %w", err)
	}
	l := &loadProc{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	f, err := l.reply("ready")
	if err != nil {
		l.Close()
		return nil, err
	}
	l.addr = f[0]
	return l, nil
}

// reply reads the load process's next line, which must start with want,
// and returns its other fields.
func (l *loadProc) reply(want string) ([]string, error) {
	if !l.out.Scan() {
		return nil, fmt.Errorf("load process exited (%v)", l.out.Err())
	}
	f := strings.Fields(l.out.Text())
	if len(f) == 0 || f[0] != want {
		return nil, fmt.Errorf("load process: %s", l.out.Text())
	}
	return f[1:], nil
}

// send writes one command.
func (l *loadProc) send(format string, args ...any) error {
	_, err := fmt.Fprintf(l.in, format+"\n", args...)
	return err
}

// Close ends the load process (the end of its stdin) and waits for it.
func (l *loadProc) Close() {
	l.in.Close()
	done := make(chan struct{})
	go func() { l.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		l.cmd.Process.Kill()
		<-done
	}
}
