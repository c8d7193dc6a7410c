package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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
	for _, want := range []string{`testdata/bad.yaml:2: kafka.brokers: "kafka-1" must be host:port`, "testdata/bad.yaml:4: kafka.commit_every: 0s must be between 1ms and 1m", "testdata/bad.yaml:8: lists.threshold: 3 must be in (0, 1]"} {
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
		for j := 0; j < sec.Type.NumField(); j++ {
			key, _, _ := strings.Cut(sec.Type.Field(j).Tag.Get("yaml"), ",")
			if key != "" && key != "-" && !strings.Contains(text, key+":") {
				t.Errorf("%s.%s missing from the example", name, key)
			}
		}
	}
}
