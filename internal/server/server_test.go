package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-aml/sluice/alerts"
	"github.com/sluice-aml/sluice/alerts/casequeue"
	"github.com/sluice-aml/sluice/internal/redistest"
	"github.com/sluice-aml/sluice/internal/telemetry"
	"github.com/sluice-aml/sluice/internal/tlstest"
)

const testToken = "test-token-0123456789abcdef"

func loadAlerts(t testing.TB) []alerts.Alert {
	t.Helper()
	f, err := os.Open("testdata/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
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
	return out
}

func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb, _ := redistest.Client(t, "server")
	return rdb
}

// redisQueue is a case queue under a key of its own, deleted afterwards.
func redisQueue(t *testing.T) casequeue.Queue {
	t.Helper()
	ctx := context.Background()
	rdb := testRedis(t)
	key := fmt.Sprintf("sluice-test:server:%d:%d:cases", os.Getpid(), time.Now().UnixNano())
	q, err := casequeue.NewRedis(ctx, rdb, casequeue.RedisConfig{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if keys, _ := rdb.Keys(ctx, "{"+key+"}*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return q
}

type client struct {
	t    *testing.T
	base string
	auth func(*http.Request)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// do sends a request and decodes the answer into out: a *string gets the
// raw body, anything else the JSON.
func (c client) do(method, path, body string, out any) (int, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil {
		if s, ok := out.(*string); ok {
			*s = string(b)
		} else if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: status %d, body %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, resp.Header
}

func start(t *testing.T, cfg Config, deps Deps) string {
	t.Helper()
	ts := httptest.NewServer(New(cfg, deps).Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestAuth(t *testing.T) {
	q := casequeue.NewMemory()
	as := loadAlerts(t)
	if err := q.Put(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New("sluice-test")
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, Config{Token: testToken}, Deps{Cases: q, Metrics: tel.Handler()})
	creds := []struct {
		name string
		auth func(*http.Request)
		ok   bool
	}{
		{"none", nil, false},
		{"wrong bearer", bearer("test-token-0123456789abcdeX"), false},
		{"prefix of token", bearer(testToken[:20]), false},
		{"token plus more", bearer(testToken + "x"), false},
		{"basic wrong", basic("ana", "nope"), false},
		{"bearer", bearer(testToken), true},
		{"basic", basic("ana", testToken), true},
	}
	paths := []struct{ method, path, body string }{
		{"GET", "/api/alerts", ""},
		{"GET", "/api/alerts?status=open&limit=2", ""},
		{"GET", "/api/alerts/" + as[0].ID, ""},
		{"POST", "/api/alerts/" + as[1].ID + "/claim", `{"analyst":"ana"}`},
	}
	for _, cr := range creds {
		for _, p := range paths {
			c := client{t, base, cr.auth}
			var body string
			code, h := c.do(p.method, p.path, p.body, &body)
			if cr.ok && code != http.StatusOK {
				t.Errorf("%s %s with %s: status %d (%s), want 200", p.method, p.path, cr.name, code, body)
			}
			if !cr.ok {
				if code != http.StatusUnauthorized {
					t.Errorf("%s %s with %s: status %d, want 401", p.method, p.path, cr.name, code)
				}
				if strings.Contains(body, as[0].Subject.Account) || strings.Contains(body, as[1].Subject.Name) {
					t.Errorf("%s %s with %s: 401 body leaks customer data: %s", p.method, p.path, cr.name, body)
				}
				if h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s with %s: 401 without WWW-Authenticate", p.method, p.path, cr.name)
				}
			}
		}
	}

	// Operator endpoints and the page shell need no token and hold no
	// customer data.
	anon := client{t, base, nil}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/"} {
		var body string
		code, _ := anon.do("GET", p, "", &body)
		if code != http.StatusOK {
			t.Errorf("GET %s without token: %d, want 200", p, code)
		}
		for _, a := range as {
			if strings.Contains(body, a.Subject.Account) || strings.Contains(body, a.ID) {
				t.Errorf("GET %s without token shows alert %s data", p, a.ID)
			}
		}
	}
}

func TestFailClosed(t *testing.T) {
	q := casequeue.NewMemory()
	if err := q.Put(context.Background(), loadAlerts(t)); err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, Deps{Cases: q})
	if err := s.Check(); !errors.Is(err, ErrNoToken) {
		t.Errorf("Check without token: %v, want ErrNoToken", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); !errors.Is(err, ErrNoToken) {
		t.Errorf("Serve without token: %v, want ErrNoToken", err)
	}
	if err := s.ListenAndServe(context.Background()); !errors.Is(err, ErrNoToken) {
		t.Errorf("ListenAndServe without token: %v, want ErrNoToken", err)
	}
	// Even mounted elsewhere, skipping Check, the handler refuses.
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	if code, _ := (client{t, ts.URL, bearer("")}).do("GET", "/api/alerts", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("case API without a configured token: %d, want 503", code)
	}

	// Without a case queue there is nothing to guard: no token needed.
	if err := New(Config{}, Deps{}).Check(); err != nil {
		t.Errorf("Check with no case queue: %v", err)
	}
	// The demo's explicit opt-out serves without a token.
	base := start(t, Config{InsecureNoAuth: true}, Deps{Cases: q})
	var cs []casequeue.Case
	if code, _ := (client{t, base, nil}).do("GET", "/api/alerts", "", &cs); code != http.StatusOK || len(cs) != 4 {
		t.Errorf("insecure demo: status %d, %d cases; want 200 and 4", code, len(cs))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		in      Config
		wantErr string
	}{
		{Config{}, ""},
		{Config{Token: testToken, Addr: ":9090"}, ""},
		{Config{Token: "short"}, "at least 16"},
		{Config{Addr: "localhost"}, "host:port"},
	}
	for _, tt := range tests {
		c := tt.in
		err := c.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Validate(%+v): %v", tt.in, err)
			} else if c.Addr == "" || c.CheckTimeout == 0 {
				t.Errorf("Validate(%+v) left defaults unset: %+v", tt.in, c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Validate(%+v) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
		if err := New(tt.in, Deps{}).Check(); err == nil {
			t.Errorf("Check with %+v succeeded", tt.in)
		}
	}
}

// readyz reflects real dependencies: Redis by PING, "kafka" by a TCP dial
// to a listener the test closes to simulate the broker going away.
func TestReadyz(t *testing.T) {
	rdb := testRedis(t)
	broker, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	go func() {
		for {
			c, err := broker.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	brokerAddr := broker.Addr().String()
	// A port nothing listens on, for a Redis that is down.
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneAddr := gone.Addr().String()
	gone.Close()
	var redisDown atomic.Bool
	checks := map[string]func(context.Context) error{
		"kafka": func(ctx context.Context) error {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", brokerAddr)
			if err != nil {
				return err
			}
			return c.Close()
		},
		"redis": func(ctx context.Context) error {
			if redisDown.Load() {
				bad := redis.NewClient(&redis.Options{Addr: goneAddr, MaxRetries: -1})
				defer bad.Close()
				return bad.Ping(ctx).Err()
			}
			return rdb.Ping(ctx).Err()
		},
	}
	base := start(t, Config{CheckTimeout: time.Second}, Deps{Checks: checks})
	c := client{t, base, nil}
	type ready struct {
		Status string            `json:"status"`
		Failed []string          `json:"failed"`
		Checks map[string]string `json:"checks"`
	}
	var r ready
	if code, _ := c.do("GET", "/readyz", "", &r); code != http.StatusOK || r.Checks["kafka"] != "ok" || r.Checks["redis"] != "ok" {
		t.Fatalf("readyz with both up: %d %+v", code, r)
	}

	redisDown.Store(true)
	r = ready{}
	if code, _ := c.do("GET", "/readyz", "", &r); code != http.StatusServiceUnavailable || len(r.Failed) != 1 || r.Failed[0] != "redis" || r.Checks["kafka"] != "ok" {
		t.Errorf("readyz with redis down: %d %+v; want 503 naming redis", code, r)
	}
	redisDown.Store(false)
	broker.Close()
	r = ready{}
	if code, _ := c.do("GET", "/readyz", "", &r); code != http.StatusServiceUnavailable || len(r.Failed) != 1 || r.Failed[0] != "kafka" {
		t.Errorf("readyz with kafka down: %d %+v; want 503 naming kafka", code, r)
	}
	// Liveness does not depend on the checks.
	if code, _ := c.do("GET", "/healthz", "", nil); code != http.StatusOK {
		t.Errorf("healthz while not ready: %d, want 200", code)
	}
}

func TestCaseAPI(t *testing.T) {
	queues := []struct {
		name string
		q    func(t *testing.T) casequeue.Queue
	}{
		{"memory", func(*testing.T) casequeue.Queue { return casequeue.NewMemory() }},
		{"redis", redisQueue},
	}
	for _, qq := range queues {
		t.Run(qq.name, func(t *testing.T) {
			q := qq.q(t)
			as := loadAlerts(t)
			if err := q.Put(context.Background(), as); err != nil {
				t.Fatal(err)
			}
			base := start(t, Config{Token: testToken}, Deps{Cases: q})
			c := client{t, base, bearer(testToken)}

			var cs []casequeue.Case
			if code, _ := c.do("GET", "/api/alerts?status=open&limit=3", "", &cs); code != 200 {
				t.Fatalf("list: %d", code)
			}
			wantOrder := []string{"al-77d0e1aa3c", "al-0a11c3f702", "al-5c0e2b9d41"}
			if len(cs) != 3 {
				t.Fatalf("list limit 3: %d cases", len(cs))
			}
			for i, id := range wantOrder {
				if cs[i].Alert.ID != id {
					t.Errorf("list[%d] = %s, want %s (newest first)", i, cs[i].Alert.ID, id)
				}
			}

			id := as[1].ID
			var got casequeue.Case
			if code, _ := c.do("GET", "/api/alerts/"+id, "", &got); code != 200 || got.Alert.ID != id || len(got.Alert.Screening) != 1 || got.Alert.Screening[0].ListedName != as[1].Screening[0].ListedName {
				t.Fatalf("get %s: %d %+v", id, code, got)
			}
			steps := []struct {
				name       string
				c          client
				method     string
				path, body string
				code       int
				status     string
			}{
				{"claim", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":"ana"}`, 200, "claimed"},
				{"claim again", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":"ana"}`, 200, "claimed"},
				{"claim by bob", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":"bob"}`, 409, ""},
				{"claim without analyst", c, "POST", "/api/alerts/" + id + "/claim", ``, 400, ""},
				{"unknown field", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":"ana","who":"x"}`, 400, ""},
				{"bad json", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":`, 400, ""},
				{"bad disposition", c, "POST", "/api/alerts/" + id + "/close", `{"analyst":"ana","disposition":"ok"}`, 400, ""},
				{"close by bob", c, "POST", "/api/alerts/" + id + "/close", `{"analyst":"bob","disposition":"escalated"}`, 409, ""},
				{"close", c, "POST", "/api/alerts/" + id + "/close", `{"analyst":"ana","disposition":"str_filed","note":"STR filed, ref 2025-118"}`, 200, "closed"},
				{"close again", c, "POST", "/api/alerts/" + id + "/close", `{"analyst":"ana","disposition":"str_filed","note":"STR filed, ref 2025-118"}`, 200, "closed"},
				{"claim closed", c, "POST", "/api/alerts/" + id + "/claim", `{"analyst":"ana"}`, 409, ""},
				{"missing", c, "GET", "/api/alerts/al-nope", ``, 404, ""},
				{"claim missing", c, "POST", "/api/alerts/al-nope/claim", `{"analyst":"ana"}`, 404, ""},
				{"bad limit", c, "GET", "/api/alerts?limit=x", ``, 400, ""},
				{"bad status", c, "GET", "/api/alerts?status=pending", ``, 400, ""},
				// The analyst can come from HTTP basic's user name.
				{"claim via basic", client{t, base, basic("carla", testToken)}, "POST", "/api/alerts/" + as[0].ID + "/claim", ``, 200, "claimed"},
			}
			for _, s := range steps {
				var out struct {
					casequeue.Case
					Error string `json:"error"`
				}
				code, _ := s.c.do(s.method, s.path, s.body, &out)
				if code != s.code {
					t.Fatalf("%s: status %d (%s), want %d", s.name, code, out.Error, s.code)
				}
				if s.code != 200 && out.Error == "" {
					t.Errorf("%s: error answer without a message", s.name)
				}
				if s.status != "" && out.Status != s.status {
					t.Errorf("%s: case status %q, want %q", s.name, out.Status, s.status)
				}
			}
			if code, _ := c.do("GET", "/api/alerts/"+id, "", &got); code != 200 || got.Status != "closed" || got.Disposition != "str_filed" || got.Analyst != "ana" || got.Note != "STR filed, ref 2025-118" {
				t.Errorf("closed case: %+v", got)
			}
			if code, _ := c.do("GET", "/api/alerts/"+as[0].ID, "", &got); code != 200 || got.Analyst != "carla" {
				t.Errorf("claim via basic: analyst %q, want carla", got.Analyst)
			}
			cs = nil
			if code, _ := c.do("GET", "/api/alerts?status=closed", "", &cs); code != 200 || len(cs) != 1 || cs[0].Alert.ID != id {
				t.Errorf("closed list: %d %d cases", code, len(cs))
			}
		})
	}
}

func TestPage(t *testing.T) {
	base := start(t, Config{Token: testToken}, Deps{Cases: casequeue.NewMemory()})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("page content type %q", ct)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("page CSP %q: want hashed inline script, nothing unsafe", csp)
	}
	page := string(b)
	for _, bad := range []string{"http://", "https://", "innerHTML", "eval("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must be self-contained and build the DOM from text", bad)
		}
	}
	if code := mustStatus(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", code)
	}
}

func mustStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Serve runs on a real listener and stops cleanly when its context ends.
func TestServeShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(Config{Token: testToken}, Deps{Cases: casequeue.NewMemory()})
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	if code := mustStatus(t, "http://"+ln.Addr().String()+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestPageURLAndToken(t *testing.T) {
	tests := []struct{ addr, token, want string }{
		{"127.0.0.1:8080", "abc", "http://127.0.0.1:8080/#token=abc"},
		{":8080", "abc", "http://127.0.0.1:8080/#token=abc"},
		{"0.0.0.0:9000", "", "http://127.0.0.1:9000/"},
	}
	for _, tt := range tests {
		if got := PageURL(tt.addr, tt.token); got != tt.want {
			t.Errorf("PageURL(%q, %q) = %q, want %q", tt.addr, tt.token, got, tt.want)
		}
	}
	a, err := RandomToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomToken()
	if len(a) < MinTokenLen || a == b {
		t.Errorf("RandomToken gave %q then %q", a, b)
	}
	c := Config{Token: a}
	if err := c.Validate(); err != nil {
		t.Errorf("a random token fails Validate: %v", err)
	}
}

// TestTLS: with Config.TLS the server speaks HTTPS only, and with client
// certificates required it answers only clients that show one its CA
// signed.
func TestTLS(t *testing.T) {
	for _, mutual := range []bool{false, true} {
		pki := tlstest.New(t)
		if mutual {
			pki.RequireClientCert()
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		s := New(Config{Token: testToken, TLS: pki.Server}, Deps{Cases: casequeue.NewMemory()})
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()

		client := func(withCert bool) *http.Client {
			return &http.Client{Transport: &http.Transport{TLSClientConfig: pki.Client(withCert)}, Timeout: 5 * time.Second}
		}
		get := func(c *http.Client, url string) (int, error) {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := c.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		addr := ln.Addr().String()
		if code, err := get(client(true), "https://"+addr+"/api/alerts"); code != 200 {
			t.Errorf("mutual=%v: HTTPS with the CA and a client certificate: %d %v", mutual, code, err)
		}
		if code, err := get(client(false), "https://"+addr+"/api/alerts"); mutual && err == nil || !mutual && code != 200 {
			t.Errorf("mutual=%v: HTTPS without a client certificate: %d %v", mutual, code, err)
		}
		if code, _ := get(http.DefaultClient, "http://"+addr+"/api/alerts"); code == 200 {
			t.Errorf("mutual=%v: the case API answered plain HTTP", mutual)
		}
		if _, err := get(&http.Client{Timeout: 5 * time.Second}, "https://"+addr+"/healthz"); err == nil {
			t.Errorf("mutual=%v: a client that does not trust the CA was served", mutual)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}
