// Package config loads Sluice's configuration: a YAML file (configs/sluice.yaml
// by default), then environment variables SLUICE_<SECTION>_<KEY> over it, then
// defaults for what is still unset. Errors name the file, line and field.
package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration.
type Config struct {
	Kafka    Kafka    `yaml:"kafka"`
	Redis    Redis    `yaml:"redis"`
	Scoring  Scoring  `yaml:"scoring"`
	Alerts   Alerts   `yaml:"alerts"`
	Rules    Rules    `yaml:"rules"`
	Lists    Lists    `yaml:"lists"`
	Server   Server   `yaml:"server"`
	Profiles Profiles `yaml:"profiles"`

	file string
	root *yaml.Node
}

// Kafka is the transactions source and the alerts and dead-letter topics.
type Kafka struct {
	Brokers         []string      `yaml:"brokers"`
	Topic           string        `yaml:"topic"`
	Group           string        `yaml:"group"`
	DeadLetterTopic string        `yaml:"dead_letter_topic"`
	AlertsTopic     string        `yaml:"alerts_topic"`
	MaxBatch        int           `yaml:"max_batch"`
	MaxWait         time.Duration `yaml:"max_wait"` // 0: hand a batch over as soon as nothing more is waiting (low latency)
	Workers         int           `yaml:"workers"`  // batches handled at once, a partition in one at a time
	// CommitEvery is the least time between offset commits; the writes
	// held back for the batches between (evidence, counterparty history)
	// go to Redis together just before.
	CommitEvery     time.Duration `yaml:"commit_every"`
	MaxMessageBytes int           `yaml:"max_message_bytes"`
	// StartOffset is where a group with no committed offset begins:
	// "earliest" (the default: the topic's history fills the windows) or
	// "latest" (only what arrives from now on).
	StartOffset string `yaml:"start_offset"`

	TLS TLS `yaml:",inline"`
	// SASL authenticates to the brokers: PLAIN (over TLS only),
	// SCRAM-SHA-256 or SCRAM-SHA-512; empty for none. The password goes in
	// SLUICE_KAFKA_SASL_PASSWORD, never in the file.
	SASLMechanism string `yaml:"sasl_mechanism"`
	SASLUsername  string `yaml:"sasl_username"`
	SASLPassword  string `yaml:"sasl_password"`
}

// Redis holds the windows, the alert state and the case queue.
type Redis struct {
	Addrs []string `yaml:"addrs"` // one address, several for Redis Cluster, or the sentinels' with master_name
	// MasterName, when set, makes addrs Redis Sentinels, which name the
	// current master of this name (high availability without Cluster).
	MasterName string `yaml:"master_name"`
	// SentinelPassword is for Sentinels that demand one themselves (their
	// requirepass); set it through SLUICE_REDIS_SENTINEL_PASSWORD.
	SentinelPassword string `yaml:"sentinel_password"`
	Username         string `yaml:"username"` // an ACL user (Redis 6+); empty for the default user
	Password         string `yaml:"password"` // set it through SLUICE_REDIS_PASSWORD, never in the file
	DB               int    `yaml:"db"`
	Prefix           string `yaml:"prefix"`
	TLS              TLS    `yaml:",inline"`
	// WaitReplicas, when above 0, holds every offset commit until that
	// many replicas (of each master, on a Cluster) have acknowledged the
	// writes before it (Redis's WAIT), so that a failover to a replica
	// loses nothing whose offset was committed.
	WaitReplicas int           `yaml:"wait_replicas"`
	WaitTimeout  time.Duration `yaml:"wait_timeout"` // how long a commit waits for them before it is retried (default 1s)
}

// TLS is a client's TLS settings: the same keys in the kafka and redis
// sections.
type TLS struct {
	Enabled    bool   `yaml:"tls"`
	CAFile     string `yaml:"tls_ca_file"`     // the servers' CA certificates (PEM); default the system's
	CertFile   string `yaml:"tls_cert_file"`   // Sluice's client certificate (PEM), for mutual TLS
	KeyFile    string `yaml:"tls_key_file"`    // its private key (PEM)
	ServerName string `yaml:"tls_server_name"` // the name the servers' certificates carry, when not the address's host
}

