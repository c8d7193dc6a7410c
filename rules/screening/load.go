package screening

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
	"github.com/sluice-aml/sluice/rules/screening/sources/canada"
	"github.com/sluice-aml/sluice/rules/screening/sources/fto"
	"github.com/sluice-aml/sluice/rules/screening/sources/ofac"
	"github.com/sluice-aml/sluice/rules/screening/sources/un"
	"github.com/sluice-aml/sluice/rules/screening/sources/watchlist"
)

// LoadSet reads every list the configuration names into one Set.
func LoadSet(cfg Config) (*lists.Set, error) {
	cfg = cfg.WithDefaults()
	var all []lists.Entry
	st, err := os.Stat(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("screening: lists directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("screening: lists directory %s is not a directory", cfg.Dir)
	}
	files, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("screening: %w", err)
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		if !f.IsDir() {
			names = append(names, f.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		es, err := loadListFile(filepath.Join(cfg.Dir, n))
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	if cfg.OFACXML != "" {
		es, err := ofac.LoadXMLFile(cfg.OFACXML)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	} else if dir, explicit := cfg.ofacDir(); exists(filepath.Join(dir, ofac.SDNFile), explicit) {
		es, err := ofac.LoadDir(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	} else if explicit {
		return nil, fmt.Errorf("screening: OFAC directory %s has no %s", dir, ofac.SDNFile)
	}
	if p, explicit := cfg.unFile(); exists(p, explicit) {
		es, err := un.LoadFile(p)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	} else if explicit {
		return nil, fmt.Errorf("screening: UN list %s does not exist", p)
	}
	if p, explicit := cfg.semaFile(); exists(p, explicit) {
		es, err := canada.LoadSEMAFile(p)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	} else if explicit {
		return nil, fmt.Errorf("screening: Canada SEMA list %s does not exist", p)
	}
	if err := checkUnique(all); err != nil {
		return nil, err
	}
	return lists.NewSet(all), nil
}

// loadListFile reads one file of the lists directory by its name: fto.yaml
// and ca-terrorist.yaml get their list's checks, other .yaml/.yml files are
// the lists YAML format, .csv files internal watch lists. Anything else
// (README, .example files) is ignored.
func loadListFile(path string) ([]lists.Entry, error) {
	base := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(base))
	if ext != ".yaml" && ext != ".yml" && ext != ".csv" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("screening: %w", err)
	}
	defer f.Close()
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	switch {
	case ext == ".csv":
		return watchlist.ParseCSV(f, path)
	case stem == "fto":
		return fto.Parse(f, path)
	case stem == "ca-terrorist":
		return canada.ParseTerrorist(f, path)
	default:
		return lists.ParseYAML(f, path, "")
	}
}

func exists(path string, explicit bool) bool {
	_, err := os.Stat(path)
	return err == nil || (explicit && !errors.Is(err, fs.ErrNotExist))
}

func checkUnique(all []lists.Entry) error {
	seen := make(map[[2]string]bool, len(all))
	for _, e := range all {
		k := [2]string{e.List, e.ID}
		if seen[k] {
			return fmt.Errorf("screening: list %s has entry %s twice (two files with the same list id?)", e.List, e.ID)
		}
		seen[k] = true
	}
	return nil
}
