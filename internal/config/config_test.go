package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/internal/tlstest"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	if err == nil {
		t.Fatal("a bad configuration loaded")
	}
	for _, want := range []string{`testdata/bad.yaml:2: kafka.brokers: "kafka-1" must be host:port`, "testdata/bad.yaml:4: kafka.commit_every: 0s must be between 1ms and 1m", `testdata/bad.yaml:5: kafka.start_offset: "newest" must be earliest or latest`, "testdata/bad.yaml:9: redis.wait_replicas: -1 must be between 0 and 16", "testdata/bad.yaml:11: lists.threshold: 3 must be in (0, 1]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(path, []byte("kafka:\n  brokres: [k:9092]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":2: kafka.brokres: unknown key") {
		t.Errorf("a misspelt key must be refused with its line: %v", err)
	}
	if _, err := Load("testdata/missing.yaml"); err == nil {
		t.Error("a missing file must be an error")
	}
}

func TestTypeErrorsNameTheField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "types.yaml")
	if err := os.WriteFile(path, []byte("kafka:\n  workers: two\n  max_wait: 0\nscoring:\n  lateness: 72h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	for _, want := range []string{path + ":2: kafka.workers: cannot unmarshal", path + ":3: kafka.max_wait: cannot unmarshal !!int `0` into time.Duration (write a duration with its unit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	c := Default()
	err := c.applyEnv([]string{"SLUICE_KAFKA_BROKERS=k1:9092, k2:9092", "SLUICE_SCORING_LATENESS=1h", "SLUICE_ALERTS_SHADOW=true",
		"SLUICE_LISTS_THRESHOLD=0.9", "SLUICE_KAFKA_MAX_BATCH=64", "SLUICE_SERVER_TOKEN=s3cret-token-from-env"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Kafka.Brokers, ",") != "k1:9092,k2:9092" || c.Scoring.Lateness != time.Hour || !c.Alerts.Shadow ||
		c.Lists.Threshold != 0.9 || c.Kafka.MaxBatch != 64 || c.Server.Token != "s3cret-token-from-env" {
		t.Errorf("overrides not applied: %+v", c)
	}
	if err := c.applyEnv([]string{"SLUICE_SCORING_LATENESS=soon"}); err == nil || !strings.Contains(err.Error(), "SLUICE_SCORING_LATENESS") {
		t.Errorf("a bad value must name the variable: %v", err)
	}
}

// TestExampleLoads: the example the README points to is a valid
// configuration, and lists every key (a key it lacks would be missing
// from the only place users look them up).
func TestExampleLoads(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "sluice.example.yaml")
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		sec := ct.Field(i)
		name, _, _ := strings.Cut(sec.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || sec.Type.Kind() != reflect.Struct {
			continue
		}
		if !strings.Contains(text, "\n"+name+":") {
			t.Errorf("section %s missing from the example", name)
			continue
		}
		for _, key := range yamlKeys(sec.Type) {
			if !strings.Contains(text, key+":") {
				t.Errorf("%s.%s missing from the example", name, key)
			}
		}
	}
}

// yamlKeys are the keys of a section, those of its inline structs (TLS)
// with them.
func yamlKeys(st reflect.Type) []string {
	var keys []string
	for j := 0; j < st.NumField(); j++ {
		key, opt, _ := strings.Cut(st.Field(j).Tag.Get("yaml"), ",")
		switch {
		case opt == "inline":
			keys = append(keys, yamlKeys(st.Field(j).Type)...)
		case key != "" && key != "-":
			keys = append(keys, key)
		}
	}
	return keys
}

// TestSecurityKeys: TLS and SASL settings are checked at load, each
// mistake named by file, line and key, and a sound set loads with its
// files read.
func TestSecurityKeys(t *testing.T) {
	pki := tlstest.New(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"files without tls", "kafka:\n  tls_ca_file: " + pki.CAFile + "\n", ":2: kafka.tls_ca_file: is set but tls is false: set tls: true"},
		{"missing CA file", "redis:\n  tls: true\n  tls_ca_file: /nonexistent/ca.pem\n", ":3: redis.tls_ca_file: open /nonexistent/ca.pem"},
		{"CA file without PEM", "kafka:\n  tls: true\n  tls_ca_file: " + junk + "\n", ":3: kafka.tls_ca_file: " + junk + " holds no PEM certificate"},
		{"cert without key", "kafka:\n  tls: true\n  tls_cert_file: " + pki.ClientCert + "\n", ":3: kafka.tls_cert_file: a client certificate needs both"},
		{"unknown mechanism", "kafka:\n  sasl_mechanism: GSSAPI\n  sasl_username: u\n  sasl_password: p\n", `:2: kafka.sasl_mechanism: "GSSAPI" must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`},
		{"mechanism without user", "kafka:\n  sasl_mechanism: SCRAM-SHA-512\n", "sluice.yaml: kafka.sasl_username: is required with sasl_mechanism"},
		{"mechanism without password", "kafka:\n  sasl_mechanism: SCRAM-SHA-512\n  sasl_username: u\n", "kafka.sasl_password: is required with sasl_mechanism (set SLUICE_KAFKA_SASL_PASSWORD"},
		{"user without mechanism", "kafka:\n  sasl_username: u\n", "kafka.sasl_mechanism: is required with sasl_username"},
		{"PLAIN in clear", "kafka:\n  sasl_mechanism: plain\n  sasl_username: u\n  sasl_password: p\n", ":2: kafka.sasl_mechanism: PLAIN sends the password in clear"},
		{"redis user without password", "redis:\n  username: sluice\n", ":2: redis.username: needs a password"},
		{"redis TLS on a unix socket", "redis:\n  addrs: [/run/redis.sock]\n  tls: true\n", ":3: redis.tls: /run/redis.sock is a unix socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sluice.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q, got %v", tc.want, err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}

	path := filepath.Join(dir, "ok.yaml")
	text := "kafka:\n  tls: true\n  tls_ca_file: " + pki.CAFile + "\n  tls_cert_file: " + pki.ClientCert + "\n  tls_key_file: " + pki.ClientKey +
		"\n  sasl_mechanism: SCRAM-SHA-512\n  sasl_username: sluice\nredis:\n  username: sluice\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, env := range [][2]string{{"SLUICE_KAFKA_SASL_PASSWORD", "from-env"}, {"SLUICE_REDIS_PASSWORD", "redis-env"},
		{"SLUICE_REDIS_TLS", "true"}, {"SLUICE_REDIS_TLS_CA_FILE", pki.CAFile}, {"SLUICE_REDIS_TLS_SERVER_NAME", "localhost"}} {
		t.Setenv(env[0], env[1])
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.SASLPassword != "from-env" || c.Redis.Password != "redis-env" || !c.Redis.TLS.Enabled || c.Redis.TLS.ServerName != "localhost" {
		t.Errorf("environment not applied to the security keys: %+v %+v", c.Kafka, c.Redis)
	}
	kt, err := c.Kafka.TLS.Config()
	if err != nil || kt == nil || kt.RootCAs == nil || len(kt.Certificates) != 1 || kt.MinVersion < tls.VersionTLS12 {
		t.Errorf("kafka TLS config %+v, %v: want the CA, one client certificate, TLS 1.2 at least", kt, err)
	}
	if rt, err := Default().Redis.TLS.Config(); rt != nil || err != nil {
		t.Errorf("TLS off must give no TLS configuration: %v %v", rt, err)
	}
}
