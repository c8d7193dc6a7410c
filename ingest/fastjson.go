package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path: a single-pass scanner for exactly the event schema. It
// checks JSON syntax and UTF-8 as it goes and records where each known
// string lies in the message; build then copies them all into one string,
// fills the same wireEvent encoding/json would and runs the same validate.
//
// It never decides a rejection on its own: on anything it does not handle
// (a syntax error, invalid UTF-8, a value of the wrong type, a key that
// encoding/json might match case-insensitively, null or nested attrs, deep
// nesting) it gives up and Decode runs decodeSlow, so reasons, fields and
// details stay those of encoding/json. FuzzDecodeFast holds it to that.
//
// Scanning functions take the position of what they read and return the
// position after it, and false when they give up.

// Indexes of the string fields the scanner records.
const (
	fID = iota
	fTime
	fKind
	fCurrency
	fChannel
	fPurpose
	fMemo
	fCountry // location.country, region, city
	fRegion
	fCity
	fFrom   // from.account ... from.industry, in party order
	fTo     = fFrom + nParty
	nFields = fTo + nParty
)

// Offsets of the party fields from fFrom or fTo.
const (
	pAccount = iota
	pCustomerID
	pName
	pType
	pCountry
	pBank
	pWallet
	pIndustry
	nParty
)

const (
	maxAttrObjs = 4  // more "attrs" members than this go to encoding/json
	maxDepth    = 64 // deeper unknown values go to encoding/json
)

// Object levels, each with its own keys.
const (
	levelTop = iota
	levelLocation
	levelParty
	levelAttrs
)

// span is where a string's content (without quotes) or a raw value lies.
type span struct {
	lo, hi int32
	set    bool // present; for *string fields, present and not null
	esc    bool // contains backslash escapes
}

type fastScanner struct {
	b []byte
	f [nFields]span

	amount     span // the raw value, quotes included
	amountKind byte // '"' string, '0' number, 'x' anything else

	loc, from, to bool // the *Location and *Party pointers are non-nil
	attrs         bool // the attrs map is non-nil
	nattr         int  // attrs read, duplicates included
	nattrObj      int
	attrObj       [maxAttrObjs]span // the attrs objects since the last null
}

// decodeFast decodes b when the scanner can; ok is false when it gave up and
// decodeSlow must decide.
func (d Decoder) decodeFast(b []byte) (e *Event, err error, ok bool) {
	var s fastScanner
	if !s.scan(b) {
		return nil, nil, false
	}
	e, err = d.build(&s)
	return e, err, true
}

// plain marks the bytes a string holds as they are: printable ASCII other
// than the quote and the backslash.
var plain = func() (p [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		p[c] = c != '"' && c != '\\'
	}
	return p
}()

