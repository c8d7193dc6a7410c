package kafka

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/internal/broker"
	"github.com/sluice-aml/sluice/internal/tlstest"
)

func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: this test produces and consumes with kcat as an independent Kafka client; install it with `apt-get install -y kcat` (.ci/run does)")
	}
	return path
}

// An independent client (kcat, on librdkafka) produces a JSON Lines file;
// the Source must hand over every line unchanged, and the lines that fail
// ingest.Decode must reach the dead-letter topic, where kcat reads them back
// with the headers saying why and where from.
func TestKcatProduceConsumeAndDeadLetter(t *testing.T) {
	kcat := needKcat(t)
	const parts = 4
	br := startBroker(t,
		broker.Topic{Name: "transactions", Partitions: parts},
		broker.Topic{Name: "transactions.dlq", Partitions: 1})
	file := "testdata/kcat.jsonl"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	want := map[string]int{}
	for _, l := range lines {
		want[string(l)]++
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", br.Addr(), "-t", "transactions", "-P", "-l", file).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}

	dl := NewDeadLetter(DeadLetterConfig{Brokers: []string{br.Addr()}, Topic: "transactions.dlq"})
	defer dl.Close()
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "transactions", GroupID: "kcat"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var mu sync.Mutex
	type rejected struct {
		value, reason string
		partition     int32
		offset        int64
	}
	var rejects []rejected
	n := 0
	err = src.Run(ctx, func(ctx context.Context, batch []Message) error {
		var bad []Reject
		for _, m := range batch {
			if _, err := ingest.Decode(m.Value); err != nil {
				bad = append(bad, Reject{Message: m, Reason: ingest.Reason(err), Err: err})
			}
		}
		if err := dl.WriteBatch(ctx, bad); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range bad {
			rejects = append(rejects, rejected{string(r.Message.Value), r.Reason, r.Message.Partition, r.Message.Offset})
		}
		for _, m := range batch {
			got[string(m.Value)]++
			n++
		}
		if n == len(lines) {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if n != len(lines) {
		t.Fatalf("source handed over %d of %d lines", n, len(lines))
	}
	for l, c := range want {
		if got[l] != c {
			t.Errorf("line seen %d times, want %d: %.80s", got[l], c, l)
		}
	}
	if len(rejects) < 3 {
		t.Fatalf("only %d lines rejected; the file holds malformed, unknown-currency and invalid UTF-8 lines", len(rejects))
	}

	// Read the dead-letter topic back with kcat: "partition|offset|headers|value".
	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err = exec.CommandContext(ctx, kcat, "-b", br.Addr(), "-t", "transactions.dlq", "-C", "-e", "-q",
		"-f", "%h\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	var dlq []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dlq = append(dlq, sc.Text())
	}
	if len(dlq) != len(rejects) {
		t.Fatalf("kcat read %d dead letters, %d were written:\n%s", len(dlq), len(rejects), out)
	}
	reasons := map[string]int{}
	for i, line := range dlq {
		hs, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("dead letter %d: no tab in %q", i, line)
		}
		r := rejects[i]
		if value != r.value {
			t.Errorf("dead letter %d: value %q, want %q", i, value, r.value)
		}
		h := parseKcatHeaders(hs)
		for k, v := range map[string]string{
			HeaderReason:          r.reason,
			HeaderSourceTopic:     "transactions",
			HeaderSourcePartition: strconv.Itoa(int(r.partition)),
			HeaderSourceOffset:    strconv.FormatInt(r.offset, 10),
		} {
			if h[k] != v {
				t.Errorf("dead letter %d: header %s = %q, want %q (headers %q)", i, k, h[k], v, hs)
			}
		}
		if !strings.HasPrefix(h[HeaderError], r.reason) {
			t.Errorf("dead letter %d: %s = %q does not start with the reason %q", i, HeaderError, h[HeaderError], r.reason)
		}
		reasons[r.reason]++
	}
	for _, want := range []string{ingest.ReasonMalformed, ingest.ReasonInvalidUTF8, ingest.ReasonInvalid} {
		if reasons[want] == 0 {
			t.Errorf("no dead letter with reason %s (got %v)", want, reasons)
		}
	}
}

// parseKcatHeaders parses kcat's %h: "k1=v1,k2=v2". Our header values
// never hold "," except sluice-error, which comes first and is taken up to
// the next known key.
func parseKcatHeaders(s string) map[string]string {
	out := map[string]string{}
	keys := []string{HeaderError, HeaderReason, HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset}
	for i, k := range keys {
		start := strings.Index(s, k+"=")
		if start < 0 {
			continue
		}
		v := s[start+len(k)+1:]
		if i+1 < len(keys) {
			if end := strings.Index(v, ","+keys[i+1]+"="); end >= 0 {
				v = v[:end]
			}
		}
		out[k] = v
	}
	return out
}

// TestKcatSecured: kcat (librdkafka) and Sluice meet on a broker that
// demands mutual TLS, each with its client certificate: kcat produces over
// SSL, the Source consumes and dead-letters one message, and kcat reads it
// back. (SASL is tested with kafka-go only, in TestSecurity: the embedded
// broker offers SaslHandshake v1 alone, and librdkafka 2.0 wants v0 in the
// range before it will authenticate.)
func TestKcatSecured(t *testing.T) {
	kcat := needKcat(t)
	pki := tlstest.New(t).RequireClientCert()
	br, err := broker.Start(broker.Config{TLS: pki.Server, Topics: []broker.Topic{{Name: "tx", Partitions: 2}, {Name: "dlq"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	secured := []string{"-b", br.Addr(), "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + pki.CAFile,
		"-X", "ssl.certificate.location=" + pki.ClientCert, "-X", "ssl.key.location=" + pki.ClientKey}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const n = 20
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		in.WriteString(`{"seq":` + strconv.Itoa(i) + "}\n")
	}
	cmd := exec.CommandContext(ctx, kcat, append(secured, "-t", "tx", "-P")...)
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P over mutual TLS: %v\n%s", err, out)
	}

	sec := Security{TLS: pki.Client(true)}
	dl := NewDeadLetter(DeadLetterConfig{Brokers: []string{br.Addr()}, Topic: "dlq", Security: sec})
	defer dl.Close()
	src, err := NewSource(SourceConfig{Brokers: []string{br.Addr()}, Topic: "tx", GroupID: "kcat-secured", Security: sec, LagInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	rctx, rcancel := context.WithCancel(ctx)
	err = src.Run(rctx, func(ctx context.Context, batch []Message) error {
		for _, msg := range batch {
			if string(msg.Value) == `{"seq":7}` {
				if err := dl.Write(ctx, msg, ingest.ReasonMalformed, errors.New("seven is refused")); err != nil {
					return err
				}
			}
			seen[string(msg.Value)] = true
		}
		if len(seen) == n {
			rcancel()
		}
		return nil
	})
	if err != nil || len(seen) != n {
		t.Fatalf("the Source read %d of kcat's %d messages over mutual TLS: %v", len(seen), n, err)
	}
	out, err := exec.CommandContext(ctx, kcat, append(secured, "-t", "dlq", "-C", "-o", "beginning", "-c", "1", "-e", "-f", "%s %h\n")...).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -C over mutual TLS: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `{"seq":7}`) || !strings.Contains(string(out), "sluice-reason="+ingest.ReasonMalformed) {
		t.Errorf("kcat read from the dead-letter topic: %s", out)
	}
}
