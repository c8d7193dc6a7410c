// Package eval measures detection quality: it matches alerts (spec/alert.md)
// against labelled laundering instances (from `sluice gen`, IBM AMLworld
// *_Patterns.txt files, or AMLSim node labels) and computes recall per
// typology, alert precision, alerts per 10,000 accounts and F1.
//
// Definitions (the numbers in the README mean exactly this):
//
//   - Alerts are read as written by replay: an alert id may appear several
//     times with increasing version; the latest version of each id counts,
//     once.
//   - An alert touches an instance when (a) one of the alert's transactions
//     is one of the instance's transactions, or (b) the alert's subject
//     account is one of the instance's accounts (or its customer id is the
//     instance's customer) and the alert's time, or its updated time, falls
//     within [instance start, instance end + Grace] (Grace defaults to 48 h:
//     evidence can complete a little after the last labelled transaction).
//   - An instance is detected when an alert that touches it names the
//     instance's typology; detected (any) when any alert touches it. Recall is
//     detected / instances, over instances whose typology is a catalogue id
//     (AMLworld's RANDOM has none and is reported with recall (any) only).
//   - An alert is a true positive when it touches at least one laundering
//     (non-benign) instance, or, when transaction-level labels are given
//     (AMLworld's Is Laundering), lists a laundering transaction. Precision is
//     true-positive alerts / alerts. F1 is 2PR/(P+R) of that precision and
//     the overall recall.
//   - Account level (AMLSim, whose labels are per account): an account is
//     flagged when it is the subject of an alert. Precision, recall and F1
//     are over accounts against isFraud. An alert asserts something about
//     its subject only: the transactions it lists are the subject's
//     evidence, and their counterparties are whoever the subject happened
//     to deal with (a fan-in subject's ordinary senders, a payroll's
//     employees), so counting them measures how much evidence a rule lists,
//     not what it detected. A pattern's members are each flagged by alerts
//     on their own transfers. When the transactions are given, the figure
//     with every party of every listed transaction counted as flagged is
//     reported beside it (WithCounterparties), for comparison.
//     Options.Subset restricts both the labels and the flagged accounts to
//     part of the population (halves of it, to show a rule set is not fitted
//     to one part).
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/internal/gen"
)

// Instance is one labelled laundering instance, or a benign look-alike.
type Instance struct {
	Typology     string // catalogue id, "random", or "benign:<kind>"
	Subject      string
	CustomerID   string
	Accounts     []string // subject included
	Transactions []string
	Start, End   time.Time
}

// Benign reports whether the instance is a look-alike that should not alert.
func (in *Instance) Benign() bool { return strings.HasPrefix(in.Typology, "benign:") }

// Options tune the matching and the rates.
type Options struct {
	Grace       time.Duration   // how long after an instance's end an alert still matches by subject; default 48h
	Accounts    int             // accounts in the population, for alerts per 10,000 accounts (0: not reported)
	Laundering  map[string]bool // transaction-level labels: ids of laundering transactions (optional)
	TxAccounts  map[string][2]string
	Format      string // for the report
	NoSubjectID bool   // match by account only, not by customer id
	// Subset, when set, keeps only the accounts it returns true for, in the
	// account-level evaluation: labels, flagged accounts and alerts (by
	// subject).
	Subset func(account string) bool
	// Since drops the instances that start and the alerts raised before it:
	// the windows' warm-up, when baselines (30-day history) are still empty,
	// as they never are in a bank that has been running.
	Since time.Time
}

// since applies Options.Since.
func (o Options) since(instances []Instance, as []alerts.Alert) ([]Instance, []alerts.Alert) {
	if o.Since.IsZero() {
		return instances, as
	}
	var ins []Instance
	for _, in := range instances {
		if !in.Start.Before(o.Since) {
			ins = append(ins, in)
		}
	}
	var out []alerts.Alert
	for _, a := range as {
		// An alert raised before Since but updated after it (new evidence
		// within its cool-down) is work an analyst sees in the period.
		last := a.Time
		if a.Updated != "" {
			last = a.Updated
		}
		if t, err := time.Parse(time.RFC3339Nano, last); err == nil && !t.Before(o.Since) {
			out = append(out, a)
		}
	}
	return ins, out
}

