package ingest

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of transaction accepted in Event.Kind.
var Kinds = map[string]bool{
	"wire": true, "eft": true, "ach": true, "p2p": true,
	"cash_deposit": true, "cash_withdrawal": true, "cheque": true, "card": true,
	"crypto_buy": true, "crypto_sell": true, "crypto_transfer": true, "other": true,
}

// Channels accepted in Event.Channel.
var Channels = map[string]bool{
	"branch": true, "atm": true, "online": true, "mobile": true, "swift": true, "other": true,
}

// Event is the canonical transaction event (spec/transaction.md).
type Event struct {
	ID       string            `json:"id"`
	Time     time.Time         `json:"time"`
	Kind     string            `json:"kind"`
	Amount   Amount            `json:"amount"`
	Currency string            `json:"currency"`
	Channel  string            `json:"channel,omitempty"`
	Location *Location         `json:"location,omitempty"`
	From     *Party            `json:"from,omitempty"`
	To       *Party            `json:"to,omitempty"`
	Purpose  string            `json:"purpose,omitempty"`
	Memo     string            `json:"memo,omitempty"`
	Attrs    map[string]any    `json:"attrs,omitempty"`
	Profile  map[string]string `json:"-"` // filled by enrichment, never decoded

	// blk is the block Decode made the event in (nil otherwise), which
	// Release gives back.
	blk *eventBlock
}

// Location is where a transaction was conducted.
type Location struct {
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
}

// Party is one side of a transaction.
type Party struct {
	Account    string `json:"account,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type,omitempty"`
	Country    string `json:"country,omitempty"`
	Bank       string `json:"bank,omitempty"`
	Wallet     string `json:"wallet,omitempty"`
	Industry   string `json:"industry,omitempty"`
}

// IsCrypto reports whether the event's currency is a crypto ticker.
func (e *Event) IsCrypto() bool { return CryptoCurrencies[e.Currency] }

// Position says where an event came from: a Kafka topic, partition and offset,
// or a file and line. It travels with the event into the alert's source field.
type Position struct {
	Topic     string `json:"topic,omitempty"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	File      string `json:"file,omitempty"`
	Line      int64  `json:"line,omitempty"`
}

// MarshalJSON writes a Kafka position or a file position, never a mix.
func (p Position) MarshalJSON() ([]byte, error) {
	if p.File != "" {
		return json.Marshal(struct {
			File string `json:"file"`
			Line int64  `json:"line"`
		}{p.File, p.Line})
	}
	return json.Marshal(struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
	}{p.Topic, p.Partition, p.Offset})
}

func (p Position) String() string {
	if p.File != "" {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s/%d@%d", p.Topic, p.Partition, p.Offset)
}