// Config returns the TLS configuration, nil when TLS is off. Its errors
// name the key at fault.
func (t TLS) Config() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		var err error
		if c.RootCAs, err = t.pool(); err != nil {
			return nil, err
		}
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, errors.New("tls_cert_file: a client certificate needs both tls_cert_file and tls_key_file")
		}
		kp, err := newKeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get(), nil }
	}
	return c, nil
}

// ServerConfig returns the TLS configuration of a server (HTTPS), nil
// when TLS is off. Its errors name the key at fault.
func (t TLS) ServerConfig() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, errors.New("tls_cert_file: a server needs tls_cert_file and tls_key_file")
	}
	if t.ServerName != "" {
		return nil, errors.New("tls_server_name: is for clients; a server's name is in its certificate")
	}
	kp, err := newKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get(), nil }}
	if t.CAFile != "" {
		if c.ClientCAs, err = t.pool(); err != nil {
			return nil, err
		}
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// keyPair is a certificate and key read from files, read again when the
// files change: certificates that a bank's tooling renews (cert-manager,
// Vault) are taken up by the next connection, without a restart. A
// renewal caught half written, or broken, leaves the previous pair in use.
type keyPair struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	stamp             string // the files' sizes and modification times when read
	checked           time.Time
}

func newKeyPair(certFile, keyFile string) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls_cert_file: %w", err)
	}
	kp.cert, kp.stamp, kp.checked = &cert, kp.stat(), time.Now()
	return kp, nil
}

// keyPairRecheck bounds how often a handshake looks at the files.
const keyPairRecheck = time.Second

func (kp *keyPair) get() *tls.Certificate {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if time.Since(kp.checked) < keyPairRecheck {
		return kp.cert
	}
	kp.checked = time.Now()
	if st := kp.stat(); st != kp.stamp {
		if cert, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile); err == nil {
			kp.cert, kp.stamp = &cert, st
		}
	}
	return kp.cert
}

