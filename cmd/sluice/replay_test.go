package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/internal/config"
	"github.com/sluice-aml/sluice/internal/gen"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sharedData returns the path of ../shared/data/<rel>, failing when the
// shared data set is not beside the repository.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test data %s is missing (CI puts ../shared beside the repository): %v", p, err)
	}
	return p
}

// TestReplayGolden replays a recorded stream with the starter rules and the
// real lists, twice in memory and once in Redis, and checks the three
// outputs are byte-identical and equal to the golden file.
func TestReplayGolden(t *testing.T) {
	cfg := testConfig(t)
	cfg.Lists.OFACDir = sharedData(t, "ofac")
	cfg.Profiles.File = filepath.Join("testdata", "stream.customers.jsonl")
	in := filepath.Join("testdata", "stream.jsonl")
	dir := t.TempDir()
	// redis-unix: Redis on the same host through a unix socket (an address
	// that is a path), as redis.addrs may give it.
	outs := map[string]string{"memory-1": "memory", "memory-2": "memory", "redis": "redis", "redis-unix": "redis"}
	got := map[string][]byte{}
	for name, store := range outs {
		addr := "127.0.0.1:6379"
		switch name {
		case "redis":
			testRedis(t) // fails clearly when Redis is not there
		case "redis-unix":
			addr = startRedisSocket(t)
		}
		out := filepath.Join(dir, name+".jsonl")
		var stderr bytes.Buffer
		st, err := replay(context.Background(), cfg, replayOptions{input: in, out: out, store: store, redis: addr, batch: 256, stderr: &stderr})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.rejected != 0 {
			t.Fatalf("%s: %d events rejected: %s", name, st.rejected, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = b
	}
	if len(got["memory-1"]) == 0 {
		t.Fatal("the replay raised no alert")
	}
	for _, name := range []string{"memory-2", "redis", "redis-unix"} {
		if !bytes.Equal(got["memory-1"], got[name]) {
			t.Errorf("%s differs from memory-1:\n%s", name, firstDiff(got["memory-1"], got[name]))
		}
	}
	golden := filepath.Join("testdata", "golden", "alerts.jsonl")
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, got["memory-1"], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestReplayGolden -update to create it)", err)
	}
	if !bytes.Equal(want, got["memory-1"]) {
		t.Errorf("alerts differ from %s (go test -update rewrites it after a deliberate change):\n%s", golden, firstDiff(want, got["memory-1"]))
	}
	t.Logf("%d alert bytes identical across memory, memory, redis over TCP and redis over a unix socket", len(want))
}

