package server

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
)

//go:embed page.html
var pageHTML []byte

// pageCSP allows exactly the page's own inline script and style (by hash)
// and requests to this origin: alert fields come from transactions, that is
// from outside, and must never run as code.
var pageCSP = "default-src 'none'; script-src " + inlineHash("script") +
	"; style-src " + inlineHash("style") +
	"; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// inlineHash is the CSP source for the one <tag>...</tag> block of the page.
func inlineHash(tag string) string {
	s := string(pageHTML)
	i := strings.Index(s, "<"+tag+">")
	j := strings.Index(s, "</"+tag+">")
	if i < 0 || j < i {
		panic("server: page.html has no <" + tag + "> block")
	}
	sum := sha256.Sum256([]byte(s[i+len(tag)+2 : j]))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache")
	w.Write(pageHTML)
}