func (kp *keyPair) stat() string {
	var b strings.Builder
	for _, f := range []string{kp.certFile, kp.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d@%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// pool reads the CA certificates of tls_ca_file.
func (t TLS) pool() (*x509.CertPool, error) {
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("tls_ca_file: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls_ca_file: %s holds no PEM certificate", t.CAFile)
	}
	return p, nil
}

// check returns the key at fault and why, or "" when t is sound.
func (t TLS) check(server bool) (key, msg string) {
	if !t.Enabled {
		for _, kv := range [][2]string{{"tls_ca_file", t.CAFile}, {"tls_cert_file", t.CertFile}, {"tls_key_file", t.KeyFile}, {"tls_server_name", t.ServerName}} {
			if kv[1] != "" {
				return kv[0], "is set but tls is false: set tls: true"
			}
		}
		return "", ""
	}
	build := t.Config
	if server {
		build = t.ServerConfig
	}
	if _, err := build(); err != nil {
		key, msg, _ := strings.Cut(err.Error(), ": ")
		return key, msg
	}
	return "", ""
}

// Scoring tunes event-time windows.
type Scoring struct {
	Lateness time.Duration `yaml:"lateness"`
	// MaxAhead is how far after the time its message was produced (the
	// Kafka record's timestamp) an event's time may be; a later one is
	// dead-lettered as invalid. 0 turns the check off.
	MaxAhead       time.Duration `yaml:"max_ahead"`
	Retain         time.Duration `yaml:"retain"`
	FX             string        `yaml:"fx"`
	GraphWindow    time.Duration `yaml:"graph_window"`    // how far back graph patterns look (cycles, scatter-gather...); 7 days by default
	GraphTolerance float64       `yaml:"graph_tolerance"` // how far apart consecutive hops' amounts may be (0.2: within 20 %; 0.99: almost any)
}

// Alerts tunes alerting.
type Alerts struct {
	CoolDown time.Duration `yaml:"cooldown"`
	Shadow   bool          `yaml:"shadow"`
}

// Rules says where the rule set is and how often to look for changes.
type Rules struct {
	Paths  []string           `yaml:"paths"`
	Reload time.Duration      `yaml:"reload"`
	Params map[string]float64 `yaml:"params"` // overrides of the rule set's parameters
	// Typologies, when set, keeps only these typologies and their rules
	// ("starter" is the starter set); empty keeps them all.
	Typologies []string `yaml:"typologies"`
}

// Lists configures designated-entity screening.
type Lists struct {
	Dir       string        `yaml:"dir"`
	OFACDir   string        `yaml:"ofac_dir"`  // sdn.csv and friends; default <dir>/ofac when present
	OFACXML   string        `yaml:"ofac_xml"`  // OFAC's sdn.xml instead of the CSV files
	UNFile    string        `yaml:"un_file"`   // UN consolidated XML; default <dir>/un/UN_consolidated.xml
	SEMAFile  string        `yaml:"sema_file"` // Canada's SEMA XML; default <dir>/ca/sema-lmes.xml
	Threshold float64       `yaml:"threshold"`
	Disabled  bool          `yaml:"disabled"`
	Reload    time.Duration `yaml:"reload"` // how often to look for new lists (SIGHUP reloads at once)
}

// Server is the HTTP surface: metrics, health and the case API.
type Server struct {
	Addr  string `yaml:"addr"`
	Token string `yaml:"token"` // set it through SLUICE_SERVER_TOKEN, never in the file
	// TLS, when on, serves HTTPS with tls_cert_file and tls_key_file; with
	// tls_ca_file it also demands a client certificate that CA signed.
	TLS TLS `yaml:",inline"`
}

// Profiles is the customers' declared (KYC) profiles, JSON Lines.
type Profiles struct {
	File string `yaml:"file"`
}

// Default returns the built-in defaults.
func Default() *Config {
	return &Config{
		Kafka: Kafka{Brokers: []string{"127.0.0.1:9092"}, Topic: "transactions", Group: "sluice",
			DeadLetterTopic: "transactions.dlq", AlertsTopic: "alerts", MaxBatch: 2048, Workers: 2, CommitEvery: 20 * time.Millisecond,
			MaxMessageBytes: 64 << 10, StartOffset: "earliest"},
		Redis:   Redis{Addrs: []string{"127.0.0.1:6379"}, Prefix: "sluice:", WaitTimeout: time.Second},
		Scoring: Scoring{Lateness: 72 * time.Hour, MaxAhead: 24 * time.Hour, Retain: 72 * time.Hour, FX: "configs/fx.yaml", GraphWindow: 7 * 24 * time.Hour, GraphTolerance: 0.2},
		Alerts:  Alerts{CoolDown: 72 * time.Hour},
		Rules:   Rules{Paths: []string{"configs/rules", "configs/typologies"}, Reload: 2 * time.Second},
		Lists:   Lists{Dir: "configs/lists", Threshold: 0.86, Reload: time.Minute},
		Server:  Server{Addr: "127.0.0.1:8080"},
	}
}

// Load reads path over the defaults (path "" means defaults only, plus
// configs/sluice.yaml when it exists), applies the environment and validates.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		if _, err := os.Stat("configs/sluice.yaml"); err == nil {
			path = "configs/sluice.yaml"
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		c.file = path
		var root yaml.Node
		if err := yaml.Unmarshal(b, &root); err != nil {
			return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		c.root = &root
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, c.decodeError(err)
		}
	}
	if err := c.applyEnv(os.Environ()); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks every field, naming the file and line of a bad one.
