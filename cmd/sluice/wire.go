package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/pipeline"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/screening/rescreen"
	"github.com/sluice-aml/sluice/scoring"
	"github.com/sluice-aml/sluice/scoring/evidence"
	"github.com/sluice-aml/sluice/scoring/fx"
	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/window"
)

// parts are what every processing command assembles.
type parts struct {
	cfg      *config.Config
	rules    *rules.Holder
	fx       *fx.Table
	screener *partyScreener // nil when screening is off
	profiles scoring.Profiles
}

// loadParts loads the rule set, FX table, lists and profiles named by cfg.
func loadParts(cfg *config.Config) (*parts, error) {
	p := &parts{cfg: cfg}
	var err error
	if p.rules, err = rules.NewHolderWith(rules.Options{Params: cfg.Rules.Params, Typologies: cfg.Rules.Typologies}, cfg.Rules.Paths...); err != nil {
		return nil, err
	}
	if p.fx, err = fx.Load(cfg.Scoring.FX); err != nil {
		return nil, err
	}
	if !cfg.Lists.Disabled {
		if p.screener, err = loadScreener(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Profiles.File != "" {
		if p.profiles, err = loadProfiles(cfg.Profiles.File); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// stores are the state a processor keeps: windows, evidence and open alerts.
type stores struct {
	windows  window.Store
	evidence evidence.Store
	graph    graph.Store
	state    alerts.State
	registry rescreen.Registry // counterparties seen, for rescreening when the lists change
}

// memoryStores keep everything in process (demo, replay, tests).
func memoryStores(cfg *config.Config) stores {
	return stores{windows: window.NewMemory(), evidence: evidence.NewMemory(0), graph: graph.NewMemory(graphConfig(cfg)), state: alerts.NewMemoryState(),
		registry: rescreen.NewMemory(rescreen.Config{})}
}

func graphConfig(cfg *config.Config) graph.Config {
	return graph.Config{Window: cfg.Scoring.GraphWindow, AmountTolerance: cfg.Scoring.GraphTolerance}
}

// heldBack bounds the evidence entries, and the counterparty sightings,
// held back between flushes: past it a batch writes them itself.
const heldBack = 50_000

// redisStores keep everything in Redis under prefix (production).
func redisStores(cfg *config.Config, rdb redis.UniversalClient, prefix string, stateTTL time.Duration) (stores, error) {
	ws, err := window.NewRedis(rdb, window.RedisConfig{Prefix: prefix})
	if err != nil {
		return stores{}, err
	}
	ev, err := evidence.NewRedis(rdb, prefix, 0, 0)
	if err != nil {
		return stores{}, err
	}
	gs, err := graph.NewRedis(rdb, graphConfig(cfg), prefix+"g:")
	if err != nil {
		return stores{}, err
	}
	reg, err := rescreen.NewRedis(rdb, rescreen.Config{Prefix: prefix + "rescreen"})
	if err != nil {
		return stores{}, err
	}
	// Evidence and the counterparty history are not read by the batch
	// that writes them (but for findings, which flush first): they are
	// written after it, several batches at once, and made durable before
	// the offsets are committed (pipeline.Flush).
	ev.WriteBack(heldBack)
	reg.WriteBack(heldBack)
	return stores{windows: ws, evidence: ev, graph: gs, state: alerts.NewRedisState(rdb, prefix, stateTTL), registry: reg}, nil
}

// pipeline builds the processing path over st.
func (p *parts) pipeline(st stores, sinks ...pipeline.Sink) (*pipeline.Pipeline, error) {
	var screener scoring.Screener
	if p.screener != nil {
		screener = p.screener
	}
	sc, err := scoring.New(scoring.Config{Lateness: p.cfg.Scoring.Lateness, Retain: p.cfg.Scoring.Retain}, p.rules, st.windows, p.fx, screener, p.profiles)
	if err != nil {
		return nil, err
	}
	sc.Evidence, sc.Graph = st.evidence, st.graph
	am, err := alerts.NewManager(alerts.Config{CoolDown: p.cfg.Alerts.CoolDown, Shadow: p.cfg.Alerts.Shadow}, st.state)
	if err != nil {
		return nil, err
	}
	return &pipeline.Pipeline{Decoder: ingest.Decoder{MaxBytes: p.cfg.Kafka.MaxMessageBytes}, MaxAhead: p.cfg.Scoring.MaxAhead, Scorer: sc, Alerts: am, Sinks: sinks, Registry: st.registry}, nil
}

// profileMap is the customers' declared profiles, loaded from JSON Lines.
// Pointers keep the lookup on the map's fast path for string keys (a
// Profile is too large a value for it), which is looked up for most events.
type profileMap map[string]*rules.Profile

func (m profileMap) Profile(id string) (rules.Profile, bool) {
	if p := m[id]; p != nil {
		return *p, true
	}
	return rules.Profile{}, false
}

// loadProfiles reads one customer a line: {"customer_id", "type", "industry",
// "occupation", "country", "region", "city"} (home_* spellings are accepted).
func loadProfiles(path string) (profileMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := profileMap{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		str := func(keys ...string) string {
			for _, k := range keys {
				if s, ok := r[k].(string); ok && s != "" {
					return s
				}
			}
			return ""
		}
		id := str("customer_id", "id")
		if id == "" {
			return nil, fmt.Errorf("%s:%d: customer_id is required", path, line)
		}
		pr := rules.Profile{Known: true, Type: str("type"), Industry: str("industry", "naics"), Occupation: str("occupation"),
			Country: str("country", "home_country"), Region: str("region", "home_region"), City: str("city", "home_city")}
		if o := str("opened"); o != "" {
			t, err := time.Parse("2006-01-02", o)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: opened: %q is not a date (YYYY-MM-DD)", path, line, o)
			}
			pr.Opened = t
		}
		m[id] = &pr
	}
	return m, sc.Err()
}
