//go:build stubs

package main

import (
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/scoring"
)

func genCmd(args []string) int                                  { return 0 }
func screenCmd(args []string) int                               { return 0 }
func listsCmd(args []string) int                                { return 0 }
func evalCmd(args []string) int                                 { return 0 }
func loadScreener(cfg *config.Config) (scoring.Screener, error) { return nil, nil }