// TestReplayReportsBadLines checks every bad record is reported with its
// line and the good ones around it are still scored.
func TestReplayReportsBadLines(t *testing.T) {
	cfg := testConfig(t)
	cfg.Lists.Disabled = true
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	good := `{"id":"g%d","time":"2025-03-04T10:00:00-05:00","kind":"cash_deposit","amount":"9500","currency":"CAD","to":{"account":"A-1","customer_id":"C-1"}}`
	lines := []string{
		strings.Replace(good, "%d", "1", 1),
		`{"id": broken`,
		strings.Replace(strings.Replace(good, "%d", "2", 1), "10:00", "11:00", 1),
		`{"id":"x","time":"2025-03-04T10:00:00Z","kind":"wire","amount":"12.345","currency":"CAD","to":{"account":"A"}}`,
		"",
		strings.Replace(strings.Replace(good, "%d", "3", 1), "10:00", "12:00", 1),
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	out := filepath.Join(dir, "out.jsonl")
	dl := filepath.Join(dir, "dead.jsonl")
	st, err := replay(context.Background(), cfg, replayOptions{input: in, out: out, deadLetter: dl, store: "memory", stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if st.rejected != 2 || st.events != 5 {
		t.Errorf("events %d rejected %d, want 5 and 2", st.events, st.rejected)
	}
	for _, want := range []string{in + ":2: malformed_json", in + ":4: invalid_field: amount"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"structuring"`) {
		t.Errorf("three cash deposits of 9,500 CAD in 2h raised no structuring alert: %s", b)
	}
	d, _ := os.ReadFile(dl)
	if strings.Count(string(d), "\n") != 2 || !strings.Contains(string(d), `"reason":"malformed_json"`) {
		t.Errorf("dead-letter file: %s", d)
	}
}

// TestReplaySameWhateverTheBatch replays one generated stream with batches
// of 64 and of 4,096 events, in memory and in Redis: the alerts, the
// transactions each lists included, are byte-identical. A processor's
// batches follow its load, so an examiner's replay must not depend on them
// (the evidence lists once did: a busy account's later transactions of the
// same batch pushed older ones out of its recent list).
func TestReplaySameWhateverTheBatch(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "bank.jsonl")
	gcfg := gen.DefaultConfig()
	gcfg.Customers, gcfg.Days = 600, 20
	if _, _, err := writeGen(gcfg, stream); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Lists.OFACDir = sharedData(t, "ofac")
	cfg.Profiles.File = sideFile(stream, "customers")
	var want []byte
	for _, run := range []struct {
		store string
		batch int
	}{{"memory", 64}, {"memory", 4096}, {"redis", 64}, {"redis", 4096}} {
		if run.store == "redis" {
			testRedis(t)
		}
		out := filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", run.store, run.batch))
		if _, err := replay(context.Background(), cfg, replayOptions{input: stream, out: out, store: run.store, redis: "127.0.0.1:6379", batch: run.batch}); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			if bytes.Count(got, []byte("\n")) < 50 {
				t.Fatalf("only %d alerts: the stream is too quiet to tell", bytes.Count(got, []byte("\n")))
			}
			want = got
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s, batches of %d: alerts differ from memory, batches of 64, at %s", run.store, run.batch, firstDiff(got, want))
		}
	}
}

// TestReplayKcatExport is an examiner's replay of what the live processor
// did: the topic, exported with kcat (librdkafka) as JSON records, replays
// to exactly the alerts the live processor raised from it, down to the
// source positions they name; an event dated a century after it was
// produced is refused in both, so the events after it are scored in both,
// and so is a message that is not UTF-8.
func TestReplayKcatExport(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run deploy/test.sh (it installs Debian's kcat) or apt-get install kcat")
	}
	_, raw := testStream(t, 300, 6)
	future := `{"id":"tx-future","time":"2125-03-02T10:00:00Z","kind":"cash_deposit","amount":"9400.00","currency":"CAD","to":{"account":"CA-9-1","customer_id":"C-9"}}`
	raw = slices.Insert(raw, len(raw)/2, []byte(future))
	// Not UTF-8: refused live; kcat writes the bytes as they are, and the
	// replay must refuse it too.
	raw = slices.Insert(raw, len(raw)/3, []byte("{\"id\":\"tx-latin1\",\"memo\":\"caf\xe9\"}"))
	_, cfg, live, _ := cleanRun(t, raw, func(cfg *config.Config) (stores, error) { return memoryStores(cfg), nil })

	dir := t.TempDir()
	export := filepath.Join(dir, "tx.kcat.jsonl")
	var stderr bytes.Buffer
	cmd := exec.Command(kcat, "-b", cfg.Kafka.Brokers[0], "-C", "-J", "-e", "-q", "-t", "tx")
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat export: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(export, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, dl := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "dead.jsonl")
	st, err := replay(context.Background(), cfg, replayOptions{input: export, out: out, deadLetter: dl, format: "kcat", stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if st.events != len(raw) || st.rejected != 2 {
		t.Errorf("replayed %d events, %d rejected; want %d, and the future one and the Latin-1 one refused", st.events, st.rejected, len(raw))
	}
	d, _ := os.ReadFile(dl)
	if !strings.Contains(string(d), `"reason":"invalid_field"`) || !strings.Contains(string(d), `"topic":"tx"`) || !strings.Contains(string(d), "after its message was produced") ||
		!strings.Contains(string(d), `"reason":"invalid_utf8"`) {
		t.Errorf("dead-letter file: %s", d)
	}
	replayed := newRunSink()
	f, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(f), []byte("\n")) {
		var a alerts.Alert
		if err := json.Unmarshal(l, &a); err != nil {
			t.Fatal(err)
		}
		if a.Source.Topic != "tx" || a.Source.File != "" {
			t.Fatalf("alert %s names source %+v, not the topic's position", a.ID, a.Source)
		}
		replayed.Write(context.Background(), []alerts.Alert{a})
	}
	if len(live.alerts) == 0 {
		t.Fatal("the live run raised no alert")
	}
	if a, b := live.sortedJSON(t), replayed.sortedJSON(t); !bytes.Equal(a, b) {
		t.Errorf("the replay of the export differs from the live run: %d alerts live, %d replayed\n%s", len(live.alerts), len(replayed.alerts), firstDiff(a, b))
	}
	t.Logf("%d events, %d alerts identical live and replayed from the kcat export", len(raw), len(live.alerts))
}
