// Package screening screens the parties of a payment against designated-
// entity lists: OFAC's SDN list, the UN Security Council consolidated list,
// Canada's autonomous sanctions list and Criminal Code listed terrorist
// entities, the US State Department's Foreign Terrorist Organizations, and a
// bank's internal watch list. The scoring path calls it on every event; the
// `sluice screen` and `sluice lists` commands use it from the command line.
//
// # Loading
//
// Load(Config) reads the YAML and CSV lists in Config.Dir (configs/lists:
// fto.yaml, ca-terrorist.yaml, internal *.csv) and the official files at
// Config.OFACDir, UNFile and SEMAFile (by default Dir/ofac, Dir/un, Dir/ca,
// where Update puts them). The entries form a lists.Set whose content hash,
// Screener.Hash(), is what alerts carry in their lists field. A Screener is
// immutable: to change lists, Load a new one and swap the pointer.
//
// Update fetches the official files, parses them in a temporary directory,
// refuses a file that does not parse or has more than UpdateConfig.MaxShrink
// fewer entries than the one in place, and renames the others over the old
// files.
//
// # Matching
//
// Names are normalized to tokens (normalize.go): Unicode folding, accents,
// case, punctuation, legal forms (S.A. de C.V., Co., Ltd., LLC, Inc., OOO),
// honorifics and name particles (de, del, de la, al, bin) removed. Matching
// ignores token order, so "GUZMAN LOERA, Joaquin" = "Joaquin Guzman Loera".
//
// Each token weighs its inverse document frequency over every listed name
// and alias, so a shared "Garcia" or "Mohammed" says little and a shared
// "Loera" a lot. Query tokens pair one to one with listed tokens: exactly,
// within one edit (found through a delete-one index) or by a coarse sound key
// (Joakin/Joaquin); a fuzzy pair counts one minus the edit share. The score
// is the query's weighted coverage, reduced by a share of the weight of
// listed tokens left unmatched (less when three or more tokens matched: a
// dropped middle name or second surname), and by a quarter when a single
// token is all a multi-token name shares. Every match carries an
// explanation: which tokens matched how, what was left over, both coverages.
//
// Wallet addresses and listed identifiers (passport, C.U.R.P., R.F.C., IMO,
// ...) match exactly, after normalization, with score 1.
//
// A query touches only the names that share a (possibly fuzzy) token with
// it, through the token postings, and fully scores only those whose matched
// query weight could still reach the threshold. Results of recent queries are
// kept in a bounded cache keyed by the name as given and by the normalized
// query.
//
// # Quality and speed
//
// TestQuality measures recall on variants of real listed names (case,
// accents, order, dropped token, typo, alias) and false alarms on generated
// ordinary names; BenchmarkScreenName reports p50/p99 latency per name
// against the full lists. See the test output for the figures.
//
// Match.Designated (and Screener.IsDesignated) say whether a match's programs are those of typology
// designated_party (Config.Designated: FTO, SDGT, SDNTK,
// ILLICIT-DRUGS-EO14059, CA-TERRORIST by default).
package screening