func (o Options) grace() time.Duration {
	if o.Grace == 0 {
		return 48 * time.Hour
	}
	return o.Grace
}

// Report is the result of an evaluation.
type Report struct {
	Format             string         `json:"format,omitempty"`
	Instances          int            `json:"instances"`
	Detected           int            `json:"detected"`
	DetectedAny        int            `json:"detected_any"`
	Recall             float64        `json:"recall"`
	RecallAny          float64        `json:"recall_any"`
	Alerts             int            `json:"alerts"`
	TruePositiveAlerts int            `json:"true_positive_alerts"`
	Precision          float64        `json:"precision"`
	F1                 float64        `json:"f1"`
	Accounts           int            `json:"accounts,omitempty"`
	AlertsPer10k       float64        `json:"alerts_per_10k_accounts,omitempty"`
	Typologies         []TypologyRow  `json:"typologies"`
	Benign             []BenignRow    `json:"benign,omitempty"`
	AccountLevel       *AccountLevel  `json:"account_level,omitempty"`
	AlertsByTypology   map[string]int `json:"alerts_by_typology,omitempty"`
}

// TypologyRow is one line of the table.
type TypologyRow struct {
	Typology    string  `json:"typology"`
	Instances   int     `json:"instances"`
	Detected    int     `json:"detected"`
	DetectedAny int     `json:"detected_any"`
	Recall      float64 `json:"recall"`
	RecallAny   float64 `json:"recall_any"`
	Alerts      int     `json:"alerts"`    // alerts naming the typology
	AlertsTP    int     `json:"alerts_tp"` // of which true positives
	Precision   float64 `json:"precision"` // alerts_tp / alerts
	Catalogue   bool    `json:"catalogue"` // a catalogue id (counts in the overall recall)
}

// BenignRow counts the look-alikes of one kind that drew an alert.
type BenignRow struct {
	Kind      string `json:"kind"`
	Instances int    `json:"instances"`
	Alerted   int    `json:"alerted"`
}

// AccountLevel is the account-level confusion (AMLSim): flagged accounts
// are alert subjects.
type AccountLevel struct {
	Labelled      int     `json:"labelled_fraud"`
	Flagged       int     `json:"flagged"`
	TruePositives int     `json:"true_positives"`
	Precision     float64 `json:"precision"`
	Recall        float64 `json:"recall"`
	F1            float64 `json:"f1"`
	// WithCounterparties is the same with every party of every transaction
	// an alert lists counted as flagged too (when the transactions are given).
	WithCounterparties *AccountLevel `json:"with_counterparties,omitempty"`
}