func (c *Config) Validate() error {
	var errs []string
	bad := func(section, key, format string, args ...any) {
		errs = append(errs, c.where(section, key)+section+"."+key+": "+fmt.Sprintf(format, args...))
	}
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka", "brokers", "at least one broker address is required")
	}
	for _, b := range c.Kafka.Brokers {
		if !strings.Contains(b, ":") {
			bad("kafka", "brokers", "%q must be host:port", b)
		}
	}
	for k, v := range map[string]string{"topic": c.Kafka.Topic, "group": c.Kafka.Group, "dead_letter_topic": c.Kafka.DeadLetterTopic, "alerts_topic": c.Kafka.AlertsTopic} {
		if v == "" {
			bad("kafka", k, "is required")
		}
	}
	if c.Kafka.Topic != "" && c.Kafka.Topic == c.Kafka.DeadLetterTopic {
		bad("kafka", "dead_letter_topic", "must differ from the transactions topic")
	}
	if c.Kafka.MaxBatch < 1 || c.Kafka.MaxBatch > 100_000 {
		bad("kafka", "max_batch", "%d must be between 1 and 100000", c.Kafka.MaxBatch)
	}
	if c.Kafka.Workers < 1 || c.Kafka.Workers > 64 {
		bad("kafka", "workers", "%d must be between 1 and 64", c.Kafka.Workers)
	}
	if c.Kafka.CommitEvery < time.Millisecond || c.Kafka.CommitEvery > time.Minute {
		bad("kafka", "commit_every", "%s must be between 1ms and 1m", c.Kafka.CommitEvery)
	}
	if c.Kafka.MaxMessageBytes < 1024 || c.Kafka.MaxMessageBytes > 16<<20 {
		bad("kafka", "max_message_bytes", "%d must be between 1 KiB and 16 MiB", c.Kafka.MaxMessageBytes)
	}
	if c.Kafka.StartOffset != "earliest" && c.Kafka.StartOffset != "latest" {
		bad("kafka", "start_offset", "%q must be earliest or latest", c.Kafka.StartOffset)
	}
	switch m := strings.ToUpper(c.Kafka.SASLMechanism); {
	case m == "":
		if c.Kafka.SASLUsername != "" || c.Kafka.SASLPassword != "" {
			bad("kafka", "sasl_mechanism", "is required with sasl_username and sasl_password: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
	case m != "PLAIN" && m != "SCRAM-SHA-256" && m != "SCRAM-SHA-512":
		bad("kafka", "sasl_mechanism", "%q must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.Kafka.SASLMechanism)
	case c.Kafka.SASLUsername == "":
		bad("kafka", "sasl_username", "is required with sasl_mechanism")
	case c.Kafka.SASLPassword == "":
		bad("kafka", "sasl_password", "is required with sasl_mechanism (set SLUICE_KAFKA_SASL_PASSWORD in the environment)")
	case m == "PLAIN" && !c.Kafka.TLS.Enabled:
		bad("kafka", "sasl_mechanism", "PLAIN sends the password in clear: set tls: true, or use SCRAM-SHA-512")
	}
	if k, msg := c.Kafka.TLS.check(false); k != "" {
		bad("kafka", k, "%s", msg)
	}
	if len(c.Redis.Addrs) == 0 {
		bad("redis", "addrs", "at least one address is required")
	}
	if c.Redis.SentinelPassword != "" && c.Redis.MasterName == "" {
		bad("redis", "sentinel_password", "is for Sentinels: set master_name too")
	}
	for _, a := range c.Redis.Addrs {
		if !strings.HasPrefix(a, "/") {
			continue
		}
		if c.Redis.MasterName != "" {
			bad("redis", "master_name", "the sentinels must be host:port addresses, not the unix socket %s", a)
		}
		if c.Redis.TLS.Enabled {
			bad("redis", "tls", "%s is a unix socket, which does not use TLS", a)
		}
	}
	if c.Redis.WaitReplicas < 0 || c.Redis.WaitReplicas > 16 {
		bad("redis", "wait_replicas", "%d must be between 0 and 16", c.Redis.WaitReplicas)
	}
	if c.Redis.WaitTimeout < time.Millisecond || c.Redis.WaitTimeout > 10*time.Second {
		bad("redis", "wait_timeout", "%s must be between 1ms and 10s (an offset commit's own bound)", c.Redis.WaitTimeout)
	}
	if c.Redis.Username != "" && c.Redis.Password == "" {
		bad("redis", "username", "needs a password (set SLUICE_REDIS_PASSWORD in the environment)")
	}
	if k, msg := c.Redis.TLS.check(false); k != "" {
		bad("redis", k, "%s", msg)
	}
	if c.Scoring.Lateness < 0 || c.Scoring.Lateness > 30*24*time.Hour {
		bad("scoring", "lateness", "%s must be between 0 and 720h", c.Scoring.Lateness)
	}
	if c.Scoring.MaxAhead < 0 || c.Scoring.MaxAhead > 30*24*time.Hour {
		bad("scoring", "max_ahead", "%s must be between 0 (off) and 720h", c.Scoring.MaxAhead)
	}
	if c.Scoring.GraphWindow < time.Hour || c.Scoring.GraphWindow > 90*24*time.Hour {
		bad("scoring", "graph_window", "%s must be between 1h and 90 days (2160h)", c.Scoring.GraphWindow)
	}
	if c.Scoring.GraphTolerance <= 0 || c.Scoring.GraphTolerance >= 1 {
		bad("scoring", "graph_tolerance", "%g must be in (0, 1)", c.Scoring.GraphTolerance)
	}
	if c.Scoring.FX == "" {
		bad("scoring", "fx", "the FX rate table file is required")
	}
	if c.Alerts.CoolDown < 0 {
		bad("alerts", "cooldown", "must not be negative")
	}
	if len(c.Rules.Paths) == 0 {
		bad("rules", "paths", "at least one rules directory is required")
	}
	if c.Lists.Threshold <= 0 || c.Lists.Threshold > 1 {
		bad("lists", "threshold", "%g must be in (0, 1]", c.Lists.Threshold)
	}
	if k, msg := c.Server.TLS.check(true); k != "" {
		bad("server", k, "%s", msg)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// where returns "file:line: " of section.key when it came from the file.
func (c *Config) where(section, key string) string {
	if c.root == nil {
		return "configuration: "
	}
	n := c.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range []string{section, key} {
		var next *yaml.Node
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
		}
		if next == nil {
			return c.file + ": "
		}
		n = next
	}
	return fmt.Sprintf("%s:%d: ", c.file, n.Line)
}

// decodeError rewrites the decoder's errors ("line 4: cannot unmarshal
// !!int `0` into time.Duration") as Validate's: file, line and field first,
// and what to write instead where that is not obvious.
func (c *Config) decodeError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %s", c.file, strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n", " "), "yaml: "))
	}
	var out []string
	for _, e := range te.Errors {
		line, msg := 0, e
		if m := lineMsg.FindStringSubmatch(e); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			msg = "unknown key (misspelt, or not in this section)"
		}
		if strings.HasSuffix(msg, "into time.Duration") {
			msg += " (write a duration with its unit: 0s, 250ms, 72h)"
		}
		where := c.file + ": "
		if line > 0 {
			where = fmt.Sprintf("%s:%d: ", c.file, line)
			if f := fieldAt(c.root, line, ""); f != "" {
				where += f + ": "
			}
		}
		out = append(out, where+msg)
	}
	return errors.New(strings.Join(out, "\n"))
}