// scan reads one object and nothing but whitespace after it.
func (s *fastScanner) scan(b []byte) bool {
	if len(b) > math.MaxInt32 {
		return false
	}
	s.b = b
	i := ws(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i, ok := s.object(i, levelTop, 0)
	return ok && ws(b, i) == len(b)
}

func ws(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// keys lists, per level, the known keys with their quotes and colon, in the
// order json.Marshal writes them: object first tries them in that order, so
// that canonical events need no key scanning and no key lookup.
var keys = [...][]string{
	levelTop: {`"id":`, `"time":`, `"kind":`, `"amount":`, `"currency":`, `"channel":`,
		`"location":`, `"from":`, `"to":`, `"purpose":`, `"memo":`, `"attrs":`},
	levelLocation: {`"country":`, `"region":`, `"city":`},
	levelParty: {`"account":`, `"customer_id":`, `"name":`, `"type":`, `"country":`,
		`"bank":`, `"wallet":`, `"industry":`},
	levelAttrs: nil,
}

// Known keys by index in keys.
const (
	kID = iota
	kTime
	kKind
	kAmount
	kCurrency
	kChannel
	kLocation
	kFrom
	kTo
	kPurpose
	kMemo
	kAttrs
)

// object reads an object whose '{' is at i; base is the first field index
// of a party.
func (s *fastScanner) object(i, level, base int) (int, bool) {
	b := s.b
	i = ws(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	known := keys[level]
	next := 0 // where to look for the next key in known
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		id := -1
		var k span
		for c := next; c < len(known); c++ {
			if key := known[c]; len(b)-i >= len(key) && string(b[i:i+len(key)]) == key {
				id, next = c, c+1
				i += len(key)
				break
			}
		}
		if id < 0 {
			var ok bool
			if k, i, ok = s.str(i); !ok {
				return i, false
			}
			i = ws(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i++
			id = s.lookup(level, k)
		}
		i = ws(b, i)
		if i >= len(b) {
			return i, false
		}
		var ok bool
		if i, ok = s.member(i, level, base, id); !ok {
			return i, false
		}
		i = ws(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// lookup finds a key that object did not predict: its index in keys, -1
// for an unknown key or, since encoding/json matches struct fields
// case-insensitively with Unicode folding ("ſ" is "s", "K" is "k"), -2 for
// a key with upper case, escapes or non-ASCII, which may name a field after
// all.
func (s *fastScanner) lookup(level int, k span) int {
	key := s.b[k.lo:k.hi]
	for c, known := range keys[level] {
		if string(key) == known[1:len(known)-2] {
			return c
		}
	}
	if level == levelAttrs {
		return -1
	}
	if k.esc {
		return -2
	}
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return -2
		}
	}
	return -1
}

// member reads the value, at i, of the key with index id in keys.
func (s *fastScanner) member(i, level, base, id int) (int, bool) {
	switch {
	case id == -2:
		return i, false
	case level == levelAttrs:
		return s.attrValue(i)
	case id == -1:
		return s.skip(i, 0)
	case level == levelLocation:
		return s.text(i, fCountry+id, false)
	case level == levelParty:
		return s.text(i, base+id, false)
	}
	switch id {
	case kID:
		return s.text(i, fID, true)
	case kTime:
		return s.text(i, fTime, true)
	case kKind:
		return s.text(i, fKind, true)
	case kAmount:
		return s.amountValue(i)
	case kCurrency:
		return s.text(i, fCurrency, true)
	case kChannel:
		return s.text(i, fChannel, false)
	case kLocation:
		return s.nested(i, &s.loc, levelLocation, fCountry, fCity+1)
	case kFrom:
		return s.nested(i, &s.from, levelParty, fFrom, fFrom+nParty)
	case kTo:
		return s.nested(i, &s.to, levelParty, fTo, fTo+nParty)
	case kPurpose:
		return s.text(i, fPurpose, false)
	case kMemo:
		return s.text(i, fMemo, false)
	}
	return s.attrsValue(i) // kAttrs
}

// text reads a string field. Like encoding/json, null sets a pointer field
// to nil and leaves a plain string as it was.
func (s *fastScanner) text(i, k int, ptr bool) (int, bool) {
	switch s.b[i] {
	case '"':
		sp, j, ok := s.str(i)
		sp.set = true
		s.f[k] = sp
		return j, ok
	case 'n':
		if ptr {
			s.f[k] = span{}
		}
		return lit(s.b, i, "null")
	}
	return i, false
}

// nested reads a location or a party: null sets the pointer to nil; an
// object decodes into the existing struct, so a repeated key merges, as in
// encoding/json.
func (s *fastScanner) nested(i int, present *bool, level, lo, hi int) (int, bool) {
	switch s.b[i] {
	case 'n':
		*present = false
		for k := lo; k < hi; k++ {
			s.f[k] = span{}
		}
		return lit(s.b, i, "null")
	case '{':
		*present = true
		return s.object(i, level, lo)
	}
	return i, false
}

// amountValue keeps any value raw, as json.RawMessage does: validate
// decides what a null, an object or a bool amount means.
func (s *fastScanner) amountValue(i int) (int, bool) {
	j, ok := 0, false
	s.amount = span{lo: int32(i), set: true}
	switch c := s.b[i]; {
	case c == '"':
		var sp span
		sp, j, ok = s.str(i)
		s.amountKind, s.amount.esc = '"', sp.esc
	case c == '-' || c >= '0' && c <= '9':
		j, ok = number(s.b, i)
		s.amountKind = '0'
	default:
		j, ok = s.skip(i, 0)
		s.amountKind = 'x'
	}
	s.amount.hi = int32(j)
	return j, ok
}

func (s *fastScanner) attrsValue(i int) (int, bool) {
	switch s.b[i] {
	case 'n':
		s.attrs, s.nattr, s.nattrObj = false, 0, 0
		return lit(s.b, i, "null")
	case '{':
		if s.nattrObj == len(s.attrObj) {
			return i, false
		}
		s.attrs = true
		j, ok := s.object(i, levelAttrs, 0)
		s.attrObj[s.nattrObj] = span{lo: int32(i), hi: int32(j)}
		s.nattrObj++
		return j, ok
	}
	return i, false
}

// attrValue checks that an attr is a scalar; null and nested values are
// rejected by validate, which is encoding/json's business. build reads the
// attrs objects again to fill the map.
func (s *fastScanner) attrValue(i int) (int, bool) {
	s.nattr++
	switch c := s.b[i]; {
	case c == '"':
		_, j, ok := s.str(i)
		return j, ok
	case c == 't':
		return lit(s.b, i, "true")
	case c == 'f':
		return lit(s.b, i, "false")
	case c == '-' || c >= '0' && c <= '9':
		return number(s.b, i)
	}
	return i, false
}

// str reads the string whose opening quote is at i, checking escapes,
// control characters and UTF-8, and returns its content.
func (s *fastScanner) str(i int) (span, int, bool) {
	b := s.b
	i++
	sp := span{lo: int32(i)}
	for {
		// Find the next quote, backslash, control character or non-ASCII
		// byte eight bytes at a time: the lowest 0x80 bit of m marks it.
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ 0x2222222222222222 // zero where '"'
			e := x ^ 0x5c5c5c5c5c5c5c5c // zero where '\\'
			m := (x | (x - 0x2020202020202020) | (q-0x0101010101010101)&^q | (e-0x0101010101010101)&^e) & 0x8080808080808080
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(b) && plain[b[i]] {
				i++
			}
			if i >= len(b) {
				return sp, i, false
			}
		}
		switch c := b[i]; {
		case c == '"':
			sp.hi = int32(i)
			return sp, i + 1, true
		case c == '\\':
			sp.esc = true
			if i+1 >= len(b) {
				return sp, i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return sp, i, false
				}
				i += 6
			default:
				return sp, i, false
			}
		case c < ' ':
			return sp, i, false
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return sp, i, false
			}
			i += n
		}
	}
}

// number reads a number with JSON's grammar.
func number(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func lit(b []byte, i int, word string) (int, bool) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return i, false
	}
	return i + len(word), true
}

