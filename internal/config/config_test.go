package config

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

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
	for _, want := range []string{`testdata/bad.yaml:2: kafka.brokers: "kafka-1" must be host:port`, "testdata/bad.yaml:4: kafka.commit_every: 0s must be between 1ms and 1m", `testdata/bad.yaml:5: kafka.start_offset: "newest" must be earliest or latest`, "testdata/bad.yaml:8: scoring.max_ahead: -1h0m0s must be between 0 (off) and 720h", "testdata/bad.yaml:10: redis.wait_replicas: -1 must be between 0 and 16", "testdata/bad.yaml:12: lists.threshold: 3 must be in (0, 1]"} {
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
		{"sentinel password without sentinels", "redis:\n  sentinel_password: x\n", ":2: redis.sentinel_password: is for Sentinels: set master_name too"},
		{"redis user without password", "redis:\n  username: sluice\n", ":2: redis.username: needs a password"},
		{"server TLS without a certificate", "server:\n  tls: true\n", "server.tls_cert_file: a server needs tls_cert_file and tls_key_file"},
		{"server TLS with a client's key", "server:\n  tls: true\n  tls_cert_file: " + pki.ServerCert + "\n  tls_key_file: " + pki.ServerKey + "\n  tls_server_name: x\n",
			":5: server.tls_server_name: is for clients"},
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
	st, err := TLS{Enabled: true, CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CAFile}.ServerConfig()
	if err != nil || st.GetCertificate == nil || st.ClientCAs == nil || st.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("server TLS with a CA: %+v, %v; want its certificate and client certificates required", st, err)
	}
	kt, err := c.Kafka.TLS.Config()
	if err != nil || kt == nil || kt.RootCAs == nil || kt.GetClientCertificate == nil || kt.MinVersion < tls.VersionTLS12 {
		t.Errorf("kafka TLS config %+v, %v: want the CA, one client certificate, TLS 1.2 at least", kt, err)
	}
	if rt, err := Default().Redis.TLS.Config(); rt != nil || err != nil {
		t.Errorf("TLS off must give no TLS configuration: %v %v", rt, err)
	}
}

