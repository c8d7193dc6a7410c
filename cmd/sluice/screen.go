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
	"os/signal"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening"
)

// listFlags are the flags that say which lists to load, shared by
// `sluice screen` and `sluice lists hash`.
type listFlags struct {
	dir, ofacDir, ofacXML, unFile, semaFile string
}

func (l *listFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.dir, "lists", envOr("SLUICE_LISTS_DIR", screening.DefaultDir), "lists directory (YAML/CSV lists; ofac/, un/, ca/ as written by `sluice lists update`)")
	fs.StringVar(&l.ofacDir, "ofac", os.Getenv("SLUICE_LISTS_OFAC"), "directory with OFAC sdn.csv, alt.csv, add.csv, sdn_comments.csv (default: <lists>/ofac if present)")
	fs.StringVar(&l.ofacXML, "ofac-xml", os.Getenv("SLUICE_LISTS_OFAC_XML"), "OFAC SDN list as sdn.xml `FILE`, loaded instead of the CSV files")
	fs.StringVar(&l.unFile, "un", os.Getenv("SLUICE_LISTS_UN"), "UN consolidated list XML (default: <lists>/un/UN_consolidated.xml if present)")
	fs.StringVar(&l.semaFile, "sema", os.Getenv("SLUICE_LISTS_SEMA"), "Canada sema-lmes.xml (default: <lists>/ca/sema-lmes.xml if present)")
}

func (l *listFlags) config() screening.Config {
	return screening.Config{Dir: l.dir, OFACDir: l.ofacDir, OFACXML: l.ofacXML, UNFile: l.unFile, SEMAFile: l.semaFile}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// screenCmd is `sluice screen NAME...`: screens names, wallet addresses or
// identifiers against the loaded lists (spec/cli.md).
func screenCmd(args []string) int {
	fs := flag.NewFlagSet("screen", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var lf listFlags
	lf.register(fs)
	input := fs.String("input", "", "read one query a line from `FILE` (- is stdin)")
	asJSON := fs.Bool("json", false, "write one JSON object a query, in input order")
	defThreshold := screening.DefaultThreshold
	if v := os.Getenv("SLUICE_SCREENING_THRESHOLD"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sluice screen: SLUICE_SCREENING_THRESHOLD=%q is not a number\n", v)
			return 2
		}
		defThreshold = f
	}
	threshold := fs.Float64("threshold", defThreshold, "lowest score reported, in (0, 1]")
	max := fs.Int("max", screening.DefaultMaxResults, "most matches printed per query")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice screen [flags] NAME...\n\nScreens names, wallet addresses or identifiers against the designated-entity lists\nand prints the matches at or above the threshold, best first.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	queries := fs.Args()
	if *input == "" && len(queries) == 0 {
		fmt.Fprintln(os.Stderr, "sluice screen: give names to screen, or --input FILE (- for stdin)")
		return 2
	}
	if *input != "" && len(queries) > 0 {
		fmt.Fprintln(os.Stderr, "sluice screen: give names or --input, not both")
		return 2
	}
	cfg := lf.config()
	cfg.Threshold = *threshold
	cfg.MaxResults = *max
	if err := cfg.WithDefaults().Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "sluice screen: %v\n", err)
		return 2
	}
	s, err := screening.Load(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice screen: %v\n", err)
		return 1
	}
	if counts := s.Set().Counts(); counts["ofac-sdn"] == 0 {
		// The FTO and Canadian lists ship with Sluice; OFAC's and the UN's are
		// fetched: say so rather than let "no match" look like a clean result.
		fmt.Fprintln(os.Stderr, "sluice screen: note: the OFAC SDN list is not loaded; run 'sluice lists update' or pass --ofac DIR or --ofac-xml FILE")
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	emit := func(q string) error {
		ms := s.Screen(q)
		if *asJSON {
			return writeScreenJSON(out, q, ms)
		}
		writeScreenText(out, q, ms)
		return nil
	}
	if *input == "" {
		for _, q := range queries {
			if err := emit(q); err != nil {
				fmt.Fprintf(os.Stderr, "sluice screen: %v\n", err)
				return 1
			}
		}
		return 0
	}
	var r io.Reader = os.Stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sluice screen: %v\n", err)
			return 1
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		q := strings.TrimSpace(sc.Text())
		if q == "" {
			continue
		}
		if err := emit(q); err != nil {
			fmt.Fprintf(os.Stderr, "sluice screen: %v\n", err)
			return 1
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "sluice screen: reading %s: %v\n", *input, err)
		return 1
	}
	return 0
}

