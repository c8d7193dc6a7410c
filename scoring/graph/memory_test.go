package graph_test

import (
	"testing"

	"github.com/sluice-aml/sluice/scoring/graph"
	"github.com/sluice-aml/sluice/scoring/graph/graphtest"
)

func TestMemoryContract(t *testing.T) {
	graphtest.Run(t, func(t *testing.T, cfg graph.Config) graph.Store { return graph.NewMemory(cfg) })
}
