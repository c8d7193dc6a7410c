package kafka

import (
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Header is one Kafka record header. Keys may repeat, values are raw bytes.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record as the Source hands it to the handler.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Time      time.Time // the record's timestamp
}

// Header returns the value of the first header named key.
func (m *Message) Header(key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func fromKafka(km *kafkago.Message) Message {
	m := Message{
		Topic:     km.Topic,
		Partition: int32(km.Partition),
		Offset:    km.Offset,
		Key:       km.Key,
		Value:     km.Value,
		Time:      km.Time,
	}
	if len(km.Headers) > 0 {
		m.Headers = make([]Header, len(km.Headers))
		for i, h := range km.Headers {
			m.Headers[i] = Header{Key: h.Key, Value: h.Value}
		}
	}
	return m
}

func toKafkaHeaders(hs []Header) []kafkago.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]kafkago.Header, len(hs))
	for i, h := range hs {
		out[i] = kafkago.Header{Key: h.Key, Value: h.Value}
	}
	return out
}