// skip reads and discards any value: the contents of unknown fields.
func (s *fastScanner) skip(i, depth int) (int, bool) {
	b := s.b
	if i >= len(b) {
		return i, false
	}
	c := b[i]
	switch c {
	case '"':
		_, j, ok := s.str(i)
		return j, ok
	case 't':
		return lit(b, i, "true")
	case 'f':
		return lit(b, i, "false")
	case 'n':
		return lit(b, i, "null")
	case '{', '[':
		if depth >= maxDepth {
			return i, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = ws(b, i+1)
		if i < len(b) && b[i] == end {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, false
				}
				if _, i, ok = s.str(i); !ok {
					return i, false
				}
				i = ws(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = ws(b, i+1)
			}
			if i, ok = s.skip(i, depth+1); !ok {
				return i, false
			}
			i = ws(b, i)
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i = ws(b, i+1)
			case end:
				return i + 1, true
			default:
				return i, false
			}
		}
	}
	if c == '-' || c >= '0' && c <= '9' {
		return number(b, i)
	}
	return i, false
}

// hex4 is the value of four hex digits, or -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote writes the content of a string the scanner accepted, decoding
// escapes exactly as encoding/json does: a lone or reversed surrogate
// becomes U+FFFD and the escape after it is read on its own.
func unquote(sb *strings.Builder, src []byte) {
	for len(src) > 0 {
		j := bytes.IndexByte(src, '\\')
		if j < 0 {
			sb.Write(src)
			return
		}
		sb.Write(src[:j])
		src = src[j:]
		switch c := src[1]; c {
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r := hex4(src[2:])
			src = src[6:]
			if utf16.IsSurrogate(r) {
				if len(src) >= 6 && src[0] == '\\' && src[1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(src[2:])); dec != utf8.RuneError {
						sb.WriteRune(dec)
						src = src[6:]
						continue
					}
				}
				r = utf8.RuneError
			}
			sb.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			sb.WriteByte(c)
		}
		src = src[2:]
	}
}

// eventBlock puts an event, its parts and the strings its wireEvent points
// to in one allocation (validate lets them escape anyway).
type eventBlock struct {
	ev       Event
	loc      Location
	from, to Party
	time     string
}

// blocks are event blocks given back by Release: a block is half of what
// decoding an event allocates, and a stream decodes every event once.
var blocks = sync.Pool{New: func() any { return new(eventBlock) }}

// Release gives back the memory of events made by Decoder.Decode, for
// the next events to reuse. Nothing may use them, their parties or their
// location afterwards (each is zeroed, so what still does sees empty
// fields); their strings stay valid, as they are not in the block. Events
// made otherwise, copies of events and nil are left alone.
func Release(e *Event) {
	if e == nil || e.blk == nil || &e.blk.ev != e {
		return
	}
	b := e.blk
	*b = eventBlock{}
	blocks.Put(b)
}

