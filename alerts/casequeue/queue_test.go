package casequeue

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/sluice-aml/sluice/alerts"
)

// loadAlerts reads testdata/alerts.jsonl: four alerts in the spec's shape,
// one with a hostile name, one with a file source.
func loadAlerts(t testing.TB) []alerts.Alert {
	t.Helper()
	f, err := os.Open("testdata/alerts.jsonl")
	if err != nil {
		t.Fatalf("open test alerts: %v", err)
	}
	defer f.Close()
	var out []alerts.Alert
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a alerts.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("testdata/alerts.jsonl line %d: %v", len(out)+1, err)
		}
		out = append(out, a)
	}
	if len(out) != 4 {
		t.Fatalf("testdata/alerts.jsonl: want 4 alerts, got %d", len(out))
	}
	return out
}

func ids(cs []Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Alert.ID
	}
	return out
}

// testQueue runs the contract every Queue must meet. newQueue returns an
// empty queue.
func testQueue(t *testing.T, newQueue func(t *testing.T) Queue) {
	ctx := context.Background()

	t.Run("PutGetList", func(t *testing.T) {
		q := newQueue(t)
		as := loadAlerts(t)
		if err := q.Put(ctx, as); err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			c, err := q.Get(ctx, a.ID)
			if err != nil {
				t.Fatalf("Get(%s): %v", a.ID, err)
			}
			want, _ := cloneAlert(a)
			if !reflect.DeepEqual(c.Alert, want) {
				t.Errorf("Get(%s).Alert = %+v, want %+v", a.ID, c.Alert, want)
			}
			if c.Status != StatusOpen || c.Analyst != "" {
				t.Errorf("Get(%s): status %q analyst %q, want open and none", a.ID, c.Status, c.Analyst)
			}
		}
		tests := []struct {
			f    Filter
			want []string
		}{
			// Newest event time first; the two at 09:01:44Z by id, descending.
			{Filter{}, []string{"al-77d0e1aa3c", "al-0a11c3f702", "al-5c0e2b9d41", "al-3e4f5a6b7c"}},
			{Filter{Status: StatusOpen, Limit: 2}, []string{"al-77d0e1aa3c", "al-0a11c3f702"}},
			{Filter{Status: StatusClaimed}, []string{}},
			{Filter{Status: StatusClosed}, []string{}},
		}
		for _, tt := range tests {
			cs, err := q.List(ctx, tt.f)
			if err != nil {
				t.Fatalf("List(%+v): %v", tt.f, err)
			}
			if got := ids(cs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		}
		if _, err := q.List(ctx, Filter{Status: "pending"}); !errors.Is(err, ErrStatus) {
			t.Errorf("List(status pending) error %v, want ErrStatus", err)
		}
	})

	t.Run("Versions", func(t *testing.T) {
		q := newQueue(t)
		a := loadAlerts(t)[0]
		if err := q.Put(ctx, []alerts.Alert{a, a}); err != nil {
			t.Fatal(err)
		}
		if err := q.Put(ctx, []alerts.Alert{a}); err != nil {
			t.Fatal(err)
		}
		// Same version, other content: ignored (the id+version is the identity).
		same := a
		same.Score = 1
		if err := q.Put(ctx, []alerts.Alert{same}); err != nil {
			t.Fatal(err)
		}
		cs, err := q.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Alert.Score != a.Score {
			t.Fatalf("after duplicate puts: %d cases, score %d; want 1 case, score %d", len(cs), cs[0].Alert.Score, a.Score)
		}
		v2 := a
		v2.Version, v2.Score, v2.Updated = 2, 95, "2025-03-04T18:00:00-08:00"
		v2.Transactions = append([]string{"tx-7f3b00"}, a.Transactions...)
		if err := q.Put(ctx, []alerts.Alert{v2}); err != nil {
			t.Fatal(err)
		}
		if err := q.Put(ctx, []alerts.Alert{a}); err != nil { // late v1: ignored
			t.Fatal(err)
		}
		c, err := q.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Alert.Version != 2 || c.Alert.Score != 95 || len(c.Alert.Transactions) != 4 {
			t.Errorf("after v2 then v1: version %d score %d txs %d; want 2, 95, 4", c.Alert.Version, c.Alert.Score, len(c.Alert.Transactions))
		}
	})

	t.Run("ClaimClose", func(t *testing.T) {
		q := newQueue(t)
		as := loadAlerts(t)
		if err := q.Put(ctx, as); err != nil {
			t.Fatal(err)
		}
		id := as[0].ID
		steps := []struct {
			name string
			do   func() error
			want error
		}{
			{"claim by ana", func() error { return q.Claim(ctx, id, "ana") }, nil},
			{"claim again by ana", func() error { return q.Claim(ctx, id, "ana") }, nil},
			{"claim by bob", func() error { return q.Claim(ctx, id, "bob") }, ErrClaimed},
			{"claim without analyst", func() error { return q.Claim(ctx, id, "") }, ErrAnalyst},
			{"close by bob", func() error { return q.Close(ctx, id, "bob", FalsePositive, "") }, ErrClaimed},
			{"close with bad disposition", func() error { return q.Close(ctx, id, "ana", "fine", "") }, ErrDisposition},
			{"close by ana", func() error { return q.Close(ctx, id, "ana", STRFiled, "STR 2025-118 filed with FINTRAC") }, nil},
			{"same close again", func() error { return q.Close(ctx, id, "ana", STRFiled, "STR 2025-118 filed with FINTRAC") }, nil},
			{"other close", func() error { return q.Close(ctx, id, "ana", FalsePositive, "") }, ErrClosed},
			{"claim closed", func() error { return q.Claim(ctx, id, "bob") }, ErrClosed},
			{"claim missing", func() error { return q.Claim(ctx, "al-nope", "ana") }, ErrNotFound},
			{"close missing", func() error { return q.Close(ctx, "al-nope", "ana", Escalated, "") }, ErrNotFound},
			// An open case may be closed without a claim first.
			{"close open by bob", func() error { return q.Close(ctx, as[1].ID, "bob", Escalated, "to MLRO") }, nil},
			{"claim other by bob", func() error { return q.Claim(ctx, as[2].ID, "bob") }, nil},
		}
		for _, s := range steps {
			if err := s.do(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
				t.Fatalf("%s: error %v, want %v", s.name, err, s.want)
			}
		}
		if _, err := q.Get(ctx, "al-nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(missing) error %v, want ErrNotFound", err)
		}
		c, err := q.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != StatusClosed || c.Analyst != "ana" || c.Disposition != STRFiled || c.Note != "STR 2025-118 filed with FINTRAC" || c.Claimed == "" || c.Closed == "" {
			t.Errorf("closed case = %+v", c)
		}
		lists := map[string][]string{
			StatusOpen:    {as[3].ID},
			StatusClaimed: {as[2].ID},
			StatusClosed:  {as[1].ID, as[0].ID},
		}
		for st, want := range lists {
			cs, err := q.List(ctx, Filter{Status: st})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(cs); !reflect.DeepEqual(got, want) {
				t.Errorf("List(%s) = %v, want %v", st, got, want)
			}
		}
	})

	t.Run("UpdateReopensClosed", func(t *testing.T) {
		q := newQueue(t)
		as := loadAlerts(t)
		a, b := as[0], as[1]
		if err := q.Put(ctx, []alerts.Alert{a, b}); err != nil {
			t.Fatal(err)
		}
		if err := q.Close(ctx, a.ID, "ana", FalsePositive, "salary pattern"); err != nil {
			t.Fatal(err)
		}
		if err := q.Claim(ctx, b.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		a.Version, b.Version = 2, 2
		if err := q.Put(ctx, []alerts.Alert{a, b}); err != nil {
			t.Fatal(err)
		}
		ca, err := q.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ca.Status != StatusOpen || ca.PrevDisposition != FalsePositive || ca.Disposition != "" || ca.Analyst != "" || ca.Alert.Version != 2 {
			t.Errorf("closed case updated: %+v; want reopened with prev_disposition false_positive", ca)
		}
		cb, err := q.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cb.Status != StatusClaimed || cb.Analyst != "bob" || cb.Alert.Version != 2 {
			t.Errorf("claimed case updated: %+v; want still claimed by bob", cb)
		}
		open, err := q.List(ctx, Filter{Status: StatusOpen})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(open); !reflect.DeepEqual(got, []string{a.ID}) {
			t.Errorf("open after reopen = %v, want [%s]", got, a.ID)
		}
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		q := newQueue(t)
		a := loadAlerts(t)[3]
		if err := q.Put(ctx, []alerts.Alert{a}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = q.Claim(ctx, a.ID, fmt.Sprintf("analyst-%d", i))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrClaimed):
				t.Errorf("concurrent claim: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d analysts won the claim, want exactly 1", won)
		}
	})

	t.Run("PutRejectsEmptyID", func(t *testing.T) {
		q := newQueue(t)
		if err := q.Put(ctx, []alerts.Alert{{Version: 1}}); err == nil {
			t.Error("Put of an alert without id succeeded")
		}
	})
}

func TestMemory(t *testing.T) {
	testQueue(t, func(t *testing.T) Queue { return NewMemory() })
}

// The memory queue keeps its own copy: changing the caller's alert after
// Put must not change the case.
func TestMemoryCopies(t *testing.T) {
	q := NewMemory()
	a := loadAlerts(t)[0]
	if err := q.Put(context.Background(), []alerts.Alert{a}); err != nil {
		t.Fatal(err)
	}
	a.Rules[0].Reason = "changed"
	c, _ := q.Get(context.Background(), a.ID)
	if c.Alert.Rules[0].Reason == "changed" {
		t.Error("case shares memory with the caller's alert")
	}
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		in      Filter
		limit   int
		wantErr bool
	}{
		{Filter{}, DefaultLimit, false},
		{Filter{Limit: 5}, 5, false},
		{Filter{Limit: MaxLimit + 1}, MaxLimit, false},
		{Filter{Limit: -1}, 0, true},
		{Filter{Status: "done"}, 0, true},
	}
	for _, tt := range tests {
		f := tt.in
		err := f.Validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("Validate(%+v) error %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil && f.Limit != tt.limit {
			t.Errorf("Validate(%+v) limit %d, want %d", tt.in, f.Limit, tt.limit)
		}
	}
}