// ReadAlerts reads alerts JSON Lines and keeps the latest version of each id,
// sorted by id.
func ReadAlerts(r io.Reader) ([]alerts.Alert, error) {
	latest := map[string]alerts.Alert{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var a alerts.Alert
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("alerts line %d: %v", line, err)
		}
		if a.ID == "" {
			return nil, fmt.Errorf("alerts line %d: alert without id", line)
		}
		if old, ok := latest[a.ID]; !ok || a.Version >= old.Version {
			latest[a.ID] = a
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("alerts line %d: %v", line+1, err)
	}
	out := make([]alerts.Alert, 0, len(latest))
	for _, a := range latest {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReadGenLabels reads the labels file written by `sluice gen`.
func ReadGenLabels(r io.Reader) ([]Instance, error) {
	var out []Instance
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var l gen.Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("labels line %d: %v", line, err)
		}
		start, err1 := time.Parse(time.RFC3339, l.Start)
		end, err2 := time.Parse(time.RFC3339, l.End)
		if l.Typology == "" || l.Subject == "" || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("labels line %d: needs typology, subject and RFC 3339 start and end", line)
		}
		accts := l.Accounts
		if !contains(accts, l.Subject) {
			accts = append([]string{l.Subject}, accts...)
		}
		out = append(out, Instance{Typology: l.Typology, Subject: l.Subject, CustomerID: l.CustomerID, Accounts: accts, Transactions: l.Transactions, Start: start, End: end})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("labels line %d: %v", line+1, err)
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Evaluate matches alerts against instances.
func Evaluate(instances []Instance, as []alerts.Alert, o Options) Report {
	instances, as = o.since(instances, as)
	catalogue := map[string]bool{}
	for _, t := range gen.Typologies {
		catalogue[t] = true
	}
	// Index instances by transaction and by account.
	byTx := map[string][]int{}
	byAcct := map[string][]int{}
	byCust := map[string][]int{}
	for i := range instances {
		in := &instances[i]
		for _, id := range in.Transactions {
			byTx[id] = append(byTx[id], i)
		}
		for _, a := range in.Accounts {
			byAcct[a] = append(byAcct[a], i)
		}
		if in.CustomerID != "" && !o.NoSubjectID {
			byCust[in.CustomerID] = append(byCust[in.CustomerID], i)
		}
	}
	grace := o.grace()
	detected := make([]bool, len(instances))
	detectedAny := make([]bool, len(instances))
	rep := Report{Format: o.Format, Alerts: len(as), AlertsByTypology: map[string]int{}}
	rows := map[string]*TypologyRow{}
	row := func(t string) *TypologyRow {
		if rows[t] == nil {
			rows[t] = &TypologyRow{Typology: t, Catalogue: catalogue[t]}
		}
		return rows[t]
	}
	for ai := range as {
		a := &as[ai]
		touched := map[int]bool{}
		for _, id := range a.Transactions {
			for _, i := range byTx[id] {
				touched[i] = true
			}
		}
		times := alertTimes(a)
		within := func(i int) bool {
			in := &instances[i]
			for _, t := range times {
				if !t.Before(in.Start) && !t.After(in.End.Add(grace)) {
					return true
				}
			}
			return false
		}
		for _, i := range byAcct[a.Subject.Account] {
			if within(i) {
				touched[i] = true
			}
		}
		if a.Subject.CustomerID != "" {
			for _, i := range byCust[a.Subject.CustomerID] {
				if within(i) {
					touched[i] = true
				}
			}
		}
		tp := false
		for _, id := range a.Transactions {
			if o.Laundering[id] {
				tp = true
			}
		}
		names := map[string]bool{}
		for _, t := range a.Typologies {
			names[t.ID] = true
		}
		for i := range touched {
			in := &instances[i]
			if in.Benign() {
				continue
			}
			tp = true
			detectedAny[i] = true
			if names[in.Typology] {
				detected[i] = true
			}
		}
		if tp {
			rep.TruePositiveAlerts++
		}
		for t := range names {
			rep.AlertsByTypology[t]++
			r := row(t)
			r.Alerts++
			if tp {
				r.AlertsTP++
			}
		}
	}
	benign := map[string]*BenignRow{}
	for i := range instances {
		in := &instances[i]
		if in.Benign() {
			b := benign[in.Typology]
			if b == nil {
				b = &BenignRow{Kind: strings.TrimPrefix(in.Typology, "benign:")}
				benign[in.Typology] = b
			}
			b.Instances++
			continue
		}
		r := row(in.Typology)
		r.Instances++
		if detected[i] {
			r.Detected++
		}
		if detectedAny[i] {
			r.DetectedAny++
			rep.DetectedAny++
		}
		if r.Catalogue {
			rep.Instances++
			if detected[i] {
				rep.Detected++
			}
		}
	}
	// A benign instance is alerted when an alert touches it; recompute per
	// benign instance (cheap: only their accounts and transactions).
	alertedBenign(instances, as, grace, benign)
	for _, r := range rows {
		r.Recall = ratio(r.Detected, r.Instances)
		r.RecallAny = ratio(r.DetectedAny, r.Instances)
		r.Precision = ratio(r.AlertsTP, r.Alerts)
		rep.Typologies = append(rep.Typologies, *r)
	}
	sort.Slice(rep.Typologies, func(i, j int) bool { return rep.Typologies[i].Typology < rep.Typologies[j].Typology })
	for _, b := range benign {
		rep.Benign = append(rep.Benign, *b)
	}
	sort.Slice(rep.Benign, func(i, j int) bool { return rep.Benign[i].Kind < rep.Benign[j].Kind })
	nonBenign := 0
	for i := range instances {
		if !instances[i].Benign() {
			nonBenign++
		}
	}
	rep.Recall = ratio(rep.Detected, rep.Instances)
	rep.RecallAny = ratio(rep.DetectedAny, nonBenign)
	rep.Precision = ratio(rep.TruePositiveAlerts, rep.Alerts)
	rep.F1 = f1(rep.Precision, rep.Recall)
	rep.Accounts = o.Accounts
	if o.Accounts > 0 {
		rep.AlertsPer10k = float64(rep.Alerts) * 10000 / float64(o.Accounts)
	}
	return rep
}

func alertTimes(a *alerts.Alert) []time.Time {
	var out []time.Time
	for _, s := range []string{a.Time, a.Updated} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			out = append(out, t)
		}
	}
	return out
}

