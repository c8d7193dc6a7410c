package window_test

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/scoring/window"
	"github.com/sluice-aml/sluice/scoring/window/storetest"
)

// eventGroups mirrors the production rule set (configs/rules/features.yaml
// through scoring's layout): 28 features in 4 groups.
func eventGroups() []*window.Group {
	f := storetest.Feature
	const h, d = time.Hour, 24 * time.Hour
	acct := &window.Group{Name: "acct", Retain: 2 * h, Features: []window.Feature{
		f("cash_in_24h_count", window.Count, d, 0, 0),
		f("cash_in_24h_sum", window.Sum, d, 0, 0),
		f("cash_in_24h_max", window.Max, d, 0, 0),
		f("cash_in_7d_count", window.Count, 7*d, 0, 0),
		f("cash_in_7d_sum2", window.Sum, 7*d, 0, 0),
		f("cash_in_7d_sum", window.Sum, 7*d, 0, 0),
		f("cash_in_48h_sum", window.Sum, 2*d, 0, 0),
		f("cash_in_7d_branches", window.Distinct, 7*d, 0, 0),
		f("cash_out_24h_sum", window.Sum, d, 0, 0),
		f("in_48h_sum", window.Sum, 2*d, 0, 0),
		f("out_48h_sum", window.Sum, 2*d, 0, 0),
		f("out_72h_sum", window.Sum, 3*d, 0, 0),
		f("out_24h_sum", window.Sum, d, 0, 0),
		f("card_out_30d_count", window.Count, 30*d, 0, 0),
		f("wire_in_30d_count", window.Count, 30*d, 0, 0),
		f("senders_7d", window.Distinct, 7*d, 0, 0),
		f("receivers_7d", window.Distinct, 7*d, 0, 0),
		f("small_p2p_in_72h_count", window.Count, 3*d, 0, 0),
		f("small_p2p_in_72h_sum", window.Sum, 3*d, 0, 0),
		f("small_p2p_senders_72h", window.Distinct, 3*d, 0, 0),
	}}
	local := &window.Group{Name: "acct@local", Retain: 2 * h, Features: []window.Feature{
		f("cash_in_day_count", window.Count, d, d, 0),
		f("cash_in_day_sum", window.Sum, d, d, 0),
		f("cash_in_day_max", window.Max, d, d, 0),
	}}
	cust := &window.Group{Name: "cust", Retain: 2 * h, Features: []window.Feature{
		f("cust_cash_in_24h_count", window.Count, d, 0, 0),
		f("cust_cash_in_24h_sum", window.Sum, d, 0, 0),
		f("cust_cash_in_24h_max", window.Max, d, 0, 0),
		f("cust_cash_in_24h_branches", window.Distinct, d, 0, 0),
	}}
	custLocal := &window.Group{Name: "cust@local", Retain: 2 * h, Features: []window.Feature{
		f("cust_cash_in_day_sum", window.Sum, d, d, 0),
	}}
	return []*window.Group{acct, local, cust, custLocal}
}

// eventStream makes the updates of events: the receiving account and
// customer, the sending account and customer, and the receiving account's
// calendar day (5 updates, as scoring's prepare makes). About a third of the
// features pass their filter on each event, as the rules' where clauses do.
type eventStream struct {
	groups  []*window.Group
	keys    int
	rng     *rand.Rand
	n       int
	seed    int64
	accts   []string
	members []string
}

func newEventStream(keys int, seed int64) *eventStream {
	s := &eventStream{groups: eventGroups(), keys: keys, rng: rand.New(rand.NewSource(seed)), seed: seed}
	for i := 0; i < keys; i++ {
		s.accts = append(s.accts, fmt.Sprintf("NL%02dBANK%010d", i%97, i))
	}
	for i := 0; i < 2000; i++ {
		s.members = append(s.members, fmt.Sprintf("cp-%d", i))
	}
	return s
}

