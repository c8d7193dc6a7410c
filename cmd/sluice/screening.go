package main

import (
	"os"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/rules/screening"
	"github.com/sluice-aml/sluice/scoring"
)

// partyScreener screens a party's name and wallet for the scoring path.
type partyScreener struct{ s *screening.Screener }

func loadScreener(cfg *config.Config) (scoring.Screener, error) {
	sc := screening.Config{Dir: cfg.Lists.Dir, OFACDir: cfg.Lists.OFACDir, UNFile: cfg.Lists.UNFile, SEMAFile: cfg.Lists.SEMAFile, Threshold: cfg.Lists.Threshold}
	s, err := screening.Load(sc)
	if err != nil {
		return nil, err
	}
	return partyScreener{s}, nil
}

func (p partyScreener) Hash() string { return p.s.Hash() }

func (p partyScreener) ScreenParty(side string, party *ingest.Party) []scoring.ScreenHit {
	var out []scoring.ScreenHit
	add := func(field string, ms []screening.Match) {
		for _, m := range ms {
			out = append(out, scoring.ScreenHit{Field: field, List: m.List, Entry: m.Entry, ListedName: m.ListedName,
				MatchedName: m.MatchedName, Score: m.Score, Programs: m.Programs, Designated: m.Designated})
		}
	}
	if party.Name != "" {
		add(side+".name", p.s.ScreenName(party.Name))
	}
	if party.Wallet != "" {
		add(side+".wallet", p.s.ScreenWallet(party.Wallet))
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