// arena copies an event's strings into one buffer, grown once to fit them
// all, so that they cost a single allocation whatever their number. (Codes
// such as currencies are not interned: that would save no allocation, only
// a few bytes, and cost a map lookup each.) A strings.Builder never changes
// what it has written, so the strings it returned stay valid.
type arena struct {
	sb strings.Builder
	b  []byte
}

func (a *arena) str(sp span) string {
	if sp.hi == sp.lo {
		return ""
	}
	lo := a.sb.Len()
	if sp.esc {
		unquote(&a.sb, a.b[sp.lo:sp.hi])
	} else {
		a.sb.Write(a.b[sp.lo:sp.hi])
	}
	return a.sb.String()[lo:]
}

// build turns what the scanner recorded into the wireEvent encoding/json
// would have produced and validates it.
func (d Decoder) build(s *fastScanner) (*Event, error) {
	a := arena{b: s.b}
	size := s.amount.hi - s.amount.lo
	for k := range s.f {
		size += s.f[k].hi - s.f[k].lo
	}
	for _, o := range s.attrObj[:s.nattrObj] {
		size += o.hi - o.lo
	}
	a.sb.Grow(int(size)) // unescaping never makes a string longer

	blk := blocks.Get().(*eventBlock)
	blk.ev.blk = blk
	var w wireEvent
	if s.f[fID].set {
		blk.ev.ID = a.str(s.f[fID])
		w.ID = &blk.ev.ID
	}
	if s.f[fTime].set {
		blk.time = a.str(s.f[fTime])
		w.Time = &blk.time
	}
	if s.f[fKind].set {
		blk.ev.Kind = a.str(s.f[fKind])
		w.Kind = &blk.ev.Kind
	}
	if s.f[fCurrency].set {
		blk.ev.Currency = a.str(s.f[fCurrency])
		w.Currency = &blk.ev.Currency
	}
	w.Channel, w.Purpose, w.Memo = a.str(s.f[fChannel]), a.str(s.f[fPurpose]), a.str(s.f[fMemo])
	if s.amount.set {
		w.Amount = s.b[s.amount.lo:s.amount.hi]
		switch s.amountKind {
		case '"':
			w.amountText, w.amountDecoded = a.str(span{lo: s.amount.lo + 1, hi: s.amount.hi - 1, esc: s.amount.esc}), true
		case '0':
			w.amountText, w.amountDecoded = a.str(s.amount), true
		}
	}
	if s.loc {
		blk.loc = Location{Country: a.str(s.f[fCountry]), Region: a.str(s.f[fRegion]), City: a.str(s.f[fCity])}
		w.Location = &blk.loc
	}
	if s.from {
		blk.from = a.party(s.f[fFrom : fFrom+nParty])
		w.From = &blk.from
	}
	if s.to {
		blk.to = a.party(s.f[fTo : fTo+nParty])
		w.To = &blk.to
	}
	w.attrsDecoded = true
	if s.attrs && s.nattr > 0 {
		w.attrs = make(map[string]any, s.nattr)
		for _, o := range s.attrObj[:s.nattrObj] {
			a.attrs(s, int(o.lo), w.attrs)
		}
	}
	e, err := d.validate(&w, &blk.ev)
	if err != nil {
		Release(&blk.ev)
	}
	return e, err
}

func (a *arena) party(f []span) Party {
	return Party{
		Account: a.str(f[pAccount]), CustomerID: a.str(f[pCustomerID]),
		Name: a.str(f[pName]), Type: a.str(f[pType]),
		Country: a.str(f[pCountry]), Bank: a.str(f[pBank]),
		Wallet: a.str(f[pWallet]), Industry: a.str(f[pIndustry]),
	}
}

// attrs reads again an attrs object that the scanner accepted, so it holds
// only scalars, into m, in order: a repeated key keeps its last value.
func (a *arena) attrs(s *fastScanner, i int, m map[string]any) {
	b := s.b
	for i = ws(b, i+1); b[i] != '}'; {
		k, j, _ := s.str(i)
		key := a.str(k)
		i = ws(b, ws(b, j)+1) // past the ':'
		switch b[i] {
		case '"':
			v, j, _ := s.str(i)
			m[key] = a.str(v)
			i = j
		case 't':
			m[key] = true
			i += len("true")
		case 'f':
			m[key] = false
			i += len("false")
		default:
			j, _ := number(b, i)
			m[key] = json.Number(a.str(span{lo: int32(i), hi: int32(j)}))
			i = j
		}
		if i = ws(b, i); b[i] == ',' {
			i = ws(b, i+1)
		}
	}
}
