package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// half is one stored edge seen from one of its accounts.
type half struct {
	Peer   string // the counterparty
	Amount int64
	Time   int64
	Tx     string
	member string // encoded form; with Time, the order of a list
}

func newHalf(peer string, amount, t int64, tx string) half {
	return half{Peer: peer, Amount: amount, Time: t, Tx: tx, member: encodeMember(peer, amount, t, tx)}
}

// before is the order of a list, oldest first: time, then the encoded member
// byte by byte, which is how a Redis sorted set scored by time orders them.
func before(a, b *half) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	return a.member < b.member
}

func cmpHalf(a, b half) int {
	switch {
	case before(&a, &b):
		return -1
	case before(&b, &a):
		return 1
	}
	return 0
}

// encodeMember writes "<len(peer)>:<peer>|<amount>|<time>|<tx>". The length
// prefix lets account ids hold any byte; the tx id is the remainder.
func encodeMember(peer string, amount, t int64, tx string) string {
	var b strings.Builder
	b.Grow(len(peer) + len(tx) + 40)
	b.WriteString(strconv.Itoa(len(peer)))
	b.WriteByte(':')
	b.WriteString(peer)
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(amount, 10))
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(t, 10))
	b.WriteByte('|')
	b.WriteString(tx)
	return b.String()
}

var errMember = errors.New("not <len>:<peer>|<amount>|<time>|<tx>")

func decodeMember(m string) (half, error) {
	n, rest, ok := strings.Cut(m, ":")
	if !ok {
		return half{}, errMember
	}
	l, err := strconv.Atoi(n)
	if err != nil || l < 0 || l >= len(rest) || rest[l] != '|' || n != strconv.Itoa(l) {
		return half{}, errMember
	}
	peer := rest[:l]
	amt, rest, ok := strings.Cut(rest[l+1:], "|")
	if !ok {
		return half{}, errMember
	}
	ts, tx, ok := strings.Cut(rest, "|")
	if !ok {
		return half{}, errMember
	}
	a, err1 := strconv.ParseInt(amt, 10, 64)
	t, err2 := strconv.ParseInt(ts, 10, 64)
	if err1 != nil || err2 != nil {
		return half{}, errMember
	}
	h := half{Peer: peer, Amount: a, Time: t, Tx: tx, member: m}
	if encodeMember(peer, a, t, tx) != m {
		return half{}, errMember // not canonical ("+1", "01"): would not sort like the original
	}
	return h, nil
}

func encodeSignals(s *Signals) ([]byte, error) { return json.Marshal(s) }

func decodeSignals(b []byte) (Signals, error) {
	var s Signals
	if err := json.Unmarshal(b, &s); err != nil {
		return Signals{}, fmt.Errorf("graph: bad signals record: %v", err)
	}
	return s, nil
}

// clone returns a copy that shares no slices with s.
func (s *Signals) clone() Signals {
	c := *s
	c.CycleTx = cloneStrings(s.CycleTx)
	c.Tx = cloneStrings(s.Tx)
	return c
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
