package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/alerts/casequeue"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/ingest/kafka"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/gen"
	"github.com/sluice-aml/sluice/internal/server"
	"github.com/sluice-aml/sluice/internal/telemetry"
	"github.com/sluice-aml/sluice/rules"
)

func demoCmd(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	duration := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	rate := fs.Float64("rate", 2000, "events per second produced to the embedded broker")
	customers := fs.Int("customers", 2000, "customers in the synthetic bank")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the case queue page, metrics and health")
	quiet := fs.Bool("quiet", false, "print only the summary, not each alert")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice demo [--duration D] [--rate N]\n\nThe whole system on one machine with nothing installed: an embedded\nKafka-protocol broker, in-memory windows, a synthetic stream with injected\nlaundering patterns (and a few malformed messages for the dead-letter\ntopic), the processor, the case queue and its web page.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *rate <= 0 {
		fmt.Fprintln(os.Stderr, "sluice demo: --rate must be positive")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if err := demo(ctx, demoOptions{rate: *rate, customers: *customers, addr: *addr, quiet: *quiet, out: os.Stdout}); err != nil {
		return fail("demo", err)
	}
	return exitOK
}

type demoOptions struct {
	rate      float64
	customers int
	addr      string
	quiet     bool
	out       io.Writer
}

func demo(ctx context.Context, o demoOptions) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load("")
	if err != nil {
		return err
	}
	cleanup, err := useEmbeddedDefaults(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	b, err := broker.Start(broker.Config{Topics: []broker.Topic{
		{Name: cfg.Kafka.Topic, Partitions: 4}, {Name: cfg.Kafka.DeadLetterTopic, Partitions: 1}, {Name: cfg.Kafka.AlertsTopic, Partitions: 1}}})
	if err != nil {
		return err
	}
	defer b.Close()
	cfg.Kafka.Brokers = []string{b.Addr()}
	cfg.Kafka.Group = "sluice-demo"
	if cfg.Lists.OFACDir == "" {
		cfg.Lists.OFACDir = sharedOFAC()
	}

	gcfg := gen.DefaultConfig()
	gcfg.Customers = o.customers
	// Windows hold 30-day baselines: a month of history is streamed first,
	// as fast as it goes, so live alerts are judged against a warm bank.
	warmEnd := gcfg.Start.AddDate(0, 0, demoWarmUpDays)
	customers, err := gen.Profiles(gcfg)
	if err != nil {
		return err
	}
	p, err := loadParts(cfg)
	if err != nil {
		return err
	}
	p.profiles = profilesOf(customers)
	cases := casequeue.NewMemory()
	tel, err := telemetry.New("sluice-demo")
	if err != nil {
		return err
	}
	stopTracing, err := startTracing(ctx, "sluice-demo", log)
	if err != nil {
		return err
	}
	defer stopTracing()
	var alertCount atomic.Int64
	var mu sync.Mutex
	byTypology := map[string]int{}
	pr, err := newProcessor(p, processorOptions{stores: memoryStores(cfg), cases: cases, tel: tel, log: log,
		keep: func(a *alerts.Alert) bool {
			t, err := time.Parse(time.RFC3339Nano, a.Time)
			return err == nil && !t.Before(warmEnd)
		},
		onAlert: func(a *alerts.Alert) {
			if a.Version != 1 {
				// New alerts only: updates within the cool-down go to the
				// case queue, where the analyst sees the alert grow.
				return
			}
			alertCount.Add(1)
			// Batches' alerts are written at once (alerts.Pending): one
			// line, and one count, at a time.
			mu.Lock()
			defer mu.Unlock()
			for _, t := range a.Typologies {
				byTypology[t.ID]++
			}
			if !o.quiet {
				fmt.Fprintln(o.out, describeAlert(a))
			}
		}})
	if err != nil {
		return err
	}
	token, err := server.RandomToken()
	if err != nil {
		return err
	}
	srv := server.New(server.Config{Addr: o.addr, Token: token}, server.Deps{Metrics: tel.Handler(), Cases: cases, Logger: log,
		Checks: map[string]func(context.Context) error{"kafka": pr.source.Ping}})
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("case queue page: %w (use --addr to pick another address)", err)
	}
	go func() {
		if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
			log.Error("http server stopped", "err", err.Error())
		}
	}()
	addr := ln.Addr().String()
	fmt.Fprintf(o.out, "sluice demo: broker %s, %d customers, %.0f events/s, rule set %s\n", b.Addr(), o.customers, o.rate, shortHash(p.rules.Current().Hash))
	fmt.Fprintf(o.out, "case queue: %s\nmetrics: http://%s/metrics   (Ctrl-C to stop)\n", server.PageURL(addr, token), addr)
	fmt.Fprintf(o.out, "warming up: streaming %d days of the bank's history first, so the 30-day baselines are full...\n\n", demoWarmUpDays)

	prod, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: cfg.Kafka.Brokers, Topic: cfg.Kafka.Topic})
	if err != nil {
		return err
	}
	defer prod.Close()
	var produced, malformed atomic.Int64
	genDone := make(chan error, 1)
	go func() {
		genDone <- produce(ctx, prod, gcfg, o.rate, warmEnd, func() {
			fmt.Fprintf(o.out, "warm-up done; live stream at %.0f events/s from %s\n", o.rate, warmEnd.Format("2006-01-02"))
		}, &produced, &malformed)
	}()
	runErr := pr.Run(ctx)
	<-genDone
	mu.Lock()
	defer mu.Unlock()
	var ts []string
	for t, n := range byTypology {
		ts = append(ts, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(ts)
	fmt.Fprintf(o.out, "\nsluice demo: %d events produced (%d deliberately malformed, sent to %s), %d alerts: %s\n",
		produced.Load(), malformed.Load(), cfg.Kafka.DeadLetterTopic, alertCount.Load(), strings.Join(ts, ", "))
	if runErr != nil && ctx.Err() == nil {
		return runErr
	}
	return nil
}

// produce writes the synthetic stream to the broker in small batches keyed
// by account, with a malformed message now and then.
// demoWarmUpDays of history are streamed before the live stream.
const demoWarmUpDays = 30

// produce streams the bank as fast as it goes until live (event time), then
// at rate events per second.
func produce(ctx context.Context, prod *kafka.Producer, cfg gen.Config, rate float64, live time.Time, onLive func(),
	produced, malformed *atomic.Int64) error {
	var batch []kafka.Message
	last := time.Now()
	var liveStart time.Time
	var liveN int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := prod.Produce(ctx, batch...)
		produced.Add(int64(len(batch)))
		batch = batch[:0]
		last = time.Now()
		return err
	}
	n := 0
	err := gen.Stream(ctx, cfg, 0, func(e *ingest.Event) error {
		if !e.Time.Before(live) {
			if liveStart.IsZero() {
				if err := flush(); err != nil {
					return err
				}
				liveStart = time.Now()
				onLive()
			}
			liveN++
			if d := time.Until(liveStart.Add(time.Duration(float64(liveN) / rate * float64(time.Second)))); d > 0 {
				if err := flush(); err != nil {
					return err
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		key := ""
		if e.To != nil && e.To.Account != "" {
			key = e.To.Account
		} else if e.From != nil {
			key = e.From.Account
		}
		batch = append(batch, kafka.Message{Key: []byte(key), Value: v, Time: time.Now()})
		n++
		if n%5000 == 0 {
			// Bad input must never stop the stream: show it going to the dead-letter topic.
			bad := []string{`{"id":"bad-1","time":"yesterday","kind":"wire"}`, `{"id":"bad-2","amount":"-5"`, "\xff\xfe not utf-8"}
			batch = append(batch, kafka.Message{Value: []byte(bad[(n/5000)%len(bad)]), Time: time.Now()})
			malformed.Add(1)
		}
		if len(batch) >= 500 || time.Since(last) > 100*time.Millisecond {
			return flush()
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	return flush()
}

func profilesOf(cs []gen.Customer) profileMap {
	m := profileMap{}
	for _, c := range cs {
		opened, _ := time.Parse("2006-01-02", c.Opened)
		m[c.CustomerID] = &rules.Profile{Known: true, Type: c.Type, Industry: c.Industry, Occupation: c.Occupation, Country: c.Country, Region: c.Region, City: c.City, Opened: opened}
	}
	return m
}

// describeAlert is one line for a terminal: the account is masked.
func describeAlert(a *alerts.Alert) string {
	var ts []string
	for _, t := range a.Typologies {
		ts = append(ts, fmt.Sprintf("%s(%d)", t.ID, t.Score))
	}
	reason, best := "", 0
	for _, r := range a.Rules {
		if r.Score > best {
			reason, best = r.Reason, r.Score
		}
	}
	kind := "ALERT "
	if a.Version > 1 {
		kind = fmt.Sprintf("UPDATE v%d", a.Version)
	}
	return fmt.Sprintf("%s %s %s score %d %s on %s: %s", kind, a.ID, a.Time, a.Score, strings.Join(ts, " "), mask(a.Subject.Account), reason)
}

// mask keeps the last four characters of an account number.
func mask(account string) string {
	if len(account) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(account)-4) + account[len(account)-4:]
}

func shortHash(h string) string {
	if len(h) > 19 {
		return h[:19] + "…"
	}
	return h
}
