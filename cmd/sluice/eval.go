package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/ingest/adapters/amlsim"
	"github.com/sluice-aml/sluice/ingest/adapters/ibmaml"
	"github.com/sluice-aml/sluice/internal/eval"
)

// evalCmd measures alerts against labels; the definitions are in the
// internal/eval package comment.
func evalCmd(args []string) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	labelsPath := fs.String("labels", "", "labels `file`: gen labels (JSONL), AMLworld *_Patterns.txt, or AMLSim *_nodes.csv")
	alertsPath := fs.String("alerts", "", "alerts `file` (JSON Lines, as written by replay)")
	format := fs.String("format", "", "labels format: gen, ibm-aml or amlsim (default: from the file name)")
	asJSON := fs.Bool("json", false, "write the report as one JSON object")
	txPath := fs.String("transactions", "", "the transactions `file` the alerts came from (ibm-aml CSV or amlsim CSV): links pattern rows to event ids, adds Is Laundering labels, counts accounts; for amlsim, also reports the figure with alert counterparties counted as flagged")
	customersPath := fs.String("customers", "", "gen customers `file`, to count accounts (default: beside the labels file)")
	accounts := fs.Int("accounts", 0, "accounts in the population, for alerts per 10,000 accounts (overrides what the files say)")
	grace := fs.Duration("grace", 48*time.Hour, "how long after an instance's last transaction an alert on its subject still counts")
	since := fs.String("since", "", "evaluate only instances starting and alerts raised from this `date` (YYYY-MM-DD or RFC 3339): skips the windows' warm-up")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice eval --labels FILE --alerts FILE [--format gen|ibm-aml|amlsim] [--json]\n\nPrints recall per typology, alert precision, alerts per 10,000 accounts and F1\n(account-level precision, recall and F1 for AMLSim).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *labelsPath == "" || *alertsPath == "" {
		fmt.Fprintln(os.Stderr, "sluice eval: --labels FILE and --alerts FILE are required")
		return exitUsage
	}
	if *format == "" {
		switch {
		case strings.HasSuffix(*labelsPath, ".txt"):
			*format = "ibm-aml"
		case strings.HasSuffix(*labelsPath, ".csv"):
			*format = "amlsim"
		default:
			*format = "gen"
		}
	}
	if *format != "gen" && *format != "ibm-aml" && *format != "amlsim" {
		fmt.Fprintf(os.Stderr, "sluice eval: --format %q must be gen, ibm-aml or amlsim\n", *format)
		return exitUsage
	}
	if *format == "gen" && *txPath != "" {
		fmt.Fprintln(os.Stderr, "sluice eval: --transactions is for --format ibm-aml or amlsim")
		return exitUsage
	}
	o := eval.Options{Grace: *grace, Accounts: *accounts, Format: *format}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			if t, err = time.Parse("2006-01-02", *since); err != nil {
				fmt.Fprintf(os.Stderr, "sluice eval: --since %q is not a date (YYYY-MM-DD) or an RFC 3339 time\n", *since)
				return exitUsage
			}
		}
		o.Since = t
	}
	rep, err := evaluate(*format, *labelsPath, *alertsPath, *txPath, *customersPath, o)
	if err != nil {
		return fail("eval", err)
	}
	w := bufio.NewWriter(os.Stdout)
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteTable(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fail("eval", err)
	}
	return exitOK
}

func withFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := read(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func evaluate(format, labelsPath, alertsPath, txPath, customersPath string, o eval.Options) (eval.Report, error) {
	as, err := withFile(alertsPath, eval.ReadAlerts)
	if err != nil {
		return eval.Report{}, err
	}
	switch format {
	case "amlsim":
		labels, err := withFile(labelsPath, amlsim.ReadLabels)
		if err != nil {
			return eval.Report{}, err
		}
		if txPath != "" {
			if o.TxAccounts, err = withFile(txPath, eval.AMLSimTransactions); err != nil {
				return eval.Report{}, err
			}
		}
		return eval.EvaluateAccounts(labels, as, o), nil
	case "ibm-aml":
		ps, err := withFile(labelsPath, ibmaml.ReadLabels)
		if err != nil {
			return eval.Report{}, err
		}
		var ids map[string]string
		if txPath != "" {
			f, err := os.Open(txPath)
			if err != nil {
				return eval.Report{}, err
			}
			var n int
			ids, o.Laundering, n, err = eval.IBMTransactions(bufio.NewReaderSize(f, 1<<20))
			f.Close()
			if err != nil {
				return eval.Report{}, fmt.Errorf("%s: %w", txPath, err)
			}
			if o.Accounts == 0 {
				o.Accounts = n
			}
		}
		return eval.Evaluate(eval.FromPatterns(ps, ids), as, o), nil
	}
	instances, err := withFile(labelsPath, eval.ReadGenLabels)
	if err != nil {
		return eval.Report{}, err
	}
	if o.Accounts == 0 {
		if customersPath == "" {
			customersPath = strings.TrimSuffix(labelsPath, ".labels.jsonl") + ".customers.jsonl"
			if _, err := os.Stat(customersPath); err != nil {
				customersPath = ""
			}
		}
		if customersPath != "" {
			if o.Accounts, err = withFile(customersPath, eval.CountAccounts); err != nil {
				return eval.Report{}, err
			}
		}
	}
	return eval.Evaluate(instances, as, o), nil
}
