package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Ping checks that one of brokers answers and that topic exists.
func Ping(ctx context.Context, brokers []string, topic string) error {
	return PingWith(ctx, brokers, topic, Security{})
}

// PingWith is Ping over TLS or SASL.
func PingWith(ctx context.Context, brokers []string, topic string, sec Security) error {
	_, err := partitions(ctx, &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: sec.Transport()}, topic)
	return err
}

// partitions returns the partition ids of topic.
func partitions(ctx context.Context, c *kafkago.Client, topic string) ([]int, error) {
	md, err := c.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("kafka: brokers %v unreachable: %w", c.Addr, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("kafka: topic %q: %w", topic, t.Error)
		}
		ids := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			ids[i] = p.ID
		}
		return ids, nil
	}
	return nil, fmt.Errorf("kafka: topic %q does not exist", topic)
}

// MeasureLag asks the brokers for the group's lag on the topic: the sum over
// partitions of the end offset minus the committed offset (or minus the
// start offset when nothing is committed yet).
func (s *Source) MeasureLag(ctx context.Context) (int64, error) {
	ids, err := partitions(ctx, s.client, s.cfg.Topic)
	if err != nil {
		return 0, err
	}
	committed, err := s.client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{
		GroupID: s.cfg.GroupID,
		Topics:  map[string][]int{s.cfg.Topic: ids},
	})
	if err == nil {
		err = committed.Error
	}
	// A group that never committed is "not found" on some brokers
	// (kfake) and has no offsets on others: either way nothing is done.
	if errors.Is(err, kafkago.GroupIdNotFound) {
		committed, err = &kafkago.OffsetFetchResponse{}, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kafka: committed offsets of group %q: %w", s.cfg.GroupID, err)
	}
	reqs := make([]kafkago.OffsetRequest, 0, 2*len(ids))
	for _, id := range ids {
		reqs = append(reqs, kafkago.FirstOffsetOf(id), kafkago.LastOffsetOf(id))
	}
	ends, err := s.client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{s.cfg.Topic: reqs}})
	if err != nil {
		return 0, fmt.Errorf("kafka: end offsets of topic %q: %w", s.cfg.Topic, err)
	}
	done := make(map[int]int64, len(ids))
	for _, p := range committed.Topics[s.cfg.Topic] {
		if p.Error == nil {
			done[p.Partition] = p.CommittedOffset
		}
	}
	var lag int64
	for _, p := range ends.Topics[s.cfg.Topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("kafka: offsets of %s/%d: %w", s.cfg.Topic, p.Partition, p.Error)
		}
		from, ok := done[p.Partition]
		if !ok || from < p.FirstOffset {
			from = p.FirstOffset
		}
		if p.LastOffset > from {
			lag += p.LastOffset - from
		}
	}
	return lag, nil
}

func (s *Source) lagLoop(ctx context.Context) {
	t := timeTicker(s.cfg.LagInterval)
	defer t.Stop()
	for {
		mctx, cancel := context.WithTimeout(ctx, s.cfg.LagInterval)
		lag, err := s.MeasureLag(mctx)
		cancel()
		if err == nil {
			s.lag.Store(lag)
		} else if ctx.Err() == nil {
			s.logWarn("measuring lag failed", err, s.cfg.LagInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func timeTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
