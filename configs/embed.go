// Package configs embeds the default configuration (rules, typologies, FX
// table, lists) so that `sluice demo` runs from any directory with nothing
// installed.
package configs

import "embed"

// FS holds every file of this directory that Sluice reads by default.
//
//go:embed rules typologies lists fx.yaml
var FS embed.FS