var (
	lineMsg      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type`)
)

// fieldAt returns the dotted path of the mapping key on line, or "".
func fieldAt(n *yaml.Node, line int, path string) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, k := range n.Content {
			if f := fieldAt(k, line, path); f != "" {
				return f
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if k.Line == line {
				return p
			}
			if f := fieldAt(v, line, p); f != "" {
				return f
			}
		}
	}
	return ""
}

// applyEnv sets fields from SLUICE_<SECTION>_<KEY> variables.
func (c *Config) applyEnv(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SLUICE_") {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		section := sf.Tag.Get("yaml")
		if section == "" || sf.Type.Kind() != reflect.Struct {
			continue
		}
		if err := setSection(env, "SLUICE_"+strings.ToUpper(section)+"_", rv.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// setSection sets the keys of one section (sv) from env, the keys of its
// inline structs (TLS) with them.
func setSection(env map[string]string, prefix string, sv reflect.Value) error {
	for j := 0; j < sv.NumField(); j++ {
		key := sv.Type().Field(j).Tag.Get("yaml")
		if key == ",inline" {
			if err := setSection(env, prefix, sv.Field(j)); err != nil {
				return err
			}
			continue
		}
		name := prefix + strings.ToUpper(key)
		v, ok := env[name]
		if !ok {
			continue
		}
		if err := setField(sv.Field(j), v); err != nil {
			return fmt.Errorf("environment %s: %v", name, err)
		}
	}
	return nil
}

func setField(f reflect.Value, v string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 72h", v)
		}
		f.SetInt(int64(d))
		return nil
	case []string:
		var parts []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		f.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		f.SetBool(b)
	case reflect.Float64:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
