package screening

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sluice-aml/sluice/rules/screening/sources/canada"
	"github.com/sluice-aml/sluice/rules/screening/sources/ofac"
	"github.com/sluice-aml/sluice/rules/screening/sources/un"
)

// Official download addresses.
var (
	DefaultOFACURLs = map[string]string{
		ofac.SDNFile:      "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV",
		ofac.AltFile:      "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ALT.CSV",
		ofac.AddFile:      "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADD.CSV",
		ofac.CommentsFile: "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_COMMENTS.CSV",
	}
	DefaultUNURL   = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
	DefaultSEMAURL = "https://www.international.gc.ca/world-monde/assets/office_docs/international_relations-relations_internationales/sanctions/sema-lmes.xml"
)

// UpdateConfig says where `sluice lists update` fetches the official files
// and where it puts them.
type UpdateConfig struct {
	// Dir is the lists directory; files go to Dir/ofac, Dir/un and Dir/ca,
	// where Load finds them by default.
	Dir string
	// OFAC maps each legacy CSV file name (sdn.csv, ...) to its URL.
	OFAC    map[string]string
	UNURL   string
	SEMAURL string
	// Sources to update: any of "ofac", "un", "ca-sema". Empty means all.
	Sources []string
	// MaxShrink refuses a new file with this share fewer entries than the
	// one in place (0.2 = 20 %): a list does not lose a fifth of its entries
	// overnight, a truncated download does.
	MaxShrink float64
	// MaxBytes caps each download.
	MaxBytes int64
	Client   *http.Client
}

// WithDefaults returns c with unset fields at their defaults.
func (c UpdateConfig) WithDefaults() UpdateConfig {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.OFAC == nil {
		c.OFAC = DefaultOFACURLs
	}
	if c.UNURL == "" {
		c.UNURL = DefaultUNURL
	}
	if c.SEMAURL == "" {
		c.SEMAURL = DefaultSEMAURL
	}
	if len(c.Sources) == 0 {
		c.Sources = []string{"ofac", "un", "ca-sema"}
	}
	if c.MaxShrink == 0 {
		c.MaxShrink = 0.2
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 256 << 20
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c UpdateConfig) Validate() error {
	if c.MaxShrink < 0 || c.MaxShrink >= 1 {
		return fmt.Errorf("lists update: MaxShrink %v: want a share in [0, 1), e.g. 0.2", c.MaxShrink)
	}
	if _, ok := c.OFAC[ofac.SDNFile]; !ok {
		return fmt.Errorf("lists update: OFAC URLs have no %s", ofac.SDNFile)
	}
	for _, s := range c.Sources {
		if s != "ofac" && s != "un" && s != "ca-sema" {
			return fmt.Errorf("lists update: unknown source %q: want ofac, un or ca-sema", s)
		}
	}
	return nil
}

// UpdateResult is what happened to one source.
type UpdateResult struct {
	Source   string `json:"source"`
	Entries  int    `json:"entries"`  // in the new file(s)
	Previous int    `json:"previous"` // in the file(s) replaced, 0 if none
	Updated  bool   `json:"updated"`
	Err      string `json:"error,omitempty"`
}

type updSource struct {
	name  string
	sub   string
	files map[string]string // local name -> URL
	count func(dir string) (int, error)
}

// Update fetches each source's files into a temporary directory beside
// the destination, parses them, compares the entry count with the files in
// place, and only then renames them over the old ones. A source that fails
// keeps its old files; the others are still updated. The error is non-nil
// if any source failed.
func Update(ctx context.Context, cfg UpdateConfig) ([]UpdateResult, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	all := map[string]updSource{
		"ofac": {"ofac", "ofac", cfg.OFAC, func(dir string) (int, error) {
			es, err := ofac.LoadDir(dir)
			return len(es), err
		}},
		"un": {"un", "un", map[string]string{"UN_consolidated.xml": cfg.UNURL}, func(dir string) (int, error) {
			es, err := un.LoadFile(filepath.Join(dir, "UN_consolidated.xml"))
			return len(es), err
		}},
		"ca-sema": {"ca-sema", "ca", map[string]string{"sema-lmes.xml": cfg.SEMAURL}, func(dir string) (int, error) {
			es, err := canada.LoadSEMAFile(filepath.Join(dir, "sema-lmes.xml"))
			return len(es), err
		}},
	}
	var out []UpdateResult
	var failed []string
	for _, name := range cfg.Sources {
		r := updateOne(ctx, cfg, all[name])
		if r.Err != "" {
			failed = append(failed, name)
		}
		out = append(out, r)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("lists update: %s not updated (old files kept)", strings.Join(failed, ", "))
	}
	return out, nil
}

func updateOne(ctx context.Context, cfg UpdateConfig, src updSource) UpdateResult {
	res := UpdateResult{Source: src.name}
	fail := func(err error) UpdateResult {
		res.Err = err.Error()
		return res
	}
	dest := filepath.Join(cfg.Dir, src.sub)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fail(err)
	}
	// The temporary directory is beside the destination, on the same file
	// system, so the final renames are atomic.
	tmp, err := os.MkdirTemp(cfg.Dir, "."+src.sub+"-update-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(src.files))
	for n := range src.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := download(ctx, cfg, src.files[n], filepath.Join(tmp, n)); err != nil {
			return fail(fmt.Errorf("%s: %w", n, err))
		}
	}
	n, err := src.count(tmp)
	if err != nil {
		return fail(fmt.Errorf("new file refused: %w", err))
	}
	res.Entries = n
	if n == 0 {
		return fail(errors.New("new file refused: no entries"))
	}
	if prev, err := src.count(dest); err == nil {
		res.Previous = prev
		if float64(n) < float64(prev)*(1-cfg.MaxShrink) {
			return fail(fmt.Errorf("new file refused: %d entries against %d in place, more than %.0f%% fewer", n, prev, cfg.MaxShrink*100))
		}
	}
	// sdn.csv last: a reader between two renames sees the new aliases with
	// the old entries, which the loader tolerates, never the reverse.
	sort.SliceStable(names, func(i, j int) bool { return names[j] == ofac.SDNFile })
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(dest, n)); err != nil {
			return fail(err)
		}
	}
	res.Updated = true
	return res
}

func download(ctx context.Context, cfg UpdateConfig, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "sluice-lists-update")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, cfg.MaxBytes+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if n > cfg.MaxBytes {
		return fmt.Errorf("GET %s: larger than %d bytes", url, cfg.MaxBytes)
	}
	return nil
}
