package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluice-aml/sluice/alerts/casequeue"
)

// TokenEnv is the environment variable the server token comes from.
const TokenEnv = "SLUICE_SERVER_TOKEN"

// MinTokenLen is the shortest token accepted: a short token can be guessed.
const MinTokenLen = 16

// Config is the server section of the configuration.
type Config struct {
	Addr string // listen address; default DefaultAddr
	// Token guards the case API and page (SLUICE_SERVER_TOKEN).
	Token string
	// InsecureNoAuth serves the case API without a token. Only for a demo on
	// a trusted machine (sluice demo --insecure-demo).
	InsecureNoAuth bool
	// CheckTimeout bounds each readiness check; default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown; default 5s.
	ShutdownTimeout time.Duration
	// TLS, when set, serves HTTPS (and, with ClientAuth, only to clients
	// with a certificate), so that the token and the cases never cross
	// the network in clear.
	TLS *tls.Config
}

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultCheckTimeout    = 2 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// ErrNoToken is returned when the case API would be served without a token.
var ErrNoToken = errors.New("server: the case API shows customer data and no token is set: set " + TokenEnv + " (or server.token in the config), or run the demo with --insecure-demo")

// Validate fills defaults and checks the token.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("server: addr %q: %w (want host:port, e.g. 127.0.0.1:8080)", c.Addr, err)
	}
	if c.Token != "" && len(c.Token) < MinTokenLen {
		return fmt.Errorf("server: token is %d characters, want at least %d (e.g. openssl rand -hex 24)", len(c.Token), MinTokenLen)
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return nil
}

// Deps are what the server shows. Any may be nil: a nil Metrics gives no
// /metrics, nil Cases no case API or page.
type Deps struct {
	Metrics http.Handler
	// Checks are the readiness checks by name ("kafka", "redis"); /readyz
	// is 503 naming those that failed.
	Checks map[string]func(context.Context) error
	Cases  casequeue.Queue
	Logger *slog.Logger
}

// Server is the HTTP server. Build it with New.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	tokenSum [sha256.Size]byte
	handler  http.Handler
	cfgErr   error
}

// New builds the server. A config error (see Config.Validate) is reported
// by Serve and ListenAndServe, so callers need only check one error.
func New(cfg Config, deps Deps) *Server {
	s := &Server{deps: deps, log: deps.Logger}
	s.cfgErr = cfg.Validate()
	s.cfg = cfg
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	s.handler = s.routes()
	return s
}

// Handler is the server's handler, for tests and for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Check reports whether the server may start: the config is valid and the
// case API is not about to be served without a token.
func (s *Server) Check() error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	if s.deps.Cases != nil && s.cfg.Token == "" && !s.cfg.InsecureNoAuth {
		return ErrNoToken
	}
	return nil
}

// ListenAndServe listens on Config.Addr and serves until ctx is done, then
// shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.Check(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, over TLS when Config.TLS is set. The demo listens itself (":0") to
// learn its port before printing the page's address.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.Check(); err != nil {
		ln.Close()
		return err
	}
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// RandomToken returns a fresh 192-bit token, hex encoded, for the demo.
func RandomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("server: random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// PageURL is the address to print for the case page: the token rides in the
// fragment, which the browser keeps to itself.
func PageURL(addr, token string) string {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	u := "http://" + addr + "/"
	if token != "" {
		u += "#token=" + token
	}
	return u
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.deps.Metrics != nil {
		mux.Handle("GET /metrics", s.deps.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.deps.Cases != nil {
		mux.HandleFunc("GET /{$}", s.page)
		mux.Handle("GET /api/alerts", s.auth(http.HandlerFunc(s.listCases)))
		mux.Handle("GET /api/alerts/{id}", s.auth(http.HandlerFunc(s.getCase)))
		mux.Handle("POST /api/alerts/{id}/claim", s.auth(http.HandlerFunc(s.claimCase)))
		mux.Handle("POST /api/alerts/{id}/close", s.auth(http.HandlerFunc(s.closeCase)))
	}
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// auth admits a request carrying the token as a bearer token or as the
// password of HTTP basic. Both sides are hashed first so the comparison
// takes the same time whatever the length of the guess.
func (s *Server) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.cfg.InsecureNoAuth {
			h.ServeHTTP(w, r)
			return
		}
		if s.cfg.Token == "" { // fail closed even if Check was skipped
			writeError(w, http.StatusServiceUnavailable, ErrNoToken.Error())
			return
		}
		if !s.authorized(r) {
			// Bearer only: a Basic challenge would make browsers pop a
			// password dialog over the page's own token prompt.
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <"+TokenEnv+">")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	var got string
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got = strings.TrimSpace(h[7:])
	} else if _, pass, ok := r.BasicAuth(); ok {
		got = pass
	} else {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// readyz runs every check at once, each under CheckTimeout.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(s.deps.Checks))
	for n := range s.deps.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make(map[string]string, len(names))
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		failed []string
	)
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
			defer cancel()
			err := s.deps.Checks[n](ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[n] = err.Error()
				failed = append(failed, n)
				return
			}
			results[n] = "ok"
		}()
	}
	wg.Wait()
	sort.Strings(failed)
	body := struct {
		Status string            `json:"status"`
		Failed []string          `json:"failed,omitempty"`
		Checks map[string]string `json:"checks"`
	}{"ready", failed, results}
	code := http.StatusOK
	if len(failed) > 0 {
		body.Status = "not ready: " + strings.Join(failed, ", ")
		code = http.StatusServiceUnavailable
		s.log.Warn("not ready", "failed", strings.Join(failed, ","))
	}
	writeJSON(w, code, body)
}
