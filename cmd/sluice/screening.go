package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/rules/screening/rescreen"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/rules/screening"
	"github.com/sluice-aml/sluice/scoring"
)

// partyScreener screens a party's name and wallet for the scoring path. The
// screener in force is swapped atomically when the lists change.
type partyScreener struct {
	cfg screening.Config
	cur atomic.Pointer[screening.Screener]
}

func screeningConfig(cfg *config.Config) screening.Config {
	return screening.Config{Dir: cfg.Lists.Dir, OFACDir: cfg.Lists.OFACDir, OFACXML: cfg.Lists.OFACXML, UNFile: cfg.Lists.UNFile, SEMAFile: cfg.Lists.SEMAFile, Threshold: cfg.Lists.Threshold}
}

func loadScreener(cfg *config.Config) (*partyScreener, error) {
	p := &partyScreener{cfg: screeningConfig(cfg)}
	s, err := screening.Load(p.cfg)
	if err != nil {
		return nil, err
	}
	p.cur.Store(s)
	return p, nil
}

func (p *partyScreener) Hash() string { return p.cur.Load().Hash() }

// reload loads the lists again; when their content changed it swaps the new
// screener in and returns the old and the new one (nil, nil when unchanged).
func (p *partyScreener) reload() (old, new *screening.Screener, err error) {
	s, err := screening.Load(p.cfg)
	if err != nil {
		return nil, nil, err
	}
	if s.Hash() == p.Hash() {
		return nil, nil, nil
	}
	return p.cur.Swap(s), s, nil
}

// watchLists reloads the lists on SIGHUP and every interval; when they
// changed, it screens the recorded history again and writes an alert for
// each counterparty that is newly designated. An invalid new set is refused
// and the old one keeps running.
func watchLists(ctx context.Context, p *partyScreener, reg rescreen.Registry, ruleset func() string, sinks []pipeline.Sink, interval time.Duration, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if interval <= 0 {
		interval = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick.C:
		}
		old, cur, err := p.reload()
		if err != nil {
			log.Error("lists refused; the previous ones keep running", "err", err.Error(), "lists", p.Hash())
			continue
		}
		if cur == nil {
			continue
		}
		log.Info("lists reloaded; screening the history again", "lists", cur.Hash(), "previous", old.Hash())
		if err := rescreenHistory(ctx, reg, old, cur, ruleset(), sinks); err != nil {
			log.Error("rescreening the history failed", "err", err.Error())
		}
	}
}

// rescreenHistory raises an alert for every recorded counterparty that the
// new lists designate and the old ones did not.
func rescreenHistory(ctx context.Context, reg rescreen.Registry, old, cur *screening.Screener, ruleset string, sinks []pipeline.Sink) error {
	hits, err := rescreen.Rescreen(ctx, reg, old, cur, time.Time{}, 0)
	if err != nil || len(hits) == 0 {
		return err
	}
	as := make([]alerts.Alert, len(hits))
	for i, h := range hits {
		as[i] = rescreen.Alert(h, cur.Hash(), ruleset)
	}
	for _, s := range sinks {
		if err := s.Write(ctx, as); err != nil {
			return err
		}
	}
	return nil
}

func (p *partyScreener) ScreenParty(side string, party *ingest.Party) []scoring.ScreenHit {
	var out []scoring.ScreenHit
	add := func(field string, ms []screening.Match) {
		for _, m := range ms {
			out = append(out, scoring.ScreenHit{Field: field, List: m.List, Entry: m.Entry, ListedName: m.ListedName,
				MatchedName: m.MatchedName, Score: m.Score, Programs: m.Programs, Designated: m.Designated})
		}
	}
	if party.Name != "" {
		add(side+".name", p.cur.Load().ScreenName(party.Name))
	}
	if party.Wallet != "" {
		add(side+".wallet", p.cur.Load().ScreenWallet(party.Wallet))
	}
	return out
}

// sharedOFAC is the development copy of the OFAC SDN files beside the
// repository (../shared/data/ofac); demo and bench use it when the lists
// directory has no downloaded copy, so a fresh checkout screens against SDN.
func sharedOFAC() string {
	for _, d := range []string{"../shared/data/ofac", "../../shared/data/ofac"} {
		if _, err := os.Stat(d + "/sdn.csv"); err == nil {
			return d
		}
	}
	return ""
}
