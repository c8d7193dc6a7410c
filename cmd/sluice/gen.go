package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/gen"
)

// genCmd writes a synthetic stream (JSON Lines of events), its labels
// (FILE.labels.jsonl, or OUT.labels.jsonl with the .jsonl suffix kept out)
// and the customers' declared profiles (FILE.customers.jsonl).
func genCmd(args []string) int {
	def := gen.DefaultConfig()
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("out", "", "events `file` (JSON Lines); labels and profiles are written beside it")
	customers := fs.Int("customers", def.Customers, "number of customers")
	days := fs.Int("days", def.Days, "number of days")
	seed := fs.Int64("seed", def.Seed, "random seed: the same seed gives byte-identical files")
	start := fs.String("start", def.Start.Format("2006-01-02"), "first `date` (YYYY-MM-DD)")
	rate := fs.Float64("pattern-rate", def.PatternRate, "instances of each typology per customer per 30 days")
	noPatterns := fs.Bool("no-patterns", false, "do not inject typologies")
	noLookAlikes := fs.Bool("no-lookalikes", false, "leave out benign look-alikes (cash businesses, importers, remittances, ...)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice gen --out FILE [--customers N] [--days D] [--seed S] [--start DATE] [--no-patterns] [--no-lookalikes]\n\nWrites a synthetic stream of transaction events with every typology of\nspec/typologies.md injected, FILE.labels.jsonl (one line per injected\ninstance or benign look-alike) and FILE.customers.jsonl (declared profiles).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "sluice gen: --out FILE is required")
		return exitUsage
	}
	st, err := time.Parse("2006-01-02", *start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice gen: --start %q must be a date like 2025-03-01\n", *start)
		return exitUsage
	}
	cfg := def
	cfg.Customers, cfg.Days, cfg.Seed, cfg.Start, cfg.PatternRate = *customers, *days, *seed, st, *rate
	cfg.Patterns, cfg.LookAlikes = !*noPatterns, !*noLookAlikes
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "sluice gen: %v\n", err)
		return exitUsage
	}
	n, labels, err := writeGen(cfg, *out)
	if err != nil {
		return fail("gen", err)
	}
	fmt.Fprintf(os.Stderr, "sluice gen: %d events, %d labels, %d customers -> %s, %s, %s\n", n, len(labels), cfg.Customers, *out, sideFile(*out, "labels"), sideFile(*out, "customers"))
	return exitOK
}

// sideFile names a file beside the events file: out.jsonl -> out.labels.jsonl.
func sideFile(out, kind string) string {
	return strings.TrimSuffix(out, ".jsonl") + "." + kind + ".jsonl"
}

func writeGen(cfg gen.Config, out string) (int, gen.Labels, error) {
	n := 0
	var labels gen.Labels
	err := writeJSONL(out, func(w *bufio.Writer) error {
		var err error
		labels, err = gen.Generate(cfg, func(e *ingest.Event) error {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			n++
			w.Write(b)
			return w.WriteByte('\n')
		})
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	err = writeJSONL(sideFile(out, "labels"), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, l := range labels {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	profiles, err := gen.Profiles(cfg)
	if err != nil {
		return 0, nil, err
	}
	err = writeJSONL(sideFile(out, "customers"), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, c := range profiles {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	})
	return n, labels, err
}

func writeJSONL(path string, write func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