// fill sets the next event's updates into us (len 5), reusing their slices.
func (s *eventStream) fill(us []*window.Update) {
	s.n++
	at := storetest.Base + int64(s.n)*20 // 50 events per second of event time
	to, from := s.rng.Intn(s.keys), s.rng.Intn(s.keys)
	id := "ev" + strconv.FormatInt(s.seed, 10) + "-" + strconv.Itoa(s.n)
	amount := s.rng.Int63n(1_000_000)
	set := func(u *window.Update, g *window.Group, key, tx string) {
		u.Group, u.Key, u.TxID, u.Time = g, key, tx, at
		if cap(u.Inputs) < len(g.Features) {
			u.Inputs = make([]window.Input, len(g.Features))
		}
		u.Inputs = u.Inputs[:len(g.Features)]
		for j := range u.Inputs {
			u.Inputs[j] = window.Input{Apply: s.rng.Intn(3) == 0, Value: amount, Member: s.members[s.rng.Intn(len(s.members))]}
		}
	}
	set(us[0], s.groups[0], s.accts[to], id+":in")
	set(us[1], s.groups[0], s.accts[from], id+":out")
	set(us[2], s.groups[2], "C"+s.accts[to][6:], id+":in")
	set(us[3], s.groups[2], "C"+s.accts[from][6:], id+":out")
	set(us[4], s.groups[1], s.accts[to], id+":in")
}

// benchEvents applies batches of 512 events (2560 updates) over 100,000
// accounts from workers goroutines (as a processor's partitions would),
// after warming the store with warm batches, and reports events/s and
// updates/s.
func benchEvents(b *testing.B, st window.Store, workers, warm int, start func()) {
	const events, per = 512, 5
	ctx := context.Background()
	type worker struct {
		s     *eventStream
		batch []*window.Update
	}
	ws := make([]*worker, workers)
	for w := range ws {
		ws[w] = &worker{s: newEventStream(100_000, int64(w+1)), batch: make([]*window.Update, events*per)}
		for i := range ws[w].batch {
			ws[w].batch[i] = &window.Update{}
		}
	}
	next := func(w *worker) {
		for i := 0; i < events; i++ {
			w.s.fill(w.batch[i*per : (i+1)*per])
		}
	}
	for i := 0; i < warm; i++ {
		w := ws[i%workers]
		next(w)
		if err := st.Apply(ctx, w.batch); err != nil {
			b.Fatal(err)
		}
	}
	if start != nil {
		start()
	}
	cpu0 := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Add(events)-events < int64(b.N) {
				next(w) // part of the measure: about 2% of it
				if err := st.Apply(ctx, w.batch); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu := processCPU() - cpu0
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	n := done.Load() - int64(workers*events) // the last Add of each worker applied nothing
	n = max(n, int64(b.N))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*per)/b.Elapsed().Seconds(), "updates/s")
	// What the store costs this process, whatever else shares the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-us/event")
}

// processCPU is the CPU time (user + system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU time the Redis server used so far, from INFO.
func redisCPU(tb testing.TB, client *redis.Client) time.Duration {
	info, err := client.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var t float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			x, _ := strconv.ParseFloat(v, 64)
			t += x
		}
	}
	return time.Duration(t * float64(time.Second))
}

// BenchmarkRedisEvents: a cache that holds the working set (300,000
// keys), warmed, two workers.
func BenchmarkRedisEvents(b *testing.B) {
	_, client, prefix := newRedis(b)
	st, err := window.NewRedis(client, window.RedisConfig{Prefix: prefix, CacheEntries: 400_000})
	if err != nil {
		b.Fatal(err)
	}
	var s0 window.RedisStats
	var r0 time.Duration
	benchEvents(b, st, 2, 200, func() { s0, r0 = st.Stats(), redisCPU(b, client) })
	// Redis's CPU counts every client of the server, not only this one.
	b.ReportMetric(float64((redisCPU(b, client)-r0).Microseconds())/float64(b.N), "redis-cpu-us/event")
	s := st.Stats()
	b.ReportMetric(float64(s.Misses-s0.Misses)/float64(b.N), "misses/event")
	b.ReportMetric(float64(s.Conflicts-s0.Conflicts)/float64(b.N), "conflicts/event")
}

// BenchmarkRedisEventsCold: the default cache (200,000 entries) and no
// warm-up: many keys are read from Redis first.
func BenchmarkRedisEventsCold(b *testing.B) {
	st, _, _ := newRedis(b)
	benchEvents(b, st, 2, 0, nil)
	s := st.Stats()
	b.ReportMetric(float64(s.Misses)/float64(b.N), "misses/event")
}

func BenchmarkMemoryEvents(b *testing.B) { benchEvents(b, window.NewMemory(), 2, 200, nil) }