func alertedBenign(instances []Instance, as []alerts.Alert, grace time.Duration, rows map[string]*BenignRow) {
	bySubject := map[string][]int{}
	byTx := map[string][]int{}
	for ai := range as {
		bySubject[as[ai].Subject.Account] = append(bySubject[as[ai].Subject.Account], ai)
		for _, id := range as[ai].Transactions {
			byTx[id] = append(byTx[id], ai)
		}
	}
	for i := range instances {
		in := &instances[i]
		if !in.Benign() {
			continue
		}
		hit := false
		for _, id := range in.Transactions {
			if len(byTx[id]) > 0 {
				hit = true
				break
			}
		}
		for _, acct := range in.Accounts {
			for _, ai := range bySubject[acct] {
				for _, t := range alertTimes(&as[ai]) {
					if !t.Before(in.Start) && !t.After(in.End.Add(grace)) {
						hit = true
					}
				}
			}
		}
		if hit {
			rows[in.Typology].Alerted++
		}
	}
}

// EvaluateAccounts scores alerts against account labels (AMLSim isFraud).
func EvaluateAccounts(labels map[string]bool, as []alerts.Alert, o Options) Report {
	keep := func(acct string) bool { return o.Subset == nil || o.Subset(acct) }
	if o.Subset != nil {
		sub := make(map[string]bool, len(labels))
		for acct, fraud := range labels {
			if keep(acct) {
				sub[acct] = fraud
			}
		}
		labels = sub
		var kept []alerts.Alert
		for _, a := range as {
			if keep(a.Subject.Account) {
				kept = append(kept, a)
			}
		}
		as = kept
	}
	subjects := map[string]bool{}
	for _, a := range as {
		subjects[a.Subject.Account] = true
	}
	al := confusion(labels, subjects)
	if o.TxAccounts != nil {
		parties := map[string]bool{}
		for acct := range subjects {
			parties[acct] = true
		}
		for _, a := range as {
			for _, id := range a.Transactions {
				if p, ok := o.TxAccounts[id]; ok {
					for _, acct := range p {
						if keep(acct) {
							parties[acct] = true
						}
					}
				}
			}
		}
		al.WithCounterparties = confusion(labels, parties)
	}
	rep := Report{Format: o.Format, Alerts: len(as), AccountLevel: al, AlertsByTypology: map[string]int{}}
	for _, a := range as {
		if labels[a.Subject.Account] {
			rep.TruePositiveAlerts++
		}
		for _, t := range a.Typologies {
			rep.AlertsByTypology[t.ID]++
		}
	}
	rep.Precision = ratio(rep.TruePositiveAlerts, rep.Alerts)
	rep.Recall = al.Recall
	rep.F1 = al.F1
	rep.Accounts = o.Accounts
	if rep.Accounts == 0 {
		rep.Accounts = len(labels)
	}
	if rep.Accounts > 0 {
		rep.AlertsPer10k = float64(rep.Alerts) * 10000 / float64(rep.Accounts)
	}
	return rep
}