// TestKubernetesManifest: deploy/kubernetes.yaml's configuration loads
// (given the certificates it names), the pod listens beyond localhost on
// the port its probes ask, the probes ask /readyz and /healthz, every
// secret comes from a Secret (never a literal), every SLUICE_ variable is
// a key the configuration knows, and the container runs as non-root on a
// read-only root.
func TestKubernetesManifest(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "deploy", "kubernetes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type probe struct {
		HTTPGet struct{ Path, Port string } `yaml:"httpGet"`
	}
	type container struct {
		Args  []string
		Ports []struct {
			Name          string
			ContainerPort int `yaml:"containerPort"`
		}
		Env []struct {
			Name      string
			Value     string
			ValueFrom *struct {
				SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		}
		ReadinessProbe  probe `yaml:"readinessProbe"`
		LivenessProbe   probe `yaml:"livenessProbe"`
		SecurityContext struct {
			ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	}
	var conf string
	var pod struct {
		SecurityContext struct {
			RunAsNonRoot bool `yaml:"runAsNonRoot"`
		} `yaml:"securityContext"`
		Containers []container
	}
	dec := yaml.NewDecoder(f)
	for {
		var doc struct {
			Kind string
			Data map[string]string
			Spec struct {
				Template struct{ Spec yaml.Node } `yaml:"template"`
			}
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			conf = doc.Data["sluice.yaml"]
		case "Deployment":
			if err := doc.Spec.Template.Spec.Decode(&pod); err != nil {
				t.Fatal(err)
			}
		}
	}
	if conf == "" || len(pod.Containers) != 1 {
		t.Fatalf("want a ConfigMap with sluice.yaml and a Deployment of one container")
	}
	c := pod.Containers[0]

	pki := tlstest.New(t)
	for name, path := range map[string]string{"kafka-ca.pem": pki.CAFile, "redis-ca.pem": pki.CAFile, "client.pem": pki.ClientCert, "client.key": pki.ClientKey} {
		conf = strings.ReplaceAll(conf, "/etc/sluice/tls/"+name, path)
	}
	if strings.Contains(conf, "/etc/sluice/tls/") {
		t.Errorf("the configuration names a certificate file the test does not know: %s", conf)
	}
	known := map[string]bool{}
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		sec, _, _ := strings.Cut(ct.Field(i).Tag.Get("yaml"), ",")
		if ct.Field(i).Type.Kind() == reflect.Struct {
			for _, k := range yamlKeys(ct.Field(i).Type) {
				known["SLUICE_"+strings.ToUpper(sec)+"_"+strings.ToUpper(k)] = true
			}
		}
	}
	for _, e := range c.Env {
		secret := strings.HasSuffix(e.Name, "_TOKEN") || strings.HasSuffix(e.Name, "_PASSWORD")
		if secret && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s must come from a Secret (secretKeyRef), not a value", e.Name)
		}
		if strings.HasPrefix(e.Name, "SLUICE_") {
			if !known[e.Name] {
				t.Errorf("%s is no configuration key", e.Name)
			}
			t.Setenv(e.Name, "from-secret-0123456789")
		}
	}
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("the manifest's configuration does not load: %v", err)
	}

	configPath := ""
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			configPath = c.Args[i+1]
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == "config" && m.MountPath == configPath && m.SubPath == "sluice.yaml" {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("--config %q is not where the ConfigMap is mounted", configPath)
	}
	host, port, _ := strings.Cut(cfg.Server.Addr, ":")
	if host != "0.0.0.0" || len(c.Ports) != 1 || fmt.Sprint(c.Ports[0].ContainerPort) != port {
		t.Errorf("server.addr %s: the pod must listen on all interfaces, on its container port %+v", cfg.Server.Addr, c.Ports)
	}
	for probe, want := range map[string]string{c.ReadinessProbe.HTTPGet.Path: "/readyz", c.LivenessProbe.HTTPGet.Path: "/healthz"} {
		if probe != want {
			t.Errorf("probe path %q, want %q", probe, want)
		}
	}
	if c.ReadinessProbe.HTTPGet.Port != c.Ports[0].Name || c.LivenessProbe.HTTPGet.Port != c.Ports[0].Name {
		t.Errorf("the probes ask port %q and %q, not the container's %q", c.ReadinessProbe.HTTPGet.Port, c.LivenessProbe.HTTPGet.Port, c.Ports[0].Name)
	}
	if !pod.SecurityContext.RunAsNonRoot || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("the pod must run as non-root on a read-only root file system")
	}
}

// TestCertificateRenewal: a client or server certificate renewed in place
// (cert-manager, Vault) is used from the next handshake on, without a
// restart; a renewal that does not parse leaves the one before in use.
func TestCertificateRenewal(t *testing.T) {
	first, second := tlstest.New(t), tlstest.New(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	put := func(pki *tlstest.PKI) {
		for src, dst := range map[string]string{pki.ClientCert: cert, pki.ClientKey: key} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(first)
	want := func(pki *tlstest.PKI) []byte {
		c, err := tls.LoadX509KeyPair(pki.ClientCert, pki.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	client, err := TLS{Enabled: true, CertFile: cert, KeyFile: key}.Config()
	if err != nil {
		t.Fatal(err)
	}
	server, err := TLS{Enabled: true, CertFile: cert, KeyFile: key}.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	shown := func() (c, s []byte) {
		cc, err := client.GetClientCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := server.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return cc.Certificate[0], sc.Certificate[0]
	}
	if c, s := shown(); !bytes.Equal(c, want(first)) || !bytes.Equal(s, want(first)) {
		t.Fatal("not the configured certificate")
	}
	put(second)
	time.Sleep(keyPairRecheck + 100*time.Millisecond)
	if c, s := shown(); !bytes.Equal(c, want(second)) || !bytes.Equal(s, want(second)) {
		t.Error("the renewed certificate is not used")
	}
	if err := os.WriteFile(cert, []byte("half written"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(keyPairRecheck + 100*time.Millisecond)
	if c, s := shown(); !bytes.Equal(c, want(second)) || !bytes.Equal(s, want(second)) {
		t.Error("a broken renewal replaced the certificate in use")
	}
}
