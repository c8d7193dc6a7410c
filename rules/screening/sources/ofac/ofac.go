package ofac

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sluice-aml/sluice/rules/screening/lists"
)

// ListID is the list id of every entry this package produces.
const ListID = "ofac-sdn"

// File names in a directory holding the legacy CSV files.
const (
	SDNFile      = "sdn.csv"
	AltFile      = "alt.csv"
	AddFile      = "add.csv"
	CommentsFile = "sdn_comments.csv"
)

// Files are the four legacy CSV files. Only SDN is required.
type Files struct {
	SDN, Alt, Add, Comments io.Reader
}

// LoadDir reads the CSV files from dir. sdn.csv must exist; the others are
// optional because older mirrors ship sdn.csv alone.
func LoadDir(dir string) ([]lists.Entry, error) {
	var f Files
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, x := range []struct {
		name string
		dst  *io.Reader
		req  bool
	}{{SDNFile, &f.SDN, true}, {AltFile, &f.Alt, false}, {AddFile, &f.Add, false}, {CommentsFile, &f.Comments, false}} {
		fh, err := os.Open(filepath.Join(dir, x.name))
		if err != nil {
			if !x.req && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("ofac: %w", err)
		}
		closers = append(closers, fh)
		*x.dst = fh
	}
	return Parse(f)
}