// confusion compares flagged accounts with the labels; a flagged account
// without a label counts as flagged, not fraudulent.
func confusion(labels, flagged map[string]bool) *AccountLevel {
	al := &AccountLevel{Flagged: len(flagged)}
	for _, fraud := range labels {
		if fraud {
			al.Labelled++
		}
	}
	for acct := range flagged {
		if labels[acct] {
			al.TruePositives++
		}
	}
	al.Precision = ratio(al.TruePositives, al.Flagged)
	al.Recall = ratio(al.TruePositives, al.Labelled)
	al.F1 = f1(al.Precision, al.Recall)
	return al
}

// WriteTable prints the report for people.
func (r Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	if r.AccountLevel != nil {
		al := r.AccountLevel
		fmt.Fprintf(&b, "account level (alert subjects): %d flagged, %d labelled fraudulent, %d true positives\n", al.Flagged, al.Labelled, al.TruePositives)
		fmt.Fprintf(&b, "  precision %.3f  recall %.3f  F1 %.3f\n", al.Precision, al.Recall, al.F1)
		if c := al.WithCounterparties; c != nil {
			fmt.Fprintf(&b, "with the counterparties of listed transactions: %d flagged, %d true positives\n", c.Flagged, c.TruePositives)
			fmt.Fprintf(&b, "  precision %.3f  recall %.3f  F1 %.3f\n", c.Precision, c.Recall, c.F1)
		}
		fmt.Fprintf(&b, "alerts %d (%d on fraudulent subjects, precision %.3f)", r.Alerts, r.TruePositiveAlerts, r.Precision)
		if r.Accounts > 0 {
			fmt.Fprintf(&b, ", %.1f per 10,000 accounts", r.AlertsPer10k)
		}
		b.WriteString("\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%-24s %9s %8s %7s %8s %7s %7s %9s\n", "typology", "instances", "detected", "recall", "any", "recall*", "alerts", "precision")
	for _, t := range r.Typologies {
		rec := fmt.Sprintf("%.3f", t.Recall)
		if !t.Catalogue {
			rec = "-"
		}
		fmt.Fprintf(&b, "%-24s %9d %8d %7s %8d %7.3f %7d %9.3f\n", t.Typology, t.Instances, t.Detected, rec, t.DetectedAny, t.RecallAny, t.Alerts, t.Precision)
	}
	fmt.Fprintf(&b, "%-24s %9d %8d %7.3f %8d %7.3f %7d %9.3f\n", "TOTAL", r.Instances, r.Detected, r.Recall, r.DetectedAny, r.RecallAny, r.Alerts, r.Precision)
	fmt.Fprintf(&b, "\nalerts %d, true positives %d, precision %.3f, recall %.3f, F1 %.3f", r.Alerts, r.TruePositiveAlerts, r.Precision, r.Recall, r.F1)
	if r.Accounts > 0 {
		fmt.Fprintf(&b, ", %.1f alerts per 10,000 accounts (%d accounts)", r.AlertsPer10k, r.Accounts)
	}
	b.WriteString("\n(recall: an alert naming the typology touches the instance; recall*: any alert touches it)\n")
	if len(r.Benign) > 0 {
		b.WriteString("\nbenign look-alikes alerted:\n")
		for _, x := range r.Benign {
			fmt.Fprintf(&b, "  %-28s %5d of %5d\n", x.Kind, x.Alerted, x.Instances)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
