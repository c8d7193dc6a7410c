package main

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluice-aml/sluice/configs"
	"github.com/sluice-aml/sluice/internal/config"
)

// useEmbeddedDefaults points cfg at the embedded configs when the working
// directory has no configs/ of its own: it writes them to a temporary
// directory, so every loader reads plain files. It returns a cleanup func.
func useEmbeddedDefaults(cfg *config.Config) (func(), error) {
	if _, err := os.Stat("configs/rules"); err == nil {
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "sluice-configs-")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(configs.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, path)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := configs.FS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg.Rules.Paths = []string{filepath.Join(dir, "rules"), filepath.Join(dir, "typologies")}
	cfg.Scoring.FX = filepath.Join(dir, "fx.yaml")
	cfg.Lists.Dir = filepath.Join(dir, "lists")
	return func() { os.RemoveAll(dir) }, nil
}
