package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sluice-aml/sluice/ingest/adapters/amlsim"
	"github.com/sluice-aml/sluice/ingest/adapters/ibmaml"
	"github.com/sluice-aml/sluice/internal/gen"
)

// FromPatterns turns AMLworld laundering attempts into instances. ids maps a
// row's content key (ibmaml.RowKey) to its event id in the transactions file
// (see IBMTransactions); without it instances match by subject and time only.
// The subject is the pattern's hub; every account of the pattern counts.
func FromPatterns(ps []ibmaml.Pattern, ids map[string]string) []Instance {
	out := make([]Instance, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		first, last := p.Span()
		in := Instance{Typology: p.Typology, Subject: p.Hub(), Start: first, End: last}
		in.Accounts = append([]string{in.Subject}, without(p.Accounts(), in.Subject)...)
		for _, r := range p.Rows {
			if id, ok := ids[r.Key]; ok {
				in.Transactions = append(in.Transactions, id)
			}
		}
		out = append(out, in)
	}
	return out
}

func without(xs []string, s string) []string {
	var out []string
	for _, x := range xs {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// IBMTransactions reads an AMLworld transactions CSV once and returns what
// evaluation needs from it: the event id of every laundering row by content
// key, the set of laundering event ids, and the number of distinct accounts.
// Memory grows with the laundering rows and the accounts, not the file.
func IBMTransactions(r io.Reader) (ids map[string]string, laundering map[string]bool, accounts int, err error) {
	rd := ibmaml.NewReader(r)
	ids, laundering = map[string]string{}, map[string]bool{}
	seen := map[string]struct{}{}
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return ids, laundering, len(seen), nil
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("transactions %w", err)
		}
		seen[ev.From.Account] = struct{}{}
		seen[ev.To.Account] = struct{}{}
		if rd.Laundering() {
			ids[rd.Key()] = ev.ID
			laundering[ev.ID] = true
		}
	}
}

// AMLSimTransactions maps every event id of an AMLSim transactions file to
// its (from, to) accounts, for counting alert counterparties as flagged.
func AMLSimTransactions(r io.Reader) (map[string][2]string, error) {
	rd := amlsim.NewReader(r, amlsim.Options{})
	out := map[string][2]string{}
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("transactions %w", err)
		}
		out[ev.ID] = [2]string{ev.From.Account, ev.To.Account}
	}
}

// CountAccounts counts the accounts in a customers file written by `sluice gen`.
func CountAccounts(r io.Reader) (int, error) {
	dec := json.NewDecoder(r)
	n := 0
	for line := 1; ; line++ {
		var c gen.Customer
		if err := dec.Decode(&c); err == io.EOF {
			return n, nil
		} else if err != nil {
			return 0, fmt.Errorf("customer %d: %v", line, err)
		}
		n += len(c.Accounts)
	}
}