type screenJSONMatch struct {
	List       string   `json:"list"`
	Entry      string   `json:"entry"`
	Name       string   `json:"name"`
	Score      float64  `json:"score"`
	Programs   []string `json:"programs"`
	Type       string   `json:"type"`
	Designated bool     `json:"designated"`
	Explain    string   `json:"explain"`
}

func writeScreenJSON(w io.Writer, q string, ms []screening.Match) error {
	out := struct {
		Query   string            `json:"query"`
		Matches []screenJSONMatch `json:"matches"`
	}{Query: q, Matches: []screenJSONMatch{}}
	for _, m := range ms {
		p := m.Programs
		if p == nil {
			p = []string{}
		}
		out.Matches = append(out.Matches, screenJSONMatch{m.List, m.Entry, m.ListedName, m.Score, p, m.Type, m.Designated, m.Explain})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeScreenText(w io.Writer, q string, ms []screening.Match) {
	fmt.Fprintf(w, "%s\n", q)
	if len(ms) == 0 {
		fmt.Fprintf(w, "  no match\n")
	}
	for _, m := range ms {
		d := ""
		if m.Designated {
			d = "  DESIGNATED"
		}
		fmt.Fprintf(w, "  %.3f  %-12s %-10s %s  [%s] %s%s\n", m.Score, m.List, m.Entry, m.ListedName, strings.Join(m.Programs, " "), m.Type, d)
		fmt.Fprintf(w, "         %s\n", m.Explain)
	}
}

// listsCmd is `sluice lists update|hash`.
func listsCmd(args []string) int {
	usage := "usage: sluice lists update [flags] | sluice lists hash [flags]\n\n  update  fetch the official OFAC, UN and Canada files, validate them and swap them in\n  hash    print the content hash and entry counts of the loaded lists\n"
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return 0
	case "update":
		return listsUpdate(args[1:])
	case "hash":
		return listsHash(args[1:])
	}
	fmt.Fprintf(os.Stderr, "sluice lists: unknown subcommand %q: want update or hash\n", args[0])
	return 2
}

func listsUpdate(args []string) int {
	fs := flag.NewFlagSet("lists update", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	dir := fs.String("dir", envOr("SLUICE_LISTS_DIR", screening.DefaultDir), "lists directory; files go to <dir>/ofac, <dir>/un, <dir>/ca")
	ofacBase := fs.String("ofac-base", os.Getenv("SLUICE_LISTS_OFAC_BASE"), "base `URL` serving sdn.csv, alt.csv, add.csv, sdn_comments.csv (default: OFAC's Sanctions List Service)")
	unURL := fs.String("un-url", envOr("SLUICE_LISTS_UN_URL", screening.DefaultUNURL), "UN consolidated list `URL`")
	semaURL := fs.String("sema-url", envOr("SLUICE_LISTS_SEMA_URL", screening.DefaultSEMAURL), "Canada sema-lmes.xml `URL`")
	sources := fs.String("sources", "ofac,un,ca-sema", "comma-separated sources to update")
	shrink := fs.Float64("max-shrink", 0.2, "refuse a file with this share fewer entries than the one in place")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice lists update [flags]\n\nFetches the official list files, refuses any that fails to parse or shrinks\nsuspiciously, and swaps the others in atomically.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sluice lists update: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := screening.UpdateConfig{Dir: *dir, UNURL: *unURL, SEMAURL: *semaURL, MaxShrink: *shrink, Sources: strings.Split(*sources, ",")}
	if *ofacBase != "" {
		b := strings.TrimSuffix(*ofacBase, "/")
		cfg.OFAC = map[string]string{}
		for _, n := range []string{"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"} {
			cfg.OFAC[n] = b + "/" + n
		}
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "sluice lists update: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := screening.Update(ctx, cfg)
	for _, r := range res {
		if r.Updated {
			fmt.Printf("%-8s updated: %d entries (was %d)\n", r.Source, r.Entries, r.Previous)
		} else {
			fmt.Printf("%-8s kept the old files: %s\n", r.Source, r.Err)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice lists update: %v\n", err)
		return 1
	}
	return 0
}

func listsHash(args []string) int {
	fs := flag.NewFlagSet("lists hash", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var lf listFlags
	lf.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	set, err := screening.LoadSet(lf.config())
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice lists hash: %v\n", err)
		return 1
	}
	fmt.Println(set.Hash())
	c := set.Counts()
	ks := make([]string, 0, len(c))
	for k := range c {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		fmt.Printf("%-13s %d\n", k, c[k])
	}
	return 0
}