// Parse reads the legacy CSV files into entries sorted by ent_num.
func Parse(f Files) ([]lists.Entry, error) {
	if f.SDN == nil {
		return nil, &lists.ParseError{File: SDNFile, Msg: "missing"}
	}
	comments := map[string]string{}
	if f.Comments != nil {
		err := readCSV(f.Comments, CommentsFile, 2, func(line int, rec []string) error {
			comments[strings.TrimSpace(rec[0])] += field(rec[1])
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []lists.Entry
	byID := map[string]int{}
	err := readCSV(f.SDN, SDNFile, 12, func(line int, rec []string) error {
		id := strings.TrimSpace(rec[0])
		if !isNum(id) {
			return &lists.ParseError{File: SDNFile, Line: line, Msg: fmt.Sprintf("ent_num %q is not a number", rec[0])}
		}
		name := field(rec[1])
		if name == "" {
			return &lists.ParseError{File: SDNFile, Line: line, Msg: fmt.Sprintf("entry %s has no SDN_Name", id)}
		}
		if _, dup := byID[id]; dup {
			return &lists.ParseError{File: SDNFile, Line: line, Msg: fmt.Sprintf("ent_num %s appears twice", id)}
		}
		e := lists.Entry{List: ListID, ID: id, Name: name, Type: lists.NormalizeType(field(rec[2])), Programs: programs(field(rec[3]))}
		rm := ParseRemarks(field(rec[11]) + comments[id])
		e.Aliases = rm.Aliases
		e.DOBs = rm.DOBs
		e.Nationalities = rm.Nationalities
		e.IDs = rm.IDs
		e.Wallets = rm.Wallets
		// EO 14059 entries carry the program in the remarks only on some
		// file versions; the program column is what OFAC guarantees.
		byID[id] = len(out)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.Alt != nil {
		err := readCSV(f.Alt, AltFile, 5, func(line int, rec []string) error {
			i, ok := byID[strings.TrimSpace(rec[0])]
			if !ok {
				return nil // an alias of an entry removed since: harmless
			}
			if a := field(rec[3]); a != "" {
				out[i].Aliases = appendNew(out[i].Aliases, a)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if f.Add != nil {
		err := readCSV(f.Add, AddFile, 6, func(line int, rec []string) error {
			// Addresses are not screened; reading the file still validates it
			// so a broken download is refused as a whole.
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return numLess(out[i].ID, out[j].ID) })
	return out, nil
}

// readCSV calls fn for each record, counting physical lines so errors name
// the line where the bad record starts. OFAC files end with a SUB (0x1a)
// byte on some versions; it is ignored.
func readCSV(r io.Reader, name string, fields int, fn func(line int, rec []string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &lists.ParseError{File: name, Line: pe.StartLine, Msg: pe.Err.Error()}
			}
			return &lists.ParseError{File: name, Msg: err.Error()}
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.Trim(rec[0], "\x1a \r\n") == "" {
			continue
		}
		if len(rec) != fields {
			return &lists.ParseError{File: name, Line: line, Msg: fmt.Sprintf("got %d fields, want %d", len(rec), fields)}
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// field trims a CSV field and turns OFAC's "-0-" (empty) into "".
func field(s string) string {
	s = strings.TrimSpace(s)
	if s == "-0-" {
		return ""
	}
	return s
}

// programs splits "SDNTK] [FTO] [SDGT" into its tags.
func programs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "] [") {
		p = strings.ToUpper(strings.Trim(strings.TrimSpace(p), "[]"))
		if p != "" {
			out = appendNew(out, p)
		}
	}
	return out
}

// Remarks is what ParseRemarks finds in an entry's remarks.
type Remarks struct {
	Aliases       []string
	DOBs          []string
	Nationalities []string
	IDs           []string // "Passport 96140045817 (Mexico)" style, kind first
	Wallets       []string
	Programs      []string
}

var (
	akaRe    = regexp.MustCompile(`^(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+['"‘’]?(.+?)['"‘’]?\.?$`)
	walletRe = regexp.MustCompile(`^Digital Currency Address - ([A-Z0-9]+)\s+(\S+?)\.?$`)
	idRe     = regexp.MustCompile(`^(` + strings.Join(idKinds, "|") + `)\s+(?:No\.\s*|#\s*)?([A-Za-z0-9][A-Za-z0-9 ./-]*?)(?:\s*\((.*)\))?\.?$`)
)

// idKinds are the identifier labels OFAC uses that a payment may carry.
var idKinds = []string{
	`Passport`, `National ID No\.`, `Cedula No\.`, `C\.U\.R\.P\.`, `R\.F\.C\.`, `RFC`,
	`Tax ID No\.`, `Identification Number`, `SSN`, `D\.N\.I\.`, `NIT #`, `RUC #`,
	`Registration ID`, `Registration Number`, `Vessel Registration Identification IMO`,
	`MMSI`, `SWIFT/BIC`, `Company Number`, `Commercial Registry Number`,
	`Folio Mercantil No\.`, `I\.F\.E\.`, `Credencial electoral`, `Driver's License No\.`,
	`Matricula Mercantil No`, `V\.A\.T\. Number`, `Trade License No\.`, `Aircraft Tail Number`,
	`Business Registration Number`, `Legal Entity Number`, `Residency Number`,
}

// ParseRemarks splits OFAC remarks ("DOB 17 Jul 1966; a.k.a. 'Mencho'; ...")
// into the parts a screener uses. Unknown items are ignored.
func ParseRemarks(s string) Remarks {
	var r Remarks
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		item = strings.TrimPrefix(item, "alt. ")
		switch {
		case item == "":
		case strings.HasPrefix(item, "a.k.a.") || strings.HasPrefix(item, "f.k.a.") || strings.HasPrefix(item, "n.k.a."):
			if m := akaRe.FindStringSubmatch(item); m != nil {
				r.Aliases = appendNew(r.Aliases, strings.TrimSpace(m[1]))
			}
		case strings.HasPrefix(item, "DOB "):
			r.DOBs = appendNew(r.DOBs, strings.TrimSuffix(strings.TrimPrefix(item, "DOB "), "."))
		case strings.HasPrefix(item, "nationality "):
			r.Nationalities = appendNew(r.Nationalities, strings.TrimSuffix(strings.TrimPrefix(item, "nationality "), "."))
		case strings.HasPrefix(item, "citizen "):
			r.Nationalities = appendNew(r.Nationalities, strings.TrimSuffix(strings.TrimPrefix(item, "citizen "), "."))
		case strings.HasPrefix(item, "Digital Currency Address - "):
			if m := walletRe.FindStringSubmatch(item); m != nil {
				r.Wallets = appendNew(r.Wallets, m[2])
			}
		default:
			if m := idRe.FindStringSubmatch(item); m != nil {
				id := m[1] + " " + strings.TrimSpace(m[2])
				if m[3] != "" {
					id += " (" + m[3] + ")"
				}
				r.IDs = appendNew(r.IDs, id)
			}
		}
	}
	return r
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func isNum(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func numLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
